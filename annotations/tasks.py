"""Celery tasks: thin wrappers that take ids and call the services."""

from celery import shared_task

from .jobs import job_run


@shared_task(bind=True, acks_late=True, name="annotations.run_job")
def run_job(self, job_id: str) -> dict:
    """Run a queued ingestion job, reporting progress as the task's state and on the job row."""

    def celery_state(done: int, total: int, message: str) -> None:
        if self.request.id and not self.request.called_directly:
            self.update_state(state="PROGRESS", meta={"done": done, "total": total, "message": message})

    return job_run(job_id=job_id, on_progress=celery_state)


@shared_task(name="annotations.jobs_sweep")
def jobs_sweep_task() -> dict:
    """Periodic (Celery beat) and at each worker's start: lost jobs are started again or failed,
    and tasks kept while the broker was down are sent."""
    from .job_recovery import jobs_sweep
    from .outbox import outbox_flush

    return {"recovered": jobs_sweep(), "sent": outbox_flush()}


@shared_task(name="annotations.media_sweep")
def media_sweep_task() -> int:
    """Periodic (Celery beat): cutout files that no cutout row took are deleted."""
    from .media_sweep import media_orphans_sweep

    return len(media_orphans_sweep())
