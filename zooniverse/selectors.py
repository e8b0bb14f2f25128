"""Reads: sync links with their pushed-subject counts, and what the sync page shows."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from annotations.models import Workflow
from core.errors import NotFound
from jobs.models import Job
from jobs.selectors import job_list_recent

from .models import ZooniverseLink
from .sync import PULL_JOB, PUSH_JOB


def link_list() -> QuerySet[ZooniverseLink]:
    """Links with ``pushed_subjects``: the subjects uploaded to Zooniverse so far (one query)."""
    pushed = Count("subjects", filter=Q(subjects__uploaded=True))
    return ZooniverseLink.objects.select_related("workflow").annotate(pushed_subjects=pushed).order_by("id")


def link_get(*, link_id) -> ZooniverseLink:
    link = link_list().filter(pk=link_id).first()
    if link is None:
        raise NotFound(f"Zooniverse link {link_id} does not exist")
    return link


def link_rows(*, jobs_scanned: int = 200) -> list[dict]:
    """Each link with its pushed-subject count and its latest push or pull job (or None)."""
    latest: dict[int, Job] = {}
    for job in job_list_recent(kinds=[PUSH_JOB, PULL_JOB], limit=jobs_scanned):
        latest.setdefault(job.parameters.get("link_id"), job)
    return [{"link": link, "pushed": link.pushed_subjects, "job": latest.get(link.pk)} for link in link_list()]


def workflows_unlinked() -> QuerySet[Workflow]:
    """Workflows that no Zooniverse project is linked to yet."""
    return Workflow.objects.exclude(zooniverse_link__isnull=False).order_by("id")
