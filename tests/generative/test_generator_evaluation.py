"""A generator version judged by the survey's active classifier (reached through the kernel's
feature-extractor registry): Frechet distance, class consistency and the real floor stored in its
metrics, shown on the pages and in the API; without an active classifier it says so."""

import numpy as np
import pytest
import torch
from django.core.management import call_command
from rest_framework.test import APIClient

from annotations.models import Cutout
from annotations.services import expert_classification_create
from classifiers import promotion as classifier_promotion
from classifiers import services as classifier_services
from classifiers.models import ModelVersion
from core.feature_extractors import feature_extractor_for_survey
from generative.ml import NO_JUDGE, judged_metrics
from generative.models import GeneratorVersion
from jobs.models import Job
from jobs.runner import job_run
from tests.factories import UserFactory, make_workflow_with_subjects

pytestmark = pytest.mark.django_db

FRI, FRII = 1, 2  # answer indices of the demo morphology question
JUDGED = {"fd", "fd_real_floor", "fd_FRI", "fd_FRII", "class_consistency", "class_consistency_real"}


@pytest.fixture(autouse=True)
def _small(settings):
    torch.set_num_threads(1)
    settings.RGZ_GENERATIVE_EVAL_PER_CLASS = 3
    settings.RGZ_GENERATIVE_TEST_FRACTION = 0.34  # two held-out cutouts per class: a per-class distance


@pytest.fixture
def labelled():
    """12 real cutouts labelled FRI / FRII alternately (metadata for the generator, experts for the classifier)."""
    workflow, cutouts = make_workflow_with_subjects(n=12, retirement=3, name="Judged", survey_name="judged-survey")
    for i, cutout in enumerate(cutouts):
        label = "FRI" if i % 2 else "FRII"
        Cutout.objects.filter(pk=cutout.pk).update(metadata={"label": label})
        expert_classification_create(
            workflow=workflow, subject=cutout, annotations=[{"task": "T0", "value": FRI if i % 2 else FRII}], source="t"
        )
    return workflow


def active_classifier(workflow, classes=("FRI", "FRII")) -> ModelVersion:
    """A real classifier trained for a few steps on the experts' labels, promoted."""
    task = classifier_services.classifier_task_create(
        name="judge", survey=workflow.subject_sets.first().survey, workflow=workflow, classes=list(classes)
    )
    overrides = {"batch_size": 8, "mu": 1, "mc_samples": 2, "max_steps": 2, "network": {"image_size": 64}}
    version = classifier_services.training_start(task=task, epochs=1, labels="expert", overrides=overrides)
    job_run(job_id=version.job.pk)
    return classifier_promotion.version_promote(version=ModelVersion.objects.get(pk=version.pk))


def train_tiny() -> GeneratorVersion:
    call_command("train_generator", "--survey", "judged-survey", "--preset", "tiny", "--epochs", "1", "--inline")
    return GeneratorVersion.objects.order_by("-pk").first()


def admin_client():
    client = APIClient()
    client.force_authenticate(UserFactory(username="boss", is_staff=True))
    return client


def test_without_an_active_classifier_the_version_says_so_and_shows_no_numbers(labelled, client):
    version = train_tiny()
    assert version.metrics["judge"] is None and version.metrics["judge_note"] == NO_JUDGE
    assert not JUDGED & set(version.metrics)  # no made-up distances
    assert "memorisation" in version.metrics  # what needs no classifier is still measured
    api = admin_client().get(f"/api/generative/versions/{version.pk}/").json()
    assert api["metrics"]["judge"] is None and "no active classifier" in api["metrics"]["judge_note"]
    client.force_login(UserFactory(username="boss", is_staff=True))
    assert "no active classifier for this survey" in client.get("/generative/").content.decode()
    assert version.status == "ready"  # evaluated: it may be promoted
    assert admin_client().post(f"/api/generative/versions/{version.pk}/promote/").status_code == 200


def test_the_training_is_judged_by_the_active_classifier(labelled, client):
    judge = active_classifier(labelled)
    version = train_tiny()
    metrics = version.metrics
    assert metrics["judge"] == {"id": judge.pk, "label": "judge v1", "classes": ["FRI", "FRII"]}
    assert JUDGED <= set(metrics) and metrics["judged_classes"] == ["FRI", "FRII"]
    assert all(np.isfinite(metrics[key]) for key in JUDGED)
    assert metrics["fd"] >= 0 and metrics["fd_real_floor"] >= 0
    assert 0 <= metrics["class_consistency"] <= 1 and 0 <= metrics["class_consistency_real"] <= 1
    client.force_login(UserFactory(username="boss", is_staff=True))
    page = client.get("/generative/").content.decode()
    assert "by judge v1" in page and f"{metrics['fd']:.2f}" in page


