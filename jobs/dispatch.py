"""Starting background jobs: a job row, then the job task once the row is committed."""

from __future__ import annotations

from django.db import transaction

from .models import Job
from .outbox import task_send
from .registry import job_kind, job_parameters_validate
from .worker import run_job


@transaction.atomic
def job_start(*, kind: str, parameters: dict, user=None, send: bool = True) -> Job:
    """Check the parameters against the kind's runner, store the job and queue it on commit
    (``send=False``: the caller runs it in its own process, as the commands' ``--inline``)."""
    job_kind(kind)
    parameters = job_parameters_validate(kind, parameters)
    job = Job.objects.create(kind=kind, parameters=parameters, created_by=user if user and user.pk else None)
    if send:
        job_send(job)
    return job


def job_send(job: Job) -> None:
    """Queue the job's task once the current transaction commits (or at once)."""

    def send():
        # While the broker is down the task waits in the outbox and the job stays queued.
        task_id = task_send(run_job, args=[str(job.pk)], queue=job_kind(job.kind).queue)
        Job.objects.filter(pk=job.pk).update(celery_task_id=task_id)

    transaction.on_commit(send)
