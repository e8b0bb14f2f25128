"""Starting background jobs: a job row, then a Celery task once the row is committed."""

from __future__ import annotations

from django.db import transaction

from .errors import NotFound
from .jobs import JOB_QUEUES, JOB_RUNNERS, job_parameters_validate
from .models import Job
from .outbox import task_send
from .tasks import run_job


@transaction.atomic
def job_start(*, kind: str, parameters: dict, user=None) -> Job:
    if kind not in JOB_RUNNERS:
        raise NotFound(f"unknown job kind {kind!r}")
    parameters = job_parameters_validate(kind, parameters)
    job = Job.objects.create(kind=kind, parameters=parameters, created_by=user if user and user.pk else None)
    job_send(job)
    return job


def job_send(job: Job) -> None:
    """Queue a Celery task for the job once the current transaction commits (or at once)."""

    def send():
        # While the broker is down the task waits in the outbox and the job stays queued.
        task_id = task_send(run_job, args=[str(job.pk)], queue=JOB_QUEUES.get(job.kind))
        Job.objects.filter(pk=job.pk).update(celery_task_id=task_id)

    transaction.on_commit(send)
