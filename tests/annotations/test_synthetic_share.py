"""Generated (synthetic) subjects in the queue: the per-workflow share cap measured over many
requests, the blinded realism question, disclosure after the answer, and the setting's API."""

import pytest
from rest_framework.test import APIClient

from annotations.models import Classification, Cutout, Workflow
from annotations.queue import queue_next_subject
from annotations.services import classification_create
from annotations.synthetic import (
    realism_control_rate,
    realism_question_asked,
    synthetic_allowed,
    synthetic_share_set,
)
from core.errors import InvalidInput
from tests.factories import astronomer, make_workflow_with_subjects, serve

pytestmark = pytest.mark.django_db


def make_synthetic(cutouts, requested="FRII"):
    Cutout.objects.filter(pk__in=[c.pk for c in cutouts]).update(
        synthetic=True, metadata={"#generator_version": 1, "#requested_class": requested, "#seed": 0}
    )
    for cutout in cutouts:
        cutout.refresh_from_db()


@pytest.fixture
def mixed():
    """24 real and 24 generated subjects in one workflow (retiring after 20 answers)."""
    workflow, cutouts = make_workflow_with_subjects(n=48, retirement=20, name="Mixed", survey_name="mixed")
    make_synthetic(cutouts[24:])
    return workflow, cutouts[:24], cutouts[24:]


def run_volunteer(workflow, volunteer, limit=1000):
    """Classify whatever the queue serves until it has nothing left; the served subjects in order."""
    served = []
    for _ in range(limit):
        status = queue_next_subject(workflow_id=workflow.pk, volunteer=volunteer)
        if status is None:
            break
        served.append(status.subject)
        classification_create(
            workflow_id=workflow.pk,
            subject_id=status.subject_id,
            volunteer=volunteer,
            annotations=[{"task": "T0", "value": 2}],
            require_served=True,
        )
    return served


def test_the_served_synthetic_share_never_passes_the_cap(mixed, volunteer_factory):
    workflow, real, generated = mixed
    synthetic_share_set(workflow=workflow, share=0.1)
    workflow.refresh_from_db()
    totals = [0, 0]
    for _ in range(4):
        served = run_volunteer(workflow, volunteer_factory())
        flags = [s.synthetic for s in served]
        # at every point of the volunteer's history, the generated share stays within 10 %
        for n in range(1, len(flags) + 1):
            assert sum(flags[:n]) <= 0.1 * n + 1e-9, flags
        # every real subject is served, and generated ones up to the cap once the real ones run out
        assert len(flags) - sum(flags) == len(real)
        assert sum(flags) == 2  # 24 real + 2 generated: 2 / 26 <= 10 %, a third would make 3 / 27 > 10 %
        totals[0] += sum(flags)
        totals[1] += len(flags)
    assert totals[0] / totals[1] == pytest.approx(2 / 26)


def test_a_share_of_zero_serves_no_generated_subject_and_one_serves_them_freely(mixed, volunteer_factory):
    workflow, real, generated = mixed
    synthetic_share_set(workflow=workflow, share=0.0)
    workflow.refresh_from_db()
    served = run_volunteer(workflow, volunteer_factory())
    assert len(served) == len(real) and not any(s.synthetic for s in served)
    synthetic_share_set(workflow=workflow, share=1.0)
    workflow.refresh_from_db()
    served = run_volunteer(workflow, volunteer_factory())
    assert sum(s.synthetic for s in served) == len(generated) and len(served) == 48


def test_the_share_holds_with_many_volunteers_while_real_subjects_remain(mixed, volunteer_factory):
    """The measured share over many requests, in the middle of each volunteer's session."""
    workflow, real, generated = mixed
    synthetic_share_set(workflow=workflow, share=0.25)
    workflow.refresh_from_db()
    served_flags = []
    for _ in range(10):
        served_flags.extend(s.synthetic for s in run_volunteer(workflow, volunteer_factory(), limit=12))
    share = sum(served_flags) / len(served_flags)
    assert len(served_flags) == 120
    # random order over a pool that is half generated: capped at 25 %, well above zero
    assert 0.1 <= share <= 0.25


