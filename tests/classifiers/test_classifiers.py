"""Classifier registry: training data, training jobs (tiny CPU runs), promotion, roll-back,
scoring, explanations, the retrain command, the API and the pages, bad input included."""

import io
import os

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from rest_framework.test import APIClient

from annotations.ingestion import cutout_create
from annotations.ml import prepare_cutout, read_cutout_image
from annotations.models import Cutout
from annotations.services import classification_create, expert_classification_create
from classifiers import jobs as classifier_jobs
from classifiers import promotion, selectors, services
from classifiers.models import ModelVersion
from jobs.models import Job
from jobs.runner import job_run
from tests.factories import UserFactory, astronomer, blob_array, fits_bytes, make_workflow_with_subjects

pytestmark = pytest.mark.django_db

FRI, FRII = 1, 2  # answer indices of the demo morphology question
TINY = {"batch_size": 8, "mu": 1, "mc_samples": 2, "network": {"image_size": 64}}


@pytest.fixture(autouse=True)
def _small(settings):
    import torch

    torch.set_num_threads(1)  # tiny tensors: a second thread only waits (and CI shares its cores)
    settings.RGZ_CLASSIFIER_LIME_SAMPLES = 20
    settings.RGZ_CLASSIFIER_SCORE_BATCH = 8


def add_cutout(survey, name, lobes, seed, subject_set=None):
    raw = fits_bytes(blob_array(size=48, seed=seed, lobes=lobes))
    return cutout_create(
        survey=survey,
        name=name,
        prepared=prepare_cutout(read_cutout_image(raw), source_bytes=raw),
        subject_set=subject_set,
    )


@pytest.fixture
def labelled_task():
    """A survey of 16 cutouts: 6 labelled FRI (one lobe), 6 FRII (two lobes) by experts, 4 unlabelled."""
    workflow, _ = make_workflow_with_subjects(n=0, retirement=20, name="Morphology", survey_name="fr-survey")
    survey = workflow.subject_sets.first().survey
    subject_set = workflow.subject_sets.first()
    for i in range(16):
        lobes = 1 if i % 2 == 0 else 2
        cutout = add_cutout(survey, f"src-{i:02d}", lobes, seed=i, subject_set=subject_set)
        if i < 12:
            expert_classification_create(
                workflow=workflow,
                subject=cutout,
                annotations=[{"task": "T0", "value": FRI if lobes == 1 else FRII}],
                source="test",
            )
    return services.classifier_task_create(name="fr", survey=survey, workflow=workflow, classes=["FRI", "FRII"])


def admin_client():
    client = APIClient()
    client.force_authenticate(UserFactory(username="boss", is_staff=True))
    return client


def train_version(task, **kwargs) -> ModelVersion:
    """Start a training through the service; the job runs eagerly on commit (tests' Celery)."""
    options = {"epochs": 1, "labels": "expert", "overrides": TINY}
    options.update(kwargs)
    version = services.training_start(task=task, **options)
    job_run(job_id=version.job.pk)
    return ModelVersion.objects.get(pk=version.pk)


def test_training_set_uses_experts_consensus_and_fixed_splits(labelled_task, volunteer_factory):
    task = labelled_task
    data = selectors.training_set(task=task, source="expert")
    assert len(data.labels) == 12
    assert sorted(data.train + data.val + data.test) == sorted(data.labels)
    assert len(data.unlabelled) <= 4 and not set(data.unlabelled) & set(data.labels)
    again = selectors.training_set(task=task, source="expert")
    assert (again.train, again.val, again.test) == (data.train, data.val, data.test)  # fixed per survey
    # the split depends on names only: the same on every database
    assert [selectors.cutout_split(survey_name="fr-survey", name=f"src-{i:02d}") for i in range(4)] == [
        "test",
        "train",
        "val",
        "train",
    ]

    unlabelled = Cutout.objects.get(survey=task.survey, name="src-13")
    for answer in (FRII, FRII, FRII, FRI):  # 3 of 4 agree: 0.75 < 0.8 -> no consensus label yet
        classification_create(
            workflow_id=task.workflow_id,
            subject_id=unlabelled.pk,
            volunteer=volunteer_factory(),
            annotations=[{"task": "T0", "value": answer}],
        )
    assert unlabelled.pk not in selectors.consensus_labels(task=task)
    task.min_agreement = 0.7
    assert selectors.consensus_labels(task=task)[unlabelled.pk] == 1  # FRII
    both = selectors.training_set(task=task, source="both")
    assert both.labels[unlabelled.pk] == 1 and len(both.labels) == 13


