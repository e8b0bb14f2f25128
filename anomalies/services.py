"""Scans: create, run tile by tile (resumable), finalise into anomaly catalogues, export, send to the queue."""

from __future__ import annotations

import csv
import io
import os
import uuid
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from annotations.ingestion import cutout_create, survey_get_or_create
from annotations.ml import prepare_cutout
from annotations.models import Workflow
from annotations.paths import export_path
from annotations.services import subject_set_get_or_create, workflow_link_subject_set
from core.errors import Conflict, DomainError, InvalidInput, NotFound, TooLarge

from . import ml
from .models import AnomalyEntry, Scan, ScanTile

DEFAULT_TOP_PERCENTS = (5.0, 1.0, 0.5)
MAX_THUMBNAILS = 1000


def _open(scan_or_path, aperture_arcsec, stride_arcsec, tile_frames):
    try:
        return ml.open_scan(scan_or_path, aperture_arcsec, stride_arcsec, tile_frames)
    except (ml.ImageReadError, ValueError) as exc:
        raise InvalidInput(str(exc)) from exc


@transaction.atomic
def scan_create(
    *,
    mosaic: str,
    aperture_arcsec: float,
    stride_arcsec: float,
    out: str = "",
    top_percents=DEFAULT_TOP_PERCENTS,
    tile_frames: int = 32,
) -> Scan:
    """Check the mosaic and settings (reading no pixels) and plan the tiles; nothing is written on error.

    ``out`` is for the command line only (its operator chooses where to write); without it the
    catalogue goes under the export root at a name the server chooses.
    """
    path = Path(mosaic).resolve()
    _, _, grid, notes = _open(path, aperture_arcsec, stride_arcsec, tile_frames)
    tops = sorted({float(t) for t in top_percents}, reverse=True)
    try:
        list(ml.anomaly_levels(np.zeros(1), tuple(tops)))
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    if out and not Path(out).resolve().parent.is_dir():
        raise InvalidInput(f"--out {out}: its folder does not exist")
    scan_id = uuid.uuid4()
    out_path = Path(out).resolve() if out else export_path("scans", str(scan_id), f"anomalies-{scan_id}.csv")
    scan = Scan.objects.create(
        id=scan_id,
        mosaic_path=str(path),
        out_path=str(out_path),
        aperture_arcsec=aperture_arcsec,
        stride_arcsec=stride_arcsec,
        aperture_px=grid.aperture_px,
        stride_px=grid.stride_px,
        height=grid.height,
        width=grid.width,
        tile_frames=tile_frames,
        tile_count=grid.tile_count,
        top_percents=tops,
        notes=notes,
    )
    ScanTile.objects.bulk_create([ScanTile(scan=scan, index=i) for i in range(grid.tile_count)], batch_size=1000)
    return scan


MOSAIC_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fits.fz")


