"""The labelling queue: which subjects a volunteer sees next.

Rules: never a subject the volunteer already classified, never a retired one, highest priority
first with ties broken at random, random order when no priorities exist. Every subject served
takes a lease, counted on the subject's status row (``leased_count``), and a subject is served
only while its classifications plus live leases stay under the retirement limit, so concurrent
volunteers spread over subjects instead of piling onto one that is about to retire.

Batches: a volunteer may ask for up to QUEUE_MAX_BATCH subjects at once (the classify page keeps
them as a local queue). The answer is the volunteer's live leases first, then new leases up to
``n``, so asking again (a reload, a prefetch) never takes more than ``n`` slots. Staleness: a
batch is in ranking order when it is leased; a re-rank while the volunteer works through it does
not reorder it, so at most ``n - 1`` subjects are served after a subject that a re-rank put
ahead of them, and never past their lease (RGZ_QUEUE_LEASE_SECONDS), after which the slot is
given back and the page drops the subject.

Concurrency: on PostgreSQL the candidates are read in index order and locked with
``SELECT ... FOR UPDATE SKIP LOCKED``; the limit check is on the locked rows themselves, so it is
re-evaluated against the latest committed counts, and a batch takes at most one slot of each
subject. On SQLite the transaction takes the database write lock when it begins
(``transaction_mode = IMMEDIATE``), which serialises the same steps.

Abuse: a volunteer without the cookie gets short first leases (made full when they come back
with the cookie), anonymous volunteers from one address hold at most
RGZ_QUEUE_MAX_LEASES_PER_ADDRESS live leases per workflow (a batch is cut to what is left), and
an expired lease stays on record (``released``) so the answer to a subject served to someone is
still accepted a while later, while an answer to a subject never served is refused.
"""

from __future__ import annotations

import math
import random
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Exists, F, Min, OuterRef
from django.utils import timezone

from core.cache import CACHE_DOWN
from core.errors import InvalidInput, NotFound, TooManyRequests

from .acquisition import policy_active, policy_gold_rate
from .leases import lease_expiry, lease_release, lease_served, leases_expire
from .models import Classification, QueueLease, SubjectWorkflowStatus, Workflow
from .queue_candidates import HEAVY_CUTOUT_FIELDS
from .queue_candidates import candidates as _candidates
from .roles import Volunteer
from .synthetic import synthetic_slots

__all__ = [
    "QUEUE_MAX_BATCH",
    "lease_release",
    "lease_served",
    "leases_expire",
    "queue_next_subject",
    "queue_next_subjects",
    "queue_retry_after",
]

CANDIDATES = 8
QUEUE_MAX_BATCH = 20
SWEEP_EVERY_SECONDS = 5.0
_last_sweep = 0.0
# How long a volunteer's answer count (for the gold-standard rate) is taken from the cache.
ANSWERED_CACHE_SECONDS = 60

# A volunteer told to wait asks again after at most this long (new subjects may arrive meanwhile).
RETRY_AFTER_MAX_SECONDS = 60


def queue_next_subjects(
    *, workflow_id: int, volunteer: Volunteer, address: str = "", n: int = 1
) -> list[SubjectWorkflowStatus]:
    """Lease up to ``n`` subjects for this volunteer, in serving order: the subjects they already
    hold first, then new ones; an empty list when nothing is left for them.

    ``address`` is the client's address: anonymous volunteers from one address hold a bounded
    number of live leases (the batch is cut to it; TooManyRequests when nothing is left of it).
    """
    if not isinstance(n, int) or not 1 <= n <= QUEUE_MAX_BATCH:
        raise InvalidInput(f"n must be between 1 and {QUEUE_MAX_BATCH}", field="n")
    global _last_sweep
    if time.monotonic() - _last_sweep > SWEEP_EVERY_SECONDS:
        _last_sweep = time.monotonic()
        leases_expire()
    return _lease_batch(
        workflow_id=workflow_id, volunteer=volunteer, address=address if volunteer.user_id is None else "", n=n
    )


