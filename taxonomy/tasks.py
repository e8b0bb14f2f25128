"""Thin Celery tasks: a new description is indexed and tagged; enough new ones start a derivation."""

from celery import shared_task

from . import dispatch


@shared_task(name="taxonomy.description_added")
def description_added_task(classification_id: int) -> None:
    dispatch.description_added(classification_id=classification_id)


@shared_task(name="taxonomy.refresh")
def refresh_task() -> dict:
    """Periodic (Celery beat): catches descriptions that arrive without a signal, such as imports."""
    return dispatch.refresh()
