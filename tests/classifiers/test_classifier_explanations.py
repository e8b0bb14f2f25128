"""LIME explanations of the active classifier's predictions: asked for through the API, made by
a job on a worker once per version and cutout, with clear refusals and lost jobs given up."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from annotations.models import Cutout
from classifiers import explanations, promotion
from core.errors import InvalidInput
from jobs.models import Job
from jobs.runner import job_run
from tests.classifiers.test_classifiers import _small, labelled_task, train_version  # noqa: F401  (shared fixtures)
from tests.factories import astronomer

pytestmark = pytest.mark.django_db


def test_explanation_of_a_cutout(labelled_task, client, settings):  # noqa: F811
    task = labelled_task
    cutout = Cutout.objects.get(survey=task.survey, name="src-03")
    astro = APIClient()
    astro.force_authenticate(astronomer())
    url = reverse("api-cutout-explanation", args=[cutout.pk])
    response = astro.post(f"{url}?task=fr")
    assert response.status_code == 409 and "no active version" in response.json()["detail"]
    promotion.version_promote(version=train_version(task))
    response = astro.get(url, {"task": "fr"})  # reading starts nothing
    assert response.status_code == 404 and "POST" in response.json()["detail"]
    assert not Job.objects.filter(kind="explain_cutout").exists()
    response = astro.post(f"{url}?task=fr")  # asking starts the job that makes it on a worker
    assert response.status_code == 202, response.json()
    pending = response.json()
    job = Job.objects.get(pk=pending["job"])
    assert job.kind == "explain_cutout" and pending["job_url"].endswith(f"/jobs/{job.pk}/")
    assert response["Location"] == pending["job_url"] and pending["status"] == "queued"
    again = astro.post(f"{url}?task=fr")  # a second ask joins the job instead of starting another
    assert again.status_code == 202 and again.json()["job"] == pending["job"]
    assert astro.get(url, {"task": "fr"}).json()["job"] == pending["job"]
    assert astro.get(pending["job_url"]).status_code == 200
    assert APIClient().get(pending["job_url"]).status_code in (401, 403)  # jobs are not public
    assert Job.objects.filter(kind="explain_cutout").count() == 1
    job_run(job_id=job.pk)  # what the worker does
    job.refresh_from_db()
    assert job.status == "succeeded" and job.done == job.total == settings.RGZ_CLASSIFIER_LIME_SAMPLES
    response = astro.get(url, {"task": "fr"})
    assert response.status_code == 200, response.json()
    assert astro.post(f"{url}?task=fr").json() == response.json()  # made once, then kept
    body = response.json()
    assert body["label"] in {"FRI", "FRII"} and body["segments"] >= 2 and body["explanation_url"].endswith(".png")
    assert astro.post(reverse("api-cutout-explanation", args=[999999]) + "?task=fr").status_code == 404
    assert astro.post(f"{url}?task=no-such-task").status_code == 404
    assert APIClient().get(url).status_code in (401, 403)
    client.force_login(astronomer())
    page = client.get(reverse("classifier-explain", args=[cutout.pk]) + "?task=fr")
    assert page.status_code == 200 and b"LIME" in page.content
    lookup = client.get(reverse("classifier-explain-lookup"), {"cutout": cutout.pk, "task": "fr"})
    assert lookup.status_code == 302 and lookup["Location"].endswith(f"/classifiers/explain/{cutout.pk}/?task=fr")
    assert "Explain (LIME)" in client.get(reverse("classifiers")).content.decode()


def test_a_lost_explanation_job_is_given_up_and_a_new_request_starts_afresh(labelled_task, settings):  # noqa: F811
    promotion.version_promote(version=train_version(labelled_task))
    cutout = Cutout.objects.get(survey=labelled_task.survey, name="src-05")
    _, lost = explanations.explanation_request(task=labelled_task, cutout_id=cutout.pk)
    Job.objects.filter(pk=lost.pk).update(  # a worker took it and died: nobody will finish it
        status="running",
        created_at=timezone.now() - timedelta(seconds=settings.RGZ_CLASSIFIER_EXPLAIN_TIMEOUT_SECONDS + 1),
    )
    _, fresh = explanations.explanation_request(task=labelled_task, cutout_id=cutout.pk)
    assert fresh.pk != lost.pk and fresh.status == "queued"
    lost.refresh_from_db()
    assert lost.status == "failed" and "no worker finished" in lost.message


def test_an_unreadable_cutout_is_refused_before_any_job_starts(labelled_task):  # noqa: F811
    promotion.version_promote(version=train_version(labelled_task))
    cutout = Cutout.objects.get(survey=labelled_task.survey, name="src-06")
    with open(cutout.source_file.path, "wb") as handle:
        handle.write(b"SIMPLE  = garbage")
    with pytest.raises(InvalidInput, match=f"cannot explain cutout {cutout.pk}"):
        explanations.explanation_request(task=labelled_task, cutout_id=cutout.pk)
    assert not Job.objects.filter(kind="explain_cutout").exists()


def test_an_explanation_job_for_a_vanished_cutout_fails_with_the_reason(labelled_task):  # noqa: F811
    promotion.version_promote(version=train_version(labelled_task))
    cutout = Cutout.objects.get(survey=labelled_task.survey, name="src-04")
    result, job = explanations.explanation_request(task=labelled_task, cutout_id=cutout.pk)
    assert result is None and job.status == "queued"
    cutout_id = cutout.pk
    cutout.delete()
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and f"cutout {cutout_id} does not exist" in job.message
