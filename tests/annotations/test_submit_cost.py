"""The submit's cost: a small constant number of SQL statements, whatever the workflow's tasks,
with the work that need not be done before the 201 queued after the commit (kept in the outbox
while the broker is down)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations.models import Classification, QueueLease, SubjectWorkflowStatus
from jobs.models import PendingTask
from taxonomy.inbox import inbox_size, inbox_take
from tests.factories import make_workflow_with_subjects, volunteer_key_of
from tests.jobs.test_jobs_kernel import broker_down  # noqa: F401

pytestmark = pytest.mark.django_db

# SELECT ... FOR UPDATE (status row, workflow, earlier answer, lease), INSERT, DELETE lease, UPDATE counts.
SUBMIT_STATEMENTS = 4
FULL_ANSWER = [
    {"task": "T0", "value": 1},
    {"task": "T1", "value": "a bent double with a faint core"},
    {"task": "T2", "value": ["jet"]},
]


def statements(captured) -> list[str]:
    """What reached the database, without the test transaction's savepoints (BEGIN and COMMIT
    are not logged on either database, so the savepoints stand in for them)."""
    return [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]


def serve_and_submit(client, workflow, answer=FULL_ANSWER, key=None):
    subject = client.get(f"/api/queue/next/?workflow={workflow.pk}").json()["subject"]["id"]
    with CaptureQueriesContext(connection) as captured:
        response = client.post(
            "/api/classifications/",
            {"workflow": workflow.pk, "subject": subject, "annotations": answer, "workflow_version": "1.1"},
            content_type="application/json",
            **({"HTTP_IDEMPOTENCY_KEY": key} if key else {}),
        )
    assert response.status_code == 201, response.content
    return subject, statements(captured)


def test_a_submit_costs_a_constant_number_of_statements(client):
    workflow, _ = make_workflow_with_subjects(n=6, retirement=2)
    volunteer_key_of(client)
    serve_and_submit(client, workflow)  # the first reads the workflow version into the process
    for answer in (FULL_ANSWER, FULL_ANSWER[:1]):
        _, sql = serve_and_submit(client, workflow, answer)
        assert len(sql) == SUBMIT_STATEMENTS, "\n".join(sql)
        assert [s.split()[0] for s in sql] == ["SELECT", "INSERT", "DELETE", "UPDATE"], sql
        if connection.features.has_select_for_update:
            assert "FOR UPDATE" in sql[0]


def test_the_submit_that_retires_costs_the_same(client, volunteer_factory):
    workflow, cutouts = make_workflow_with_subjects(n=2, retirement=1)
    volunteer_key_of(client)
    serve_and_submit(client, workflow)
    subject, sql = serve_and_submit(client, workflow)
    assert len(sql) == SUBMIT_STATEMENTS, "\n".join(sql)
    status = SubjectWorkflowStatus.objects.get(workflow=workflow, subject_id=subject)
    assert status.retired_at is not None and (status.classification_count, status.leased_count) == (1, 0)
    assert not QueueLease.objects.filter(status=status).exists()


def test_a_retry_returns_the_stored_classification(client):
    workflow, _ = make_workflow_with_subjects(n=2, retirement=3)
    volunteer_key_of(client)
    subject, _ = serve_and_submit(client, workflow, key="retry-key-1")
    again = client.post(
        "/api/classifications/",
        {"workflow": workflow.pk, "subject": subject, "annotations": FULL_ANSWER},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="retry-key-1",
    )
    assert again.status_code == 200
    assert Classification.objects.filter(subject_id=subject).count() == 1
    assert again.json()["id"] == Classification.objects.get(subject_id=subject).pk
    assert SubjectWorkflowStatus.objects.get(workflow=workflow, subject_id=subject).classification_count == 1


def test_a_submit_while_the_broker_is_down_is_stored_and_its_tagging_kept(
    client,
    broker_down,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    workflow, _ = make_workflow_with_subjects(n=2, retirement=3)
    volunteer_key_of(client)
    with django_capture_on_commit_callbacks(execute=True):
        subject, sql = serve_and_submit(client, workflow)
    stored = Classification.objects.get(subject_id=subject)
    kept = PendingTask.objects.get()
    if inbox_size():  # a Redis cache: the id waits in the tagging inbox, its drain in the outbox
        assert (kept.name, kept.args, inbox_take(10)) == ("taxonomy.inbox_drain", [], [stored.pk])
    else:
        assert (kept.name, kept.args) == ("taxonomy.description_added", [stored.pk])


def test_a_workflow_version_that_does_not_exist_is_refused(client):
    workflow, _ = make_workflow_with_subjects(n=2, retirement=3)
    volunteer_key_of(client)
    subject = client.get(f"/api/queue/next/?workflow={workflow.pk}").json()["subject"]["id"]
    for label, message in (("9.9", "has no version 9.9"), ("x", "major.minor")):
        response = client.post(
            "/api/classifications/",
            {"workflow": workflow.pk, "subject": subject, "annotations": FULL_ANSWER, "workflow_version": label},
            content_type="application/json",
        )
        assert response.status_code == 400 and message in response.json()["detail"], response.content
    assert not Classification.objects.exists()
    assert SubjectWorkflowStatus.objects.get(workflow=workflow, subject_id=subject).leased_count == 1
