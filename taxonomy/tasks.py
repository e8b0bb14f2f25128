"""Thin Celery tasks: new descriptions are indexed and tagged (one, or the inbox drained); enough new
ones start a derivation."""

from celery import shared_task

from jobs.outbox import task_send

from . import dispatch

DRAIN_BATCH = 500


@shared_task(name="taxonomy.description_added")
def description_added_task(classification_id: int) -> None:
    dispatch.description_added(classification_id=classification_id)


@shared_task(name="taxonomy.inbox_drain")
def inbox_drain_task() -> int:
    read = dispatch.inbox_drain(batch=DRAIN_BATCH)
    if read == DRAIN_BATCH:  # more may wait: the next drain takes them
        task_send(inbox_drain_task)
    return read


@shared_task(name="taxonomy.refresh")
def refresh_task() -> dict:
    """Periodic (Celery beat): catches descriptions that arrive without a signal, such as imports,
    and what waits in the inbox if its drain was lost."""
    drained = 0
    while read := dispatch.inbox_drain(batch=DRAIN_BATCH):
        drained += read
    return {**dispatch.refresh(), "drained": drained}
