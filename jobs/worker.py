"""The one Celery task that runs every job, whatever its kind and queue."""

from celery import shared_task
from celery.exceptions import WorkerLostError
from celery.worker.request import Request
from celery.worker.state import task_ready

from .models import Job
from .registry import JOB_KINDS
from .runner import job_run


class JobRequest(Request):
    """A job of a kind registered with ``redeliver`` goes back to the broker when the pool process
    running it dies (another worker resumes it, a training from its checkpoint); a job of any
    other kind fails its task, which the recovery catches (``worker_signals.task_failure``)."""

    def on_failure(self, exc_info, send_failed_event=True, return_ok=False):
        exc = getattr(exc_info.exception, "exc", exc_info.exception)
        if isinstance(exc, WorkerLostError) and _redelivered(self.args):
            task_ready(self)
            self.reject(requeue=True)
            return None
        return super().on_failure(exc_info, send_failed_event=send_failed_event, return_ok=return_ok)


def _redelivered(args) -> bool:
    kind = Job.objects.filter(pk=args[0]).values_list("kind", flat=True).first() if args else None
    return kind in JOB_KINDS and JOB_KINDS[kind].redeliver


@shared_task(bind=True, acks_late=True, name="jobs.run_job", Request=JobRequest)
def run_job(self, job_id: str) -> dict:
    """Run a queued job, reporting progress as the task's state and on the job row."""

    def celery_state(done: int, total: int, message: str) -> None:
        if self.request.id and not self.request.called_directly:
            self.update_state(state="PROGRESS", meta={"done": done, "total": total, "message": message})

    return job_run(job_id=job_id, on_progress=celery_state)
