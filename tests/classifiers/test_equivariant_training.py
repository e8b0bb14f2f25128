"""Choosing the equivariant network for a classifier version: the API, the service and the retrain
command, bad choices refused with a clear message."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from classifiers import ml, services
from classifiers.models import ModelVersion
from tests.classifiers.test_classifiers import TINY, admin_client, labelled_task, train_version  # noqa: F401

pytestmark = pytest.mark.django_db

EQUI = {**TINY, "network": {"image_size": 38}}  # 4k + 2 pixels, as the equivariant networks need


@pytest.fixture(autouse=True)
def _one_thread():
    import torch

    torch.set_num_threads(1)


def test_a_d8_version_trains_evaluates_and_its_weights_load(labelled_task):  # noqa: F811
    version = train_version(labelled_task, architecture="d8", overrides={**EQUI, "max_steps": 2})
    assert version.status == ModelVersion.Status.READY, version.error
    assert version.architecture == "d8" and version.config["network"]["architecture"] == "d8"
    assert version.weights_error == "" and 0.0 <= version.metrics["accuracy"] <= 1.0
    clf = ml.load_classifier(version.weights.path, version.config)
    assert clf.model_.group_order == 8


def test_the_api_starts_an_equivariant_training_and_refuses_bad_choices(labelled_task):  # noqa: F811
    client = admin_client()
    url = reverse("api-classifier-retrain", args=["fr"])
    body = {"epochs": 1, "labels": "expert", "config": EQUI}
    response = client.post(url, {**body, "architecture": "d7"}, format="json")
    assert response.status_code == 400 and "architecture" in response.json()
    response = client.post(url, {**body, "architecture": "d16", "config": TINY}, format="json")  # 64 px
    assert response.status_code == 400 and "4k + 2 pixels" in response.json()["detail"]
    assert not ModelVersion.objects.exists()
    response = client.post(url, {**body, "architecture": "d16"}, format="json")
    assert response.status_code == 202, response.content
    version = ModelVersion.objects.get(pk=response.json()["id"])
    assert version.architecture == "d16" and version.config["network"]["image_size"] == 38


def test_the_service_and_the_command_refuse_unknown_architectures(labelled_task):  # noqa: F811
    with pytest.raises(services.InvalidInput, match="architecture must be one of tang, d16, d8"):
        services.version_create(task=labelled_task, epochs=1, labels="expert", overrides=EQUI, architecture="cnn")
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("retrain", "--task", "fr", "--architecture", "d12", "--inline")
    assert not ModelVersion.objects.exists()


def test_the_schema_offers_the_architectures(client):
    schema = client.get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    components = schema["components"]["schemas"]
    field = components["RetrainRequest"]["properties"]["architecture"]
    if "$ref" in field or "allOf" in field:
        ref = field.get("$ref") or field["allOf"][0]["$ref"]
        field = components[ref.rsplit("/", 1)[1]]
    assert field["enum"] == ["tang", "d16", "d8"]