def test_evaluating_again_uses_the_classifier_promoted_since(labelled, django_capture_on_commit_callbacks):
    version = train_tiny()
    assert version.metrics["judge"] is None
    judge = active_classifier(labelled)
    admin = admin_client()
    with django_capture_on_commit_callbacks(execute=True):
        started = admin.post(f"/api/generative/versions/{version.pk}/evaluate/")
    assert started.status_code == 202
    assert Job.objects.get(pk=started.json()["job"]).status == "succeeded"
    version.refresh_from_db()
    assert version.metrics["judge"]["id"] == judge.pk and JUDGED <= set(version.metrics)
    assert version.status == "ready" and version.weights  # only the metrics changed
    rows = {
        r["key"]: r for r in admin.get("/api/generative/compare/", {"a": version.pk, "b": version.pk}).json()["rows"]
    }
    assert rows["fd"]["a"] == pytest.approx(version.metrics["fd"]) and rows["fd"]["diff"] == 0


def test_evaluating_a_version_that_never_finished_training_is_refused(labelled):
    version = GeneratorVersion.objects.create(survey=labelled.subject_sets.first().survey, number=1, status="failed")
    response = admin_client().post(f"/api/generative/versions/{version.pk}/evaluate/")
    assert response.status_code == 409 and "only a trained version" in response.json()["detail"]
    assert admin_client().post("/api/generative/versions/99999/evaluate/").status_code == 404


def test_the_registry_offers_the_classifier_that_predicts_the_generators_classes(labelled):
    survey = labelled.subject_sets.first().survey
    assert feature_extractor_for_survey(survey, ["FRI", "FRII"]) is None
    judge = active_classifier(labelled)
    extractor = feature_extractor_for_survey(survey, ["FRI", "FRII"])
    assert extractor.version_id == judge.pk and extractor.classes == ["FRI", "FRII"]
    images = np.random.default_rng(0).random((3, 1, 32, 32), dtype=np.float32)  # resampled to its 64 px
    assert extractor.predict_proba(images).shape == (3, 2) and extractor.features(images).shape[0] == 3
    ModelVersion.objects.filter(pk=judge.pk).update(weights_error="does not load")
    assert feature_extractor_for_survey(survey, ["FRI", "FRII"]) is None  # a broken version judges nothing


class OrderedJudge:
    """A judge whose classes are in another order than the generator's: it calls an image FRII
    when its left half is brighter."""

    classes = ["FRII", "FRI", "Compact"]
    version_id, version_label = 7, "ordered v1"

    def features(self, x):
        return np.stack([x[:, 0, :, :8].mean((1, 2)), x[:, 0, :, 8:].mean((1, 2)), x.std((1, 2, 3))], axis=1)

    def predict_proba(self, x):
        left = x[:, 0, :, :8].mean((1, 2)) > x[:, 0, :, 8:].mean((1, 2))
        return np.stack([left, ~left, np.zeros_like(left)], axis=1).astype(float)


def test_class_consistency_maps_classes_by_name_and_skips_those_the_judge_lacks():
    left, right = np.zeros((1, 16, 16), np.float32), np.zeros((1, 16, 16), np.float32)
    left[0, :, :8], right[0, :, 8:] = 1, 1
    # generator classes: 0 FRI, 1 FRII, 2 Bent (unknown to the judge)
    samples = np.stack([right, right, left, right, left, left])  # FRI, FRI, FRII, FRII(wrong), Bent, Bent
    requested = np.array([0, 0, 1, 1, 2, 2])
    real = np.stack([right, left, right, left])
    m = judged_metrics(
        OrderedJudge(),
        samples,
        requested,
        ["FRI", "FRII", "Bent"],
        x_train=real,
        x_test=real,
        y_test=np.array([0, 1, 0, 1]),
    )
    assert m["class_consistency"] == pytest.approx(3 / 4)  # the two Bent samples are not judged
    assert m["class_consistency_real"] == 1.0 and m["judged_classes"] == ["FRI", "FRII"]
    assert m["fd_real_floor"] == pytest.approx(0.0, abs=1e-6)
    assert judged_metrics(None, samples, requested, ["FRI"], x_train=real, x_test=real, y_test=real[:, 0, 0, 0]) == {
        "judge": None,
        "judge_note": NO_JUDGE,
    }
