"""Running background jobs: a row per job that workers update and pages and the CLI read."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.utils import timezone

from .complexity import score_survey_complexity
from .errors import DomainError, NotFound
from .ingestion import ingest_demo, ingest_image_files, ingest_mosaic
from .models import Job

logger = logging.getLogger(__name__)

JOB_RUNNERS = {
    "ingest_images": ingest_image_files,
    "ingest_fits": ingest_mosaic,
    "ingest_demo": ingest_demo,
    "score_complexity": score_survey_complexity,
}
# Celery queue per job kind; kinds not listed go to the default queue.
JOB_QUEUES: dict[str, str] = {}


def register_job_runner(kind: str, runner: Callable[..., object], *, queue: str | None = None) -> None:
    """Let another app run its long work as a job (call from its AppConfig.ready()).

    A runner takes the job's parameters as keyword arguments plus ``progress(done, total, message)``
    and returns an object with ``as_dict()`` and ``created``/``skipped``/``failed``/``errors``
    (see ``reports.IngestReport``).
    """
    JOB_RUNNERS[kind] = runner
    if queue:
        JOB_QUEUES[kind] = queue


class JobReporter:
    """Progress callback for long work; writes the job row at most every ``every`` seconds."""

    def __init__(self, job: Job, every: float = 0.5, also: Callable[[int, int, str], None] | None = None):
        self.job = job
        self.every = every
        self.also = also
        self._last = 0.0
        self._started = False

    def __call__(self, done: int, total: int, message: str = "") -> None:
        now = time.monotonic()
        if not self._started:
            self._started = True
            Job.objects.filter(pk=self.job.pk).update(total=total)
        if done >= total or now - self._last >= self.every:
            self._last = now
            Job.objects.filter(pk=self.job.pk).update(done=done, total=total, message=message[:500])
            if self.also is not None:
                self.also(done, total, message)


def job_run(*, job_id, on_progress: Callable[[int, int, str], None] | None = None) -> dict:
    """Run a job to its end; a failure is recorded on the row (and nothing stored is undone)."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"job {job_id} does not exist")
    if job.finished:
        return job.result
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, started_at=timezone.now())
    try:
        report = JOB_RUNNERS[job.kind](**job.parameters, progress=JobReporter(job, also=on_progress))
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


def _finish(job: Job, *, status: str, message: str, result: dict, errors: list[str]) -> None:
    Job.objects.filter(pk=job.pk).update(
        status=status, message=message[:2000], result=result, errors=errors[:500], finished_at=timezone.now()
    )
