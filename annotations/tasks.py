"""Celery tasks of the annotations app."""

from celery import shared_task

from .media_sweep import media_orphans_sweep


@shared_task(name="annotations.media_sweep")
def media_sweep_task() -> int:
    """Periodic (Celery beat): cutout files that no cutout row took are deleted."""
    return len(media_orphans_sweep())
