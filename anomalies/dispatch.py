"""Sending a scan's unfinished tiles to the workers (also how a stopped scan resumes)."""

from django.db import transaction

from .models import Scan, ScanTile
from .tasks import scan_finalize_task, scan_tile_task


def scan_dispatch(scan: Scan) -> int:
    """Queue every tile not yet done (or the final merge when all are); returns tiles queued."""
    pending = list(ScanTile.objects.filter(scan=scan, done=False).values_list("index", flat=True))

    def send():
        if not pending:
            scan_finalize_task.delay(str(scan.pk))
        for index in pending:
            scan_tile_task.delay(str(scan.pk), index)

    transaction.on_commit(send)
    return len(pending)
