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

Abuse: a volunteer without the cookie gets a short first lease (it is extended when they come
back with the cookie), anonymous volunteers from one address hold at most
RGZ_QUEUE_MAX_LEASES_PER_ADDRESS live leases per workflow, and an expired lease stays on record
(``released``) so the answer to a subject served to someone is still accepted a while later,
while an answer to a subject never served is refused.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, Min, OuterRef
from django.utils import timezone

from core.errors import NotFound, TooManyRequests

from .acquisition import policy_active, policy_gold_rate
from .models import Classification, QueueLease, SubjectWorkflowStatus, Workflow
from .roles import Volunteer
from .synthetic import synthetic_allowed

CANDIDATES = 8
# Large cutout columns that serving a subject never reads (contours have their own endpoint).
HEAVY_CUTOUT_FIELDS = ("contours", "wcs_header", "ingest_notes", "model_scores")
SWEEP_EVERY_SECONDS = 5.0
_last_sweep = 0.0


# A volunteer told to wait asks again after at most this long (new subjects may arrive meanwhile).
RETRY_AFTER_MAX_SECONDS = 60


def _lease_expiry(seconds: int | None = None):
    return timezone.now() + timedelta(seconds=settings.RGZ_QUEUE_LEASE_SECONDS if seconds is None else seconds)


def queue_next_subject(*, workflow_id: int, volunteer: Volunteer, address: str = "") -> SubjectWorkflowStatus | None:
    """Lease the next subject for this volunteer; None when nothing is left for them.

    ``address`` is the client's address: anonymous volunteers from one address hold a bounded
    number of live leases (TooManyRequests past it).
    """
    global _last_sweep
    if time.monotonic() - _last_sweep > SWEEP_EVERY_SECONDS:
        _last_sweep = time.monotonic()
        leases_expire()
    return _lease_next(
        workflow_id=workflow_id, volunteer=volunteer, address=address if volunteer.user_id is None else ""
    )


@transaction.atomic
def _lease_next(*, workflow_id: int, volunteer: Volunteer, address: str) -> SubjectWorkflowStatus | None:
    workflow = Workflow.objects.filter(pk=workflow_id, active=True).first()
    if workflow is None:
        raise NotFound(f"no active workflow {workflow_id}", field="workflow")
    held = _lease_held(workflow, volunteer)
    if held is not None:
        held.workflow = workflow
        return held
    if address:
        _address_within_bound(workflow, address)
    limit = workflow.retirement_limit
    gold, explore = _serving_mix(workflow, volunteer)
    # Generated subjects only while this volunteer's synthetic share stays within the cap.
    real_only = not synthetic_allowed(workflow=workflow, volunteer=volunteer)
    candidates = _candidates(workflow, volunteer, limit, skip_locked=True, explore=explore, real_only=real_only)
    if not candidates and connection.features.has_select_for_update_skip_locked:
        # Every open subject may be locked by a request in flight (or a re-rank): wait for the
        # locks rather than tell the volunteer there is nothing left. One row only: a request
        # that waits while holding other rows could deadlock with another locking them in a
        # different order (a re-rank changes the order under them).
        candidates = _candidates(
            workflow, volunteer, limit, skip_locked=False, explore=explore, count=1, real_only=real_only
        )
    if not candidates:
        return None  # gold subjects alone are no reason to keep a volunteer classifying
    if gold:
        # A gold-standard subject has no retirement limit; when none is left for this volunteer
        # the slot goes to the real subject.
        candidates = _candidates(workflow, volunteer, None, skip_locked=True, gold=True) or candidates
    top = candidates[0].priority
    chosen = random.choice([s for s in candidates if s.priority == top])
    # Someone who came without the cookie may be a script that never comes back: a short lease.
    seconds = settings.RGZ_QUEUE_FIRST_LEASE_SECONDS if volunteer.new else None
    QueueLease.objects.create(
        status=chosen, volunteer_key=volunteer.key, expires_at=_lease_expiry(seconds), address=address
    )
    SubjectWorkflowStatus.objects.filter(pk=chosen.pk).update(leased_count=F("leased_count") + 1)
    chosen.workflow = workflow
    return chosen


def _address_within_bound(workflow: Workflow, address: str) -> None:
    live = QueueLease.objects.filter(
        status__workflow=workflow, address=address, released=False, expires_at__gt=timezone.now()
    )
    bound = settings.RGZ_QUEUE_MAX_LEASES_PER_ADDRESS
    if live.count() < bound:
        return
    earliest = live.aggregate(first=Min("expires_at"))["first"]
    raise TooManyRequests(
        f"Volunteers at your address already hold {bound} subjects of this workflow that are not yet "
        "classified; classify one of them, sign in, or try again later.",
        retry_after=_seconds_until(earliest),
    )


def _seconds_until(moment) -> int:
    seconds = math.ceil((moment - timezone.now()).total_seconds()) if moment else 0
    # Expired leases are given back by the next sweep, at most SWEEP_EVERY_SECONDS later.
    return int(min(max(seconds, SWEEP_EVERY_SECONDS), RETRY_AFTER_MAX_SECONDS))


