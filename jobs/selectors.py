"""Reads of the job rows."""

import uuid

from core.errors import NotFound
from core.roles import is_admin, is_astronomer

from .models import Job


def job_get(*, job_id) -> Job:
    try:
        job_id = uuid.UUID(str(job_id))
    except ValueError:
        raise NotFound(f"job {job_id} does not exist")
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"job {job_id} does not exist")
    return job


def job_list_recent(*, limit: int = 20, kinds: list[str] | None = None) -> list[Job]:
    """The newest jobs (of the given kinds), newest first."""
    rows = Job.objects.order_by("-created_at")
    if kinds is not None:
        rows = rows.filter(kind__in=kinds)
    return list(rows[:limit])


def job_may_cancel(*, job: Job, user) -> bool:
    """Admins may cancel any job; an astronomer the jobs they started themselves."""
    if is_admin(user):
        return True
    return is_astronomer(user) and job.created_by_id is not None and job.created_by_id == user.pk
