"""Cancelling a job through the kernel: a running training stops at its next progress report (its
version fails, the active version stays), a queued one never starts, a finished one is a 409."""

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from classifiers import promotion, services
from classifiers.models import ModelVersion
from jobs.dispatch import job_cancel
from jobs.models import Job
from jobs.runner import job_run
from tests.classifiers.test_classifiers import TINY, _small, labelled_task  # noqa: F401  (shared fixtures)
from tests.factories import UserFactory, astronomer

pytestmark = pytest.mark.django_db


def test_a_running_training_is_cancelled_and_the_active_version_stays(labelled_task):  # noqa: F811
    v1 = services.training_start(task=labelled_task, epochs=1, labels="expert", overrides=TINY, send=False)
    job_run(job_id=v1.job.pk)
    promotion.version_promote(version=ModelVersion.objects.get(pk=v1.pk))
    v2 = services.training_start(task=labelled_task, epochs=30, labels="expert", overrides=TINY, send=False)
    seen = []

    def person_clicks_cancel(done, total, message):
        seen.append(message)
        if message.startswith("epoch ") and sum(m.startswith("epoch ") for m in seen) == 1:
            job_cancel(job=Job.objects.get(pk=v2.job.pk))

    job_run(job_id=v2.job.pk, on_progress=person_clicks_cancel)
    job = Job.objects.get(pk=v2.job.pk)
    assert job.status == "cancelled" and job.finished_at is not None, seen
    assert sum(m.startswith("epoch ") for m in seen) == 1, seen  # it stopped at the next report
    assert not seen[-1].startswith("epoch 30/")
    v2.refresh_from_db()
    assert v2.status == ModelVersion.Status.FAILED and "cancelled" in v2.error
    assert ModelVersion.objects.get(pk=v1.pk).status == ModelVersion.Status.ACTIVE
    with pytest.raises(Exception, match="already cancelled"):
        job_cancel(job=job)


def test_a_queued_training_cancelled_never_runs(labelled_task):  # noqa: F811
    version = services.training_start(task=labelled_task, epochs=1, labels="expert", overrides=TINY, send=False)
    cancelled = job_cancel(job=version.job)
    assert cancelled.status == "cancelled"
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.FAILED and "cancelled before it started" in version.error
    assert job_run(job_id=version.job.pk) == {}  # a late delivery does nothing
    assert Job.objects.get(pk=version.job.pk).started_at is None


def test_cancel_endpoint_is_for_admins_and_refuses_finished_jobs():
    job = Job.objects.create(kind="ingest_images", status="running", started_at=timezone.now())
    url = reverse("api-job-cancel", args=[job.pk])
    client = APIClient()
    client.force_authenticate(astronomer("astro-cancel"))
    assert client.post(url).status_code == 403
    client.force_authenticate(UserFactory(username="root-cancel", is_staff=True))
    body = client.post(url).json()
    assert body["cancel_requested_at"] and body["outcome"].startswith("cancelling")
    Job.objects.filter(pk=job.pk).update(status="succeeded", finished_at=timezone.now())
    response = client.post(url)
    assert response.status_code == 409 and "already succeeded" in response.json()["detail"]
    assert client.post(reverse("api-job-cancel", args=["00000000-0000-0000-0000-000000000000"])).status_code == 404
