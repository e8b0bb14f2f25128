"""The jobs kernel: job history survives the move of its tables' models to the jobs app, every
kind of background work starts as a job (scans too), and a start while the broker is down waits
in the outbox instead of failing."""

from datetime import timedelta

import numpy as np
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from anomalies import services as scan_services
from anomalies.dispatch import scan_start
from anomalies.models import Scan
from classifiers import services as classifier_services
from jobs.models import Job, PendingTask
from jobs.recovery import jobs_sweep
from rgzplatform.celery import app as celery_app
from tests.classifiers.test_classifiers import TINY, labelled_task  # noqa: F401  (shared fixture)
from tests.factories import astronomer, blob_array, fits_bytes

BEFORE_THE_MOVE = [
    ("annotations", "0008_pending_task_outbox"),
    ("classifiers", "0001_initial"),
    ("anomalies", "0001_initial"),
    ("jobs", None),
]


@pytest.mark.django_db(transaction=True)
def test_job_history_survives_the_move_to_the_jobs_app():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_THE_MOVE)
    old = executor.loader.project_state([node for node in BEFORE_THE_MOVE if node[1]]).apps
    job = old.get_model("annotations", "Job").objects.create(
        kind="ingest_images", status="succeeded", done=3, total=3, attempts=1, result={"created": 3}
    )
    survey = old.get_model("annotations", "Survey").objects.create(name="Old survey")
    workflow = old.get_model("annotations", "Workflow").objects.create(display_name="Old workflow")
    task = old.get_model("classifiers", "ClassifierTask").objects.create(
        name="old", survey=survey, workflow=workflow, classes=["FRI", "FRII"]
    )
    version = old.get_model("classifiers", "ModelVersion").objects.create(task=task, number=1, job_id=job.pk)
    old.get_model("annotations", "PendingTask").objects.create(
        name="classifiers.train_version", args=[str(job.pk)], queue="training", task_id="kept-while-down"
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    moved = Job.objects.get(pk=job.pk)
    assert (moved.kind, moved.status, moved.done, moved.attempts, moved.result) == (
        "ingest_images",
        "succeeded",
        3,
        1,
        {"created": 3},
    )
    from classifiers.models import ModelVersion

    assert ModelVersion.objects.get(pk=version.pk).job == moved
    kept = PendingTask.objects.get()
    assert (kept.name, kept.args, kept.queue) == ("jobs.run_job", [str(job.pk)], "training")


def small_mosaic(tmp_path):
    field = np.random.default_rng(0).normal(0, 1e-4, (240, 240)).astype(np.float32)
    field[100:164, 60:124] += blob_array(64, seed=2, lobes=3) * 5
    path = tmp_path / "m.fits"
    path.write_bytes(fits_bytes(field, scale_arcsec=2.0))
    return path


def planned_scan(tmp_path) -> Scan:
    return scan_services.scan_create(
        mosaic=str(small_mosaic(tmp_path)),
        aperture_arcsec=40,
        stride_arcsec=20,
        out=str(tmp_path / "c.csv"),
        tile_frames=8,
    )


def lose(job: Job, settings) -> None:
    """What a worker that died mid-job leaves: a running job whose heartbeat stopped long ago."""
    long_ago = timezone.now() - timedelta(seconds=settings.RGZ_JOB_HEARTBEAT_TIMEOUT_SECONDS + 5)
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.RUNNING, attempts=1, started_at=long_ago, heartbeat_at=long_ago
    )


@pytest.mark.django_db
def test_a_scan_from_the_api_runs_as_a_job_with_progress(tmp_path, settings, django_capture_on_commit_callbacks):
    from rest_framework.test import APIClient

    settings.RGZ_IMPORT_ROOTS, settings.RGZ_EXPORT_ROOT = [str(tmp_path)], tmp_path / "exports"
    client = APIClient()
    client.force_login(astronomer())
    body = {"mosaic": str(small_mosaic(tmp_path)), "aperture_arcsec": 40, "stride_arcsec": 20, "tile_frames": 8}
    with django_capture_on_commit_callbacks(execute=True):  # jobs run eagerly in unit tests
        started = client.post("/api/scans/", body, format="json")
    assert started.status_code == 202
    scan = Scan.objects.get(pk=started.json()["id"])
    job = Job.objects.get(kind="complexity_scan")
    assert scan.job_id == job.pk and job.parameters == {"scan_id": str(scan.pk)}
    assert job.status == Job.Status.SUCCEEDED and job.done == job.total == scan.tile_count == 9
    assert scan.status == Scan.Status.SUCCEEDED and job.result["scan"] == str(scan.pk)
    assert client.get(f"/api/jobs/{job.pk}/").json()["status"] == "succeeded"


@pytest.mark.django_db
def test_a_scan_whose_worker_died_is_resumed_by_the_jobs_sweep(tmp_path, settings, django_capture_on_commit_callbacks):
    scan = planned_scan(tmp_path)
    job = scan_start(scan, send=False)
    scan_services.scan_tile_run(scan_id=scan.pk, index=0)  # then its worker died
    lose(job, settings)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs_sweep() == [str(job.pk)]
    job.refresh_from_db()
    scan.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.attempts == 2
    assert scan.status == Scan.Status.SUCCEEDED and scan.tiles.filter(done=True).count() == 9


@pytest.mark.django_db
def test_a_scan_abandoned_after_its_last_attempt_fails_with_the_reason(tmp_path, settings):
    settings.RGZ_JOB_MAX_ATTEMPTS = 1
    scan = planned_scan(tmp_path)
    job = scan_start(scan, send=False)
    lose(job, settings)
    assert jobs_sweep() == [str(job.pk)]
    scan.refresh_from_db()
    assert scan.status == Scan.Status.FAILED and "stopped after 1 attempts" in scan.message


@pytest.fixture
def broker_down():
    """The Celery broker unreachable (a port nothing listens on), as in an outage."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.broker_write_url, celery_app._pool, celery_app.amqp._producer_pool
    conf.broker_url = conf.broker_write_url = "redis://127.0.0.1:1/0"
    celery_app._pool = celery_app.amqp._producer_pool = None
    conf.task_always_eager = False
    try:
        yield
    finally:  # nothing connected to the unreachable broker: there is nothing to close
        conf.broker_url, conf.broker_write_url, celery_app._pool, celery_app.amqp._producer_pool = saved
        conf.task_always_eager = True


@pytest.mark.django_db
def test_a_training_started_while_the_broker_is_down_waits_in_the_outbox(
    labelled_task,  # noqa: F811
    broker_down,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        version = classifier_services.training_start(task=labelled_task, epochs=1, labels="expert", overrides=TINY)
    kept = PendingTask.objects.get()
    assert (kept.name, kept.args, kept.queue) == ("jobs.run_job", [str(version.job_id)], "training")
    assert Job.objects.get(pk=version.job_id).status == Job.Status.QUEUED


@pytest.mark.django_db
def test_a_scan_started_while_the_broker_is_down_waits_in_the_outbox(
    tmp_path, broker_down, django_capture_on_commit_callbacks
):
    scan = planned_scan(tmp_path)
    with django_capture_on_commit_callbacks(execute=True):
        job = scan_start(scan)
    names = list(PendingTask.objects.values_list("name", flat=True))
    assert names == ["jobs.run_job"] + ["anomalies.scan_tile"] * 9
    assert PendingTask.objects.first().args == [str(job.pk)]
