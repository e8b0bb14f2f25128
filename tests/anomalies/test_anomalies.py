import csv
import os

import numpy as np
import pytest
from astropy.io.votable import parse_single_table
from django.core.management import CommandError, call_command

from annotations.models import Classification, SubjectWorkflowStatus
from anomalies import services
from anomalies.models import AnomalyEntry, Scan, ScanTile
from tests.factories import blob_array, fits_bytes, make_workflow_with_subjects

pytestmark = pytest.mark.django_db


def build_mosaic(tmp_path, shared_data, size=600):
    """Real MiraBest FITS cutouts placed on a noise field with a valid WCS (no survey mosaic here)."""
    from astropy.io import fits

    field = np.random.default_rng(0).normal(0, 1.5e-4, (size, size)).astype(np.float32)
    sample = sorted((shared_data / "mirabest" / "FITS_sample").glob("2*.fits"))[:2]  # FRII
    corners = [(size // 10, size // 10), (size // 2, int(size * 0.45))]
    for (y, x), path in zip(corners, sample, strict=True):
        stamp = np.nan_to_num(fits.getdata(path).squeeze().astype(np.float32))[100:200, 100:200]
        field[y : y + 100, x : x + 100] += stamp
    field[:, -size // 10 :] = np.nan  # a survey edge
    path = tmp_path / "mosaic.fits"
    path.write_bytes(fits_bytes(field, ra=30.0, dec=-5.0, scale_arcsec=1.8))
    return path


def test_scan_inline_writes_catalogues_and_entries(tmp_path, shared_data):
    mosaic = build_mosaic(tmp_path, shared_data)
    out = tmp_path / "cat.csv"
    call_command(
        "complexity_scan", mosaic=str(mosaic), aperture=108, stride=54, out=str(out), tile_frames=4, inline=True
    )
    scan = Scan.objects.get()
    assert scan.status == "succeeded" and scan.aperture_px == 60 and scan.frames > 0
    assert ScanTile.objects.filter(scan=scan, done=False).count() == 0
    rows = list(csv.DictReader(out.open()))
    assert rows and {float(r["top_percent"]) for r in rows} <= {5.0, 1.0, 0.5}
    top = rows[0]
    # The top anomaly is one of the two placed radio galaxies, at its sky position.
    x, y = float(top["x"]), float(top["y"])
    assert (60 <= x <= 160 and 60 <= y <= 160) or (270 <= x <= 370 and 300 <= y <= 400)
    table = parse_single_table(str(out.with_suffix(".vot"))).to_table()
    assert len(table) == len(rows) and table["ra_deg"].unit == "deg"
    assert abs(table["ra_deg"][0] - float(top["ra_deg"])) < 1e-5
    entries = AnomalyEntry.objects.filter(scan=scan)
    assert entries.count() == len(rows) and entries.first().thumbnail
    # overlapping apertures merged: no two entries closer than one aperture in both axes
    xy = np.array([[e.x, e.y] for e in entries])
    for i in range(len(xy)):
        others = np.delete(xy, i, axis=0)
        assert not np.any(np.all(np.abs(others - xy[i]) < scan.aperture_px, axis=1))
    assert scan.histogram


def test_scan_resumes_without_redoing_finished_tiles(tmp_path, shared_data):
    mosaic = build_mosaic(tmp_path, shared_data, size=400)
    scan = services.scan_create(mosaic=str(mosaic), aperture_arcsec=108, stride_arcsec=54, tile_frames=2)
    services.scan_tile_run(scan_id=scan.pk, index=0)  # then the worker "dies"
    first = ScanTile.objects.get(scan=scan, index=0)
    stamp = (first.result_path, os.stat(first.result_path).st_mtime_ns)
    call_command("complexity_scan", resume=str(scan.pk), inline=True)
    scan.refresh_from_db()
    assert scan.status == "succeeded"
    assert (first.result_path, os.stat(first.result_path).st_mtime_ns) == stamp  # not redone


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"aperture": 0}, "positive"),
        ({"aperture": 1e6}, "larger than the mosaic"),
        ({"stride": -1}, "positive"),
        ({"top": [150]}, "percentage"),
    ],
)
def test_scan_bad_settings_write_nothing(tmp_path, shared_data, kwargs, message):
    mosaic = build_mosaic(tmp_path, shared_data, size=200)
    options = {"mosaic": str(mosaic), "aperture": 60, "stride": 30, "out": str(tmp_path / "c.csv"), **kwargs}
    with pytest.raises(CommandError, match=message):
        call_command("complexity_scan", inline=True, **options)
    assert not Scan.objects.exists() and not (tmp_path / "c.csv").exists()


