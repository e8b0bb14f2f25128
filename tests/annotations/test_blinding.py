"""Where generated subjects are served, a volunteer cannot tell them from real ones before the
answer: every subject shows the same fields (no position, format or visible metadata), and all is
shown after the answer. Elsewhere, and to astronomers, positions are shown as before."""

import json

import pytest
from rest_framework.test import APIClient

from annotations.blinding import blind_survey_ids
from annotations.models import Cutout, RetirementReason, SubjectWorkflowStatus, Survey
from tests.factories import astronomer, make_workflow_with_subjects, serve

pytestmark = pytest.mark.django_db

ANSWER = [{"task": "T0", "value": 1}]


def make_generated(cutout, *, approved=None):
    """Make a factory cutout look as a generated one does: no position, no WCS, hidden keys."""
    metadata = {"#generator_version": 1, "#requested_class": "FRII", "#seed": 0}
    if approved is not None:
        metadata["#approved"] = approved
    Cutout.objects.filter(pk=cutout.pk).update(
        synthetic=True, ra_deg=None, dec_deg=None, wcs_header="", source_format="fits", metadata=metadata
    )


@pytest.fixture
def mixed():
    """Three real subjects with positions, visible metadata and PNG sources, and one generated."""
    workflow, cutouts = make_workflow_with_subjects(n=4, retirement=5, name="Blind", survey_name="blind-survey")
    Cutout.objects.filter(pk__in=[c.pk for c in cutouts[:3]]).update(
        source_format="png", metadata={"label": "FRII", "flux_mjy": 12.5}
    )
    make_generated(cutouts[3])
    Survey.objects.filter(pk=cutouts[0].survey_id).update(pixel_scale_arcsec=1.8)
    workflow.synthetic_share = 1.0
    workflow.save(update_fields=["synthetic_share"])
    return workflow, cutouts[:3], cutouts[3]


def queue_batch(client, workflow, n=4):
    body = client.get("/api/queue/next/", {"workflow": workflow.pk, "n": n}).json()
    return {item["subject"]["id"]: item["subject"] for item in body["subjects"]}


def submit(client, workflow, subject_id):
    return client.post(
        "/api/classifications/", {"workflow": workflow.pk, "subject": subject_id, "annotations": ANSWER}, format="json"
    )


def test_without_generated_subjects_volunteers_see_positions():
    workflow, cutouts = make_workflow_with_subjects(n=2, retirement=5, name="Open", survey_name="open-survey")
    served = queue_batch(APIClient(), workflow, n=2)
    assert len(served) == 2
    for subject in served.values():
        assert subject["position_withheld"] is False
        assert subject["ra_deg"] is not None and subject["sky"]["crval"]
    assert blind_survey_ids() == set()


def test_before_the_answer_real_and_generated_subjects_look_alike(mixed):
    workflow, real, generated = mixed
    served = queue_batch(APIClient(), workflow)
    assert set(served) == {c.pk for c in [*real, generated]}
    shapes = set()
    for subject in served.values():
        assert subject["position_withheld"] is True
        assert subject["ra_deg"] is None and subject["dec_deg"] is None
        assert subject["source_format"] is None and subject["metadata"] == {}
        assert subject["sky"] == {"pixel_scale_arcsec": 1.8, "approximate": True}  # the survey's, for the scale bar
        links = {"id", "name", "image_url", "pixels_url", "contours_url"}
        shapes.add(json.dumps({k: v for k, v in subject.items() if k not in links}, sort_keys=True))
    assert len(shapes) == 1  # nothing but identifiers and image links differs


def test_the_cutout_api_withholds_the_same_until_answered_and_shows_all_after(mixed):
    workflow, real, generated = mixed
    volunteer = APIClient()
    serve(volunteer, workflow, real[0].pk)
    detail = volunteer.get(f"/api/cutouts/{real[0].pk}/").json()
    assert detail["position_withheld"] is True and detail["ra_deg"] is None and detail["source_format"] is None
    listed = {row["id"]: row for row in volunteer.get("/api/cutouts/", {"survey": "blind-survey"}).json()["results"]}
    assert all(row["position_withheld"] and row["ra_deg"] is None for row in listed.values())

    stored = submit(volunteer, workflow, real[0].pk)
    assert stored.status_code == 201
    body = stored.json()
    assert body["synthetic_notice"] is None
    assert body["subject_position"] == {"ra_deg": pytest.approx(real[0].ra_deg), "dec_deg": pytest.approx(2.0)}
    after = volunteer.get(f"/api/cutouts/{real[0].pk}/").json()
    assert after["position_withheld"] is False and after["ra_deg"] == pytest.approx(real[0].ra_deg)
    assert after["source_format"] == "png" and after["metadata"] == {"flux_mjy": 12.5} and after["sky"]["crval"]
    # another volunteer who has not answered it is still not shown it
    assert APIClient().get(f"/api/cutouts/{real[0].pk}/").json()["position_withheld"] is True


def test_a_generated_subject_is_told_after_the_answer_with_no_position(mixed):
    workflow, real, generated = mixed
    volunteer = APIClient()
    serve(volunteer, workflow, generated.pk)
    body = submit(volunteer, workflow, generated.pk).json()
    assert body["synthetic_notice"] and body["subject_position"] is None


def test_astronomers_always_see_everything(mixed, client):
    workflow, real, generated = mixed
    client.force_login(astronomer())
    detail = client.get(f"/api/cutouts/{real[0].pk}/").json()
    assert detail["position_withheld"] is False and detail["ra_deg"] is not None and detail["source_format"] == "png"


def test_only_servable_generated_cutouts_blind_a_survey(mixed):
    workflow, real, generated = mixed
    survey = real[0].survey_id
    assert blind_survey_ids() == {survey}
    # rejected: retired by hand in every queue and marked, so volunteers never see it
    Cutout.objects.filter(pk=generated.pk).update(metadata={"#approved": False})
    SubjectWorkflowStatus.objects.filter(subject=generated).update(retirement_reason=RetirementReason.HUMAN)
    assert blind_survey_ids() == set()
    assert APIClient().get(f"/api/cutouts/{real[0].pk}/").json()["position_withheld"] is False
    # approved generated cutouts of another survey leave this one open
    _, others = make_workflow_with_subjects(n=2, retirement=5, name="Other", survey_name="other-survey")
    make_generated(others[1], approved=True)
    assert blind_survey_ids() == {others[1].survey_id}
    assert APIClient().get(f"/api/cutouts/{real[0].pk}/").json()["position_withheld"] is False
