"""Cutout files without a cutout row: what a worker killed between writing a cutout's files and
committing its row leaves behind. Files are written first (the row must never point at a file
that is missing), so the sweep deletes the ones no row took within RGZ_MEDIA_ORPHAN_AGE_SECONDS."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import Q

from .models import Cutout, CutoutLayer

logger = logging.getLogger(__name__)

CUTOUT_FOLDERS = ("cutouts/source", "cutouts/png", "cutouts/pixels")
LAYER_FOLDERS = ("layers/source", "layers/png", "layers/pixels")
# Each kind of row with its files, and the folders they are written to.
SWEPT = ((Cutout, CUTOUT_FOLDERS), (CutoutLayer, LAYER_FOLDERS))
BATCH = 500


def media_orphans_sweep(*, older_than_seconds: float | None = None) -> list[str]:
    """Delete cutout and layer files older than the age limit that no row references; returns their names."""
    age = settings.RGZ_MEDIA_ORPHAN_AGE_SECONDS if older_than_seconds is None else older_than_seconds
    cutoff = time.time() - age
    deleted = []
    for model, folders in SWEPT:
        candidates = [name for name in _files_under(folders) if _modified(name) <= cutoff]
        for start in range(0, len(candidates), BATCH):
            batch = candidates[start : start + BATCH]
            referenced = set()
            rows = model.objects.filter(Q(source_file__in=batch) | Q(image__in=batch) | Q(pixels__in=batch))
            for row in rows.values_list("source_file", "image", "pixels"):
                referenced.update(row)
            for name in batch:
                if name not in referenced:
                    default_storage.delete(name)
                    deleted.append(name)
    if deleted:
        logger.warning("deleted %d cutout file(s) without a cutout row", len(deleted))
    return deleted


def _files_under(folders) -> list[str]:
    names = []
    pending = [folder for folder in folders if default_storage.exists(folder)]
    while pending:
        folder = pending.pop()
        subfolders, files = default_storage.listdir(folder)
        names.extend(f"{folder}/{name}" for name in files)
        pending.extend(f"{folder}/{name}" for name in subfolders)
    return names


def _modified(name: str) -> float:
    try:
        return default_storage.get_modified_time(name).timestamp()
    except FileNotFoundError:  # deleted meanwhile
        return time.time()