def test_training_job_evaluates_and_waits_for_promotion(labelled_task):
    version = train_version(labelled_task)
    assert version.status == ModelVersion.Status.READY, version.error
    assert selectors.active_version(task=labelled_task) is None  # not promoted by training
    m = version.metrics
    assert 0 <= m["accuracy"] <= 1 and 0 <= m["ece"] <= 1 and m["ece_bins"] == 15
    assert len(m["confusion"]) == 2 and m["split"] in {"test", "val"}
    assert [h["epoch"] for h in version.history] == [1]
    assert version.training_data["val"]  # validated: the evaluated weights are the best validated ones
    assert m["selected_epoch"] == 1 and m["best_val_accuracy"] == version.history[0]["val_accuracy"]
    for field in (version.weights, version.reliability_plot, version.curves_plot, version.confusion_plot):
        assert field and open(field.path, "rb").read(4) in (b"\x89PNG", b"PK\x03\x04")
    assert set(version.training_data) >= {"train", "val", "test", "unlabelled", "labels"}
    job = Job.objects.get(pk=version.job_id)
    assert job.status == Job.Status.SUCCEEDED and job.done == job.total == 1


def test_training_goes_to_the_training_queue_and_survives_a_dead_worker(
    labelled_task, monkeypatch, django_capture_on_commit_callbacks
):
    from jobs.registry import job_kind
    from jobs.worker import JobRequest, run_job

    # acknowledged late, and handed back to the broker when its worker process dies
    assert run_job.acks_late and run_job.Request is JobRequest and job_kind(services.TRAIN_JOB).redeliver
    sent = []
    monkeypatch.setattr(
        run_job, "apply_async", lambda args, queue=None, **options: sent.append((args, queue)) or _Sent()
    )
    with django_capture_on_commit_callbacks(execute=True):
        version = services.training_start(task=labelled_task, epochs=1, labels="expert", overrides=TINY)
    assert sent == [([str(version.job_id)], "training")]


class _Sent:
    id = "celery-id"


def test_training_progress_reports_epochs_and_losses(labelled_task):
    version = services.training_start(task=labelled_task, epochs=2, labels="expert", overrides=TINY)
    seen = []
    job_run(job_id=version.job.pk, on_progress=lambda done, total, message: seen.append((done, total, message)))
    epochs = [m for _, _, m in seen if m.startswith("epoch")]
    assert epochs[-1].startswith("epoch 2/2: loss_x") and "train acc" in epochs[-1]
    assert any(m.startswith("reading labelled images") for _, _, m in seen)


def test_promotion_scores_every_cutout_and_rollback(labelled_task, django_capture_on_commit_callbacks):
    task = labelled_task
    v1, v2 = train_version(task), train_version(task, method="supervised")
    client = admin_client()
    with django_capture_on_commit_callbacks(execute=True):
        # tiny trainings may predict one class: promoted all the same
        response = client.post(reverse("api-classifier-promote", args=[v1.pk]), {"force": True}, format="json")
    assert response.status_code == 200, response.json()
    cutouts = Cutout.objects.filter(survey=task.survey)
    for cutout in cutouts:
        scores = cutout.model_scores["fr"]
        assert scores["version"] == v1.number and abs(sum(scores["probabilities"].values()) - 1) < 1e-3
        assert scores["prediction"] in {"FRI", "FRII"} and scores["entropy"] >= 0 and scores["bald"] >= 0
    with django_capture_on_commit_callbacks(execute=True):
        promoted = client.post(reverse("api-classifier-promote", args=[v2.pk]), {"force": True}, format="json")
        assert promoted.status_code == 200
    statuses = dict(task.versions.values_list("number", "status"))
    assert statuses == {v1.number: "ready", v2.number: "active"}
    assert client.post(reverse("api-classifier-promote", args=[v2.pk])).status_code == 409  # active already
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("api-classifier-rollback", args=["fr"]))
    assert response.status_code == 200 and response.json()["number"] == v1.number
    assert selectors.active_version(task=task).pk == v1.pk
    compare = client.get(reverse("api-classifier-compare"), {"a": v1.pk, "b": v2.pk})
    assert compare.status_code == 200
    assert compare.json()["differences"]["accuracy"] == pytest.approx(v2.metrics["accuracy"] - v1.metrics["accuracy"])


