"""Page access by role, the same rule as the API's permissions."""

import functools

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from core.roles import is_astronomer


def astronomer_required(view):
    """The rule of the astronomers' API for a page: anonymous visitors are sent to sign in,
    signed-in volunteers get a 403."""

    @functools.wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not is_astronomer(request.user):
            raise PermissionDenied("This page needs an astronomer account.")
        return view(request, *args, **kwargs)

    return wrapped
