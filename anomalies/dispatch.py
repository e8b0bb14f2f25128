"""Starting a scan (or resuming a stopped one) as a job, with its tiles as sub-tasks."""

from django.db import transaction

from jobs.dispatch import job_start
from jobs.models import Job
from jobs.outbox import task_send

from .jobs import SCAN_JOB
from .models import Scan, ScanTile
from .tasks import scan_tile_task


@transaction.atomic
def scan_start(scan: Scan, *, user=None, send: bool = True) -> Job:
    """Start the scan's job and queue every tile not yet done for any free worker to share
    (``send=False``: the caller runs the job in its own process)."""
    Scan.objects.filter(pk=scan.pk).exclude(status=Scan.Status.SUCCEEDED).update(
        status=Scan.Status.RUNNING, finished_at=None, message=""
    )
    job = job_start(kind=SCAN_JOB, parameters={"scan_id": str(scan.pk)}, user=user, send=send)
    Scan.objects.filter(pk=scan.pk).update(job=job)
    scan.job = job
    pending = list(ScanTile.objects.filter(scan=scan, done=False).values_list("index", flat=True))

    def send_tiles():
        for index in pending:
            task_send(scan_tile_task, args=[str(scan.pk), index])

    if send:
        transaction.on_commit(send_tiles)
    return job


def scan_dispatch(scan: Scan, *, user=None) -> int:
    """Start the scan's job; returns the number of tiles left to score."""
    scan_start(scan, user=user)
    return ScanTile.objects.filter(scan=scan, done=False).count()
