"""The labelling queue: which subject a volunteer sees next.

Rules: never a subject the volunteer already classified, never a retired one, highest priority
first with ties broken at random, random order when no priorities exist. Every subject served
takes a lease, counted on the subject's status row (``leased_count``), and a subject is served
only while its classifications plus live leases stay under the retirement limit, so concurrent
volunteers spread over subjects instead of piling onto one that is about to retire.

Concurrency: on PostgreSQL the candidates are read in index order and locked with
``SELECT ... FOR UPDATE SKIP LOCKED``; the limit check is on the locked row itself, so it is
re-evaluated against the latest committed counts. On SQLite the transaction takes the database
write lock when it begins (``transaction_mode = IMMEDIATE``), which serialises the same steps.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from .errors import NotFound
from .models import Classification, QueueLease, SubjectWorkflowStatus, Workflow
from .roles import Volunteer

CANDIDATES = 8
# Large cutout columns that serving a subject never reads (contours have their own endpoint).
HEAVY_CUTOUT_FIELDS = ("contours", "wcs_header", "ingest_notes", "model_scores")
SWEEP_EVERY_SECONDS = 5.0
_last_sweep = 0.0


def _lease_expiry():
    return timezone.now() + timedelta(seconds=settings.RGZ_QUEUE_LEASE_SECONDS)


def queue_next_subject(*, workflow_id: int, volunteer: Volunteer) -> SubjectWorkflowStatus | None:
    """Lease the next subject for this volunteer; None when nothing is left for them."""
    global _last_sweep
    if time.monotonic() - _last_sweep > SWEEP_EVERY_SECONDS:
        _last_sweep = time.monotonic()
        leases_expire()
    return _lease_next(workflow_id=workflow_id, volunteer=volunteer)


@transaction.atomic
def _lease_next(*, workflow_id: int, volunteer: Volunteer) -> SubjectWorkflowStatus | None:
    workflow = Workflow.objects.filter(pk=workflow_id, active=True).first()
    if workflow is None:
        raise NotFound(f"no active workflow {workflow_id}", field="workflow")
    held = _lease_held(workflow, volunteer)
    if held is not None:
        held.workflow = workflow
        return held
    limit = workflow.retirement_limit
    candidates = _candidates(workflow, volunteer, limit, skip_locked=True)
    if not candidates and connection.features.has_select_for_update_skip_locked:
        # Every open subject may be locked by a request in flight: wait for the locks
        # rather than tell the volunteer there is nothing left.
        candidates = _candidates(workflow, volunteer, limit, skip_locked=False)
    if not candidates:
        return None
    top = candidates[0].priority
    chosen = random.choice([s for s in candidates if s.priority == top])
    QueueLease.objects.create(status=chosen, volunteer_key=volunteer.key, expires_at=_lease_expiry())
    SubjectWorkflowStatus.objects.filter(pk=chosen.pk).update(leased_count=F("leased_count") + 1)
    chosen.workflow = workflow
    return chosen


def _lease_held(workflow, volunteer) -> SubjectWorkflowStatus | None:
    """A subject already served to this volunteer and not yet answered (for example after a reload)."""
    lease = (
        QueueLease.objects.filter(
            status__workflow=workflow,
            volunteer_key=volunteer.key,
            expires_at__gt=timezone.now(),
            status__retired_at__isnull=True,
        )
        .select_related("status__subject__survey")
        .defer(*(f"status__subject__{name}" for name in HEAVY_CUTOUT_FIELDS))
        .order_by("expires_at")
        .first()
    )
    if lease is None:
        return None
    QueueLease.objects.filter(pk=lease.pk).update(expires_at=_lease_expiry())
    return lease.status


def _candidates(workflow, volunteer, limit, *, skip_locked: bool) -> list[SubjectWorkflowStatus]:
    already = Classification.objects.filter(workflow=workflow, subject=OuterRef("subject"), volunteer_key=volunteer.key)
    # Any lease of mine on a subject, live or expired and not yet swept, rules it out.
    mine = QueueLease.objects.filter(status=OuterRef("pk"), volunteer_key=volunteer.key)
    rows = (
        SubjectWorkflowStatus.objects.select_related("subject__survey")
        .defer(*(f"subject__{name}" for name in HEAVY_CUTOUT_FIELDS))
        .filter(workflow=workflow, retired_at__isnull=True)
    )
    if limit is not None:
        rows = rows.filter(classification_count__lt=limit - F("leased_count"))
    rows = rows.filter(~Exists(already), ~Exists(mine))
    ordering = ["-priority", "random_key"] if workflow.prioritized else ["random_key"]
    rows = rows.order_by(*ordering)
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=skip_locked, of=("self",))
    return list(rows[:CANDIDATES])


def lease_release(*, status: SubjectWorkflowStatus, volunteer_key: str) -> int:
    """Drop a volunteer's lease once they classified; returns how many leases the caller must
    take off the status row's ``leased_count`` (call with the row locked)."""
    deleted, _ = QueueLease.objects.filter(status=status, volunteer_key=volunteer_key).delete()
    return deleted


@transaction.atomic
def leases_expire() -> int:
    """Delete leases that ran out and give their slots back; returns how many expired.

    ``DELETE ... RETURNING`` reports only the rows this call removed, so two concurrent
    sweeps never give the same slot back twice.
    """
    table = QueueLease._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE expires_at <= %s RETURNING status_id", [timezone.now()])
        freed = Counter(row[0] for row in cursor.fetchall())
    for status_id in sorted(freed):
        SubjectWorkflowStatus.objects.filter(pk=status_id).update(leased_count=F("leased_count") - freed[status_id])
    return sum(freed.values())
