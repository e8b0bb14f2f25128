"""Decompression bombs: small files that decode to gigabytes are refused from their headers, before decoding."""

import io
import struct
import time
import tracemalloc
import zlib
from contextlib import contextmanager

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from annotations.models import Cutout
from anomalies.models import Scan
from jobs.models import Job
from mlcore.io import ImageLimits, ImageReadError, read_image
from tests.factories import astronomer, blob_array, fits_bytes

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_bomb(width: int, height: int) -> bytes:
    """A valid grey PNG of zeros, compressed row by row (the image itself is never held)."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    packer = zlib.compressobj(9)
    row = b"\x00" * (width + 1)  # filter byte + pixels
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return PNG_MAGIC + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def compressed_fits_bomb(side: int = 20000, wcs: bool = False) -> bytes:
    """A tile-compressed FITS (CompImageHDU, ZNAXISn = side) of zeros. np.zeros pages are not
    touched until read and read as the shared zero page, so making it costs little memory."""
    header = None
    if wcs:
        sky = WCS(naxis=2)
        sky.wcs.ctype, sky.wcs.crval = ["RA---SIN", "DEC--SIN"], [150.0, 2.0]
        sky.wcs.crpix, sky.wcs.cdelt = [side / 2, side / 2], [-2 / 3600, 2 / 3600]
        header = sky.to_header()
    hdu = fits.CompImageHDU(data=np.zeros((side, side), np.uint8), header=header, compression_type="RICE_1")
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(buffer)
    return buffer.getvalue()


@contextmanager
def measured():
    """Wall time and peak Python-tracked memory (numpy arrays included) of the block."""
    cost = {}
    tracemalloc.start()
    started = time.perf_counter()
    try:
        yield cost
    finally:
        cost["seconds"] = time.perf_counter() - started
        cost["peak_mb"] = tracemalloc.get_traced_memory()[1] / MB
        tracemalloc.stop()


@pytest.fixture(scope="module")
def png_13k() -> bytes:
    bomb = png_bomb(13000, 13000)
    assert len(bomb) < 300_000  # about 164 KB for 169 megapixels
    return bomb


@pytest.fixture(scope="module")
def fits_20k() -> bytes:
    bomb = compressed_fits_bomb(20000)
    assert len(bomb) < 8 * MB  # 400 megapixels
    return bomb


@pytest.fixture(scope="module")
def mosaic_20k() -> bytes:
    return compressed_fits_bomb(20000, wcs=True)


@pytest.fixture
def client():
    api = APIClient()
    api.force_login(astronomer())
    return api


def media_files(settings) -> list:
    root = settings.MEDIA_ROOT / "cutouts"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_mlcore_reads_dimensions_from_headers_before_decoding(png_13k, fits_20k):
    limits = ImageLimits(max_side=20000, max_pixels=8192 * 8192)
    png_9k = png_bomb(9000, 9000)  # over the limit, under Pillow's own refusal (2 x MAX_IMAGE_PIXELS)
    for payload, what in ((png_9k, "PNG image is 9000x9000"), (fits_20k, "FITS image is 20000x20000")):
        with measured() as cost, pytest.raises(ImageReadError, match=f"{what} pixels according to its header"):
            read_image(payload, limits=limits)
        assert cost["peak_mb"] < 64, (what, cost)
    # Beyond twice the platform's limit Pillow's guard (MAX_IMAGE_PIXELS, set from RGZ_MAX_IMAGE_PIXELS)
    # refuses in Image.open, also from the header.
    with measured() as cost, pytest.raises(ImageReadError, match=r"refused before decoding.*169000000 pixels"):
        read_image(png_13k, limits=limits)
    assert cost["peak_mb"] < 64, cost


@pytest.mark.parametrize("name, bomb", [("bomb.png", "png_13k"), ("bomb.fits", "fits_20k")])
def test_upload_of_a_bomb_is_refused_from_its_header(name, bomb, client, settings, request):
    payload = request.getfixturevalue(bomb)
    upload = SimpleUploadedFile(name, payload)
    with measured() as cost:
        response = client.post("/api/cutouts/upload/", {"survey": "S", "file": upload}, format="multipart")
    assert response.status_code == 400, response.content
    detail = response.json()["detail"]
    assert detail.startswith(f"{name}: ") and "refused before decoding" in detail
    assert cost["peak_mb"] < 64, cost  # decoding would take 0.7 to 1.6 GB
    assert not Cutout.objects.exists() and not media_files(settings)


def test_ingestion_job_reports_bombs_by_name_and_ingests_the_rest(
    png_13k, fits_20k, client, settings, tmp_path, django_capture_on_commit_callbacks
):
    folder = tmp_path / "imports"
    folder.mkdir()
    (folder / "bomb.png").write_bytes(png_13k)
    (folder / "bomb.fits").write_bytes(fits_20k)
    (folder / "good.fits").write_bytes(fits_bytes(blob_array(64)))
    settings.RGZ_IMPORT_ROOTS = [str(folder)]
    body = {"kind": "ingest_images", "parameters": {"survey_name": "S", "paths": [str(folder)]}}
    with measured() as cost, django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/jobs/", body, format="json")
    assert response.status_code == 202
    job = Job.objects.get()
    assert job.status == "succeeded" and job.result["created"] == 1 and job.result["failed"] == 2
    for name, size in (("bomb.png", "169000000 pixels"), ("bomb.fits", "20000x20000 pixels")):
        assert any(name in e and size in e and "refused before decoding" in e for e in job.errors), job.errors
    assert list(Cutout.objects.values_list("name", flat=True)) == ["good"]
    assert cost["peak_mb"] < 128, cost


def test_compressed_mosaic_is_bounded_but_a_memory_mapped_one_may_be_larger(mosaic_20k, tmp_path, settings):
    mosaic = tmp_path / "compressed.fits"
    mosaic.write_bytes(mosaic_20k)
    with measured() as cost, pytest.raises(CommandError, match="20000x20000 pixels.*tile-compressed"):
        call_command("complexity_scan", mosaic=str(mosaic), aperture=60, stride=30, out=str(tmp_path / "c.csv"))
    assert cost["peak_mb"] < 64 and not Scan.objects.exists()
    with pytest.raises(CommandError, match="tile-compressed"):
        call_command(
            "ingest_fits", survey="S", mosaic=str(mosaic), catalogue=str(catalogue(tmp_path)), size=60, inline=True
        )
    assert not Cutout.objects.exists()

    plain = tmp_path / "plain.fits"
    plain.write_bytes(fits_bytes(blob_array(300)))
    settings.RGZ_MAX_DECODED_MOSAIC_PIXELS = 100 * 100  # a plain mosaic is memory-mapped: not this limit
    call_command("complexity_scan", mosaic=str(plain), aperture=60, stride=30, out=str(tmp_path / "c.csv"), inline=True)
    settings.RGZ_MAX_MOSAIC_PIXELS = 200 * 200
    with pytest.raises(CommandError, match="300x300 pixels according to its header"):
        call_command("complexity_scan", mosaic=str(plain), aperture=60, stride=30, out=str(tmp_path / "d.csv"))


def catalogue(tmp_path):
    path = tmp_path / "sources.csv"
    path.write_text("name,ra,dec\nsrc,150.0,2.0\n")
    return path


def test_scan_api_refuses_a_compressed_mosaic_bomb(mosaic_20k, tmp_path, client, settings):
    mosaic = tmp_path / "compressed.fits"
    mosaic.write_bytes(mosaic_20k)
    settings.RGZ_IMPORT_ROOTS = [str(tmp_path)]
    response = client.post(
        "/api/scans/", {"mosaic": str(mosaic), "aperture_arcsec": 60, "stride_arcsec": 30}, format="json"
    )
    assert response.status_code == 400 and "tile-compressed" in response.json()["detail"]
    assert not Scan.objects.exists()