def test_scan_bad_files(tmp_path):
    nowcs = tmp_path / "nowcs.fits"
    nowcs.write_bytes(fits_bytes(blob_array(64), wcs=False))
    with pytest.raises(CommandError, match="no celestial WCS"):
        call_command("complexity_scan", mosaic=str(nowcs), aperture=20, stride=10, out=str(tmp_path / "c.csv"))
    with pytest.raises(CommandError, match="no such file"):
        call_command("complexity_scan", mosaic=str(tmp_path / "x.fits"), aperture=20, stride=10, out="c.csv")
    assert not Scan.objects.exists()


def test_entry_goes_to_the_labelling_queue_once(tmp_path, shared_data):
    mosaic = build_mosaic(tmp_path, shared_data, size=400)
    call_command(
        "complexity_scan", mosaic=str(mosaic), aperture=108, stride=54, out=str(tmp_path / "c.csv"), inline=True
    )
    workflow, _ = make_workflow_with_subjects(n=1)
    entry = AnomalyEntry.objects.order_by("rank").first()
    cutout = services.entry_to_queue(entry_id=entry.pk, workflow_id=workflow.pk)
    assert cutout.width == 90 and cutout.metadata["anomaly_rank"] == entry.rank  # 1.5 x aperture
    assert SubjectWorkflowStatus.objects.filter(workflow=workflow, subject=cutout).exists()
    from core.errors import Conflict

    with pytest.raises(Conflict, match="already in the queue"):
        services.entry_to_queue(entry_id=entry.pk, workflow_id=workflow.pk)
    assert Classification.objects.count() == 0


def test_scan_api_and_page(tmp_path, shared_data, django_capture_on_commit_callbacks, settings):
    from rest_framework.test import APIClient

    from tests.factories import astronomer

    mosaic = build_mosaic(tmp_path, shared_data, size=400)
    settings.RGZ_IMPORT_ROOTS, settings.RGZ_EXPORT_ROOT = [str(tmp_path)], tmp_path / "exports"
    client = APIClient()
    body = {"mosaic": str(mosaic), "aperture_arcsec": 108, "stride_arcsec": 54}
    assert client.post("/api/scans/", body, format="json").status_code == 403
    client.force_login(astronomer())
    bad = client.post("/api/scans/", {**body, "aperture_arcsec": -3}, format="json")
    assert bad.status_code == 400 and "positive" in bad.json()["detail"]
    with django_capture_on_commit_callbacks(execute=True):  # tiles run eagerly in unit tests
        started = client.post("/api/scans/", body, format="json")
    assert started.status_code == 202
    scan_id = started.json()["id"]
    detail = client.get(f"/api/scans/{scan_id}/").json()
    assert detail["status"] == "succeeded" and detail["tiles_done"] == detail["tile_count"]
    assert set(detail["thresholds"]) == {"5.0", "1.0", "0.5"}
    entries = client.get(f"/api/scans/{scan_id}/entries/", {"top": 5}).json()
    assert entries["count"] >= 1
    csv_text = client.get(f"/api/scans/{scan_id}/catalogue.csv", {"top": 5}).content.decode()
    assert (
        csv_text.splitlines()[0].startswith("rank,ra_deg,dec_deg")
        and len(csv_text.splitlines()) == entries["count"] + 1
    )
    assert client.get(f"/api/scans/{scan_id}/catalogue.vot").content.startswith(b"<?xml")
    assert client.get(f"/api/scans/{scan_id}/entries/", {"top": "lots"}).status_code == 400
    page = client.get(f"/scans/{scan_id}/").content.decode()
    assert "Send to queue" in page and "top 5 %" in page and "VOTable" in page
    workflow, _ = make_workflow_with_subjects(n=1)
    entry_id = entries["results"][0]["id"]
    sent = client.post(f"/api/anomalies/{entry_id}/to-queue/", {"workflow": workflow.pk}, format="json")
    assert sent.status_code == 201
    again = client.post(f"/api/anomalies/{entry_id}/to-queue/", {"workflow": workflow.pk}, format="json")
    assert again.status_code == 409
    assert client.post("/api/anomalies/999999/to-queue/", {"workflow": workflow.pk}, format="json").status_code == 404


def test_cube_mosaic_is_scanned_on_its_first_plane_with_a_warning(tmp_path, capsys):
    plane = np.random.default_rng(1).normal(0, 1e-4, (200, 200)).astype(np.float32)
    plane[80:144, 80:144] += blob_array(64, seed=3, lobes=2) * 5
    cube = tmp_path / "cube.fits"
    cube.write_bytes(fits_bytes(np.stack([plane, plane * 0])[None], scale_arcsec=2.0))
    call_command("complexity_scan", mosaic=str(cube), aperture=40, stride=20, out=str(tmp_path / "c.csv"), inline=True)
    scan = Scan.objects.get()
    assert "warning: 4-D cube: took the first plane" in capsys.readouterr().err
    assert scan.status == "succeeded" and scan.notes == ["4-D cube: took the first plane"]
