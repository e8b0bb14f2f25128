"""A volunteer who signs up or signs in keeps what they classified anonymously in this browser.

On sign-in the classifications made under the browser's anonymous cookie id move to the account;
a subject the account already classified keeps the account's answer (one per volunteer) and the
anonymous copy stays where it was. Other apps that key rows by volunteer follow through the
``volunteer_history_claimed`` signal.
"""

from __future__ import annotations

import django.dispatch
from django.db import transaction
from django.utils import timezone

from .models import Classification, QueueLease, VolunteerProfile
from .roles import VOLUNTEER_COOKIE, VOLUNTEER_SALT

# sent with from_key, to_key and classification_ids once the rows have moved
volunteer_history_claimed = django.dispatch.Signal()


@transaction.atomic
def volunteer_history_claim(*, session_key: str, user) -> int:
    """Move the anonymous volunteer's classifications to ``user``; return how many moved."""
    if not session_key or user is None or not user.pk:
        return 0
    from_key, to_key = f"session:{session_key}", f"user:{user.pk}"
    already = Classification.objects.filter(volunteer_key=to_key, source="platform").values("workflow_id", "subject_id")
    taken = {(row["workflow_id"], row["subject_id"]) for row in already}
    movable = [
        pk
        for pk, workflow_id, subject_id in Classification.objects.filter(volunteer_key=from_key).values_list(
            "pk", "workflow_id", "subject_id"
        )
        if (workflow_id, subject_id) not in taken
    ]
    moved = Classification.objects.filter(pk__in=movable).update(volunteer_key=to_key, user=user, session_key="")
    # Subjects served to the anonymous id and not answered yet stay answerable by the account.
    for lease in QueueLease.objects.filter(volunteer_key=from_key):
        if not QueueLease.objects.filter(status_id=lease.status_id, volunteer_key=to_key).exists():
            QueueLease.objects.filter(pk=lease.pk).update(volunteer_key=to_key, address="")
    if moved:
        transaction.on_commit(
            lambda: volunteer_history_claimed.send(
                sender=Classification, from_key=from_key, to_key=to_key, classification_ids=movable
            )
        )
    return moved


def tutorial_seen_get(*, user) -> bool:
    return bool(user.is_authenticated and VolunteerProfile.objects.filter(user=user, tutorial_seen_at__isnull=False))


def tutorial_seen_set(*, user) -> VolunteerProfile:
    profile, _ = VolunteerProfile.objects.get_or_create(user=user)
    if profile.tutorial_seen_at is None:
        profile.tutorial_seen_at = timezone.now()
        profile.save(update_fields=["tutorial_seen_at"])
    return profile


def claim_on_sign_in(sender, request, user, **kwargs):
    """user_logged_in receiver: the browser's anonymous history joins the account."""
    if request is None:
        return
    anonymous_id = request.get_signed_cookie(VOLUNTEER_COOKIE, default=None, salt=VOLUNTEER_SALT)
    if anonymous_id:
        volunteer_history_claim(session_key=anonymous_id, user=user)
