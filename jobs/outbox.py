"""Queueing Celery tasks so that a broker outage loses none: a task that cannot be published
within a short, bounded retry is kept in the database (PendingTask) and sent by the jobs sweep
once the broker is back. The request that queued it does not wait for the broker."""

from __future__ import annotations

import logging
import uuid

from celery import current_app
from django.db import transaction
from kombu.exceptions import OperationalError

from .models import PendingTask

logger = logging.getLogger(__name__)

# A broker that refuses connections fails in well under a second; a request never waits long.
PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def task_send(task, *, args=(), kwargs=None, queue: str | None = None) -> str:
    """Queue ``task`` now, or keep it for later when the broker is unreachable; returns its id."""
    task_id = str(uuid.uuid4())
    try:
        _publish(task, list(args), kwargs or {}, queue, task_id)
    except OperationalError as exc:
        logger.warning("broker unreachable, %s kept in the outbox: %s", task.name, exc)
        PendingTask.objects.create(
            name=task.name,
            args=list(args),
            kwargs=kwargs or {},
            queue=queue or "",
            task_id=task_id,
            last_error=str(exc),
        )
    return task_id


def outbox_flush(*, limit: int = 1000) -> int:
    """Send the kept tasks, oldest first; stops at the first failure (the broker is still down)."""
    sent = 0
    for pk in PendingTask.objects.values_list("pk", flat=True)[:limit]:
        with transaction.atomic():
            row = PendingTask.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
            if row is None:  # sent by another sweep meanwhile
                continue
            task = current_app.tasks.get(row.name)
            if task is None:
                logger.error("outbox: unknown task %s dropped", row.name)
                row.delete()
                continue
            try:
                _publish(task, row.args, row.kwargs, row.queue or None, row.task_id)
            except OperationalError as exc:
                PendingTask.objects.filter(pk=pk).update(attempts=row.attempts + 1, last_error=str(exc))
                break
            row.delete()
            sent += 1
    if sent:
        logger.warning("outbox: %d task(s) sent after the broker came back", sent)
    return sent


def _publish(task, args: list, kwargs: dict, queue: str | None, task_id: str) -> None:
    options = {"task_id": task_id, "retry": True, "retry_policy": PUBLISH_RETRY}
    if queue:
        options["queue"] = queue
    task.apply_async(args=args, kwargs=kwargs, **options)
