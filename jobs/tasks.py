"""Celery tasks of the kernel: the job runner and the periodic jobs sweep."""

from celery import shared_task

from .outbox import outbox_flush
from .recovery import jobs_sweep
from .worker import run_job

__all__ = ["run_job", "jobs_sweep_task"]


@shared_task(name="jobs.sweep")
def jobs_sweep_task() -> dict:
    """Periodic (Celery beat) and at each worker's start: lost jobs are started again or failed,
    and tasks kept while the broker was down are sent."""
    return {"recovered": jobs_sweep(), "sent": outbox_flush()}