def scan_create_from_upload(*, upload, aperture_arcsec: float, stride_arcsec: float, **options) -> Scan:
    """Keep an uploaded FITS mosaic under ``RGZ_SCAN_UPLOAD_DIR`` at a name the server chooses and
    plan its scan; a file that is not a mosaic the scan can read is removed again (a 4xx)."""
    name = (upload.name or "").lower()
    suffix = next((s for s in sorted(MOSAIC_SUFFIXES, key=len, reverse=True) if name.endswith(s)), None)
    if suffix is None:
        raise InvalidInput(
            f"mosaic_file: {upload.name} is not a FITS file ({', '.join(MOSAIC_SUFFIXES)})", field="mosaic_file"
        )
    limit = settings.RGZ_MAX_MOSAIC_UPLOAD_BYTES
    if upload.size > limit:
        raise TooLarge(f"mosaic_file: {upload.size} bytes is over the {limit}-byte limit", field="mosaic_file")
    folder = Path(settings.RGZ_SCAN_UPLOAD_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}{suffix}"
    partial = path.with_name(f".{path.name}.part")
    with open(partial, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    os.replace(partial, path)
    try:
        scan = scan_create(mosaic=str(path), aperture_arcsec=aperture_arcsec, stride_arcsec=stride_arcsec, **options)
    except DomainError as exc:
        path.unlink(missing_ok=True)
        if exc.field is None:
            exc.field = "mosaic_file"
        raise
    except Exception:
        path.unlink(missing_ok=True)
        raise
    scan.mosaic_name = os.path.basename(upload.name)[:255]
    Scan.objects.filter(pk=scan.pk).update(mosaic_name=scan.mosaic_name)
    return scan


def scan_grid(scan: Scan):
    return _open(scan.mosaic_path, scan.aperture_arcsec, scan.stride_arcsec, scan.tile_frames)


def _scan_folder(scan: Scan) -> Path:
    folder = Path(settings.MEDIA_ROOT) / "scans" / str(scan.pk)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def scan_tile_run(*, scan_id, index: int) -> bool:
    """Score one tile unless it is done; returns True when every tile of the scan is done."""
    scan = Scan.objects.get(pk=scan_id)
    tile = ScanTile.objects.get(scan=scan, index=index)
    if not tile.done:
        data, _, grid, _ = scan_grid(scan)
        rows = ml.scan_tile(data, grid, index, ml.ComplexityConfig())
        target = _scan_folder(scan) / f"tile-{index:06d}.npy"
        partial = target.with_suffix(f".{uuid.uuid4().hex[:6]}.part")
        with partial.open("wb") as handle:
            np.save(handle, rows)
        os.replace(partial, target)  # a worker that dies mid-tile leaves no half-written result
        ScanTile.objects.filter(pk=tile.pk).update(done=True, frames=len(rows), result_path=str(target))
    return not ScanTile.objects.filter(scan=scan, done=False).exists()


def scan_fail(*, scan_id, message: str) -> None:
    """A scan that stopped (its job failed or was abandoned); done tiles are kept for a resume."""
    Scan.objects.filter(pk=scan_id).exclude(status=Scan.Status.SUCCEEDED).update(
        status=Scan.Status.FAILED, message=message[:2000]
    )


def scan_progress(scan: Scan) -> tuple[int, int]:
    return ScanTile.objects.filter(scan=scan, done=True).count(), scan.tile_count


def scan_finalize(*, scan_id) -> bool:
    """Merge the tiles into the anomaly catalogues; runs once per scan (claimed atomically)."""
    claimed = Scan.objects.filter(pk=scan_id, status=Scan.Status.RUNNING, finished_at__isnull=True).update(
        finished_at=timezone.now()
    )
    if not claimed:
        return False
    scan = Scan.objects.get(pk=scan_id)
    try:
        _finalize(scan)
    except Exception as exc:
        Scan.objects.filter(pk=scan.pk).update(status=Scan.Status.FAILED, message=f"finalising failed: {exc}")
        raise
    return True


def _finalize(scan: Scan) -> None:
    tiles = list(ScanTile.objects.filter(scan=scan).order_by("index"))
    if any(not t.done for t in tiles):
        Scan.objects.filter(pk=scan.pk).update(finished_at=None)
        raise Conflict("the scan still has tiles to do")
    parts = [np.load(t.result_path) for t in tiles if t.frames]
    rows = np.concatenate(parts) if parts else np.empty((0, 4))
    data, wcs, _, _ = scan_grid(scan)
    thresholds = dict(ml.anomaly_levels(rows[:, 2], tuple(scan.top_percents))) if len(rows) else {}
    percentiles = ml.percentile_ranks(rows[:, 2]) if len(rows) else np.empty(0)
    entries = []
    if thresholds:
        widest = max(thresholds)
        candidates = np.flatnonzero(rows[:, 2] >= thresholds[widest])
        kept = candidates[ml.merge_overlapping(rows[candidates], scan.aperture_px)]
        ra, dec = wcs.pixel_to_world_values(rows[kept, 0], rows[kept, 1]) if kept.size else ([], [])
        for rank, (i, r, d) in enumerate(zip(kept, np.atleast_1d(ra), np.atleast_1d(dec), strict=True), start=1):
            score = rows[i, 2]
            top = min(t for t, threshold in thresholds.items() if score >= threshold)
            entry = AnomalyEntry(
                scan=scan,
                rank=rank,
                x=float(rows[i, 0]),
                y=float(rows[i, 1]),
                ra_deg=float(r) % 360,
                dec_deg=float(d),
                score=float(score),
                percentile=float(percentiles[i]),
                top_percent=top,
            )
            if rank <= MAX_THUMBNAILS:
                png = ml.thumbnail_png(data, entry.x, entry.y, scan.aperture_px)
                entry.thumbnail.save(f"{scan.pk}-{rank}.png", ContentFile(png), save=False)
            entries.append(entry)
    with transaction.atomic():
        AnomalyEntry.objects.filter(scan=scan).delete()
        AnomalyEntry.objects.bulk_create(entries, batch_size=500)
    histogram = ContentFile(ml.histogram_png(rows[:, 2], thresholds), name=f"{scan.pk}-histogram.png")
    scan.histogram.save(histogram.name, histogram, save=False)
    scan.mosaic_map.save(f"{scan.pk}-map.png", ContentFile(ml.mosaic_map_png(data)), save=False)
    # The catalogue files are written before the scan is marked succeeded, so that whoever sees
    # it succeeded finds them.
    if scan.out_path:
        _write_atomically(Path(scan.out_path), catalogue_csv(scan=scan).encode())
        _write_atomically(Path(scan.out_path).with_suffix(".vot"), catalogue_votable(scan=scan))
    Scan.objects.filter(pk=scan.pk).update(
        status=Scan.Status.SUCCEEDED,
        frames=len(rows),
        histogram=scan.histogram.name,
        mosaic_map=scan.mosaic_map.name,
        thresholds={str(k): v for k, v in thresholds.items()},
        message=f"{len(rows)} frames scored, {len(entries)} anomalies in the top {max(scan.top_percents)} %",
    )


def _write_atomically(path: Path, payload: bytes) -> None:
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:6]}.part")
    partial.write_bytes(payload)
    os.replace(partial, path)


