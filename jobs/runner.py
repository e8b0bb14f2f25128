"""Running a job to its end: progress and heartbeat on its row, its outcome recorded there."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.utils import timezone

from core.errors import DomainError, JobCancelled, NotFound

from .models import Job
from .registry import JOB_KINDS, job_attempt_limit

logger = logging.getLogger(__name__)


class JobReporter:
    """Progress callback for long work; writes the job row at most every ``every`` seconds."""

    def __init__(self, job: Job, every: float = 0.5, also: Callable[[int, int, str], None] | None = None):
        self.job = job
        self.every = every
        self.also = also
        self._last = 0.0
        self._done = 0
        self._started = False

    def __call__(self, done: int, total: int, message: str = "") -> None:
        now = time.monotonic()
        if not self._started:
            self._started = True
            Job.objects.filter(pk=self.job.pk).update(total=total)
        new_phase = done < self._done  # a later phase starts again from 0: always shown
        if done >= total or new_phase or now - self._last >= self.every:
            self._last, self._done = now, done
            # The progress write doubles as the cancellation check: no row updated, cancel asked.
            written = Job.objects.filter(pk=self.job.pk, cancel_requested_at__isnull=True).update(
                done=done, total=total, message=message[:500], heartbeat_at=timezone.now()
            )
            if not written:
                raise JobCancelled(f"cancelled at {done}/{total}")
            if self.also is not None:
                self.also(done, total, message)


def job_run(*, job_id, on_progress: Callable[[int, int, str], None] | None = None) -> dict:
    """Run a job to its end; a failure is recorded on the row (and nothing stored is undone)."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"job {job_id} does not exist")
    if job.finished:
        return job.result
    now = timezone.now()
    started = Job.objects.filter(pk=job.pk, finished_at__isnull=True).update(
        status=Job.Status.RUNNING, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1
    )
    if not started:  # finished by another delivery meanwhile
        return Job.objects.get(pk=job.pk).result
    attempt = Job.objects.values_list("attempts", flat=True).get(pk=job.pk)  # counts every delivery
    limit = job_attempt_limit(job.kind)
    if attempt > limit:
        return job_abandon(job, limit=limit)
    try:
        with JobHeartbeat(job.pk):
            report = JOB_KINDS[job.kind].runner(**job.parameters, progress=JobReporter(job, also=on_progress))
    except JobCancelled as exc:
        _finish(job, status=Job.Status.CANCELLED, message=exc.message, result={}, errors=[])
        return {}
    except DomainError as exc:
        _finish(job, status=Job.Status.FAILED, message=exc.message, result={}, errors=[exc.message])
        return {}
    except Exception as exc:
        logger.exception("job %s failed", job.pk)
        _finish(job, status=Job.Status.FAILED, message=f"unexpected error: {exc}", result={}, errors=[repr(exc)])
        raise
    result = report.as_dict()
    failed = report.failed > 0 and report.created == 0 and report.skipped == 0
    summary = f"{report.created} created, {report.skipped} already there, {report.failed} failed"
    _finish(
        job,
        status=Job.Status.FAILED if failed else Job.Status.SUCCEEDED,
        message=summary,
        result=result,
        errors=report.errors,
    )
    return result


def job_fail(*, job_id, message: str) -> None:
    """Fail a job that no worker will finish (its message was lost with a dead worker, say)."""
    job = Job.objects.filter(pk=job_id, finished_at__isnull=True).first()
    if job is not None:
        _finish(job, status=Job.Status.FAILED, message=message, result={}, errors=[message])


def job_abandon(job: Job, *, limit: int, reason: str = "") -> dict:
    """Fail a job whose worker died in each of its ``limit`` starts (a crash loop: out of memory,
    a killed or restarted worker), instead of starting it for ever."""
    message = (
        f"stopped after {limit} attempts: the worker running this job died during each one "
        "(out of memory, killed or restarted); see the worker's log"
    )
    if reason:
        message = f"{message}; last: {reason}"
    hook = JOB_KINDS[job.kind].on_abandoned if job.kind in JOB_KINDS else None
    if hook is not None:
        hook(**job.parameters, message=message)
    _finish(job, status=Job.Status.FAILED, message=message, result={}, errors=[message])
    return {}


def _finish(job: Job, *, status: str, message: str, result: dict, errors: list[str]) -> None:
    Job.objects.filter(pk=job.pk).update(
        status=status, message=message[:2000], result=result, errors=errors[:500], finished_at=timezone.now()
    )


class JobHeartbeat:
    """Beats on the job's row from a thread while a step runs without reporting progress (a long
    epoch, a slow download), so that the jobs sweep does not take a busy worker for a dead one.

    Inside an outer transaction (tests that run jobs in-process) the row is invisible to other
    connections, so there is nothing to beat and no thread starts.
    """

    def __init__(self, job_id):
        self.job_id = job_id
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> JobHeartbeat:
        if not connection.in_atomic_block:
            self._thread = threading.Thread(target=self._beat, name=f"job-heartbeat-{self.job_id}", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=30)

    def _beat(self) -> None:
        try:
            while not self._stop.wait(settings.RGZ_JOB_HEARTBEAT_SECONDS):
                try:
                    Job.objects.filter(pk=self.job_id, status=Job.Status.RUNNING).update(heartbeat_at=timezone.now())
                except Exception:  # a database hiccup: the next beat tries again
                    logger.warning("job %s: heartbeat not written", self.job_id, exc_info=True)
        finally:
            connection.close()  # this thread's own connection
