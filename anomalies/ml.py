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
    "histogram_figure",
    "histogram_png",
    "map_geometry",
    "mosaic_map_png",
    "mosaic_memory_map",
    "merge_overlapping",
    "open_scan",
    "percentile_ranks",
    "scan_tile",
    "thumbnail_png",
]

# The side of a thumbnail as stored: apertures are often 20-60 mosaic pixels, too few to read
# at gallery size, so they are enlarged (smoothly) to this many pixels.
THUMBNAIL_SIDE = 192
# The longer side of the whole-mosaic map (the mosaic is read every ``step`` pixels).
MAP_MAX_SIDE = 1024


def open_scan(path, aperture_arcsec: float, stride_arcsec: float, tile_frames: int = 32):
    """mlcore's open_scan with the platform's mosaic size limits (checked from the header)."""
    return _open_scan(path, aperture_arcsec, stride_arcsec, tile_frames, limits=mosaic_limits())


def mosaic_memory_map(path: str):
    """(memory-mapped plane, WCS) of a mosaic, the form astropy's Cutout2D needs."""
    data, wcs, _ = open_mosaic(path, limits=mosaic_limits())
    return data, wcs


def thumbnail_png(data: np.ndarray, x: float, y: float, aperture_px: int) -> bytes:
    """A PNG of the aperture around (x, y) with a margin, read from the memory-mapped mosaic,
    enlarged to ``THUMBNAIL_SIDE`` pixels so that it is legible in the gallery."""
    from PIL import Image

    half = int(aperture_px * 0.75)
    cx, cy = int(round(x)), int(round(y))
    y0, y1 = max(0, cy - half), min(data.shape[0], cy + half + 1)
    x0, x1 = max(0, cx - half), min(data.shape[1], cx + half + 1)
    window = np.asarray(data[y0:y1, x0:x1], dtype=np.float32)
    if not np.isfinite(window).any() or np.nanmax(window) == np.nanmin(window):
        window = np.zeros((max(2, y1 - y0), max(2, x1 - x0)), np.float32)
        window[0, 0] = 1.0
    png = render_png(window)
    image = Image.open(io.BytesIO(png))
    if max(image.size) < THUMBNAIL_SIDE:
        factor = THUMBNAIL_SIDE / max(image.size)
        size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
        image = image.resize(size, Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def map_geometry(width: int, height: int) -> tuple[int, int, int]:
    """(step, map width, map height) of the whole-mosaic map: every ``step``-th pixel."""
    step = max(1, -(-max(width, height) // MAP_MAX_SIDE))
    return step, -(-width // step), -(-height // step)


def mosaic_map_png(data: np.ndarray) -> bytes:
    """The whole (H, W) mosaic, every ``step``-th pixel, as a north-up PNG (read from the memory
    map without loading the mosaic)."""
    step, _, _ = map_geometry(data.shape[1], data.shape[0])
    sampled = np.asarray(data[::step, ::step], dtype=np.float32)  # (H / step, W / step)
    if not np.isfinite(sampled).any() or np.nanmax(sampled) == np.nanmin(sampled):
        sampled = np.zeros_like(sampled)
        sampled.flat[0] = 1.0
    return render_png(sampled)


def histogram_figure(scores: np.ndarray, thresholds: dict):
    """Distribution of the scan's scores with the catalogue thresholds marked; the thresholds are
    named in a legend (labels written beside lines overlapped when two thresholds were close)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.hist(scores, bins=80, color="#4fb3ff", log=True)
    styles = ("--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)))
    colours = ("#ff6060", "#ffb000", "#b060ff", "#30c080", "#ff60c0")
    for k, (top, threshold) in enumerate(sorted(thresholds.items(), reverse=True)):
        ax.axvline(
            threshold,
            color=colours[k % len(colours)],
            linestyle=styles[k % len(styles)],
            linewidth=1.4,
            label=f"top {top:g} %: \u2265 {threshold:.3f}",
        )
    if thresholds:
        ax.legend(loc="upper right", fontsize=8, framealpha=0.9, title="catalogue levels", title_fontsize=8)
    ax.set_xlabel("coarse-grained complexity (bits per pixel)")
    ax.set_ylabel("frames")
    fig.tight_layout()
    return fig


def histogram_png(scores: np.ndarray, thresholds: dict) -> bytes:
    import matplotlib.pyplot as plt

    fig = histogram_figure(scores, thresholds)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()
