"""Who may cancel a job: the astronomer who started it, or an admin; a volunteer, another
astronomer, or anyone after the job finished is refused with a message."""

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from jobs.models import Job
from tests.factories import UserFactory, astronomer

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _running(by=None) -> Job:
    return Job.objects.create(kind="ingest_images", status="running", started_at=timezone.now(), created_by=by)


def test_an_astronomer_cancels_a_job_they_started():
    owner = astronomer("astro-owner")
    job = _running(by=owner)
    response = _client(owner).post(reverse("api-job-cancel", args=[job.pk]))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["cancel_requested_at"] and body["outcome"].startswith("cancelling")
    assert body["created_by"] == "astro-owner" and body["can_cancel"] is True
    assert Job.objects.get(pk=job.pk).cancel_requested_at is not None


def test_a_queued_job_of_ones_own_is_cancelled_at_once():
    owner = astronomer("astro-queued")
    job = Job.objects.create(kind="ingest_images", created_by=owner)
    body = _client(owner).post(reverse("api-job-cancel", args=[job.pk])).json()
    assert body["status"] == "cancelled" and body["can_cancel"] is False
    assert Job.objects.get(pk=job.pk).finished_at is not None


def test_another_astronomers_job_and_a_system_job_are_refused():
    job = _running(by=astronomer("astro-a"))
    system = _running(by=None)
    other = _client(astronomer("astro-b"))
    for row in (job, system):
        response = other.post(reverse("api-job-cancel", args=[row.pk]))
        assert response.status_code == 403
        assert "only the astronomer who started this job" in response.json()["detail"]
        assert Job.objects.get(pk=row.pk).cancel_requested_at is None
    listed = {j["id"]: j for j in other.get(reverse("api-jobs-recent")).json()}
    assert listed[str(job.pk)]["can_cancel"] is False


def test_a_volunteer_is_refused_even_for_a_job_they_started():
    volunteer = UserFactory(username="vol-cancel")
    job = _running(by=volunteer)
    response = _client(volunteer).post(reverse("api-job-cancel", args=[job.pk]))
    assert response.status_code == 403
    assert Job.objects.get(pk=job.pk).cancel_requested_at is None
    assert APIClient().post(reverse("api-job-cancel", args=[job.pk])).status_code in (401, 403)


def test_an_admin_cancels_anyones_job():
    job = _running(by=astronomer("astro-c"))
    admin = UserFactory(username="root-any", is_staff=True)
    listed = {j["id"]: j for j in _client(admin).get(reverse("api-jobs-recent")).json()}
    assert listed[str(job.pk)]["can_cancel"] is True
    assert _client(admin).post(reverse("api-job-cancel", args=[job.pk])).status_code == 200


def test_cancelling_a_finished_job_is_a_conflict_and_changes_nothing():
    owner = astronomer("astro-done")
    job = Job.objects.create(kind="ingest_images", status="succeeded", finished_at=timezone.now(), created_by=owner)
    response = _client(owner).post(reverse("api-job-cancel", args=[job.pk]))
    assert response.status_code == 409 and "already succeeded" in response.json()["detail"]
    row = Job.objects.get(pk=job.pk)
    assert row.status == "succeeded" and row.cancel_requested_at is None
    assert _client(owner).get(reverse("api-job", args=[job.pk])).json()["can_cancel"] is False
