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
