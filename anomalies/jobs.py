"""A scan as a job: its row shows the progress, a lost worker's scan is resumed by the recovery,
and the job merges the tiles into the catalogues once all are done."""

from __future__ import annotations

from core.errors import NotFound
from jobs.reports import JobReport

from . import services
from .models import Scan, ScanTile

SCAN_JOB = "complexity_scan"


def scan_run(*, scan_id: str, progress) -> JobReport:
    """Score every tile not yet done, then finalise. The tile sub-tasks (other workers) take the
    tiles left from the first, this job from the last, so that they rarely score one twice and a
    single worker finishes the scan on its own."""
    scan = Scan.objects.filter(pk=scan_id).first()
    if scan is None:
        raise NotFound(f"scan {scan_id} does not exist")
    if scan.status == Scan.Status.SUCCEEDED:
        return JobReport(skipped=1, notes=[f"scan {scan.pk} is finished already"])
    pending = ScanTile.objects.filter(scan=scan, done=False).order_by("-index").values_list("index", flat=True)
    try:
        progress(*services.scan_progress(scan), "scoring tiles")
        for index in list(pending):
            services.scan_tile_run(scan_id=scan.pk, index=index)
            progress(*services.scan_progress(scan), f"tile {index}")
        services.scan_finalize(scan_id=scan.pk)
    except Exception as exc:
        services.scan_fail(scan_id=scan.pk, message=f"scan stopped: {exc}")
        raise
    scan.refresh_from_db()
    report = JobReport(created=scan.entries.count(), notes=list(scan.notes))
    report.extra = {"scan": str(scan.pk), "frames": scan.frames, "status": scan.status}
    return report


def scan_abandoned(*, scan_id: str, message: str) -> None:
    """A scan whose worker died in every attempt: it fails with the reason (done tiles are kept
    for ``complexity_scan --resume``)."""
    services.scan_fail(scan_id=scan_id, message=message)