CATALOGUE_COLUMNS = ("rank", "ra_deg", "dec_deg", "x", "y", "score", "percentile", "top_percent", "thumbnail")


def catalogue_entries(scan: Scan, top: float | None = None):
    """Entries of a scan's catalogue, best first; with ``top``, only those in that level."""
    rows = AnomalyEntry.objects.filter(scan=scan).order_by("rank")
    if top is not None:
        rows = rows.filter(top_percent__lte=top)
    return rows


def catalogue_csv(*, scan: Scan, top: float | None = None) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CATALOGUE_COLUMNS)
    for e in catalogue_entries(scan, top):
        writer.writerow(
            [
                e.rank,
                f"{e.ra_deg:.6f}",
                f"{e.dec_deg:.6f}",
                f"{e.x:.1f}",
                f"{e.y:.1f}",
                f"{e.score:.5f}",
                f"{e.percentile:.3f}",
                e.top_percent,
                e.thumbnail.name if e.thumbnail else "",
            ]
        )
    return buffer.getvalue()


def catalogue_votable(*, scan: Scan, top: float | None = None) -> bytes:
    from astropy.table import Table

    entries = list(catalogue_entries(scan, top))
    table = Table(
        rows=[(e.rank, e.ra_deg, e.dec_deg, e.x, e.y, e.score, e.percentile, e.top_percent) for e in entries] or None,
        names=CATALOGUE_COLUMNS[:-1],
        dtype=(int, float, float, float, float, float, float, float),
    )
    table["ra_deg"].unit, table["dec_deg"].unit = "deg", "deg"
    table.meta["description"] = f"Coarse-grained complexity anomalies of {Path(scan.mosaic_path).name}"
    buffer = io.BytesIO()
    table.write(buffer, format="votable")
    return buffer.getvalue()


@transaction.atomic
def entry_to_queue(*, entry_id: int, workflow_id: int):
    """Cut the entry's region out of the mosaic and add it to a workflow's queue as a new subject."""
    entry = AnomalyEntry.objects.select_for_update().select_related("scan").filter(pk=entry_id).first()
    if entry is None:
        raise NotFound(f"anomaly {entry_id} does not exist")
    if entry.cutout_id:
        raise Conflict(f"anomaly {entry_id} is already in the queue as cutout {entry.cutout_id}")
    workflow = Workflow.objects.filter(pk=workflow_id).first()
    if workflow is None:
        raise NotFound(f"workflow {workflow_id} does not exist", field="workflow")
    scan = entry.scan
    try:
        data, wcs = ml.mosaic_memory_map(scan.mosaic_path)
    except ml.ImageReadError as exc:
        raise InvalidInput(str(exc)) from exc
    source = ml.SourcePosition(f"{Path(scan.mosaic_path).stem} anomaly {entry.rank}", entry.ra_deg, entry.dec_deg)
    result = next(ml.cut_sources(data, wcs, [source], size_arcsec=scan.aperture_arcsec * 1.5))
    if result.image is None:
        raise InvalidInput(f"anomaly {entry_id}: {result.error}")
    survey = survey_get_or_create(name=f"{Path(scan.mosaic_path).stem} (complexity scan)")
    subject_set = subject_set_get_or_create(survey=survey, display_name="complexity anomalies")
    workflow_link_subject_set(workflow=workflow, subject_set=subject_set)
    cutout = cutout_create(
        survey=survey,
        name=source.name,
        prepared=prepare_cutout(result.image),
        ra_deg=entry.ra_deg,
        dec_deg=entry.dec_deg,
        subject_set=subject_set,
        metadata={"scan": str(scan.pk), "anomaly_rank": entry.rank, "complexity_top_percent": entry.top_percent},
    )
    entry.cutout = cutout
    entry.save(update_fields=["cutout"])
    return cutout
