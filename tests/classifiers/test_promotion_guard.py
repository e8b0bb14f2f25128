"""The promote API refuses a degenerate version (a class of recall 0, a macro-F1 far below its
accuracy) with the reasons, unless the request says force=true; a sound version needs nothing."""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from classifiers.models import ClassifierTask, ModelVersion
from tests.factories import UserFactory, make_workflow_with_subjects

pytestmark = pytest.mark.django_db

_REST = {"split": "test", "n": 50, "ece": 0.05, "ece_bins": 10, "epochs": 5, "classes": ["FRI", "FRII"]}
SOUND = {**_REST, "precision": [0.9, 0.8], "recall": [0.8, 0.9], "f1": [0.85, 0.85], "accuracy": 0.86, "macro_f1": 0.85}
ONE_CLASS = {
    **_REST,
    "precision": [0.0, 0.62],
    "recall": [0.0, 1.0],
    "f1": [0.0, 0.77],
    "accuracy": 0.62,
    "macro_f1": 0.39,
}


@pytest.fixture
def admin():
    client = APIClient()
    client.force_authenticate(UserFactory(username="root-promote", is_staff=True))
    return client


def _version(number: int, metrics: dict, status=ModelVersion.Status.READY) -> ModelVersion:
    task = ClassifierTask.objects.filter(name="fr-guard").first()
    if task is None:
        workflow, cutouts = make_workflow_with_subjects(n=1, name="Guard")
        task = ClassifierTask.objects.create(
            name="fr-guard", survey=cutouts[0].survey, workflow=workflow, classes=["FRI", "FRII"]
        )
    version = ModelVersion.objects.create(
        task=task, number=number, status=status, metrics=metrics, weights_checked_at=timezone.now()
    )
    version.weights.save(f"guard-v{number}.pt", ContentFile(b"weights"), save=True)
    return version


def test_a_one_class_version_is_refused_with_its_reasons(admin):
    active = _version(1, SOUND, status=ModelVersion.Status.ACTIVE)
    weak = _version(2, ONE_CLASS)
    detail = admin.get(reverse("api-classifier-version", args=[weak.pk])).json()
    assert any("FRI recall is 0" in w for w in detail["warnings"]), detail["warnings"]
    for body in (None, {}, {"force": False}):
        response = admin.post(reverse("api-classifier-promote", args=[weak.pk]), body, format="json")
        assert response.status_code == 409, response.json()
        message = response.json()["detail"]
        assert "FRI recall is 0" in message and "macro-F1 0.39 is far below accuracy 0.62" in message
        assert "force=true" in message and response.json()["field"] == "force"
    assert ModelVersion.objects.get(pk=weak.pk).status == "ready"
    assert ModelVersion.objects.get(pk=active.pk).status == "active"  # the previous good state


def test_force_promotes_a_degenerate_version_and_starts_its_scoring(admin):
    weak = _version(1, ONE_CLASS)
    response = admin.post(reverse("api-classifier-promote", args=[weak.pk]), {"force": True}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "active" and body["scoring_job"]
    assert ModelVersion.objects.get(pk=weak.pk).status == "active"


def test_a_sound_version_promotes_without_force(admin):
    sound = _version(1, SOUND)
    assert admin.get(reverse("api-classifier-version", args=[sound.pk])).json()["warnings"] == []
    response = admin.post(reverse("api-classifier-promote", args=[sound.pk]))
    assert response.status_code == 200 and response.json()["status"] == "active"


def test_force_must_be_a_boolean(admin):
    weak = _version(1, ONE_CLASS)
    response = admin.post(reverse("api-classifier-promote", args=[weak.pk]), {"force": "perhaps"}, format="json")
    assert response.status_code == 400 and "force" in response.json()
    assert ModelVersion.objects.get(pk=weak.pk).status == "ready"


def test_the_service_behind_the_api_and_the_command_refuses_without_force():
    from classifiers import promotion

    weak = _version(1, ONE_CLASS)
    with pytest.raises(Exception, match="looks degenerate"):
        promotion.version_promote_confirmed(version=weak)
    assert ModelVersion.objects.get(pk=weak.pk).status == "ready"
    assert promotion.version_promote_confirmed(version=weak, force=True).status == "active"
