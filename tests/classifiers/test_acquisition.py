"""A workflow's acquisition policy: saved as versions, validated, rolled back, ranking the queue with
the active model's scores (never stale ones), and previewed with the reasons."""

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from annotations.models import UNRANKED, AcquisitionPolicy, Cutout, SubjectWorkflowStatus
from annotations.ranking import queue_ranking_set
from classifiers import services
from classifiers.models import ClassifierTask, ModelVersion
from jobs.models import Job
from jobs.runner import job_run
from tests.factories import (
    JobRunningAPIClient,
    SurveyFactory,
    astronomer,
    job_result,
    make_cutout,
    make_workflow_with_subjects,
)

pytestmark = pytest.mark.django_db

ENTROPY = [0.10, 0.65, 0.30, 0.50, 0.20, 0.69]  # src-5 most uncertain, then src-1, src-3, ...
ENTROPY_ONLY = {"weights": {"entropy": 1.0}, "exploration": 0.0, "diversity": False}


def active_model(task: ClassifierTask, number: int = 1) -> ModelVersion:
    """A promoted version row (no weights needed: ranking reads the stored scores only)."""
    task.versions.filter(status="active").update(status="ready")
    return ModelVersion.objects.create(
        task=task, number=number, status="active", metrics={"accuracy": 0.9}, promoted_at=timezone.now()
    )


def score(cutout: Cutout, task: ClassifierTask, version: ModelVersion, entropy: float) -> None:
    entry = {"entropy": entropy, "margin": 1 - entropy, "bald": entropy / 10, "version": version.number}
    entry["version_id"] = version.pk
    Cutout.objects.filter(pk=cutout.pk).update(model_scores={task.name: entry})


@pytest.fixture
def scored():
    workflow, cutouts = make_workflow_with_subjects(n=6, retirement=3, name="Acquire", survey_name="acq-survey")
    task = ClassifierTask.objects.create(
        name="fr-acq", survey=cutouts[0].survey, workflow=workflow, classes=["FRI", "FRII"]
    )
    version = active_model(task)
    for cutout, entropy in zip(cutouts, ENTROPY, strict=True):
        score(cutout, task, version, entropy)
    return workflow, cutouts, task, version


@pytest.fixture
def api():
    client = JobRunningAPIClient()
    client.force_authenticate(astronomer())
    return client


def url(name: str, workflow) -> str:
    return reverse(name, args=[workflow.pk])


def queue_order(workflow) -> list[str]:
    rows = SubjectWorkflowStatus.objects.filter(workflow=workflow).order_by("-priority", "random_key")
    return [row.subject.name for row in rows]


