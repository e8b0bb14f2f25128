import csv
import shutil

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from annotations.demo_survey import DEMO_SURVEY, ingest_demo
from annotations.models import Classification, Cutout, SubjectWorkflowStatus, Survey
from jobs.models import Job
from tests.factories import blob_array, fits_bytes

pytestmark = pytest.mark.django_db


def write_catalogue(path, rows, header=("name", "ra", "dec", "label", "file")):
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_ingest_images_real_fits_with_catalogue(tmp_path, shared_data):
    sample = sorted((shared_data / "mirabest" / "FITS_sample").glob("*.fits"))[:3]
    catalogue = write_catalogue(
        tmp_path / "cat.csv",
        [(f"MB-{i}", 10.0 + i, -9.0, "FRI", path.name) for i, path in enumerate(sample)],
    )
    call_command("ingest_images", *map(str, sample), survey="MiraBest", catalogue=str(catalogue), inline=True)
    cutouts = list(Cutout.objects.filter(survey__name="MiraBest").order_by("name"))
    assert [c.name for c in cutouts] == ["MB-0", "MB-1", "MB-2"]
    assert cutouts[1].ra_deg == 11.0 and cutouts[1].metadata["label"] == "FRI"
    assert cutouts[0].wcs_header and cutouts[0].width == 300
    assert cutouts[0].contours and cutouts[0].image.size > 1000
    job = Job.objects.get()
    assert job.status == "succeeded" and job.done == job.total == 3


def test_ingest_images_reports_bad_files_and_keeps_good_ones(tmp_path, shared_data):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(shared_data / "rgz_atlas_examples" / "S311.fits", folder / "S311.fits")
    shutil.copy(shared_data / "rgz_atlas_examples" / "examples" / "compact" / "S150_radio.png", folder / "S150.png")
    (folder / "readme.txt").write_text("not an image")
    (folder / "cut.fits").write_bytes(fits_bytes(blob_array(64))[:3000])
    call_command("ingest_images", str(folder), survey="ATLAS", inline=True)
    assert sorted(Cutout.objects.values_list("name", flat=True)) == ["S150", "S311"]
    job = Job.objects.get()
    assert job.status == "succeeded"
    assert any("readme.txt" in e and "not a FITS, PNG or JPEG" in e for e in job.errors)
    assert any("cut.fits" in e and "not a readable FITS" in e for e in job.errors)
    # Ingesting again adds nothing and loses nothing.
    call_command("ingest_images", str(folder), survey="ATLAS", inline=True)
    assert Cutout.objects.count() == 2
    assert Job.objects.order_by("-created_at").first().result["skipped"] == 2


def test_ingest_images_fails_when_nothing_valid(tmp_path):
    bad = tmp_path / "bad.fits"
    bad.write_bytes(b"SIMPLE  = garbage")
    with pytest.raises(CommandError, match="0 created"):
        call_command("ingest_images", str(bad), survey="S", inline=True)


def test_bad_catalogue_names_file_and_row(tmp_path):
    image = tmp_path / "a.fits"
    image.write_bytes(fits_bytes(blob_array(32)))
    catalogue = write_catalogue(tmp_path / "cat.csv", [("a", "10", "5", "", "a.fits"), ("b", "north", "5", "", "")])
    with pytest.raises(CommandError, match=r"cat.csv row 3: ra 'north' is not a number"):
        call_command("ingest_images", str(image), survey="S", catalogue=str(catalogue), inline=True)
    assert Cutout.objects.count() == 0


@pytest.mark.parametrize(
    "rows, header, fragment",
    [
        ([("a", "400", "5")], ("name", "ra", "dec"), "row 2: ra 400.0 is outside"),
        ([("a", "1", "5"), ("a", "2", "5")], ("name", "ra", "dec"), "row 3: source name 'a' appears twice"),
        ([("a", "1")], ("name", "ra"), "missing column(s) dec"),
        ([], ("name", "ra", "dec"), "has no rows"),
    ],
)
def test_catalogue_errors(tmp_path, rows, header, fragment):
    from annotations.catalogues import read_catalogue
    from core.errors import InvalidInput

    with pytest.raises(InvalidInput) as error:
        read_catalogue(write_catalogue(tmp_path / "c.csv", rows, header=header))
    assert fragment in str(error.value) and "c.csv" in str(error.value)