def queue_next_subject(*, workflow_id: int, volunteer: Volunteer, address: str = "") -> SubjectWorkflowStatus | None:
    """Lease the next subject for this volunteer; None when nothing is left for them."""
    batch = queue_next_subjects(workflow_id=workflow_id, volunteer=volunteer, address=address, n=1)
    return batch[0] if batch else None


@transaction.atomic
def _lease_batch(*, workflow_id: int, volunteer: Volunteer, address: str, n: int) -> list[SubjectWorkflowStatus]:
    workflow = Workflow.objects.filter(pk=workflow_id, active=True).first()
    if workflow is None:
        raise NotFound(f"no active workflow {workflow_id}", field="workflow")
    held = _leases_held(workflow, volunteer, n)
    want = n - len(held)
    if want and address:
        want = _address_allowance(workflow, address, want, holding=bool(held))
    if not want:
        return _with_workflow(held, workflow)
    chosen = _choose(workflow, volunteer, want)
    if chosen:
        # Someone who came without the cookie may be a script that never comes back: short leases.
        expires = lease_expiry(settings.RGZ_QUEUE_FIRST_LEASE_SECONDS if volunteer.new else None)
        QueueLease.objects.bulk_create(
            [QueueLease(status=s, volunteer_key=volunteer.key, expires_at=expires, address=address) for s in chosen]
        )
        SubjectWorkflowStatus.objects.filter(pk__in=[s.pk for s in chosen]).update(leased_count=F("leased_count") + 1)
        for status in chosen:
            status.lease_expires_at = expires
    return _with_workflow(held + chosen, workflow)


def _with_workflow(statuses, workflow):
    for status in statuses:
        status.workflow = workflow
    return statuses


def _choose(workflow: Workflow, volunteer: Volunteer, want: int) -> list[SubjectWorkflowStatus]:
    """Up to ``want`` subjects to lease now (their rows locked), in serving order."""
    limit = workflow.retirement_limit
    gold_slots, explore_slots = _serving_mix(workflow, volunteer, want)
    gold_positions = sorted(random.sample(range(want), gold_slots))
    # Generated subjects only while this volunteer's synthetic share stays within the cap.
    synthetic = synthetic_slots(workflow=workflow, volunteer=volunteer, want=want)
    real_only = synthetic == 0
    ranked = _candidates(
        workflow, volunteer, limit, skip_locked=True, count=want - explore_slots + CANDIDATES, real_only=real_only
    )
    if not ranked and connection.features.has_select_for_update_skip_locked:
        # Every open subject may be locked by a request in flight (or a re-rank): wait for the
        # locks rather than tell the volunteer there is nothing left. One row only: a request
        # that waits while holding other rows could deadlock with another locking them in a
        # different order (a re-rank changes the order under them).
        ranked = _candidates(workflow, volunteer, limit, skip_locked=False, count=1, real_only=real_only)
        if ranked and want > 1:  # the request that held them is done: the rest of the batch
            ranked += _candidates(
                workflow,
                volunteer,
                limit,
                skip_locked=True,
                count=want - 1,
                exclude=[ranked[0].pk],
                real_only=real_only,
            )
    if not ranked:
        return []  # gold subjects alone are no reason to keep a volunteer classifying
    # Highest priority first, ties in random order (random_key alone would fix the tie order).
    ranked.sort(key=lambda s: (-s.priority, random.random()))
    real = _synthetic_capped(ranked, synthetic)[: want - explore_slots]
    if explore_slots:
        taken = [s.pk for s in real]
        explored = _candidates(
            workflow,
            volunteer,
            limit,
            skip_locked=True,
            explore=True,
            count=explore_slots,
            exclude=taken,
            real_only=real_only,
        )
        real = _synthetic_capped(real + explored, synthetic)
    if gold_slots:
        # A gold-standard subject has no retirement limit; when none is left for this volunteer
        # its slot goes to a real subject.
        # Each serve was drawn gold or not on its own, so a gold subject takes the place its
        # draw picked (a batch's first serve is gold at the policy's rate, as a single lease is).
        gold = _candidates(workflow, volunteer, None, skip_locked=True, gold=True, count=gold_slots)
        real = real[: want - len(gold)]
        for position, subject in zip(gold_positions, gold, strict=False):  # fewer gold left than drawn
            real.insert(min(position, len(real)), subject)
    return real[:want]


