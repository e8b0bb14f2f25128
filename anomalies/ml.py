"""The bridge from the anomalies app to mlcore: mosaics and settings in, arrays and pictures out."""

from __future__ import annotations

import io

import numpy as np

from annotations.ml import mosaic_limits
from mlcore.complexity import ComplexityConfig, percentile_ranks
from mlcore.cutouts import SourcePosition, cut_sources, open_mosaic
from mlcore.io import ImageReadError
from mlcore.render import render_png
from mlcore.scan import ROW_FIELDS, ScanGrid, anomaly_levels, merge_overlapping, scan_tile
from mlcore.scan import open_scan as _open_scan

__all__ = [
    "ROW_FIELDS",
    "ComplexityConfig",
    "ImageReadError",
    "ScanGrid",
    "SourcePosition",
    "anomaly_levels",
    "cut_sources",
    "histogram_png",
    "mosaic_memory_map",
    "merge_overlapping",
    "open_scan",
    "percentile_ranks",
    "scan_tile",
    "thumbnail_png",
]


def open_scan(path, aperture_arcsec: float, stride_arcsec: float, tile_frames: int = 32):
    """mlcore's open_scan with the platform's mosaic size limits (checked from the header)."""
    return _open_scan(path, aperture_arcsec, stride_arcsec, tile_frames, limits=mosaic_limits())


def mosaic_memory_map(path: str):
    """(memory-mapped plane, WCS) of a mosaic, the form astropy's Cutout2D needs."""
    data, wcs, _ = open_mosaic(path, limits=mosaic_limits())
    return data, wcs


def thumbnail_png(data: np.ndarray, x: float, y: float, aperture_px: int) -> bytes:
    """A PNG of the aperture around (x, y) with a margin, read from the memory-mapped mosaic."""
    half = int(aperture_px * 0.75)
    cx, cy = int(round(x)), int(round(y))
    y0, y1 = max(0, cy - half), min(data.shape[0], cy + half + 1)
    x0, x1 = max(0, cx - half), min(data.shape[1], cx + half + 1)
    window = np.asarray(data[y0:y1, x0:x1], dtype=np.float32)
    if not np.isfinite(window).any() or np.nanmax(window) == np.nanmin(window):
        window = np.zeros((max(2, y1 - y0), max(2, x1 - x0)), np.float32)
        window[0, 0] = 1.0
    return render_png(window)


def histogram_png(scores: np.ndarray, thresholds: dict) -> bytes:
    """Distribution of the scan's scores with the catalogue thresholds marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.hist(scores, bins=80, color="#4fb3ff", log=True)
    for top, threshold in thresholds.items():
        ax.axvline(threshold, color="#ff6060", linestyle="--", linewidth=1.2)
        ax.text(threshold, ax.get_ylim()[1] * 0.5, f" top {top}%", color="#ff6060", fontsize=8, rotation=90)
    ax.set_xlabel("coarse-grained complexity (bits per pixel)")
    ax.set_ylabel("frames")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()
