"""Jobs whose worker is gone: found by their stopped heartbeat (the jobs sweep) or by Celery's
report that a pool process died, then started again or failed with the reason."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .dispatch import job_send
from .models import Job
from .registry import job_attempt_limit
from .runner import job_abandon

logger = logging.getLogger(__name__)


def jobs_sweep() -> list[str]:
    """Recover every running job without a heartbeat for RGZ_JOB_HEARTBEAT_TIMEOUT_SECONDS."""
    timeout = settings.RGZ_JOB_HEARTBEAT_TIMEOUT_SECONDS
    cutoff = timezone.now() - timedelta(seconds=timeout)
    stale = Job.objects.filter(status=Job.Status.RUNNING, finished_at__isnull=True).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )
    recovered = []
    for job in stale:
        if job_recover(job, reason=f"its worker stopped answering (no heartbeat for {timeout:g} s)"):
            recovered.append(str(job.pk))
    return recovered


def job_recover(job: Job, *, reason: str) -> bool:
    """Start a lost job again (runners are idempotent: done work is skipped) while it has attempts
    left, else fail it with the reason. False when another sweep or a worker took it meanwhile."""
    limit = job_attempt_limit(job.kind)
    with transaction.atomic():
        # Only the row as it was read: a worker that just wrote a heartbeat or finished keeps it.
        unchanged = Job.objects.select_for_update().filter(
            pk=job.pk, status=job.status, heartbeat_at=job.heartbeat_at, finished_at__isnull=True
        )
        if not unchanged.exists():
            return False
        if job.attempts >= limit:
            logger.warning("job %s lost (%s); no attempts left", job.pk, reason)
            job_abandon(job, limit=limit, reason=reason)
            return True
        logger.warning("job %s lost (%s); starting it again", job.pk, reason)
        unchanged.update(
            status=Job.Status.QUEUED,
            heartbeat_at=None,
            message=f"started again after attempt {job.attempts} of {limit}: {reason}"[:2000],
        )
        job_send(job)
    return True


def job_task_lost(*, job_id: str, exception: BaseException) -> None:
    """Celery gave up a job's task without running it to its end (the pool process running it
    died: WorkerLostError; a hard time limit): the row must not stay "running"."""
    job = Job.objects.filter(pk=job_id, finished_at__isnull=True).first()
    if job is not None:
        job_recover(job, reason=f"its worker process died ({type(exception).__name__}: {exception})")