def _synthetic_capped(rows: list[SubjectWorkflowStatus], allowed: int) -> list[SubjectWorkflowStatus]:
    """``rows`` in order, with generated subjects after the first ``allowed`` of them left out."""
    kept, synthetic = [], 0
    for row in rows:
        if row.subject.synthetic:
            if synthetic >= allowed:
                continue
            synthetic += 1
        kept.append(row)
    return kept


def _address_allowance(workflow: Workflow, address: str, want: int, *, holding: bool) -> int:
    """How many new leases this address may take now (``want`` at most)."""
    live = QueueLease.objects.filter(
        status__workflow=workflow, address=address, released=False, expires_at__gt=timezone.now()
    )
    bound = settings.RGZ_QUEUE_MAX_LEASES_PER_ADDRESS
    left = bound - live.count()
    if left > 0 or holding:
        return max(0, min(want, left))
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
    if not synthetic_slots(workflow=workflow, volunteer=volunteer, want=1):
        waiting = waiting.filter(subject__synthetic=False)
    if not waiting.exists():
        return None
    earliest = QueueLease.objects.filter(status__in=waiting, released=False).aggregate(first=Min("expires_at"))
    return _seconds_until(earliest["first"])


def _leases_held(workflow, volunteer, n: int) -> list[SubjectWorkflowStatus]:
    """Subjects already served to this volunteer and not yet answered (a reload, a prefetch),
    oldest lease first; coming back with the cookie makes short first leases full ones."""
    leases = list(
        QueueLease.objects.filter(
            status__workflow=workflow,
            volunteer_key=volunteer.key,
            released=False,
            expires_at__gt=timezone.now(),
            status__retired_at__isnull=True,
        )
        .select_related("status__subject__survey")
        .prefetch_related("status__subject__layers")  # one query for the batch, not one a subject
        .defer(*(f"status__subject__{name}" for name in HEAVY_CUTOUT_FIELDS))
        .order_by("expires_at", "pk")[:n]
    )
    if leases:
        expires = lease_expiry()
        QueueLease.objects.filter(pk__in=[lease.pk for lease in leases]).update(expires_at=expires)
        for lease in leases:
            lease.status.lease_expires_at = expires
    return [lease.status for lease in leases]


def _serving_mix(workflow: Workflow, volunteer: Volunteer, slots: int) -> tuple[int, int]:
    """How many of ``slots`` serves are gold-standard subjects, and how many are drawn at random
    (exploration) instead of by priority, as the workflow's acquisition policy says."""
    policy = policy_active(workflow=workflow)
    if policy is None:
        return 0, 0
    gold = 0
    if SubjectWorkflowStatus.objects.filter(workflow=workflow, gold=True).exists():
        answered = _answered_count(workflow, volunteer)
        rate = policy_gold_rate(policy, answered)
        gold = sum(random.random() < rate for _ in range(slots))
    share = float(policy.policy.get("exploration", 0.0))
    explore = sum(random.random() < share for _ in range(slots - gold))
    return gold, explore


def _answered_count(workflow: Workflow, volunteer: Volunteer) -> int:
    """The volunteer's answers in this workflow, read from the cache for ANSWERED_CACHE_SECONDS
    (the gold rate falls slowly with it; a minute's lag changes nothing a volunteer could see)."""
    key = f"rgz:answered:{workflow.pk}:{volunteer.key}"
    try:
        answered = cache.get(key)
    except CACHE_DOWN:  # an unreachable cache: read the database
        answered = None
    if answered is None:
        answered = Classification.objects.filter(workflow=workflow, volunteer_key=volunteer.key).count()
        try:
            cache.set(key, answered, ANSWERED_CACHE_SECONDS)
        except CACHE_DOWN:
            pass
    return answered
