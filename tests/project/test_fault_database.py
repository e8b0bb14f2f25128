"""PostgreSQL drops every connection (a restart, a failover): the next request still answers."""

import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from django.db import connection

from tests.conftest import postgres_in_use
from tests.factories import make_workflow_with_subjects
from tests.jobs.test_worker import ROOT, worker_environment
from tests.servers import free_port, wait_for_http

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not postgres_in_use(), reason="needs PostgreSQL (DATABASE_URL)"),
    pytest.mark.django_db(transaction=True),
]


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture
def one_process_server():
    """gunicorn with one sync worker: one persistent database connection serves every request."""
    port = free_port()
    env = {**worker_environment(), "DB_CONN_MAX_AGE": "600"}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "rgzplatform.wsgi", "--workers", "1", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url, process=process, name="gunicorn")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def test_requests_after_postgres_terminates_every_connection_do_not_fail(one_process_server):
    workflow, _ = make_workflow_with_subjects(n=1, name="Connections")
    page = f"{one_process_server}/api/workflows/{workflow.pk}/"
    assert _get(page) == 200  # opens the worker's persistent connection
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert cursor.fetchone()[0] >= 1  # the server's connection was among them
    statuses = [_get(page) for _ in range(3)]
    assert statuses == [200, 200, 200]
