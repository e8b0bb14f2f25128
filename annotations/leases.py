"""Queue leases: the record that a subject was served to a volunteer, and the slot it holds.

A lease holds one of its subject's remaining slots (``leased_count`` on the status row) until the
volunteer classifies or it expires; an expired lease gives its slot back but stays, ``released``,
as the record that the subject was served, so a late answer is still accepted for
RGZ_QUEUE_SERVED_GRACE_SECONDS.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from .models import QueueLease, SubjectWorkflowStatus


def lease_expiry(seconds: int | None = None):
    return timezone.now() + timedelta(seconds=settings.RGZ_QUEUE_LEASE_SECONDS if seconds is None else seconds)


def lease_served(*, status: SubjectWorkflowStatus, volunteer_key: str) -> bool:
    """Whether the queue served this subject to this volunteer (live lease, or expired within the
    grace period)."""
    return QueueLease.objects.filter(status=status, volunteer_key=volunteer_key).exists()


def lease_release(*, status: SubjectWorkflowStatus, volunteer_key: str) -> int:
    """Drop a volunteer's lease once they classified; returns how many leases the caller must
    take off the status row's ``leased_count`` (call with the row locked).

    One statement: ``DELETE ... RETURNING`` says whether the lease still held its slot (an expired
    one gave it back already)."""
    table = QueueLease._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE status_id = %s AND volunteer_key = %s RETURNING released",
            [status.pk, volunteer_key],
        )
        return sum(1 for (released,) in cursor.fetchall() if not released)


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
