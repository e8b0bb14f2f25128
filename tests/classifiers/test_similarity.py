""" "More like this" over stored feature vectors, the novelty gallery, sending a cutout to a queue's
front, and the features job that a promotion starts."""

import numpy as np
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from annotations.models import SubjectWorkflowStatus
from annotations.queue import queue_next_subject
from classifiers import promotion, services
from classifiers.models import ClassifierTask, CutoutFeatures, ModelVersion
from tests.classifiers.test_acquisition import active_model
from tests.classifiers.test_classifiers import FRII, TINY, add_cutout, labelled_task, train_version  # noqa: F401
from tests.factories import (
    JobRunningAPIClient,
    SurveyFactory,
    astronomer,
    job_result,
    make_cutout,
    make_workflow_with_subjects,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_surveys():
    """Survey A (4 cutouts) and survey B (2), with features of A's active classifier for all six:
    a0-a1 and b0 close together, a2-a3 and b1 far away."""
    workflow, a = make_workflow_with_subjects(n=4, name="Sim A", survey_name="sim-a")
    _, b = make_workflow_with_subjects(n=2, name="Sim B", survey_name="sim-b")
    task = ClassifierTask.objects.create(name="fr-sim", survey=a[0].survey, workflow=workflow, classes=["FRI", "FRII"])
    version = active_model(task)
    cutouts = a + b
    vectors = np.array([[0, 0, 0], [0.1, 0, 0], [10, 0, 0], [10, 10, 10], [0, 0.3, 0], [-20, 5, 0]], dtype=np.float32)
    services.cutout_features_store(version=version, ids=[c.pk for c in cutouts], vectors=vectors)
    return workflow, cutouts, task, version


@pytest.fixture
def api():
    client = JobRunningAPIClient()
    client.force_authenticate(astronomer())
    return client


def similar(api, cutout_id, **params):
    return api.get(reverse("api-cutout-similar", args=[cutout_id]), params)


def test_nearest_neighbours_cross_surveys_with_their_distance(two_surveys, api):
    _, cutouts, _, _ = two_surveys
    response = similar(api, cutouts[0].pk, k=2)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["feature_version"] == "fr-sim:v1"
    assert [n["name"] for n in body["neighbours"]] == ["src-1", "src-0"]  # a1 then b0 (survey sim-b)
    assert [n["survey"] for n in body["neighbours"]] == ["sim-a", "sim-b"]
    assert [n["distance"] for n in body["neighbours"]] == pytest.approx([0.1, 0.3], abs=1e-5)
    assert body["neighbours"][0]["image_url"].startswith("http")
    assert len(similar(api, cutouts[0].pk, k=50).json()["neighbours"]) == 5  # never itself


def test_bad_similarity_queries_are_clear_4xx(two_surveys, api):
    workflow, cutouts, task, version = two_surveys
    assert similar(api, 999999).status_code == 404
    for k in ("0", "1000", "many"):
        response = similar(api, cutouts[0].pk, k=k)
        assert response.status_code == 400 and "k" in response.json()["detail"]
    bare = make_cutout(cutouts[0].survey, "no-features", seed=11)
    response = similar(api, bare.pk)
    assert response.status_code == 409 and "no feature vector yet" in response.json()["detail"]
    # vectors of a version that is no longer active are not used
    ModelVersion.objects.filter(pk=version.pk).update(status="ready")
    assert similar(api, cutouts[0].pk).status_code == 409
    assert APIClient().get(reverse("api-cutout-similar", args=[cutouts[0].pk])).status_code in (401, 403)


def test_new_vectors_reach_the_cached_index(two_surveys, api):
    _, cutouts, _, version = two_surveys
    assert similar(api, cutouts[0].pk, k=1).json()["neighbours"][0]["name"] == "src-1"
    late = make_cutout(cutouts[0].survey, "late", seed=12)
    services.cutout_features_store(version=version, ids=[late.pk], vectors=np.array([[0, 0, 0.01]], np.float32))
    assert similar(api, cutouts[0].pk, k=1).json()["neighbours"][0]["name"] == "late"


def test_novelty_gallery_shows_the_most_novel_first_and_sends_to_the_queue(two_surveys, client, volunteer_factory):
    workflow, cutouts, _, _ = two_surveys
    client.force_login(astronomer())
    page = client.get(reverse("survey-novelty", args=[cutouts[0].survey.pk]))
    assert page.status_code == 200
    names = [item.cutout.name for item in page.context["items"]]
    assert names[:2] == ["src-3", "src-2"]  # the two far from the others in survey A
    assert b"More like this" in page.content

    api = APIClient()
    api.force_authenticate(astronomer())
    url = reverse("api-workflow-queue-front", args=[workflow.pk])
    response = api.post(url, {"subject": cutouts[2].pk}, format="json")
    assert response.status_code == 200
    assert queue_next_subject(workflow_id=workflow.pk, volunteer=volunteer_factory()).subject_id == cutouts[2].pk
    # a cutout of another survey joins the workflow's queue at the front
    assert api.post(url, {"subject": cutouts[5].pk}, format="json").status_code == 200
    assert SubjectWorkflowStatus.objects.filter(workflow=workflow, subject=cutouts[5]).exists()
    SubjectWorkflowStatus.objects.filter(workflow=workflow, subject=cutouts[3]).update(retired_at="2026-01-01T00:00Z")
    retired = api.post(url, {"subject": cutouts[3].pk}, format="json")
    assert retired.status_code == 409 and "retired" in retired.json()["detail"]
    assert api.post(url, {"subject": 999999}, format="json").status_code == 404


def test_a_policy_rerank_keeps_a_sent_cutout_at_the_front(two_surveys, api):
    workflow, cutouts, _, _ = two_surveys
    api.post(reverse("api-workflow-queue-front", args=[workflow.pk]), {"subject": cutouts[1].pk}, format="json")
    policy = {"weights": {"novelty": 1.0}, "exploration": 0.0, "diversity": False}
    response = api.put(reverse("api-workflow-acquisition", args=[workflow.pk]), {"policy": policy}, format="json")
    assert response.status_code == 200
    assert job_result(response.json()["job"])["rank"]["feature_version"] == "fr-sim:v1"
    first = SubjectWorkflowStatus.objects.filter(workflow=workflow).order_by("-priority").first()
    assert first.subject_id == cutouts[1].pk


def test_a_promotion_computes_features_of_every_survey_and_more_like_this_works(
    labelled_task,  # noqa: F811
    django_capture_on_commit_callbacks,
    api,
):
    import torch

    torch.set_num_threads(1)
    task = labelled_task
    other = add_cutout(SurveyFactory(name="other-sim"), "x-0", 2, seed=40)
    version = train_version(task)
    with django_capture_on_commit_callbacks(execute=True):
        promotion.version_promote(version=version)
    stored = CutoutFeatures.objects.filter(feature_version=f"fr:v{version.number}")
    assert stored.count() == 17 and stored.filter(cutout=other).exists()
    dims = set(stored.values_list("dim", flat=True))
    assert len(dims) == 1 and dims.pop() > 1
    body = similar(api, other.pk, k=3).json()
    assert len(body["neighbours"]) == 3 and all(n["distance"] >= 0 for n in body["neighbours"])
