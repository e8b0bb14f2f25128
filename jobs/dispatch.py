"""Starting background jobs: a job row, then the job task once the row is committed."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, Forbidden

from .models import Job
from .outbox import task_send
from .registry import job_kind, job_parameters_validate
from .selectors import job_may_cancel
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


def job_cancel_by(*, job: Job, user) -> Job:
    """Cancel a job for a person: admins any job, astronomers only the jobs they started (a 403
    otherwise, before anything is looked at); a finished job is a 409."""
    if not job_may_cancel(job=job, user=user):
        raise Forbidden("only the astronomer who started this job, or an admin, may cancel it")
    return job_cancel(job=job)


@transaction.atomic
def job_cancel(*, job: Job) -> Job:
    """Ask a job to stop. A queued one is cancelled at once (its kind undoes what it must, as for an
    abandoned job); a running one stops at its next progress report, leaving what it had stored
    and nothing half-made (a training's version fails, the active version is untouched)."""
    row = Job.objects.select_for_update().get(pk=job.pk)
    if row.finished:
        raise Conflict(f"the job has already {row.status}")
    now = timezone.now()
    if row.status == Job.Status.QUEUED:
        Job.objects.filter(pk=row.pk).update(
            status=Job.Status.CANCELLED, cancel_requested_at=now, finished_at=now, message="cancelled before it started"
        )
        hook = job_kind(row.kind).on_abandoned
        if hook is not None:
            hook(**row.parameters, message="cancelled before it started")
    else:
        Job.objects.filter(pk=row.pk, cancel_requested_at__isnull=True).update(cancel_requested_at=now)
    row.refresh_from_db()
    return row
