"""The labelling queue: which subject a volunteer sees next.

Rules: never a subject the volunteer already classified, never a retired one, highest priority
first with ties broken at random, random order when no priorities exist. Every subject served
takes a lease, and a subject is only served while its classifications plus live leases stay
under the retirement limit, so concurrent volunteers are spread over subjects instead of piling
onto one that is about to retire.

Concurrency: on PostgreSQL the candidate rows are taken with ``SELECT ... FOR UPDATE SKIP
LOCKED`` and the leases re-counted under the row lock; on SQLite the transaction takes the
database write lock at its start (``transaction_mode = IMMEDIATE``), which serialises the same
read-check-write steps.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from .errors import NotFound
from .models import Classification, QueueLease, SubjectWorkflowStatus, Workflow
from .roles import Volunteer

CANDIDATES = 8


def _lease_expiry():
    return timezone.now() + timedelta(seconds=settings.RGZ_QUEUE_LEASE_SECONDS)


@transaction.atomic
def queue_next_subject(*, workflow_id: int, volunteer: Volunteer) -> SubjectWorkflowStatus | None:
    """Lease the next subject for this volunteer; None when nothing is left for them."""
    workflow = Workflow.objects.filter(pk=workflow_id, active=True).first()
    if workflow is None:
        raise NotFound(f"no active workflow {workflow_id}", field="workflow")
    now = timezone.now()

    held = _lease_held(workflow, volunteer, now)
    if held is not None:
        return held

    limit = workflow.retirement_limit
    candidates = _candidates(workflow, volunteer, now, limit, skip_locked=True)
    if not candidates and connection.features.has_select_for_update_skip_locked:
        # Every open subject may be locked by a request in flight: wait for the locks
        # rather than tell the volunteer there is nothing left.
        candidates = _candidates(workflow, volunteer, now, limit, skip_locked=False)
    if limit is not None and connection.vendor == "postgresql":
        # Another request may have leased a candidate between our snapshot and our lock.
        candidates = [s for s in candidates if s.classification_count + _live_leases(s, now) < limit]
    if not candidates:
        return None
    top = candidates[0].priority
    chosen = random.choice([s for s in candidates if s.priority == top])
    # update_or_create: the volunteer may hold an expired lease on the same subject.
    QueueLease.objects.update_or_create(
        status=chosen, volunteer_key=volunteer.key, defaults={"expires_at": _lease_expiry()}
    )
    return chosen


def _lease_held(workflow, volunteer, now) -> SubjectWorkflowStatus | None:
    """A subject already served to this volunteer and not yet answered (for example after a reload)."""
    lease = (
        QueueLease.objects.filter(
            status__workflow=workflow, volunteer_key=volunteer.key, expires_at__gt=now, status__retired_at__isnull=True
        )
        .select_related("status")
        .order_by("expires_at")
        .first()
    )
    if lease is None:
        return None
    QueueLease.objects.filter(pk=lease.pk).update(expires_at=_lease_expiry())
    return lease.status


def _live_leases(status, now) -> int:
    return QueueLease.objects.filter(status=status, expires_at__gt=now).count()


def _candidates(workflow, volunteer, now, limit, *, skip_locked: bool) -> list[SubjectWorkflowStatus]:
    already = Classification.objects.filter(workflow=workflow, subject=OuterRef("subject"), volunteer_key=volunteer.key)
    rows = SubjectWorkflowStatus.objects.filter(workflow=workflow, retired_at__isnull=True).filter(~Exists(already))
    if limit is not None:
        leases = (
            QueueLease.objects.filter(status=OuterRef("pk"), expires_at__gt=now)
            .order_by()
            .values("status")
            .annotate(n=Count("pk"))
            .values("n")
        )
        rows = rows.annotate(leased=Coalesce(Subquery(leases, output_field=IntegerField()), Value(0))).filter(
            Q(classification_count__lt=limit - F("leased"))
        )
    ordering = ["-priority", "random_key"] if workflow.prioritized else ["random_key"]
    rows = rows.order_by(*ordering)
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=skip_locked, of=("self",))
    return list(rows[:CANDIDATES])


def leases_expire(*, older_than=None) -> int:
    """Drop leases that ran out; they no longer hold a slot, this only keeps the table small."""
    cutoff = older_than or timezone.now()
    deleted, _ = QueueLease.objects.filter(expires_at__lte=cutoff).delete()
    return deleted
