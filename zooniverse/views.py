"""The astronomers' Zooniverse page: linked projects, push and pull with live progress."""

from django.conf import settings
from django.contrib.auth.decorators import login_required, user_passes_test
from django.shortcuts import render

from core.roles import is_astronomer

from . import selectors


@login_required
@user_passes_test(is_astronomer)
def sync_page(request):
    context = {
        "rows": selectors.link_rows(),
        "workflows": selectors.workflows_unlinked(),
        "endpoint": settings.ZOONIVERSE_ENDPOINT,
        "signed_in_as": settings.ZOONIVERSE_USERNAME
        or ("client credentials" if settings.ZOONIVERSE_CLIENT_SECRET else ""),
    }
    return render(request, "zooniverse/sync.html", context)
