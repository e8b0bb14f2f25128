"""Thin Celery tasks: a new description is indexed and tagged; enough new ones start a derivation."""

from celery import shared_task


@shared_task(name="taxonomy.description_added")
def description_added_task(classification_id: int) -> None:
    from . import dispatch

    dispatch.description_added(classification_id=classification_id)


@shared_task(name="taxonomy.refresh")
def refresh_task() -> dict:
    """Periodic (Celery beat): catches descriptions that arrive without a signal, such as imports."""
    from . import dispatch

    return dispatch.refresh()