def build_mosaic(shared_data, tmp_path, size=900, scale_arcsec=1.8):
    """A mosaic made by placing real MiraBest FITS cutouts on a noise field with a valid WCS."""
    from astropy.io import fits

    rng = np.random.default_rng(0)
    field = rng.normal(0, 1.5e-4, (size, size)).astype(np.float32)
    sample = sorted((shared_data / "mirabest" / "FITS_sample").glob("*.fits"))[:4]
    corners = [(50, 50), (50, 500), (500, 50), (500, 500)]
    for (y, x), path in zip(corners, sample, strict=True):
        stamp = np.nan_to_num(fits.getdata(path).squeeze().astype(np.float32))
        field[y : y + 300, x : x + 300] += stamp
    field[850:, 850:] = np.nan  # a blank corner, as at survey edges
    path = tmp_path / "mosaic.fits"
    path.write_bytes(fits_bytes(field, ra=180.0, dec=0.0, scale_arcsec=scale_arcsec))
    return path, corners


def test_ingest_fits_cuts_sources_from_a_mosaic(tmp_path, shared_data):
    from mlcore.io import read_image

    mosaic, corners = build_mosaic(shared_data, tmp_path)
    wcs = read_image(mosaic.read_bytes()).wcs
    rows = []
    for i, (y, x) in enumerate(corners):
        sky = wcs.pixel_to_world(x + 150, y + 150)
        rows.append((f"src{i}", f"{sky.ra.deg:.6f}", f"{sky.dec.deg:.6f}"))
    rows.append(("outside", "10.0", "-60.0"))
    catalogue = write_catalogue(tmp_path / "cat.csv", rows, header=("name", "ra", "dec"))
    call_command(
        "ingest_fits", survey="Mock EMU", mosaic=str(mosaic), catalogue=str(catalogue), size=180.0, inline=True
    )
    cutouts = {c.name: c for c in Cutout.objects.all()}
    assert sorted(cutouts) == ["src0", "src1", "src2", "src3"]
    assert cutouts["src0"].width == 100 and cutouts["src0"].wcs_header  # 180 arcsec / 1.8 arcsec
    job = Job.objects.get()
    assert any("row 6 (outside)" in e for e in job.errors)


def test_ingest_fits_bad_input(tmp_path, shared_data):
    catalogue = write_catalogue(tmp_path / "cat.csv", [("a", "1", "1")], header=("name", "ra", "dec"))
    nowcs = tmp_path / "nowcs.fits"
    nowcs.write_bytes(fits_bytes(blob_array(64), wcs=False))
    with pytest.raises(CommandError, match="no celestial WCS"):
        call_command("ingest_fits", survey="S", mosaic=str(nowcs), catalogue=str(catalogue), size=10, inline=True)
    with pytest.raises(CommandError, match="--size must be a positive"):
        call_command("ingest_fits", survey="S", mosaic=str(nowcs), catalogue=str(catalogue), size=0, inline=True)
    with pytest.raises(CommandError, match="no such file"):
        call_command("ingest_fits", survey="S", mosaic="missing.fits", catalogue=str(catalogue), size=10, inline=True)
    assert Cutout.objects.count() == 0


def test_ingest_demo_loads_first_images_with_expert_labels():
    report = ingest_demo(limit=12)
    assert report.created == 12
    survey = Survey.objects.get(name=DEMO_SURVEY)
    assert survey.cutouts.count() == 12
    experts = Classification.objects.filter(expert=True)
    assert experts.count() == 12
    labels = {c.metadata["label"] for c in survey.cutouts.all()}
    assert labels <= {"FRI", "FRII", "Compact", "Bent"} and len(labels) >= 2
    # Literature labels do not count towards retirement: volunteers still see every subject.
    assert set(SubjectWorkflowStatus.objects.values_list("classification_count", flat=True)) == {0}
    assert ingest_demo(limit=12).skipped == 12


def test_ingest_demo_reports_a_blank_image_and_loads_the_rest(monkeypatch):
    """firstgalaxydata holds one blank image (valid/Bent/22.446_0.776_3_Proctor_Tab1)."""
    import io

    from PIL import Image

    from annotations import ml
    from mlcore.datasets import LabelledImage

    def png(value):
        buffer = io.BytesIO()
        Image.fromarray((blob_array(32) * 1e4 if value is None else np.full((32, 32), value)).astype(np.uint8)).save(
            buffer, format="PNG"
        )
        return buffer.getvalue()

    items = [
        LabelledImage("good", 1.0, 2.0, "FRII", "train", "Gendre", png(None)),
        LabelledImage("blank", 3.0, 4.0, "Bent", "valid", "Proctor_Tab1", png(0)),
    ]
    monkeypatch.setattr(ml, "demo_images", lambda limit=None: iter(items))
    report = ingest_demo()
    assert (report.created, report.failed) == (1, 1)
    assert "valid/Bent/blank.png: image is blank" in report.errors[0]
    assert list(Cutout.objects.values_list("name", flat=True)) == ["good"]
