"""Roles: volunteer (anyone, anonymous too), astronomer (a group), admin (staff)."""

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, Group

ASTRONOMER_GROUP = "astronomer"


def is_astronomer(user) -> bool:
    if not user or not user.is_authenticated:
        return False
    if user.is_staff or user.is_superuser:
        return True
    return user.groups.filter(name=ASTRONOMER_GROUP).exists()


def is_admin(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_staff or user.is_superuser))


def astronomer_group() -> Group:
    group, _ = Group.objects.get_or_create(name=ASTRONOMER_GROUP)
    return group


@dataclass(frozen=True)
class Volunteer:
    """Who is classifying: a signed-in user, or an anonymous browser session."""

    user_id: int | None
    session_key: str

    @property
    def key(self) -> str:
        return f"user:{self.user_id}" if self.user_id else f"session:{self.session_key}"


def volunteer_from_request(request) -> Volunteer:
    user = getattr(request, "user", AnonymousUser())
    if user.is_authenticated:
        return Volunteer(user_id=user.pk, session_key=request.session.session_key or "")
    if not request.session.session_key:
        request.session["volunteer"] = True  # a session is what identifies an anonymous volunteer
        request.session.save()
    return Volunteer(user_id=None, session_key=request.session.session_key)
