"""Redis (the throttle cache and the Celery broker) goes away while volunteers submit: every
submit is stored and acknowledged, and the follow-up work runs once Redis is back."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from annotations.models import Classification
from taxonomy.models import Tag, TagLink
from tests.factories import make_workflow_with_subjects
from tests.jobs.test_worker import ROOT, worker_environment
from tests.servers import free_port, wait_for_http

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]

BEFORE, DURING, AFTER = 3, 12, 3
OUTAGE_SECONDS = 8


class PrivateRedis:
    """A redis-server of the test's own on a free port, stopped and started again at will."""

    def __init__(self):
        self.port = free_port()
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def redis_server():
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def platform(redis_server, tmp_path, settings):
    """The web app (gunicorn) and a worker with beat, both on the private Redis."""
    url = f"redis://127.0.0.1:{redis_server.port}"
    env = {
        **worker_environment(),
        "CACHE_URL": f"{url}/1",
        "CELERY_BROKER_URL": f"{url}/0",
        "RGZ_TEST_CELERY_EAGER": "false",  # the web app queues its tasks on the broker
        "RGZ_JOB_SWEEP_SECONDS": "1",  # the beat that sends what waited for the broker
        "RGZ_TAXONOMY_CHECK_SECONDS": "3600",  # only the submits' own follow-up tags picks
    }
    port = free_port()
    # A file, not a pipe: nobody reads a pipe during the test, and a full one blocks its writer.
    log = open(tmp_path / "servers.log", "wb")
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "rgzplatform.wsgi", "--workers", "2", "--preload",
             "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        ),
        subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "rgzplatform", "worker", "--pool", "solo", "--beat",
             "--schedule", str(tmp_path / "beat-schedule"), "-Q", settings.CELERY_TASK_DEFAULT_QUEUE,
             "--loglevel", "INFO", "--without-heartbeat", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        ),
    ]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(base, name="gunicorn")
        yield base
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        log.close()


def test_submits_during_a_redis_outage_are_stored_and_their_follow_up_runs_after(platform, redis_server):
    Tag.objects.create(name="jet", status=Tag.Status.APPROVED)
    workflow, cutouts = make_workflow_with_subjects(n=BEFORE + DURING + AFTER, retirement=5, name="Outage")
    volunteer = requests.Session()
    statuses, seconds = [], []

    def submit(_cutout):
        # As the classify page does: ask for the next subject (answers are taken only for subjects
        # served), then send the answer.
        served = volunteer.get(f"{platform}/api/queue/next/", params={"workflow": workflow.pk}, timeout=10).json()
        body = {
            "workflow": workflow.pk,
            "subject": served["subject"]["id"],
            "annotations": [
                {"task": "T0", "value": 1},
                {"task": "T1", "value": "a jet"},
                {"task": "T2", "value": ["jet"]},
            ],
        }
        started = time.monotonic()
        try:
            statuses.append(volunteer.post(f"{platform}/api/classifications/", json=body, timeout=10).status_code)
        except requests.Timeout:
            statuses.append("timeout")
        seconds.append(round(time.monotonic() - started, 2))

    def tagged():
        return set(TagLink.objects.filter(origin=TagLink.Origin.PICK).values_list("classification_id", flat=True))

    def wait_for_follow_up(classifications: set, seconds: float):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and tagged() != classifications:
            time.sleep(0.25)
        return tagged()

    for cutout in cutouts[:BEFORE]:
        submit(cutout)
    # Redis restarts empty (no persistence here): let the worker take what was queued first.
    assert len(wait_for_follow_up(set(Classification.objects.values_list("pk", flat=True)), 30)) == BEFORE
    redis_server.stop()
    for cutout in cutouts[BEFORE : BEFORE + DURING]:
        submit(cutout)
    time.sleep(OUTAGE_SECONDS)  # longer than any publish retry: the outage outlasts the requests
    redis_server.start()
    for cutout in cutouts[BEFORE + DURING :]:
        submit(cutout)
    print(f"statuses {statuses}; seconds {seconds}")
    assert statuses == [201] * len(cutouts)
    assert max(seconds[BEFORE : BEFORE + DURING]) < 2  # the outage does not hold requests
    stored = set(Classification.objects.filter(workflow=workflow).values_list("pk", flat=True))
    assert len(stored) == len(cutouts)
    # every submit's follow-up ran, those of the outage once the broker was back
    assert wait_for_follow_up(stored, 30) == stored
