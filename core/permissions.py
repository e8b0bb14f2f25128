"""API permissions by role, the same as the pages enforce."""

from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission

from core.roles import is_admin, is_astronomer


class IsAstronomer(BasePermission):
    message = "This needs an astronomer account."

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            raise NotAuthenticated("This needs an astronomer account: sign in, or send an API token.")
        return is_astronomer(request.user)


class IsAdmin(BasePermission):
    message = "This needs an admin account."

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            raise NotAuthenticated("This needs an admin account: sign in, or send an API token.")
        return is_admin(request.user)
