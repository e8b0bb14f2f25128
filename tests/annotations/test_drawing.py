"""Drawing and radio-component tasks: marks stored in radio-frame pixels, RA/Dec in every answer and export."""

import csv
import io
import json
import warnings

import pytest
from astropy.io import fits
from astropy.wcs import WCS
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from annotations.drawing import SubjectFrame
from annotations.models import Classification, Cutout
from annotations.services import workflow_create
from annotations.task_definitions import radio_source_workflow_definition, validate_annotations
from core.errors import InvalidInput
from tests.factories import astronomer, serve

pytestmark = pytest.mark.django_db


@pytest.fixture
def atlas_subject(shared_data):
    """S311 (a real ATCA cutout with a WCS, 301x301) in a workflow with the radio-source task."""
    tasks, strings = radio_source_workflow_definition()
    workflow = workflow_create(display_name="Radio sources", tasks=tasks, strings=strings, retirement_count=5)
    fits_path = shared_data / "rgz_atlas_examples" / "S311.fits"
    call_command(
        "ingest_images", str(fits_path), survey="ATLAS", workflow=workflow.pk, inline=True, stdout=io.StringIO()
    )
    cutout = Cutout.objects.get(name="S311")
    assert len(cutout.contours[0]["paths"]) >= 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wcs = WCS(fits.getheader(fits_path)).celestial
    return workflow, cutout, wcs


def answer(host=(150.5, 150.5), components=(0, 1), marks=None):
    return [
        {"task": "T0", "value": [{"components": list(components), "host": {"x": host[0], "y": host[1]}}]},
        {"task": "T1", "value": marks if marks is not None else [{"tool": 0, "x": 40.0, "y": 60.0}]},
    ]


def submit(client, workflow, cutout, annotations):
    serve(client, workflow, cutout.pk)
    body = {"workflow": workflow.pk, "subject": cutout.pk, "annotations": annotations}
    return client.post(reverse("api-classifications"), body, format="json")


def test_marks_are_stored_in_pixels_and_answered_with_ra_dec(atlas_subject):
    workflow, cutout, wcs = atlas_subject
    client = APIClient()
    marks = [
        {"tool": 0, "x": 40.0, "y": 60.0},
        {"tool": 1, "x": 100, "y": 100, "r": 12},
        {"tool": 2, "x": 120, "y": 90, "rx": 20, "ry": 8, "angle": 30},
        {"tool": 3, "x": 10, "y": 10, "width": 50, "height": 30},
        {"tool": 4, "x1": 5, "y1": 5, "x2": 55, "y2": 25},
    ]
    created = submit(client, workflow, cutout, answer(marks=marks))
    assert created.status_code == 201, created.content
    stored = Classification.objects.get().annotations
    assert stored[0]["value"] == [{"components": [0, 1], "host": {"x": 150.5, "y": 150.5}}]
    assert stored[1]["value"][3] == {"tool": 3, "x": 10.0, "y": 10.0, "width": 50.0, "height": 30.0}
    assert "ra_deg" not in json.dumps(stored)  # the sky position is derived, never stored

    host = created.json()["annotations"][0]["value"][0]["host"]
    # The centre of the 301x301 raster, (150.5, 150.5), is FITS pixel (150, 150) (0-based).
    centre = wcs.pixel_to_world(150, 150).icrs
    assert host["ra_deg"] == pytest.approx(centre.ra.deg, abs=1e-9)
    assert host["dec_deg"] == pytest.approx(centre.dec.deg, abs=1e-9)
    listed = client.get(reverse("api-classifications")).json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    point, _, _, rectangle, _ = rows[0]["annotations"][1]["value"]
    # x to the right, y down from the top: raster (40, 60) is FITS pixel (39.5, 301 - 0.5 - 60).
    expected = wcs.pixel_to_world(39.5, 240.5).icrs
    assert point["ra_deg"] == pytest.approx(expected.ra.deg, abs=1e-9)
    assert point["dec_deg"] == pytest.approx(expected.dec.deg, abs=1e-9)
    # Up in the image is north: a mark higher in the raster lies further north.
    assert point["dec_deg"] > host["dec_deg"]
    assert rectangle["ra_deg"] == pytest.approx(wcs.pixel_to_world(34.5, 275.5).icrs.ra.deg, abs=1e-9)


