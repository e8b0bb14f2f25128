"""A job's outcome in words, and the list of recent jobs that pages poll."""

import pytest
from django.urls import reverse

from jobs.models import Job
from jobs.outcome import job_outcome
from tests.factories import astronomer

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({"status": "queued"}, "queued"),
        ({"status": "running", "done": 3, "total": 10}, "running 3/10"),
        ({"status": "failed"}, "failed"),
        ({"status": "succeeded", "done": 5, "total": 5, "result": {"created": 5, "failed": 0}}, "succeeded"),
        (
            {"status": "succeeded", "done": 2158, "total": 2158, "result": {"created": 2157, "failed": 1}},
            "succeeded with 1 failure (2157/2158)",
        ),
        ({"status": "succeeded", "total": 0, "result": {"created": 3, "failed": 2}}, "succeeded with 2 failures (3/5)"),
    ],
)
def test_outcome_names_failures(fields, expected):
    assert job_outcome(Job.objects.create(kind="ingest_demo", **fields)) == expected


def test_recent_jobs_newest_first_for_astronomers_only(client):
    Job.objects.create(kind="first")
    Job.objects.create(kind="second", status="succeeded", total=2, done=2, result={"created": 1, "failed": 1})
    url = reverse("api-jobs-recent")
    assert client.get(url).status_code in (401, 403)
    client.force_login(astronomer("jobs"))
    body = client.get(url, {"limit": 5}).json()
    assert [j["kind"] for j in body] == ["second", "first"]
    assert body[0]["outcome"] == "succeeded with 1 failure (1/2)" and body[0]["failures"] == 1
    assert client.get(url, {"limit": 0}).status_code == 400
    assert client.get(url, {"limit": "many"}).status_code == 400
