"""Starting background jobs: a job row, then a Celery task once the row is committed."""

from __future__ import annotations

from django.db import transaction

from .errors import NotFound
from .jobs import JOB_QUEUES, JOB_RUNNERS, job_parameters_validate
from .models import Job
from .tasks import run_job


@transaction.atomic
def job_start(*, kind: str, parameters: dict, user=None) -> Job:
    if kind not in JOB_RUNNERS:
        raise NotFound(f"unknown job kind {kind!r}")
    parameters = job_parameters_validate(kind, parameters)
    job = Job.objects.create(kind=kind, parameters=parameters, created_by=user if user and user.pk else None)

    def send():
        queue = JOB_QUEUES.get(kind)
        result = run_job.apply_async(args=[str(job.pk)], queue=queue) if queue else run_job.delay(str(job.pk))
        Job.objects.filter(pk=job.pk).update(celery_task_id=result.id or "")

    transaction.on_commit(send)
    return job
