"""Celery tasks of the classifiers app: thin, they take ids and call a service (trainings,
scorings, explanations and active-learning rounds run as jobs, through the kernel's one job task)."""

from celery import shared_task

from . import active_loop, services
from .models import ClassifierTask


@shared_task(acks_late=True, name="classifiers.auto_retrain_due")
def auto_retrain_due() -> list[int]:
    """Start a retraining of every task whose new-consensus-label threshold is reached, and every
    active-learning round that is due (for a periodic schedule such as Celery beat); returns the
    new version ids."""
    started = []
    for task in ClassifierTask.objects.filter(retrain_after_new_labels__gt=0):
        version = services.auto_retrain_if_due(task=task)
        if version is not None:
            started.append(version.pk)
    active_loop.active_rounds_due()
    return started


@shared_task(acks_late=True, name="classifiers.active_loop_check")
def active_loop_check(workflow_id: int, subject_id: int) -> str | None:
    """After a classification: start (or join) the survey's round when it is due; the job id."""
    job = active_loop.active_round_check(workflow_id=workflow_id, subject_id=subject_id)
    return str(job.pk) if job is not None else None
