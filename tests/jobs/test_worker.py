"""A real Celery worker (Redis in CI's PostgreSQL pass, the file broker on embedded defaults)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.db import connection

from annotations.models import Cutout
from jobs.dispatch import job_start
from rgzplatform.celery import app as celery_app
from tests.factories import blob_array, fits_bytes
from tests.servers import free_port, wait_for_http

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def worker_environment() -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "rgzplatform.settings.test"}
    env["DJANGO_MEDIA_ROOT"] = str(settings.MEDIA_ROOT)
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        env["RGZ_SQLITE_PATH"] = str(name)
        env.pop("DATABASE_URL", None)
    else:
        env["DATABASE_TEST_NAME"] = ""
        base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
        env["DATABASE_URL"] = f"{base}/{name}"
    return env


@pytest.fixture
def worker():
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "rgzplatform",
            "worker",
            "--pool",
            "solo",
            "--concurrency",
            "1",
            "-Q",
            settings.CELERY_TASK_DEFAULT_QUEUE,
            "--loglevel",
            "INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=worker_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    celery_app.conf.task_always_eager = False
    try:
        yield process
    finally:
        celery_app.conf.task_always_eager = True
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def test_ingestion_runs_on_a_real_worker(worker, tmp_path):
    files = []
    for i in range(3):
        path = tmp_path / f"w{i}.fits"
        path.write_bytes(fits_bytes(blob_array(40, seed=i)))
        files.append(str(path))
    job = job_start(kind="ingest_images", parameters={"survey_name": "Worker", "paths": files})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.finished:
            break
        if worker.poll() is not None:
            pytest.fail(f"worker exited early:\n{worker.stdout.read()}")
        time.sleep(0.5)
    else:
        worker.terminate()
        pytest.fail(f"the worker did not finish the job in time:\n{worker.communicate(timeout=20)[0][-4000:]}")
    assert job.status == "succeeded", job.message
    assert job.celery_task_id and job.done == job.total == 3
    assert sorted(Cutout.objects.values_list("name", flat=True)) == ["w0", "w1", "w2"]
    broker = settings.CELERY_BROKER_URL.split(":", 1)[0]
    print(f"job ran on a worker over the {broker} broker")


def test_scan_tiles_run_as_subtasks_on_a_real_worker(worker, tmp_path):
    from anomalies import services
    from anomalies.dispatch import scan_dispatch
    from anomalies.models import Scan

    field = np.random.default_rng(0).normal(0, 1e-4, (240, 240)).astype(np.float32)
    field[100:164, 60:124] += blob_array(64, seed=2, lobes=3) * 5
    mosaic = tmp_path / "m.fits"
    mosaic.write_bytes(fits_bytes(field, scale_arcsec=2.0))
    out = tmp_path / "cat.csv"
    scan = services.scan_create(mosaic=str(mosaic), aperture_arcsec=40, stride_arcsec=20, out=str(out), tile_frames=8)
    assert scan.tile_count == 9
    assert scan_dispatch(scan) == 9
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        scan.refresh_from_db()
        if scan.status != Scan.Status.RUNNING:
            break
        if worker.poll() is not None:
            pytest.fail(f"worker exited early:\n{worker.stdout.read()}")
        time.sleep(0.5)
    assert scan.status == "succeeded", scan.message
    assert scan.tiles.filter(done=True).count() == 9 and out.is_file() and out.with_suffix(".vot").is_file()


@pytest.fixture
def panoptes_standin(monkeypatch, settings):
    """The Panoptes stand-in, with its address and credentials in the environment the worker inherits."""
    from zooniverse.panoptes_standin import StandinServer, StandinState

    with StandinServer(StandinState(username="worker-bot", password="worker-pw")) as server:
        for name, value in [
            ("PANOPTES_ENDPOINT", server.url),
            ("PANOPTES_USERNAME", "worker-bot"),
            ("PANOPTES_PASSWORD", "worker-pw"),
        ]:
            monkeypatch.setenv(name, value)
        settings.ZOONIVERSE_ENDPOINT = server.url
        yield server


def _wait_for(job, worker, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.finished:
            return job
        if worker.poll() is not None:
            pytest.fail(f"worker exited early:\n{worker.stdout.read()}")
        time.sleep(0.5)
    worker.terminate()
    pytest.fail(f"the worker did not finish the job in time:\n{worker.communicate(timeout=20)[0][-4000:]}")


def test_zooniverse_push_and_pull_run_on_a_real_worker(panoptes_standin, worker):
    from annotations.task_definitions import demo_workflow_definition
    from tests.factories import make_workflow_with_subjects
    from zooniverse import sync
    from zooniverse.models import ZooniverseSubject

    workflow, cutouts = make_workflow_with_subjects(n=2, name="Worker sync")
    state = panoptes_standin.state
    project = state.add_project("Worker project", "rgz/worker")
    tasks, strings = demo_workflow_definition()
    zworkflow = state.add_workflow(project, "Morphology", tasks=tasks, strings=strings)
    link = sync.link_create(workflow=workflow, project_id=int(project), zooniverse_workflow_id=int(zworkflow))
    push = _wait_for(job_start(kind=sync.PUSH_JOB, parameters={"link_id": link.pk}), worker)
    assert push.status == "succeeded", push.message
    assert len(state.resources["subjects"]) == 2 and len(state.media) == 2
    subject = ZooniverseSubject.objects.get(cutout=cutouts[0])
    state.add_classification(
        workflow_id=zworkflow, subject_id=str(subject.zooniverse_id), user_name="w",
        annotations=[{"task": "T0", "value": "FR I: brightest near the centre, fading jets"}],
    )  # fmt: skip
    pull = _wait_for(job_start(kind=sync.PULL_JOB, parameters={"link_id": link.pk}), worker)
    assert pull.status == "succeeded", pull.message
    assert pull.result["created"] == 1


def _children_of(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def test_run_embedded_stops_its_worker_and_web_app_on_sigterm(tmp_path):
    import signal

    port = free_port()
    env = {**worker_environment(), "RGZ_VAR_DIR": str(tmp_path)}
    parent = subprocess.Popen(
        [sys.executable, "manage.py", "run_embedded", "--no-demo", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    children: set[int] = set()
    try:
        wait_for_http(f"http://127.0.0.1:{port}", process=parent, seconds=90, name="run_embedded")
        children = _children_of(parent.pid)
        assert len(children) == 2  # the worker and the web app
        parent.send_signal(signal.SIGTERM)  # to the parent alone, as a service manager or `kill` does
        parent.wait(timeout=40)
        time.sleep(0.5)
        assert not [pid for pid in children if Path(f"/proc/{pid}").exists()], "children outlived run_embedded"
    finally:
        if parent.poll() is None:
            parent.kill()
        for pid in children | _children_of(parent.pid):  # orphans, when the test fails
            if Path(f"/proc/{pid}").exists():
                os.kill(pid, signal.SIGKILL)
