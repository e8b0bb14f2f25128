"""Starting background jobs: a job row, then a Celery task once the row is committed."""

from __future__ import annotations

from django.db import transaction

from .errors import NotFound
from .jobs import JOB_QUEUES, JOB_RUNNERS
from .models import Job
from .tasks import run_job


@transaction.atomic
def job_start(*, kind: str, parameters: dict, user=None) -> Job:
    if kind not in JOB_RUNNERS:
        raise NotFound(f"unknown job kind {kind!r}")
    job = Job.objects.create(kind=kind, parameters=parameters, created_by=user if user and user.pk else None)
    job_send(job)
    return job


def job_send(job: Job) -> None:
    """Queue a Celery task for the job once the current transaction commits (or at once)."""

    def send():
        queue = JOB_QUEUES.get(job.kind)
        result = run_job.apply_async(args=[str(job.pk)], queue=queue) if queue else run_job.delay(str(job.pk))
        Job.objects.filter(pk=job.pk).update(celery_task_id=result.id or "")

    transaction.on_commit(send)