def test_when_only_capped_generated_subjects_are_left_the_api_says_nothing_is_left(mixed):
    workflow, real, generated = mixed
    synthetic_share_set(workflow=workflow, share=0.1)
    client = APIClient()
    for _ in range(60):
        body = client.get("/api/queue/next/", {"workflow": workflow.pk}).json()
        if body["subject"] is None:
            break
        client.post(
            "/api/classifications/",
            {"workflow": workflow.pk, "subject": body["subject"]["id"], "annotations": [{"task": "T0", "value": 1}]},
            format="json",
        )
    assert body["subject"] is None and "retry_after" not in body  # no endless "try again later"
    assert "No subjects left" in body["detail"]


def test_synthetic_allowed_counts_the_volunteers_own_history(mixed, volunteer_factory):
    workflow, real, generated = mixed
    me = volunteer_factory()
    assert not synthetic_allowed(workflow=workflow, volunteer=me)  # 1 / 1 > 5 %
    for cutout in real[:19]:
        Classification.objects.create(
            workflow=workflow,
            workflow_version=workflow.versions.first(),
            subject=cutout,
            volunteer_key=me.key,
            annotations=[],
        )
    assert synthetic_allowed(workflow=workflow, volunteer=me)  # 1 / 20 = 5 %
    Classification.objects.create(
        workflow=workflow, workflow_version=workflow.versions.first(), subject=generated[0], volunteer_key=me.key
    )
    assert not synthetic_allowed(workflow=workflow, volunteer=me)  # 2 / 21 > 5 %


def test_realism_question_is_blind_and_the_answer_is_disclosed_after(mixed):
    workflow, real, generated = mixed
    synthetic_share_set(workflow=workflow, share=1.0)  # the control rate is then 1: every subject carries it
    client = APIClient()
    seen = {"synthetic": 0, "real": 0}
    for _ in range(12):
        body = client.get("/api/queue/next/", {"workflow": workflow.pk}).json()
        subject = body["subject"]
        assert "synthetic" not in subject  # nothing in the payload says it is generated
        assert "#requested_class" not in subject["metadata"]
        assert body["realism_question"] is True
        is_generated = Cutout.objects.get(pk=subject["id"]).synthetic
        stored = client.post(
            "/api/classifications/",
            {
                "workflow": workflow.pk,
                "subject": subject["id"],
                "annotations": [{"task": "T0", "value": 2}],
                "realism": "generated",
            },
            format="json",
        )
        assert stored.status_code == 201
        notice = stored.json()["synthetic_notice"]
        if is_generated:
            assert "generated example" in notice and "FRII" in notice
            seen["synthetic"] += 1
        else:
            assert notice is None
            seen["real"] += 1
        assert Classification.objects.get(pk=stored.json()["id"]).realism == "generated"
    assert seen["synthetic"] and seen["real"]


def test_a_bad_realism_answer_is_refused_and_nothing_is_stored(mixed):
    workflow, real, generated = mixed
    client = APIClient()
    subject = client.get("/api/queue/next/", {"workflow": workflow.pk}).json()["subject"]
    bad = client.post(
        "/api/classifications/",
        {"workflow": workflow.pk, "subject": subject["id"], "annotations": [{"task": "T0", "value": 2}], "realism": 3},
        format="json",
    )
    assert bad.status_code == 400 and "realism" in bad.json()
    assert not Classification.objects.exists()
    with pytest.raises(InvalidInput, match="realism"):
        from annotations.synthetic import realism_clean

        realism_clean("maybe")


def test_the_control_rate_matches_the_generated_share(mixed, volunteer_factory):
    assert realism_control_rate(0.0) == 0.0
    assert realism_control_rate(0.05) == pytest.approx(0.05 / 0.95)
    assert realism_control_rate(0.5) == realism_control_rate(0.9) == 1.0
    workflow, real, generated = mixed
    synthetic_share_set(workflow=workflow, share=0.2)
    workflow.refresh_from_db()
    volunteers = [volunteer_factory() for _ in range(40)]
    asked = [realism_question_asked(workflow=workflow, subject=c, volunteer=v) for v in volunteers for c in real]
    assert 0.15 <= sum(asked) / len(asked) <= 0.35  # about 0.25 = 0.2 / 0.8
    assert all(realism_question_asked(workflow=workflow, subject=generated[0], volunteer=v) for v in volunteers)
    # the same volunteer and subject are asked the same way on a reload
    again = [realism_question_asked(workflow=workflow, subject=c, volunteer=v) for v in volunteers for c in real]
    assert again == asked


