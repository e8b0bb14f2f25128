"""A worker dies mid-job (the whole worker, or the pool process running the job): the job is
started again or failed with the reason within seconds, on whichever broker the suite runs, and
no cutout file is left without its row."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from annotations.media_sweep import media_orphans_sweep
from annotations.models import Cutout
from jobs.dispatch import job_start
from jobs.models import Job
from jobs.recovery import jobs_sweep
from jobs.registry import JOB_KINDS, register_job_runner
from jobs.reports import JobReport
from jobs.runner import job_run
from rgzplatform.celery import app as celery_app
from tests.factories import blob_array, fits_bytes
from tests.jobs.test_worker import ROOT, _children_of, worker_environment

FILES = 160
# Short enough for a test; the defaults are minutes (rgzplatform/settings/jobs.py).
FAST_RECOVERY = {"RGZ_JOB_HEARTBEAT_SECONDS": "0.5", "RGZ_JOB_HEARTBEAT_TIMEOUT_SECONDS": "2"}
# A job started again by a worker goes through the broker, as in production, not inline.
NOT_EAGER = {"RGZ_TEST_CELERY_EAGER": "false"}


def start_worker(settings, **env) -> subprocess.Popen:
    """A prefork worker (one pool process) in its own process group."""
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "rgzplatform", "worker", "--pool", "prefork", "--concurrency", "1",
         "-Q", settings.CELERY_TASK_DEFAULT_QUEUE, "--loglevel", "INFO",
         "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT,
        env={**worker_environment(), **FAST_RECOVERY, **NOT_EAGER, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )  # fmt: skip


def stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    return process.stdout.read()[-4000:]


@pytest.fixture
def workers(settings):
    started: list[subprocess.Popen] = []

    def start(**env):
        started.append(start_worker(settings, **env))
        return started[-1]

    celery_app.conf.task_always_eager = False
    try:
        yield start
    finally:
        celery_app.conf.task_always_eager = True
        for process in started:
            stop(process)


@pytest.fixture
def many_files(tmp_path):
    paths = []
    for i in range(FILES):
        path = tmp_path / f"k{i:03d}.fits"
        path.write_bytes(fits_bytes(blob_array(40, seed=i)))
        paths.append(str(path))
    return paths


def wait_until(condition, seconds: float, what: str, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    log = stop(process) if process is not None else ""
    pytest.fail(f"{what} did not happen within {seconds} s\n{log}")


def running_mid_way(job: Job) -> bool:
    job.refresh_from_db()
    return job.status == Job.Status.RUNNING and 10 <= job.done < FILES - 50


def orphaned_cutout_files() -> list[str]:
    media_orphans_sweep(older_than_seconds=0)  # what the hourly sweep does to files an hour old
    referenced = set()
    for row in Cutout.objects.values_list("source_file", "image", "pixels"):
        referenced.update(row)
    root = Path(default_storage.location)
    on_disk = {str(p.relative_to(root)) for p in (root / "cutouts").rglob("*") if p.is_file()}
    return sorted(on_disk - referenced)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_job_whose_whole_worker_was_killed_is_resumed_by_the_next_worker(workers, many_files):
    first = workers()
    job = job_start(kind="ingest_images", parameters={"survey_name": "Killed", "paths": many_files})
    wait_until(lambda: running_mid_way(job), 60, "the job reaching mid-way", first)
    os.killpg(first.pid, signal.SIGKILL)  # the worker and its pool process, as the OOM killer or a power cut
    first.wait(timeout=10)
    killed_at = job.done
    time.sleep(2.5)  # past the heartbeat timeout
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING  # what the dead worker left
    started = time.monotonic()
    second = workers()  # sweeps at start, finds the job lost and queues it again
    wait_until(lambda: Job.objects.get(pk=job.pk).finished, 60, "the job finishing", second)
    job.refresh_from_db()
    print(f"killed at {killed_at}/{FILES}; finished {time.monotonic() - started:.1f} s after the next worker started")
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.attempts == 2
    assert Cutout.objects.filter(survey__name="Killed").count() == FILES
    assert orphaned_cutout_files() == []


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempts, outcome", [(3, Job.Status.SUCCEEDED), (1, Job.Status.FAILED)])
def test_a_job_whose_pool_process_was_killed_is_resumed_or_failed_with_the_reason(
    workers, many_files, attempts, outcome
):
    worker = workers(RGZ_JOB_MAX_ATTEMPTS=str(attempts))
    job = job_start(kind="ingest_images", parameters={"survey_name": f"Child {attempts}", "paths": many_files})
    wait_until(lambda: running_mid_way(job), 60, "the job reaching mid-way", worker)
    (child,) = _children_of(worker.pid)
    os.kill(child, signal.SIGKILL)  # Celery: WorkerLostError; the worker itself lives on
    started = time.monotonic()
    wait_until(lambda: Job.objects.get(pk=job.pk).finished, 60, "the job finishing", worker)
    job.refresh_from_db()
    print(f"{outcome} {time.monotonic() - started:.1f} s after its pool process was killed: {job.message}")
    assert job.status == outcome, job.message
    if outcome == Job.Status.SUCCEEDED:
        assert job.attempts == 2
        assert Cutout.objects.filter(survey__name=f"Child {attempts}").count() == FILES
    else:
        assert "stopped after 1 attempts" in job.message and "WorkerLostError" in job.message
    assert orphaned_cutout_files() == []


@pytest.fixture
def slow_kind(settings):
    """A job kind with one long step that reports no progress."""
    settings.RGZ_JOB_HEARTBEAT_SECONDS = 0.2
    settings.RGZ_JOB_HEARTBEAT_TIMEOUT_SECONDS = 1

    def runner(*, seconds, progress):
        time.sleep(seconds)
        progress(1, 1, "done")
        return JobReport(created=1)

    register_job_runner("slow_step", runner)
    yield "slow_step"
    JOB_KINDS.pop("slow_step")


@pytest.mark.django_db(transaction=True)
def test_a_long_step_without_progress_is_not_taken_for_a_dead_worker(slow_kind):
    job = Job.objects.create(kind=slow_kind, parameters={"seconds": 3})

    def run():  # as a worker runs it: its own connection, closed at the end
        try:
            job_run(job_id=job.pk)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    recovered = []
    while thread.is_alive():
        recovered += jobs_sweep()
        time.sleep(0.3)
    thread.join()
    job.refresh_from_db()
    assert recovered == [] and job.status == Job.Status.SUCCEEDED and job.attempts == 1


@pytest.mark.django_db(transaction=True)
def test_the_sweep_fails_a_lost_job_with_the_reason_after_its_last_attempt(settings):
    settings.RGZ_JOB_MAX_ATTEMPTS = 2
    long_ago = timezone.now() - timedelta(seconds=settings.RGZ_JOB_HEARTBEAT_TIMEOUT_SECONDS + 5)
    lost = Job.objects.create(
        kind="score_complexity", status=Job.Status.RUNNING, attempts=2, started_at=long_ago, heartbeat_at=long_ago
    )
    alive = Job.objects.create(
        kind="score_complexity", status=Job.Status.RUNNING, attempts=1, started_at=long_ago, heartbeat_at=timezone.now()
    )
    assert jobs_sweep() == [str(lost.pk)]
    lost.refresh_from_db()
    alive.refresh_from_db()
    assert lost.status == Job.Status.FAILED and lost.finished_at is not None
    assert "stopped after 2 attempts" in lost.message and "no heartbeat" in lost.message
    assert alive.status == Job.Status.RUNNING


@pytest.mark.django_db
def test_the_media_sweep_deletes_only_old_cutout_files_without_a_row(tmp_path, settings):
    from tests.factories import SurveyFactory, make_cutout

    kept = make_cutout(SurveyFactory(name="Media"), "kept")
    stored = {kept.source_file.name, kept.image.name, kept.pixels.name} - {""}
    old = default_storage.save("cutouts/png/1/orphan-old.png", ContentFile(b"x"))
    young = default_storage.save("cutouts/png/1/orphan-young.png", ContentFile(b"x"))
    hour_ago = time.time() - 3700
    os.utime(default_storage.path(old), (hour_ago, hour_ago))
    for name in stored:
        os.utime(default_storage.path(name), (hour_ago, hour_ago))
    assert media_orphans_sweep() == [old]
    assert not default_storage.exists(old) and default_storage.exists(young)
    assert all(default_storage.exists(name) for name in stored)
