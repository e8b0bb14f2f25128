"""Celery worker signals, connected in JobsConfig.ready(): a starting worker sweeps lost
jobs at once (not only at the next beat), and a job whose pool process died is not left running."""

import logging

from celery import signals
from django.db import close_old_connections

from .outbox import outbox_flush
from .recovery import job_task_lost, jobs_sweep
from .worker import run_job

logger = logging.getLogger(__name__)


def worker_ready(**kwargs) -> None:
    try:
        recovered = jobs_sweep()
        if recovered:
            logger.warning("recovered %d lost job(s) at worker start: %s", len(recovered), ", ".join(recovered))
        outbox_flush()
    except Exception:  # a sweep that fails must not stop the worker; beat sweeps again
        logger.exception("the jobs sweep at worker start failed")
    finally:
        close_old_connections()


def task_failure(sender=None, args=None, exception=None, **kwargs) -> None:
    """Runs in the worker's main process when Celery records a failure it did not see the task
    raise itself (WorkerLostError: the pool process running it died)."""
    if getattr(sender, "name", None) != run_job.name or not args:
        return
    try:
        job_task_lost(job_id=args[0], exception=exception)
    except Exception:
        logger.exception("could not recover job %s after its task failed", args[0])


def connect() -> None:
    signals.worker_ready.connect(worker_ready, dispatch_uid="jobs-sweep-at-start")
    signals.task_failure.connect(task_failure, dispatch_uid="jobs-task-failure")