def test_a_promotion_reranks_a_queue_ordered_by_uncertainty(labelled_task, django_capture_on_commit_callbacks):
    from annotations.ranking import queue_ranking_set

    task = labelled_task
    v1, v2 = train_version(task), train_version(task, method="supervised")
    with django_capture_on_commit_callbacks(execute=True):
        promotion.version_promote(version=v1)
    queue_ranking_set(survey=task.survey, by="uncertainty", task_name="fr")
    with django_capture_on_commit_callbacks(execute=True):
        promotion.version_promote(version=v2)
    cutouts = list(Cutout.objects.filter(survey=task.survey))
    assert {c.model_scores["fr"]["version"] for c in cutouts} == {v2.number}
    entropy = np.array([c.model_scores["fr"]["entropy"] for c in cutouts])
    expected = 100.0 * np.searchsorted(np.sort(entropy), entropy, side="right") / len(entropy)  # percentiles
    assert [c.priority for c in cutouts] == pytest.approx(expected.tolist())
    job = Job.objects.filter(kind="score_cutouts").order_by("-created_at").first()
    assert any("re-ranked (uncertainty)" in note for note in job.result["notes"])


def test_failed_training_leaves_the_active_version(labelled_task, monkeypatch, django_capture_on_commit_callbacks):
    task = labelled_task
    v1 = train_version(task)
    promotion.version_promote(version=v1)

    def boom(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(classifier_jobs.ml, "train", boom)
    version = services.training_start(task=task, epochs=1, labels="expert", overrides=TINY)
    with pytest.raises(RuntimeError):
        job_run(job_id=version.job.pk)
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.FAILED and "out of memory" in version.error
    assert selectors.active_version(task=task).pk == v1.pk
    response = admin_client().post(reverse("api-classifier-promote", args=[version.pk]))
    assert response.status_code == 409 and "failed" in response.json()["detail"]
    assert selectors.active_version(task=task).pk == v1.pk


def test_a_training_that_fails_after_its_epochs_drops_its_checkpoint(labelled_task, monkeypatch):
    version = services.training_start(task=labelled_task, epochs=2, labels="expert", overrides=TINY)

    def broken_save(clf, path):
        assert classifier_jobs.checkpoint_path(version).is_file()  # the epochs wrote it
        path.write_bytes(b"half a weights file")
        raise OSError("no space left on device")

    monkeypatch.setattr(classifier_jobs.ml, "save_weights", broken_save)
    with pytest.raises(OSError):
        job_run(job_id=version.job.pk)
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.FAILED and "no space left" in version.error
    assert not classifier_jobs.checkpoint_path(version).exists()
    assert not classifier_jobs.checkpoint_path(version).with_suffix(".weights.pt").exists()


class WorkerKilled(BaseException):
    """Stands for a worker process dying: no except-Exception handler sees it."""


def test_training_resumes_from_its_checkpoint_after_a_crash(labelled_task, monkeypatch):
    version = services.training_start(task=labelled_task, epochs=3, labels="expert", overrides=TINY)
    real = services.version_record_epoch

    def die_after_first_epoch(*, version, history):
        real(version=version, history=history)
        if len(history) == 1:
            raise WorkerKilled

    monkeypatch.setattr(classifier_jobs.services, "version_record_epoch", die_after_first_epoch)
    with pytest.raises(WorkerKilled):
        job_run(job_id=version.job.pk)
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.TRAINING  # what a crashed worker leaves
    assert classifier_jobs.checkpoint_path(version).is_file()
    recorded = []

    def record(*, version, history):
        recorded.append([h["epoch"] for h in history])
        real(version=version, history=history)

    monkeypatch.setattr(classifier_jobs.services, "version_record_epoch", record)
    result = job_run(job_id=version.job.pk)  # the redelivered task (acks_late)
    assert recorded[0] == [1, 2]  # live history stays whole after the resume
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.READY
    assert "resumed from the checkpoint of epoch 1" in result["notes"]
    assert [h["epoch"] for h in version.history] == [1, 2, 3]
    assert not classifier_jobs.checkpoint_path(version).exists()


def test_a_training_that_kills_its_worker_every_time_stops_after_the_attempt_limit(
    labelled_task, monkeypatch, settings
):
    settings.RGZ_CLASSIFIER_MAX_ATTEMPTS = 2
    v1 = train_version(labelled_task)
    promotion.version_promote(version=v1)
    version = services.training_start(task=labelled_task, epochs=3, labels="expert", overrides=TINY)
    real = services.version_record_epoch

    def die_every_time(*, version, history):
        real(version=version, history=history)
        raise WorkerKilled

    monkeypatch.setattr(classifier_jobs.services, "version_record_epoch", die_every_time)
    for _ in range(2):  # the first start and one redelivery each die
        with pytest.raises(WorkerKilled):
            job_run(job_id=version.job.pk)
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.TRAINING and classifier_jobs.checkpoint_path(version).is_file()
    assert job_run(job_id=version.job.pk) == {}  # the third delivery gives up instead of training
    version.refresh_from_db()
    version.job.refresh_from_db()
    assert version.status == ModelVersion.Status.FAILED and "stopped after 2 attempts" in version.error
    assert version.job.status == "failed" and version.job.attempts == 3
    assert not classifier_jobs.checkpoint_path(version).exists()
    assert selectors.active_version(task=labelled_task).pk == v1.pk
    assert job_run(job_id=version.job.pk) == {}  # a late duplicate delivery changes nothing
    version.job.refresh_from_db()
    assert version.job.attempts == 3


def test_bad_training_requests_are_clear_4xx(labelled_task):
    client = admin_client()
    url = reverse("api-classifier-retrain", args=["fr"])
    response = client.post(url, {"labels": "consensus", "epochs": 1}, format="json")
    assert response.status_code == 400 and "no consensus labels" in response.json()["detail"]
    response = client.post(url, {"labels": "bogus"}, format="json")
    assert response.status_code == 400
    response = client.post(url, {"epochs": 1, "config": {"tau_typo": 1}}, format="json")
    assert response.status_code == 400 and "tau_typo" in response.json()["detail"]
    # a single class: drop every FRII expert label
    for c in labelled_task.survey.cutouts.all():
        if c.classifications.filter(annotations__0__value=FRII).exists():
            c.classifications.all().delete()
    response = client.post(url, {"labels": "expert", "epochs": 1}, format="json")
    assert response.status_code == 400 and "single class" in response.json()["detail"]
    assert client.post(reverse("api-classifier-retrain", args=["nope"]), {}, format="json").status_code == 404
    astro = APIClient()
    astro.force_authenticate(astronomer())
    assert astro.post(url, {"epochs": 1}, format="json").status_code == 403
    assert APIClient().get(reverse("api-classifier-tasks")).status_code in (401, 403)
    assert not ModelVersion.objects.exists()


def test_training_twice_at_once_is_refused(labelled_task):
    services.version_create(task=labelled_task, epochs=1, labels="expert", overrides=TINY)
    response = admin_client().post(reverse("api-classifier-retrain", args=["fr"]), {"epochs": 1}, format="json")
    assert response.status_code == 409 and "training already" in response.json()["detail"]


def test_weights_that_do_not_fit_block_promotion(labelled_task, tmp_path):
    from mlcore.ssl.config import FixMatchConfig, NetworkConfig
    from mlcore.ssl.estimator import SSLClassifier

    task = labelled_task
    v1 = train_version(task)
    promotion.version_promote(version=v1)
    v2 = train_version(task)
    three = FixMatchConfig(network=NetworkConfig(image_size=64, n_classes=3))
    wrong = SSLClassifier(three, device="cpu")
    from mlcore.ssl.network import build_network

    wrong.model_ = build_network(three.network)
    wrong.save(v2.weights.path)
    services.version_weights_check(version=v2)  # a replaced file is checked again (check_weights)
    response = admin_client().post(reverse("api-classifier-promote", args=[v2.pk]))
    assert response.status_code == 400 and "does not match" in response.json()["detail"]
    assert selectors.active_version(task=task).pk == v1.pk


def test_promotion_reads_no_weights_in_the_request(labelled_task):
    """Training checked the weights; promotion is a database change only: it succeeds even with
    the weights file gone (only the scoring job, on a worker, reads it)."""
    version = train_version(labelled_task)
    assert version.weights_checked_at is not None and version.weights_error == ""
    os.remove(version.weights.path)
    response = admin_client().post(reverse("api-classifier-promote", args=[version.pk]), {"force": True}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "active" and response.json()["weights_error"] == ""
    assert selectors.active_version(task=labelled_task).pk == version.pk


def test_a_version_with_unchecked_weights_is_refused_until_checked(labelled_task):
    version = train_version(labelled_task)
    ModelVersion.objects.filter(pk=version.pk).update(weights_checked_at=None)  # trained before the check
    url = reverse("api-classifier-promote", args=[version.pk])
    response = admin_client().post(url)
    assert response.status_code == 409 and "not been checked" in response.json()["detail"]
    assert selectors.active_version(task=labelled_task) is None
    out = io.StringIO()
    call_command("check_weights", stdout=out)
    assert f"fr v{version.number} (id {version.pk}): ok" in out.getvalue()
    assert admin_client().post(url, {"force": True}, format="json").status_code == 200
    assert selectors.active_version(task=labelled_task).pk == version.pk


def test_corrupt_images_are_skipped_and_reported(labelled_task):
    task = labelled_task
    # break an image of the training split (labelled or not): those are the ones training reads
    cutouts = Cutout.objects.filter(survey=task.survey).order_by("-name")
    broken = next(c for c in cutouts if selectors.cutout_split(survey_name="fr-survey", name=c.name) == "train")
    with open(broken.source_file.path, "wb") as handle:
        handle.write(b"SIMPLE  = garbage")
    version = train_version(task)
    assert version.status == ModelVersion.Status.READY
    job = Job.objects.get(pk=version.job_id)
    assert any(broken.name in e for e in job.errors)
    assert broken.pk not in version.training_data["unlabelled"] + version.training_data["train"]


def test_retrain_command_inline_and_promote(labelled_task, capsys):
    call_command(
        "retrain", "--task", "fr", "--epochs", "1", "--labels", "expert", "--max-steps", "2", "--inline", "--promote",
        "--force",  # two steps of training may well predict one class: promoted all the same
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "training fr v1" in out and "accuracy" in out and "now active" in out
    version = ModelVersion.objects.get(task=labelled_task, number=1)
    assert version.status == ModelVersion.Status.ACTIVE and version.config["max_steps"] == 2
    with pytest.raises(CommandError, match="no consensus labels"):
        call_command("retrain", "--task", "fr", "--labels", "consensus", "--inline")
    with pytest.raises(CommandError, match="no classifier task"):
        call_command("retrain", "--task", "missing", "--inline")


def test_automatic_retraining_after_new_consensus_labels(labelled_task, volunteer_factory, settings):
    task = labelled_task
    assert services.auto_retrain_if_due(task=task) is None  # off by default
    settings.RGZ_CLASSIFIER_RETRAIN_AFTER_NEW_LABELS = 50
    other = services.classifier_task_create(
        name="fr-2", survey=task.survey, workflow=task.workflow, classes=["FRII", "FRI"]
    )
    assert other.retrain_after_new_labels == 50
    task.retrain_after_new_labels = 1
    task.min_votes = 2  # an expert's classification counts as one vote: alone it makes no consensus
    task.save()
    assert services.auto_retrain_if_due(task=task) is None  # no consensus labels yet
    cutout = Cutout.objects.get(survey=task.survey, name="src-14")
    for _ in range(2):
        classification_create(
            workflow_id=task.workflow_id,
            subject_id=cutout.pk,
            volunteer=volunteer_factory(),
            annotations=[{"task": "T0", "value": FRI}],
        )
    version = services.auto_retrain_if_due(task=task)
    assert version is not None and version.label_source == "both" and version.status == "training"


def test_pages_show_versions_metrics_and_comparison(labelled_task, client):
    task = labelled_task
    v1 = train_version(task)
    v2 = train_version(task)
    client.force_login(UserFactory(username="boss2", is_staff=True))
    page = client.get(reverse("classifiers")).content.decode()
    assert "Start retraining" in page and f"Promote v{v1.number}" in page and "fr" in page
    detail = client.get(reverse("classifier-version", args=[v1.pk])).content.decode()
    assert "Reliability diagram" in detail and "ECE (15 equal-width bins)" in detail
    compare = client.get(reverse("classifier-compare"), {"a": v1.pk, "b": v2.pk})
    assert compare.status_code == 200 and b"macro F1" in compare.content
    client.force_login(UserFactory(username="volunteer"))
    assert client.get(reverse("classifiers")).status_code == 302  # not an astronomer


def test_schema_lists_the_classifier_endpoints(client):
    schema = client.get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path in (
        "/api/classifiers/tasks/{name}/retrain/",
        "/api/classifiers/versions/{id}/promote/",
        "/api/classifiers/tasks/{name}/rollback/",
        "/api/classifiers/compare/",
        "/api/cutouts/{id}/explanation/",
        "/api/classifiers/tasks/{name}/learning-curve/",
    ):
        assert path in schema["paths"], path


def test_task_creation_through_the_api(labelled_task):
    client = admin_client()
    url = reverse("api-classifier-tasks")
    body = {"name": "fr-api", "survey": "fr-survey", "workflow": labelled_task.workflow_id, "classes": ["FRI", "Bent"]}
    response = client.post(url, body, format="json")
    assert response.status_code == 201 and response.json()["classes"] == ["FRI", "Bent"]
    assert response.json()["consensus_method"] == "votes"
    response = client.post(url, {**body, "name": "fr-post", "consensus_method": "posterior"}, format="json")
    assert response.status_code == 201 and response.json()["consensus_method"] == "posterior"
    response = client.post(url, {**body, "name": "fr-mean", "consensus_method": "mean"}, format="json")
    assert response.status_code == 400 and "consensus_method" in response.json()  # the field with its message
    response = client.post(url, {**body, "name": "fr-bad", "classes": ["FRI", "Spiral"]}, format="json")
    assert response.status_code == 400 and "Spiral" in response.json()["detail"]
    assert client.post(url, body, format="json").status_code == 409  # the name is taken
    response = client.post(url, {**body, "name": "fr-x", "survey": "nowhere"}, format="json")
    assert response.status_code == 404
    listed = client.get(url).json()
    names = [t["name"] for t in (listed["results"] if isinstance(listed, dict) else listed)]
    assert names == ["fr", "fr-api", "fr-post"]


def test_the_registry_page_shows_the_default_task_without_writing_it(client, settings):
    from annotations.demo_survey import DEMO_SURVEY, demo_workflow
    from annotations.ingestion import survey_get_or_create
    from classifiers.models import ClassifierTask

    client.force_login(UserFactory(username="boss3", is_staff=True))
    marker = f'data-task="{settings.RGZ_CLASSIFIER_DEFAULT_TASK}"'
    assert marker not in client.get(reverse("classifiers")).content.decode()
    survey_get_or_create(name=DEMO_SURVEY)
    demo_workflow()
    page = client.get(reverse("classifiers")).content.decode()
    assert marker in page and "Start retraining" in page
    assert "Roll back" not in page  # nothing to roll back to before a first version
    assert not ClassifierTask.objects.exists()  # viewing the page wrote nothing
    task = services.classifier_task_for_name(name=None)  # what starting a retraining does
    assert task.pk and list(task.classes) == ["FRI", "FRII"] and task.survey.name == DEMO_SURVEY
    page = client.get(reverse("classifiers")).content.decode()
    assert page.count(marker) == 1
