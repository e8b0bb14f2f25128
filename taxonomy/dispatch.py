"""What happens when descriptions arrive: index and auto-tag them; enough new ones start a derivation."""

from __future__ import annotations

import logging

from annotations.models import Classification
from jobs.dispatch import job_start
from jobs.models import Job

from . import inbox, services
from .models import Description

logger = logging.getLogger(__name__)


def description_added(*, classification_id: int) -> None:
    """A classification made on the platform: its tag picks and its description."""
    classifications_added(classification_ids=[classification_id])


def classifications_added(*, classification_ids: list[int]) -> None:
    """New classifications (one, or a drained batch): their tag picks and their descriptions."""
    classifications = list(Classification.objects.filter(pk__in=classification_ids).order_by("pk"))
    if not classifications:
        return
    services.picks_store(classifications=classifications)
    refresh(classification_ids=[c.pk for c in classifications])


def inbox_drain(*, batch: int = 500) -> int:
    """Index and tag one batch of what waits in the inbox; returns how many were read.

    The inbox is read before the database work, never after it, so a Redis outage that starts
    while the batch is stored cannot fail the task midway (the task queues the next drain when a
    batch was full).
    A batch that fails is read again one classification at a time, so one bad row costs only
    itself (logged; the periodic refresh still reads its description) and never blocks the rest.
    """
    inbox.drain_mark_clear()
    ids = inbox.inbox_take(batch)
    if not ids:
        return 0
    try:
        classifications_added(classification_ids=ids)
    except Exception:
        logger.exception("tagging a batch of %d failed; reading it one by one", len(ids))
        for classification_id in ids:
            try:
                classifications_added(classification_ids=[classification_id])
            except Exception:
                logger.exception("tagging classification %s failed", classification_id)
    return len(ids)


def refresh(*, classification_ids: list[int] | None = None) -> dict:
    """Index descriptions not read yet (of the classifications named, or any recent ones: imported
    ones too), tag them with the published taxonomy, and queue a derivation when
    RGZ_TAXONOMY_REDERIVE_AFTER new ones arrived since the last."""
    indexed = services.descriptions_index(classification_ids=classification_ids)
    tagged = 0
    version = services.current_version()
    if version is not None and indexed:
        index = services.version_index(version)
        for description in Description.objects.filter(tagged_version__isnull=True).order_by("pk"):
            tagged += services.description_autotag(description=description, version=version, index=index)
    busy = Job.objects.filter(kind="derive_taxonomy", status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).exists()
    started = None
    if not busy and services.rederive_due():
        started = str(job_start(kind="derive_taxonomy", parameters={}).pk)
    return {"indexed": indexed, "links": tagged, "derive_job": started}