def test_no_realism_question_in_a_workflow_without_generated_subjects(volunteer_factory):
    workflow, cutouts = make_workflow_with_subjects(n=2, name="Plain", survey_name="plain")
    assert not realism_question_asked(workflow=workflow, subject=cutouts[0], volunteer=volunteer_factory())


def test_the_share_is_set_through_the_api_and_bad_values_change_nothing(mixed):
    workflow, real, generated = mixed
    url = f"/api/workflows/{workflow.pk}/synthetic-share/"
    assert APIClient().get(url).json() == {"workflow": workflow.pk, "synthetic_share": 0.05, "synthetic_subjects": 24}
    assert APIClient().put(url, {"synthetic_share": 0.2}, format="json").status_code in (401, 403)
    astro = APIClient()
    astro.force_authenticate(astronomer())
    for bad in (1.5, -0.1, "lots", None):
        response = astro.put(url, {"synthetic_share": bad}, format="json")
        assert response.status_code == 400, bad
        body = response.json()
        assert "synthetic_share" in str(body)
    out_of_range = astro.put(url, {"synthetic_share": 1.5}, format="json").json()
    assert "from 0 to 1" in str(out_of_range)
    assert Workflow.objects.get(pk=workflow.pk).synthetic_share == 0.05
    saved = astro.put(url, {"synthetic_share": 0.2}, format="json")
    assert saved.status_code == 200 and saved.json()["synthetic_share"] == 0.2
    assert Workflow.objects.get(pk=workflow.pk).synthetic_share == 0.2
    assert APIClient().get(f"/api/workflows/{workflow.pk}/").json()["synthetic_share"] == 0.2
    assert astro.get("/api/workflows/999999/synthetic-share/").status_code == 404
    with pytest.raises(InvalidInput):
        synthetic_share_set(workflow=workflow, share=float("nan"))


def test_volunteers_cannot_filter_cutouts_by_the_synthetic_flag(mixed):
    workflow, real, generated = mixed
    volunteer = APIClient()
    rows = volunteer.get("/api/cutouts/", {"synthetic": "true"}).json()
    rows = rows["results"] if isinstance(rows, dict) else rows
    assert {r["id"] for r in rows} & {c.pk for c in real}  # the filter is ignored for volunteers
    astro = APIClient()
    astro.force_authenticate(astronomer())
    rows = astro.get("/api/cutouts/", {"synthetic": "true"}).json()
    rows = rows["results"] if isinstance(rows, dict) else rows
    assert rows and all(r["synthetic"] for r in rows)


def test_the_field_guide_tells_volunteers_some_images_are_generated(client, mixed):
    workflow, real, generated = mixed
    page = client.get(f"/classify/{workflow.pk}/").content.decode()
    assert 'id="guide-generated"' in page and "at most 5 %" in page
    assert 'id="realism"' in page
    plain, _ = make_workflow_with_subjects(n=1, name="Plain", survey_name="plain")
    assert 'id="guide-generated"' not in client.get(f"/classify/{plain.pk}/").content.decode()


def test_the_acquisition_page_edits_the_share(client, mixed):
    workflow, real, generated = mixed
    client.force_login(astronomer())
    page = client.get(f"/workflows/{workflow.pk}/acquisition/").content.decode()
    assert 'id="synthetic-form"' in page and f"/api/workflows/{workflow.pk}/synthetic-share/" in page


def test_generated_subjects_are_not_part_of_the_workflows_progress(mixed, volunteer_factory):
    from annotations.selectors import workflow_progress

    workflow, real, generated = mixed
    synthetic_share_set(workflow=workflow, share=1.0)
    workflow.refresh_from_db()
    served = run_volunteer(workflow, volunteer_factory(), limit=30)
    progress = workflow_progress(workflow=workflow)
    assert progress["subjects"] == len(real)
    assert progress["classifications"] == sum(not s.synthetic for s in served) < len(served)


def test_recent_classifications_say_which_subjects_were_generated(client, mixed):
    workflow, real, generated = mixed
    for subject in (real[0], generated[0], real[1]):
        serve(client, workflow, subject.pk)
        stored = client.post(
            "/api/classifications/",
            {"workflow": workflow.pk, "subject": subject.pk, "annotations": [{"task": "T0", "value": 1}]},
            content_type="application/json",
        )
        assert stored.status_code == 201
    page = client.get("/classify/recent/").content.decode()
    assert page.count("a generated example, not an observed source") == 1