def queue_retry_after(*, workflow_id: int, volunteer: Volunteer) -> int | None:
    """When nothing was served: seconds to wait if subjects are left for this volunteer but all
    their slots are leased to others; None when nothing is left for them at all."""
    workflow = Workflow.objects.filter(pk=workflow_id).first()
    limit = workflow.retirement_limit if workflow else None
    if limit is None:
        return None  # without a limit leases never hold a subject back
    already = Classification.objects.filter(workflow=workflow, subject=OuterRef("subject"), volunteer_key=volunteer.key)
    mine = QueueLease.objects.filter(status=OuterRef("pk"), volunteer_key=volunteer.key)
    waiting = SubjectWorkflowStatus.objects.filter(
        workflow=workflow, retired_at__isnull=True, gold=False, classification_count__lt=limit
    ).filter(~Exists(already), ~Exists(mine))
    if not synthetic_allowed(workflow=workflow, volunteer=volunteer):
        waiting = waiting.filter(subject__synthetic=False)
    if not waiting.exists():
        return None
    earliest = QueueLease.objects.filter(status__in=waiting, released=False).aggregate(first=Min("expires_at"))
    return _seconds_until(earliest["first"])


def _lease_held(workflow, volunteer) -> SubjectWorkflowStatus | None:
    """A subject already served to this volunteer and not yet answered (for example after a reload)."""
    lease = (
        QueueLease.objects.filter(
            status__workflow=workflow,
            volunteer_key=volunteer.key,
            released=False,
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
    # Coming back with the cookie makes a short first lease a full one.
    QueueLease.objects.filter(pk=lease.pk).update(expires_at=_lease_expiry())
    return lease.status


def _serving_mix(workflow: Workflow, volunteer: Volunteer) -> tuple[bool, bool]:
    """Whether this serve is a gold-standard subject, and whether it is drawn at random
    (exploration) instead of by priority, as the workflow's acquisition policy says."""
    policy = policy_active(workflow=workflow)
    if policy is None:
        return False, False
    gold = False
    if SubjectWorkflowStatus.objects.filter(workflow=workflow, gold=True).exists():
        answered = Classification.objects.filter(workflow=workflow, volunteer_key=volunteer.key).count()
        gold = random.random() < policy_gold_rate(policy, answered)
    explore = random.random() < float(policy.policy.get("exploration", 0.0))
    return gold, explore


def _candidates(
    workflow,
    volunteer,
    limit,
    *,
    skip_locked: bool,
    gold: bool = False,
    explore: bool = False,
    count: int = CANDIDATES,
    real_only: bool = False,
) -> list[SubjectWorkflowStatus]:
    already = Classification.objects.filter(workflow=workflow, subject=OuterRef("subject"), volunteer_key=volunteer.key)
    # Any lease of mine on a subject, live or expired and not yet swept, rules it out.
    mine = QueueLease.objects.filter(status=OuterRef("pk"), volunteer_key=volunteer.key)
    rows = (
        SubjectWorkflowStatus.objects.select_related("subject__survey")
        .defer(*(f"subject__{name}" for name in HEAVY_CUTOUT_FIELDS))
        .filter(workflow=workflow, retired_at__isnull=True, gold=gold)
    )
    if limit is not None:
        rows = rows.filter(classification_count__lt=limit - F("leased_count"))
    if real_only:
        rows = rows.filter(subject__synthetic=False)
    rows = rows.filter(~Exists(already), ~Exists(mine))
    ordering = ["-priority", "random_key"] if workflow.prioritized and not explore else ["random_key"]
    rows = rows.order_by(*ordering)
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=skip_locked, of=("self",))
    return list(rows[:count])


def lease_served(*, status: SubjectWorkflowStatus, volunteer_key: str) -> bool:
    """Whether the queue served this subject to this volunteer (live lease, or expired within the
    grace period)."""
    return QueueLease.objects.filter(status=status, volunteer_key=volunteer_key).exists()


def lease_release(*, status: SubjectWorkflowStatus, volunteer_key: str) -> int:
    """Drop a volunteer's lease once they classified; returns how many leases the caller must
    take off the status row's ``leased_count`` (call with the row locked)."""
    mine = QueueLease.objects.filter(status=status, volunteer_key=volunteer_key)
    holding, _ = mine.filter(released=False).delete()
    mine.delete()  # an expired lease's record: its slot was given back already
    return holding


@transaction.atomic
def leases_expire() -> int:
    """Give the slots of leases that ran out back; returns how many expired.

    The lease stays as a record that the subject was served (``released``) until
    RGZ_QUEUE_SERVED_GRACE_SECONDS pass. ``UPDATE ... RETURNING`` reports only the rows this call
    changed, so two concurrent sweeps never give the same slot back twice.
    """
    table = QueueLease._meta.db_table
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET released = %s WHERE expires_at <= %s AND released = %s RETURNING status_id",
            [True, now, False],
        )
        freed = Counter(row[0] for row in cursor.fetchall())
    for status_id in sorted(freed):
        SubjectWorkflowStatus.objects.filter(pk=status_id).update(leased_count=F("leased_count") - freed[status_id])
    grace = timedelta(seconds=settings.RGZ_QUEUE_SERVED_GRACE_SECONDS)
    QueueLease.objects.filter(released=True, expires_at__lte=now - grace).delete()
    return sum(freed.values())
