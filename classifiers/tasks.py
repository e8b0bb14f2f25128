"""Celery tasks of the classifiers app: thin, they take ids and call the job runner or a service."""

from celery import shared_task

from annotations.jobs import job_run

from . import services
from .models import ClassifierTask

TRAINING_QUEUE = "training"


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, name="classifiers.train_version")
def train_version_task(self, job_id: str) -> dict:
    """Train one version (its job row holds the version id). Acknowledged late and requeued when
    the worker process dies, so another worker resumes the run from its last checkpoint."""

    def celery_state(done: int, total: int, message: str) -> None:
        if self.request.id and not self.request.called_directly:
            self.update_state(state="PROGRESS", meta={"done": done, "total": total, "message": message})

    return job_run(job_id=job_id, on_progress=celery_state)


@shared_task(acks_late=True, name="classifiers.auto_retrain_due")
def auto_retrain_due() -> list[int]:
    """Start a retraining of every task whose new-consensus-label threshold is reached (for a
    periodic schedule such as Celery beat); returns the new version ids."""
    started = []
    for task in ClassifierTask.objects.filter(retrain_after_new_labels__gt=0):
        version = services.auto_retrain_if_due(task=task)
        if version is not None:
            started.append(version.pk)
    return started
