"""Scans started from an uploaded mosaic; the mosaic's map with the catalogue marked on it;
legible thumbnails; threshold labels in a legend (they overlapped beside the lines)."""

import io

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from anomalies import ml, selectors
from anomalies.models import AnomalyEntry, Scan
from tests.factories import astronomer, blob_array, fits_bytes

pytestmark = pytest.mark.django_db


def _mosaic_bytes(size: int = 240) -> bytes:
    """A noise field with two bright radio sources at known places (FITS rows from the bottom)."""
    field = np.random.default_rng(1).normal(0, 1e-4, (size, size)).astype(np.float32)
    field[30:94, 20:84] += blob_array(64, seed=1) * 5  # lower left in FITS: x 20-84, y 30-94
    field[150:214, 160:224] += blob_array(64, seed=2) * 5
    return fits_bytes(field, ra=45.0, dec=-20.0, scale_arcsec=2.0)


@pytest.fixture
def client(settings, tmp_path):
    settings.RGZ_SCAN_UPLOAD_DIR = tmp_path / "uploads"
    settings.RGZ_EXPORT_ROOT = tmp_path / "exports"
    client = APIClient()
    client.force_login(astronomer("astro-scan-upload"))
    return client


def _upload(client, data: bytes, name: str = "field.fits", **extra):
    body = {"mosaic_file": SimpleUploadedFile(name, data), "aperture_arcsec": 80, "stride_arcsec": 40, **extra}
    return client.post("/api/scans/", body, format="multipart")


def test_an_uploaded_mosaic_is_scanned_and_mapped(client, settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # tiles run eagerly in unit tests
        response = _upload(client, _mosaic_bytes())
    assert response.status_code == 202, response.json()
    scan = Scan.objects.get(pk=response.json()["id"])
    stored = list((settings.RGZ_SCAN_UPLOAD_DIR).iterdir())
    assert [str(p) for p in stored] == [scan.mosaic_path] and stored[0].suffix == ".fits"
    assert scan.mosaic_name == "field.fits"
    assert scan.status == "succeeded" and scan.mosaic_map
    detail = client.get(f"/api/scans/{scan.pk}/").json()
    assert detail["mosaic_map_url"].endswith(".png")

    # the map is the whole mosaic, north up; each entry is marked where it lies on it
    picture = Image.open(scan.mosaic_map.open("rb"))
    step, width, height = ml.map_geometry(scan.width, scan.height)
    assert picture.size == (width, height) == (240, 240) and step == 1
    entries = AnomalyEntry.objects.filter(scan=scan).order_by("rank")
    drawn = selectors.scan_map(scan=scan, entries=entries)
    assert len(drawn["marks"]) == entries.count() >= 2
    top = drawn["marks"][0]
    entry = entries[0]
    assert top["x"] == pytest.approx(entry.x) and top["y"] == pytest.approx(239 - entry.y)
    grey = np.asarray(picture, dtype=np.float32)
    assert grey[int(top["y"]), int(top["x"])] > np.median(grey) + 40  # the mark sits on a bright source

    # thumbnails are enlarged to a legible size
    thumb = Image.open(entry.thumbnail.open("rb"))
    assert max(thumb.size) == ml.THUMBNAIL_SIDE

    page = client.get(f"/scans/{scan.pk}/").content.decode()
    assert 'id="scan-map"' in page and page.count('class="mark level-') == entries.count()
    assert f'href="#entry-{entry.rank}"' in page and f'id="entry-{entry.rank}"' in page


def test_a_file_that_is_not_a_mosaic_is_refused_and_not_kept(client, settings):
    response = _upload(client, b"SIMPLE  =  not really a FITS file", name="broken.fits")
    assert 400 <= response.status_code < 500 and response.json()["detail"]
    assert Scan.objects.count() == 0
    assert not any(settings.RGZ_SCAN_UPLOAD_DIR.glob("*")) if settings.RGZ_SCAN_UPLOAD_DIR.exists() else True
    wrong = _upload(client, _mosaic_bytes(), name="field.png")
    assert wrong.status_code == 400 and "not a FITS file" in wrong.json()["detail"]
    assert Scan.objects.count() == 0


def test_an_upload_over_the_limit_is_refused(client, settings):
    settings.RGZ_MAX_MOSAIC_UPLOAD_BYTES = 1000
    response = _upload(client, _mosaic_bytes())
    assert response.status_code == 413 and "1000-byte limit" in response.json()["detail"]
    assert Scan.objects.count() == 0


def test_either_a_path_or_a_file(client, tmp_path):
    neither = client.post("/api/scans/", {"aperture_arcsec": 80, "stride_arcsec": 40}, format="json")
    assert neither.status_code == 400 and "either mosaic" in str(neither.json())
    both = _upload(client, _mosaic_bytes(), mosaic=str(tmp_path / "x.fits"))
    assert both.status_code == 400 and "either mosaic" in str(both.json())
    assert Scan.objects.count() == 0


def test_threshold_labels_are_in_a_legend_not_beside_the_lines():
    import matplotlib.pyplot as plt

    scores = np.random.default_rng(0).gamma(2.0, 0.1, 5000)
    thresholds = {5.0: 0.50, 1.0: 0.51, 0.5: 0.515}  # close together: labels beside them overlapped
    fig = ml.histogram_figure(scores, thresholds)
    ax = fig.axes[0]
    assert not ax.texts
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["top 5 %: ≥ 0.500", "top 1 %: ≥ 0.510", "top 0.5 %: ≥ 0.515"]
    assert len({line.get_color() for line in ax.get_lines()}) == 3  # told apart by colour too
    plt.close(fig)
    assert ml.histogram_png(scores, thresholds).startswith(b"\x89PNG")


def test_the_map_of_a_large_mosaic_is_read_every_few_pixels():
    step, width, height = ml.map_geometry(5000, 2100)
    assert (step, width, height) == (5, 1000, 420)
    data = np.zeros((2100, 5000), np.float32)
    data[1000:1010, 2500:2510] = 1.0
    picture = Image.open(io.BytesIO(ml.mosaic_map_png(data)))
    assert picture.size == (1000, 420)
