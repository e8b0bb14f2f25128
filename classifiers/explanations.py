"""LIME explanations of the active version's predictions: made once per version and cutout by a
job on the default queue, then kept beside the cutout's files."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from annotations.models import Cutout
from core.errors import Conflict, InvalidInput, NotFound
from jobs.dispatch import job_start
from jobs.models import Job
from jobs.runner import job_fail

from . import ml, selectors
from .models import ClassifierTask, ModelVersion

EXPLAIN_JOB = "explain_cutout"


def _explanation_stem(version: ModelVersion, cutout_id: int) -> str:
    return f"classifiers/explanations/{version.task.name}-v{version.number}-{cutout_id}"


def _explanation_target(*, task: ClassifierTask, cutout_id: int) -> tuple[ModelVersion, Cutout]:
    version = selectors.active_version(task=task)
    if version is None:
        raise Conflict(f"{task.name} has no active version yet: train and promote one first")
    cutout = Cutout.objects.filter(pk=cutout_id).first()
    if cutout is None:
        raise NotFound(f"cutout {cutout_id} does not exist")
    return version, cutout


def _explanation_answer(version: ModelVersion, cutout: Cutout, result: dict) -> dict:
    return {
        **result,
        "cutout": cutout.pk,
        "task": version.task.name,
        "version": version.number,
        "image_url": cutout.image.url,
        "explanation_url": default_storage.url(f"{_explanation_stem(version, cutout.pk)}.png"),
    }


def _explanation_stored(version: ModelVersion, cutout: Cutout) -> dict | None:
    stem = _explanation_stem(version, cutout.pk)
    if not (default_storage.exists(f"{stem}.json") and default_storage.exists(f"{stem}.png")):
        return None
    with default_storage.open(f"{stem}.json") as handle:
        return _explanation_answer(version, cutout, json.load(handle))


def _explanation_job(version: ModelVersion, cutout: Cutout) -> Job | None:
    """The unfinished job making this explanation; one older than the timeout is failed (its
    message went with a dead worker) and not returned, so that a new request starts afresh."""
    jobs = Job.objects.filter(
        kind=EXPLAIN_JOB, finished_at__isnull=True, parameters__version_id=version.pk, parameters__cutout_id=cutout.pk
    ).order_by("-created_at")
    limit = timezone.now() - timezone.timedelta(seconds=settings.RGZ_CLASSIFIER_EXPLAIN_TIMEOUT_SECONDS)
    live = None
    for job in jobs:
        if job.created_at < limit:
            timeout = settings.RGZ_CLASSIFIER_EXPLAIN_TIMEOUT_SECONDS
            job_fail(job_id=job.pk, message=f"no worker finished this explanation within {timeout} s")
        elif live is None:
            live = job
    return live


def explanation_lookup(*, task: ClassifierTask, cutout_id: int) -> tuple[dict | None, Job | None]:
    """The active version's LIME explanation of a cutout when it is made (``(result, None)``),
    else the job making it (``(None, job)``); ``NotFound`` when neither."""
    version, cutout = _explanation_target(task=task, cutout_id=cutout_id)
    result = _explanation_stored(version, cutout)
    if result is not None:
        return result, None
    job = _explanation_job(version, cutout)
    if job is None:
        raise NotFound(
            f"no explanation of cutout {cutout.pk} by {task.name} v{version.number} yet: POST to ask for one"
        )
    return None, job


@transaction.atomic
def explanation_request(*, task: ClassifierTask, cutout_id: int, user=None) -> tuple[dict | None, Job | None]:
    """As ``explanation_lookup``, but when the explanation is neither made nor being made, check
    that the cutout can be read and start the job that makes it on a worker. The version row is
    locked, so two requests start one job."""
    version, cutout = _explanation_target(task=task, cutout_id=cutout_id)
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    result = _explanation_stored(version, cutout)
    if result is not None:
        return result, None
    job = _explanation_job(version, cutout)
    if job is not None:
        return None, job
    if not version.weights:
        raise Conflict(f"{task.name} v{version.number} has no weights file to explain with")
    if len(version.config.get("layers") or ["radio"]) > 1:
        raise InvalidInput(
            f"{task.name} v{version.number} reads several layers; explanations need the radio image alone"
        )
    arrays = ml.cutout_arrays([cutout], size=version.config["network"]["image_size"])
    if not arrays.ids:
        raise InvalidInput(f"cannot explain cutout {cutout.pk}: {arrays.errors[0]}")
    return None, job_start(kind=EXPLAIN_JOB, parameters={"version_id": version.pk, "cutout_id": cutout.pk}, user=user)


def explanation_make(*, version: ModelVersion, cutout: Cutout, progress=None) -> dict:
    """Compute and store (PNG and JSON beside the cutout's files) one version's explanation of a
    cutout, unless it is stored already."""
    stored = _explanation_stored(version, cutout)
    if stored is not None:
        return stored
    arrays = ml.cutout_arrays([cutout], size=version.config["network"]["image_size"])
    if not arrays.ids:
        raise InvalidInput(f"cannot explain cutout {cutout.pk}: {arrays.errors[0]}")
    clf = ml.load_classifier(version.weights.path, version.config)
    result = ml.explain(
        clf,
        arrays.x[0],
        list(version.task.classes),
        num_samples=settings.RGZ_CLASSIFIER_LIME_SAMPLES,
        progress=progress,
    )
    png = result.pop("png")
    stem = _explanation_stem(version, cutout.pk)
    for name, content in ((f"{stem}.png", png), (f"{stem}.json", json.dumps(result).encode())):
        if default_storage.exists(name):
            default_storage.delete(name)
        default_storage.save(name, ContentFile(content))
    return _explanation_answer(version, cutout, result)
