"""The bare-limit pair of bench/queue_load.py: off by default, one statement per call when on."""

import json

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from annotations.bench_limit import limit_next_view, limit_store_view
from annotations.models import Classification, WorkflowVersion
from tests.factories import make_workflow_with_subjects

pytestmark = pytest.mark.django_db


def test_not_served_unless_a_benchmark_turns_it_on(client, settings):
    assert settings.RGZ_BENCH_LIMIT_ENDPOINTS is False
    assert client.get("/bench/limit/next/?workflow=1").status_code == 404
    assert client.post("/bench/limit/store/", {}, content_type="application/json").status_code == 404


def statements(captured):
    return [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]


def test_one_select_and_one_insert():
    workflow, cutouts = make_workflow_with_subjects(n=3)
    version = WorkflowVersion.objects.get(workflow=workflow)
    factory = RequestFactory()
    with CaptureQueriesContext(connection) as read:
        response = limit_next_view(factory.get("/bench/limit/next/", {"workflow": workflow.pk, "offset": 1}))
    subject = json.loads(response.content)["subject"]
    assert subject in {c.pk for c in cutouts} and len(statements(read)) == 1
    body = {"workflow": workflow.pk, "version": version.pk, "subject": subject, "volunteer": "v1", "annotations": []}
    with CaptureQueriesContext(connection) as write:
        response = limit_store_view(factory.post("/bench/limit/store/", body, content_type="application/json"))
    assert response.status_code == 201 and len(statements(write)) == 1
    assert Classification.objects.get(pk=json.loads(response.content)["id"]).subject_id == subject


def test_bad_input_is_a_400():
    factory = RequestFactory()
    assert limit_next_view(factory.get("/bench/limit/next/", {"workflow": "x"})).status_code == 400
    bad = factory.post("/bench/limit/store/", {"workflow": 1}, content_type="application/json")
    assert limit_store_view(bad).status_code == 400
