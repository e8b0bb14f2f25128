"""Starting pushes and pulls as jobs: by hand, and what Celery beat finds due."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from core.errors import Conflict
from jobs.dispatch import job_start
from jobs.models import Job

from ..models import ZooniverseLink, ZooniverseSubject
from .links import (
    PULL_JOB,
    PUSH_JOB,
    _stale_before,
)
from .push import _subjects_to_create, platform_priorities


def _links_with_live_jobs(kind: str) -> set[int]:
    """Links with a job of this kind queued or running, leaving out jobs too old to be alive."""
    jobs = Job.objects.filter(
        kind=kind, status__in=[Job.Status.QUEUED, Job.Status.RUNNING], created_at__gte=_stale_before()
    )
    return {job.parameters.get("link_id") for job in jobs}


def link_sync_start(*, link: ZooniverseLink, kind: str, user=None) -> Job:
    """Queue a push or a pull, unless one of the same kind is queued or running for the link."""
    if link.pk in _links_with_live_jobs(kind):
        raise Conflict(f"a {kind.removeprefix('zooniverse_')} of this link is already queued or running")
    return job_start(kind=kind, parameters={"link_id": link.pk}, user=user)


def links_due(*, now=None) -> list[ZooniverseLink]:
    """Links whose scheduled pull is due and that have no pull queued or running."""
    now = now or timezone.now()
    busy = _links_with_live_jobs(PULL_JOB)
    due = []
    for link in ZooniverseLink.objects.filter(pull_every_minutes__gt=0):
        last = link.last_pull_requested_at
        if link.pk not in busy and (last is None or now - last >= timedelta(minutes=link.pull_every_minutes)):
            due.append(link)
    return due


def links_with_new_ranking() -> list[ZooniverseLink]:
    """Pushed links where the platform's ranking moved or open subjects wait to be pushed."""
    changed = []
    for link in ZooniverseLink.objects.filter(last_push_at__isnull=False).select_related("workflow"):
        held = dict(ZooniverseSubject.objects.filter(link=link).values_list("zooniverse_id", "pushed_priority"))
        if any(held.get(zid) != value for zid, value in platform_priorities(link).items()) or _subjects_to_create(link):
            changed.append(link)
    return changed


def sync_schedule(*, now=None) -> list[Job]:
    """Start the pulls that are due and the pushes that a ranking change calls for (the beat task's work)."""
    now = now or timezone.now()
    busy_push = _links_with_live_jobs(PUSH_JOB)
    started = []
    for link in links_due(now=now):
        ZooniverseLink.objects.filter(pk=link.pk).update(last_pull_requested_at=now)
        started.append(job_start(kind=PULL_JOB, parameters={"link_id": link.pk}))
    for link in links_with_new_ranking():
        if link.pk not in busy_push:
            started.append(job_start(kind=PUSH_JOB, parameters={"link_id": link.pk}))
    return started
