"""Reads: scans, their catalogue levels and progress, for pages and the API."""

from __future__ import annotations

from django.db.models import QuerySet

from core.errors import NotFound

from . import ml
from .models import AnomalyEntry, Scan

MAP_MARKS = 2000  # the most catalogue entries marked on a mosaic's map


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


def scan_map(*, scan: Scan, entries) -> dict | None:
    """The mosaic's map and where each catalogue entry falls on it (map pixels, north up), with a
    circle the size of the aperture; None for a scan finished before maps were drawn."""
    if not scan.mosaic_map:
        return None
    step, width, height = ml.map_geometry(scan.width, scan.height)
    radius = max(4.0, scan.aperture_px / 2 / step)
    levels = sorted(scan.top_percents, reverse=True)  # the widest level first: level 0
    marks = [
        {
            "rank": e.rank,
            "x": round(e.x / step, 1),
            "y": round((scan.height - 1 - e.y) / step, 1),  # FITS row 0 is at the bottom
            "top_percent": e.top_percent,
            "level": levels.index(e.top_percent) if e.top_percent in levels else 0,
            "ra_deg": e.ra_deg,
            "dec_deg": e.dec_deg,
        }
        for e in entries[:MAP_MARKS]
    ]
    return {"url": scan.mosaic_map.url, "width": width, "height": height, "radius": round(radius, 1), "marks": marks}
