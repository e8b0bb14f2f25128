"""Server paths in API requests: reads only under the import roots, writes only where the server chooses."""

import io
import os

import numpy as np
import pytest
from PIL import Image
from rest_framework.test import APIClient

from annotations.models import Cutout
from anomalies.models import Scan
from jobs.models import Job
from tests.factories import astronomer, blob_array, fits_bytes

pytestmark = pytest.mark.django_db

OUTSIDE = "server paths are accepted only under the configured import roots"


def png_bytes(seed: int = 0) -> bytes:
    pixels = (blob_array(64, seed=seed) / 5e-3 * 200).clip(0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def layout(tmp_path, settings):
    """An import root with a mosaic and images, and a private folder beside it."""
    imports, private = tmp_path / "imports", tmp_path / "private"
    (imports / "batch").mkdir(parents=True)
    private.mkdir()
    (imports / "mosaic.fits").write_bytes(fits_bytes(blob_array(200, seed=4), scale_arcsec=2.0))
    (imports / "batch" / "ok.png").write_bytes(png_bytes(1))
    (private / "secret.png").write_bytes(png_bytes(2))
    (private / "important.conf").write_text("keep me\n")
    settings.RGZ_IMPORT_ROOTS = [str(imports)]
    settings.RGZ_EXPORT_ROOT = tmp_path / "exports"
    return imports, private


@pytest.fixture
def client():
    api = APIClient()
    api.force_login(astronomer())
    return api


def scan_body(mosaic, **extra):
    return {"mosaic": str(mosaic), "aperture_arcsec": 60, "stride_arcsec": 30, **extra}


def test_scan_api_refuses_out_and_writes_the_catalogue_where_the_server_chooses(
    layout, client, django_capture_on_commit_callbacks
):
    imports, private = layout
    victim = private / "important.conf"
    refused = client.post("/api/scans/", scan_body(imports / "mosaic.fits", out=str(victim)), format="json")
    assert refused.status_code == 400 and refused.json()["field"] == "out"
    assert victim.read_text() == "keep me\n" and not victim.with_suffix(".vot").exists()
    assert not Scan.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post("/api/scans/", scan_body(imports / "mosaic.fits"), format="json")
    assert started.status_code == 202
    scan = Scan.objects.get()
    assert scan.status == "succeeded"
    exports = os.path.realpath(layout[0].parent / "exports")
    assert os.path.realpath(scan.out_path).startswith(exports + os.sep)
    assert open(scan.out_path).readline().startswith("rank,ra_deg,dec_deg")
    assert os.path.exists(os.path.splitext(scan.out_path)[0] + ".vot")
    download = client.get(f"/api/scans/{scan.pk}/catalogue.csv")
    assert download.status_code == 200 and download.content.decode().startswith("rank,ra_deg")
    assert victim.read_text() == "keep me\n"


def test_scan_mosaic_outside_the_roots_is_refused_alike_whether_it_exists_or_not(layout, client, tmp_path):
    imports, private = layout
    (private / "real.fits").write_bytes(fits_bytes(blob_array(200), scale_arcsec=2.0))
    answers = []
    for path in (
        private / "real.fits",
        private / "missing.fits",
        imports / ".." / "private" / "real.fits",
        "/etc/passwd",
    ):
        response = client.post("/api/scans/", scan_body(path), format="json")
        assert response.status_code == 400
        answers.append(response.json()["detail"])
    assert len(set(answers)) == 1 and OUTSIDE in answers[0]
    assert not Scan.objects.exists()


def test_scan_mosaic_symlinked_into_a_root_is_refused(layout, client):
    imports, private = layout
    (private / "real.fits").write_bytes(fits_bytes(blob_array(200), scale_arcsec=2.0))
    (imports / "link.fits").symlink_to(private / "real.fits")
    response = client.post("/api/scans/", scan_body(imports / "link.fits"), format="json")
    assert response.status_code == 400 and OUTSIDE in response.json()["detail"]


def test_no_import_roots_by_default_means_no_server_paths(layout, client, settings):
    settings.RGZ_IMPORT_ROOTS = []
    imports, _ = layout
    response = client.post("/api/scans/", scan_body(imports / "mosaic.fits"), format="json")
    assert response.status_code == 400 and OUTSIDE in response.json()["detail"]


def ingest(client, paths, **parameters):
    body = {"kind": "ingest_images", "parameters": {"survey_name": "S", "paths": [str(p) for p in paths], **parameters}}
    return client.post("/api/jobs/", body, format="json")


def test_ingest_job_cannot_list_or_publish_files_outside_the_roots(layout, client, tmp_path):
    imports, private = layout
    answers = []
    for paths in ([private], [private / "secret.png"], [private / "nothing-here"], [imports / ".." / "private"]):
        response = ingest(client, paths)
        assert response.status_code == 400, response.content
        body = response.json()
        assert "secret.png" not in response.content.decode() and "important.conf" not in response.content.decode()
        answers.append(body["detail"])
    assert len(set(answers)) == 1 and OUTSIDE in answers[0]
    catalogue = ingest(client, [imports / "batch"], catalogue=str(private / "important.conf"))
    assert catalogue.status_code == 400 and catalogue.json()["field"] == "catalogue"
    assert not Job.objects.exists() and not Cutout.objects.exists()


def test_ingest_job_refuses_a_symlink_out_of_the_roots_found_in_a_folder(
    layout, client, django_capture_on_commit_callbacks
):
    imports, private = layout
    (imports / "batch" / "leak.png").symlink_to(private / "secret.png")
    with django_capture_on_commit_callbacks(execute=True):
        response = ingest(client, [imports / "batch"])
    assert response.status_code == 202, response.content
    job = Job.objects.get()
    assert job.status == "succeeded" and job.result["created"] == 1
    assert any("leak.png" in e and "outside the import roots" in e for e in job.errors)
    assert list(Cutout.objects.values_list("name", flat=True)) == ["ok"]


def test_ingest_fits_job_paths_are_checked_too(layout, client):
    imports, private = layout
    body = {
        "kind": "ingest_fits",
        "parameters": {
            "survey_name": "S",
            "mosaic": str(private / "real.fits"),
            "catalogue": str(imports / "c.csv"),
            "size_arcsec": 60,
        },
    }
    response = client.post("/api/jobs/", body, format="json")
    assert response.status_code == 400 and response.json()["field"] == "mosaic"
    unknown = client.post("/api/jobs/", {"kind": "ingest_demo", "parameters": {"paths": ["/"]}}, format="json")
    assert unknown.status_code == 400 and "unknown parameters" in unknown.content.decode()
    assert not Job.objects.exists()


def test_command_line_still_reads_any_path(layout, tmp_path, settings):
    from django.core.management import call_command

    settings.RGZ_IMPORT_ROOTS = []
    _, private = layout
    call_command("ingest_images", str(private / "secret.png"), survey="CLI", inline=True)
    assert Cutout.objects.filter(name="secret").exists()
