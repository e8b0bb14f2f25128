"""Roles: volunteer (anyone, anonymous too), astronomer (a group), admin (staff)."""

from django.contrib.auth.models import Group

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