@pytest.mark.parametrize(
    "annotations, fragment",
    [
        (answer(host=(400, 20)), "(400, 20) is outside the 301x301 image"),
        (answer(host=(-1, 20)), "is outside the 301x301 image"),
        (answer(marks=[{"tool": 0, "x": float("nan"), "y": 3}]), "NaN is not valid JSON"),
        (answer(marks=[{"tool": 0, "x": "12", "y": 3}]), "x must be a number"),
        (answer(marks=[{"tool": 9, "x": 1, "y": 3}]), "unknown tool 9"),
        (answer(marks=[{"tool": "point", "x": 1, "y": 3}]), "unknown tool 'point'"),
        (answer(marks=[{"tool": 1, "x": 1, "y": 3, "r": 0}]), "r must be positive"),
        (answer(marks=[{"tool": 3, "x": 290, "y": 3, "width": 40, "height": 5}]), "(330, 8) is outside"),
        (answer(components=(0, 999)), "component 999 does not exist"),
        (answer(components=()), "components must be a non-empty list"),
        (
            [{"task": "T0", "value": [{"components": [0], "host": None}, {"components": [0], "host": None}]}],
            "component 0 belongs to another source",
        ),
        ([{"task": "T1", "value": []}], "required task(s) not answered: T0"),
    ],
)
def test_bad_marks_are_refused_with_a_clear_400_and_nothing_stored(atlas_subject, annotations, fragment):
    workflow, cutout, _ = atlas_subject
    response = APIClient().post(
        reverse("api-classifications"),
        data=json.dumps({"workflow": workflow.pk, "subject": cutout.pk, "annotations": annotations}),
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert fragment in json.dumps(response.json()), response.json()
    assert not Classification.objects.exists()


def test_nan_and_infinity_that_reach_the_validator_are_refused(atlas_subject):
    _, cutout, _ = atlas_subject
    tasks, _ = radio_source_workflow_definition()
    for bad in (float("nan"), float("inf")):
        with pytest.raises(InvalidInput, match="x must be a finite number"):
            validate_annotations(answer(marks=[{"tool": 0, "x": bad, "y": 3}]), tasks, SubjectFrame.of(cutout))
        with pytest.raises(InvalidInput, match="host y must be a finite number"):
            validate_annotations(answer(host=(3, bad)), tasks, SubjectFrame.of(cutout))


def test_workflow_with_an_unknown_drawing_tool_is_refused():
    tasks, strings = radio_source_workflow_definition()
    tasks["T1"]["tools"][0]["type"] = "spiral"
    client = APIClient()
    client.force_login(astronomer())
    body = {"display_name": "Bad tools", "tasks": tasks, "strings": strings}
    response = client.post(reverse("api-workflows"), body, format="json")
    assert response.status_code == 400 and "tool 0 type must be one of" in json.dumps(response.json())


def test_export_carries_zooniverse_mark_fields_and_sky_positions(atlas_subject, tmp_path):
    workflow, cutout, wcs = atlas_subject
    assert submit(APIClient(), workflow, cutout, answer()).status_code == 201
    out = tmp_path / "c.csv"
    call_command("export_zooniverse", workflow=workflow.pk, out=str(out))
    [row] = list(csv.DictReader(out.open()))
    components, drawing = json.loads(row["annotations"])
    [mark] = drawing["value"]
    assert mark["tool"] == 0 and mark["tool_label"] == "Galaxy" and mark["frame"] == 0 and mark["details"] == []
    assert (mark["x"], mark["y"]) == (40.0, 60.0)
    assert mark["dec_deg"] == pytest.approx(wcs.pixel_to_world(39.5, 240.5).icrs.dec.deg, abs=1e-9)
    assert components["value"][0]["host"]["ra_deg"] == pytest.approx(wcs.pixel_to_world(150, 150).icrs.ra.deg, abs=1e-9)
