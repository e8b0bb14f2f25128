"""Celery tasks of the classifiers app: thin, they take ids and call a service (trainings,
scorings and explanations run as jobs, through the kernel's one job task)."""

from celery import shared_task

from . import services
from .models import ClassifierTask


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