def test_saving_a_policy_ranks_the_queue_with_the_active_version_and_keeps_history(scored, api):
    workflow, _, _, version = scored
    response = api.put(url("api-workflow-acquisition", workflow), {"policy": ENTROPY_ONLY}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["active"]["number"] == 1 and body["active"]["policy"]["weights"]["entropy"] == 1.0
    rank = job_result(body["job"])["rank"]  # the save answers at once; a job ranks the queue
    assert rank["ranked"] == 6 and rank["model_version"] == version.pk
    assert queue_order(workflow) == ["src-5", "src-1", "src-3", "src-2", "src-4", "src-0"]
    statuses = SubjectWorkflowStatus.objects.filter(workflow=workflow)
    assert {s.rank_model_version for s in statuses} == {version.pk}
    assert {s.rank_reason for s in statuses} == {"priority"}

    second = api.put(
        url("api-workflow-acquisition", workflow), {"policy": {"weights": {"entropy": 0.5}}}, format="json"
    )
    got = api.get(url("api-workflow-acquisition", workflow)).json()
    assert second.status_code == 200
    assert got["active"]["number"] == 2 and [p["number"] for p in got["history"]] == [2, 1]
    assert [p["active"] for p in got["history"]] == [True, False]


@pytest.mark.parametrize(
    "policy, words",
    [
        ({"weights": {"entropy": -1.0}}, "negative"),
        ({"weights": {"entropy": 0, "complexity": 0}}, "all weights are zero"),
        ({"exploration": 1.5}, "exploration"),
        ({"weights": {"luck": 1.0}}, "unknown score"),
        ({"gold_start": 0.1, "gold_end": 0.5}, "gold_end"),
        ("entropy please", "object"),
    ],
)
def test_a_bad_policy_is_a_400_with_the_reason_and_changes_nothing(scored, api, policy, words):
    workflow = scored[0]
    before = queue_order(workflow)
    response = api.put(url("api-workflow-acquisition", workflow), {"policy": policy}, format="json")
    assert response.status_code == 400
    assert words in response.content.decode()
    assert not AcquisitionPolicy.objects.filter(workflow=workflow).exists()
    assert queue_order(workflow) == before


def test_an_unknown_classifier_task_is_a_400(scored, api):
    workflow = scored[0]
    response = api.put(
        url("api-workflow-acquisition", workflow), {"policy": ENTROPY_ONLY, "task": "nope"}, format="json"
    )
    assert response.status_code == 400 and "nope" in response.json()["detail"]
    assert not AcquisitionPolicy.objects.exists()


def test_rollback_reactivates_an_earlier_policy_and_reranks(scored, api):
    workflow = scored[0]
    first = api.put(url("api-workflow-acquisition", workflow), {"policy": ENTROPY_ONLY}, format="json").json()
    inverse = {"weights": {"margin": 1.0}, "exploration": 0.0, "diversity": False}
    api.put(url("api-workflow-acquisition", workflow), {"policy": inverse}, format="json")
    # margin stored is top-1 minus top-2 = 1 - entropy here: the acquisition score flips it back
    assert queue_order(workflow)[0] == "src-5"
    response = api.post(
        url("api-workflow-acquisition-rollback", workflow), {"policy": first["active"]["id"]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["active"]["number"] == 1
    assert AcquisitionPolicy.objects.filter(workflow=workflow, active=True).get().number == 1
    assert AcquisitionPolicy.objects.filter(workflow=workflow).count() == 2  # nothing rewritten

    other, _ = make_workflow_with_subjects(n=0, name="Other wf", survey_name="acq-other")
    foreign = AcquisitionPolicy.objects.create(workflow=other, number=1, policy=ENTROPY_ONLY, active=True)
    assert api.post(url("api-workflow-acquisition-rollback", workflow), {"policy": foreign.pk}).status_code == 404
    assert api.post(url("api-workflow-acquisition-rollback", workflow), {"policy": "x"}).status_code == 400


def test_scores_of_an_older_version_fall_back_to_exploration_never_to_stale_ranks(scored, api):
    workflow, cutouts, task, old = scored
    new = active_model(task, number=2)
    for cutout, entropy in list(zip(cutouts, ENTROPY, strict=True))[:3]:  # src-0..2 rescored by v2
        score(cutout, task, new, entropy)
    body = api.put(url("api-workflow-acquisition", workflow), {"policy": ENTROPY_ONLY}, format="json").json()
    rank = job_result(body["job"])["rank"]
    assert rank["ranked"] == 3 and rank["exploration"] == 3
    assert any("not by the active v2" in note for note in rank["notes"])
    stale = SubjectWorkflowStatus.objects.get(workflow=workflow, subject__name="src-5")  # v1's top subject
    assert stale.priority == UNRANKED and stale.rank_model_version is None
    assert "fr-acq v1, not by the active v2" in stale.rank_reason
    assert queue_order(workflow)[:3] == ["src-1", "src-2", "src-0"]

    preview = api.get(url("api-workflow-acquisition-preview", workflow) + "?n=6").json()
    by_name = {item["subject"]["name"]: item for item in preview["items"]}
    assert by_name["src-5"]["reason"] == "exploration" and "not by the active v2" in by_name["src-5"]["fallback"]
    assert by_name["src-5"]["breakdown"] is None
    assert by_name["src-1"]["breakdown"]["scores"]["entropy"]["value"] == pytest.approx(0.65)


def test_no_model_or_a_model_of_another_survey_is_exploration_with_a_stated_reason(scored, api):
    workflow, _, task, _ = scored
    other_survey_task = ClassifierTask.objects.create(
        name="fr-elsewhere", survey=SurveyFactory(name="elsewhere"), workflow=workflow, classes=["FRI", "FRII"]
    )
    active_model(other_survey_task)
    body = api.put(
        url("api-workflow-acquisition", workflow), {"policy": ENTROPY_ONLY, "task": "fr-elsewhere"}, format="json"
    ).json()
    rank = job_result(body["job"])["rank"]
    assert rank["ranked"] == 0 and rank["exploration"] == 6
    assert any("trained on survey elsewhere, not acq-survey" in note for note in rank["notes"])

    ModelVersion.objects.filter(task=task).delete()
    preview = api.post(
        url("api-workflow-acquisition-preview", workflow), {"policy": ENTROPY_ONLY, "n": 4}, format="json"
    ).json()
    assert len(preview["items"]) == 4
    assert {item["reason"] for item in preview["items"]} == {"exploration"}
    assert all("no active version" in item["explanation"] for item in preview["items"])


def test_preview_of_an_unsaved_policy_stores_nothing_and_shows_images_and_breakdowns(scored, api):
    workflow = scored[0]
    policy = {"weights": {"entropy": 1.0, "complexity": 1.0}, "exploration": 0.0, "diversity": False}
    response = api.post(url("api-workflow-acquisition-preview", workflow), {"policy": policy, "n": 3}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert [item["position"] for item in body["items"]] == [0, 1, 2]
    first = body["items"][0]
    assert first["reason"] == "priority" and first["subject"]["image_url"].startswith("http")
    shares = [entry["share"] for entry in first["breakdown"]["scores"].values() if entry["share"] is not None]
    assert sum(shares) == pytest.approx(first["breakdown"]["priority"])
    assert body["model"]["task"] == "fr-acq" and body["model"]["version"] == 1
    assert not AcquisitionPolicy.objects.exists()
    for n in (0, 1000):
        assert (
            api.post(
                url("api-workflow-acquisition-preview", workflow), {"policy": policy, "n": n}, format="json"
            ).status_code
            == 400
        )
    bad = api.post(url("api-workflow-acquisition-preview", workflow), {"policy": {"exploration": -0.1}}, format="json")
    assert bad.status_code == 400 and "exploration" in bad.json()["detail"]


def test_exploration_share_is_previewed_with_its_reason(scored, api):
    workflow = scored[0]
    policy = {"weights": {"entropy": 1.0}, "exploration": 0.5, "diversity": False}
    body = api.post(url("api-workflow-acquisition-preview", workflow), {"policy": policy, "n": 6}, format="json").json()
    reasons = [item["reason"] for item in body["items"]]
    assert reasons.count("exploration") == 3 and reasons.count("priority") == 3


def test_diversity_picks_from_unlike_features_and_ranks_store_the_feature_version(scored, api):
    workflow, cutouts, task, version = scored
    # src-5, src-1, src-3 are the most uncertain but near-duplicates in feature space
    vectors = np.zeros((6, 4), np.float32)
    vectors[[5, 1, 3]] = [1.0, 0, 0, 0]
    vectors[[5, 1, 3], 1] = [0.0, 0.01, 0.02]
    vectors[2] = [0, 5.0, 0, 0]
    vectors[4] = [0, 0, 5.0, 0]
    vectors[0] = [0, 0, 0, 5.0]
    services.cutout_features_store(version=version, ids=[c.pk for c in cutouts], vectors=vectors)
    policy = {"weights": {"entropy": 1.0}, "exploration": 0.0, "diversity": True, "candidate_factor": 2}
    preview = api.post(url("api-workflow-acquisition-preview", workflow), {"policy": policy, "n": 3}, format="json")
    items = preview.json()["items"]
    assert "diversity" in {item["reason"] for item in items}
    assert len({item["subject"]["name"] for item in items} & {"src-5", "src-1", "src-3"}) < 3
    api.put(url("api-workflow-acquisition", workflow), {"policy": policy}, format="json")
    head = SubjectWorkflowStatus.objects.filter(workflow=workflow).order_by("-priority").first()
    assert head.rank_feature_version == "fr-acq:v1" and head.subject.name == "src-5"


def test_every_subject_retired_previews_nothing_and_says_so(scored, api):
    workflow = scored[0]
    SubjectWorkflowStatus.objects.filter(workflow=workflow).update(retired_at=timezone.now())
    body = api.get(url("api-workflow-acquisition-preview", workflow)).json()
    assert body["items"] == [] and body["open_subjects"] == 0
    assert any("every subject" in note for note in body["notes"])


def test_a_survey_reranking_leaves_a_policy_workflow_alone(scored, api):
    workflow, cutouts, _, _ = scored
    api.put(url("api-workflow-acquisition", workflow), {"policy": ENTROPY_ONLY}, format="json")
    before = queue_order(workflow)
    Cutout.objects.filter(pk__in=[c.pk for c in cutouts]).update(complexity_percentile=50.0)
    Cutout.objects.filter(pk=cutouts[0].pk).update(complexity_percentile=100.0)
    queue_ranking_set(survey=cutouts[0].survey, by="complexity")
    assert queue_order(workflow) == before


def test_acquisition_needs_an_astronomer(scored):
    workflow = scored[0]
    assert APIClient().get(url("api-workflow-acquisition", workflow)).status_code in (401, 403)
    assert APIClient().get(url("api-workflow-acquisition-preview", workflow)).status_code in (401, 403)


def test_a_new_subject_joins_after_the_next_rank(scored, api):
    workflow, cutouts, _, _ = scored
    api.put(url("api-workflow-acquisition", workflow), {"policy": ENTROPY_ONLY}, format="json")
    late = make_cutout(cutouts[0].survey, "src-late", subject_set=workflow.subject_sets.first(), seed=7)
    assert SubjectWorkflowStatus.objects.filter(workflow=workflow, subject=late).exists()
    preview = api.get(url("api-workflow-acquisition-preview", workflow) + "?n=7").json()
    late_item = next(item for item in preview["items"] if item["subject"]["name"] == "src-late")
    assert late_item["reason"] == "exploration" and "not scored" in late_item["fallback"]


def test_a_save_answers_before_the_ranking_and_a_superseded_job_ranks_nothing(scored):
    workflow = scored[0]
    client = APIClient()  # on-commit work never runs here: the job stays queued
    client.force_authenticate(astronomer())
    before = queue_order(workflow)
    first = client.put(url("api-workflow-acquisition", workflow), {"policy": ENTROPY_ONLY}, format="json").json()
    assert first["active"]["number"] == 1 and first["job"]
    job = Job.objects.get(pk=first["job"])
    assert job.kind == "acquisition_rank" and job.status == Job.Status.QUEUED
    assert queue_order(workflow) == before  # the request did not rank
    inverse = {"weights": {"margin": 1.0}, "exploration": 0.0, "diversity": False}
    second = client.put(url("api-workflow-acquisition", workflow), {"policy": inverse}, format="json").json()
    job_run(job_id=first["job"])  # the first job runs after the second save: it leaves the queue alone
    assert job_result(first["job"])["skipped"] == 1 and queue_order(workflow) == before
    job_run(job_id=second["job"])
    assert job_result(second["job"])["rank"]["policy"] == second["active"]["id"]
    assert queue_order(workflow)[0] == "src-5"
