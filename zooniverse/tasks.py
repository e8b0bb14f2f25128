"""Celery tasks of the Zooniverse sync: thin, the work is in ``sync``."""

from celery import shared_task

from . import sync


@shared_task(name="zooniverse.sync_due")
def sync_due() -> list[str]:
    """Run by Celery beat: start the pulls that are due and the pushes a ranking change calls for."""
    return [str(job.pk) for job in sync.sync_schedule()]
