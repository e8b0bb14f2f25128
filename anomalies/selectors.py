"""Reads: scans, their catalogue levels and progress, for pages and the API."""

from __future__ import annotations

from django.db.models import QuerySet

from core.errors import NotFound

from .models import AnomalyEntry, Scan


def scan_get(*, scan_id) -> Scan:
    scan = Scan.objects.filter(pk=scan_id).first()
    if scan is None:
        raise NotFound(f"scan {scan_id} does not exist")
    return scan


def scan_list(*, limit: int | None = None) -> QuerySet[Scan]:
    """Scans, newest first."""
    rows = Scan.objects.all()
    return rows if limit is None else rows[:limit]


def scan_level_counts(*, scan: Scan) -> dict[float, int]:
    """Catalogue level (top percent) -> entries in it."""
    entries = AnomalyEntry.objects.filter(scan=scan)
    return {top: entries.filter(top_percent__lte=top).count() for top in scan.top_percents}


def scan_tiles_done(*, scan: Scan) -> int:
    return scan.tiles.filter(done=True).count()
