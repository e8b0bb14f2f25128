"""Shared by the job commands: start a job as a Celery task and follow it with a progress bar."""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError

from .dispatch import job_start
from .models import Job
from .runner import job_run

BAR_WIDTH = 30


class JobCommand(BaseCommand):
    job_kind = ""

    def add_arguments(self, parser):
        parser.add_argument("--inline", action="store_true", help="run in this process instead of on a Celery worker")
        parser.add_argument("--no-wait", action="store_true", help="queue the job and return at once")

    def job_parameters(self, options) -> dict:
        raise NotImplementedError

    def handle(self, *args, **options):
        try:
            parameters = self.job_parameters(options)
            job = job_start(kind=self.job_kind, parameters=parameters, send=not options["inline"])
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.run_or_follow(job, options)

    def run_or_follow(self, job: Job, options, *, queued: str = "") -> bool:
        """Run the job here (``--inline``), return at once (``--no-wait``: False) or follow it on
        a worker; then print its errors and outcome (a failed job is a CommandError)."""
        if options["inline"]:
            job_run(job_id=job.pk, on_progress=ProgressBar(self.stdout).update)
        elif options["no_wait"]:
            self.stdout.write(queued or f"queued job {job.pk}; follow it at /jobs/{job.pk}/")
            return False
        else:
            self.follow(job)
        self.report(Job.objects.get(pk=job.pk))
        return True

    def follow(self, job: Job) -> None:
        bar = ProgressBar(self.stdout)
        waited, hinted = time.monotonic(), False
        while True:
            job.refresh_from_db()
            if job.status != Job.Status.QUEUED:
                bar.update(job.done, job.total, job.message)
            elif not hinted and time.monotonic() - waited > 15:
                hinted = True
                self.stderr.write("still waiting for a Celery worker to take the job (start one, or use --inline)")
            if job.finished:
                return
            time.sleep(0.5)

    def report(self, job: Job) -> None:
        self.stdout.write("")
        for line in job.errors[:50]:
            self.stderr.write(f"error: {line}")
        if len(job.errors) > 50:
            self.stderr.write(f"... and {len(job.errors) - 50} more errors (see /jobs/{job.pk}/)")
        if job.status == Job.Status.FAILED:
            raise CommandError(job.message or "the job failed")
        self.stdout.write(self.style.SUCCESS(job.message))


class ProgressBar:
    """A one-line bar on a terminal; a line per tenth when the output is a file or a pipe."""

    def __init__(self, out):
        self.out = out
        self.tty = hasattr(out, "isatty") and out.isatty() or sys.stdout.isatty()
        self._last_tenth = -1

    def update(self, done: int, total: int, message: str = "") -> None:
        fraction = done / total if total else 0.0
        if self.tty:
            filled = int(fraction * BAR_WIDTH)
            line = f"\r[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {done}/{total} {fraction:4.0%} {message[:40]:<40}"
            self.out.write(line, ending="")
            self.out.flush()
            return
        tenth = int(fraction * 10)
        if tenth != self._last_tenth:
            self._last_tenth = tenth
            self.out.write(f"{done}/{total} ({fraction:.0%}) {message}")
