"""The astronomers' Zooniverse page: linked projects, push and pull with live progress."""

from django.conf import settings
from django.contrib.auth.decorators import login_required, user_passes_test
from django.shortcuts import render

from annotations.models import Workflow
from core.roles import is_astronomer
from jobs.models import Job

from . import sync
from .models import ZooniverseLink


@login_required
@user_passes_test(is_astronomer)
def sync_page(request):
    links = list(ZooniverseLink.objects.select_related("workflow").order_by("id"))
    jobs = Job.objects.filter(kind__in=[sync.PUSH_JOB, sync.PULL_JOB]).order_by("-created_at")[:200]
    latest: dict[int, Job] = {}
    for job in jobs:
        latest.setdefault(job.parameters.get("link_id"), job)
    rows = [
        {"link": link, "pushed": link.subjects.filter(uploaded=True).count(), "job": latest.get(link.pk)}
        for link in links
    ]
    context = {
        "rows": rows,
        "workflows": Workflow.objects.exclude(zooniverse_link__isnull=False).order_by("id"),
        "endpoint": settings.ZOONIVERSE_ENDPOINT,
        "signed_in_as": settings.ZOONIVERSE_USERNAME
        or ("client credentials" if settings.ZOONIVERSE_CLIENT_SECRET else ""),
    }
    return render(request, "zooniverse/sync.html", context)
