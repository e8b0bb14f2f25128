"""Blind complexity scan of a survey mosaic: a square aperture slid over the image in tiles.

The mosaic is memory-mapped and read one tile window at a time, so memory stays bounded by the
tile size whatever the mosaic's. Tiles are independent: workers can share one mosaic, and a
scan that stops can resume from the tiles it has not finished.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .complexity import ComplexityConfig, complexity
from .cutouts import MosaicLimits, open_mosaic
from .io import ImageReadError

ROW_FIELDS = ("x", "y", "score", "blank_fraction")  # x, y: aperture centre, 0-based pixels


@dataclass(frozen=True)
class ScanGrid:
    """Aperture positions over a mosaic, grouped into square tiles of ``tile_frames`` x ``tile_frames``."""

    height: int
    width: int
    aperture_px: int
    stride_px: int
    tile_frames: int = 32

    def __post_init__(self):
        if self.aperture_px < 2:
            raise ValueError(f"the aperture must be at least 2 pixels, not {self.aperture_px}")
        if self.stride_px < 1:
            raise ValueError(f"the stride must be at least 1 pixel, not {self.stride_px}")
        if self.aperture_px > min(self.height, self.width):
            raise ValueError(
                f"the aperture ({self.aperture_px} px) is larger than the mosaic ({self.width} x {self.height} px)"
            )
        if self.tile_frames < 1:
            raise ValueError("tile_frames must be at least 1")

    @property
    def frames_y(self) -> int:
        return (self.height - self.aperture_px) // self.stride_px + 1

    @property
    def frames_x(self) -> int:
        return (self.width - self.aperture_px) // self.stride_px + 1

    @property
    def tiles_y(self) -> int:
        return -(-self.frames_y // self.tile_frames)

    @property
    def tiles_x(self) -> int:
        return -(-self.frames_x // self.tile_frames)

    @property
    def tile_count(self) -> int:
        return self.tiles_y * self.tiles_x

    def tile_frames_range(self, index: int) -> tuple[int, int, int, int]:
        """Frame index ranges (fy0, fy1, fx0, fx1) of tile ``index`` (row-major)."""
        if not 0 <= index < self.tile_count:
            raise IndexError(f"tile {index} is outside 0..{self.tile_count - 1}")
        ty, tx = divmod(index, self.tiles_x)
        fy0, fx0 = ty * self.tile_frames, tx * self.tile_frames
        return fy0, min(fy0 + self.tile_frames, self.frames_y), fx0, min(fx0 + self.tile_frames, self.frames_x)


def scan_tile(
    data: np.ndarray, grid: ScanGrid, index: int, config: ComplexityConfig, max_blank_fraction: float = 0.5
) -> np.ndarray:
    """Score every aperture of one tile; returns (n, 4) float64 rows of ROW_FIELDS.

    Frames whose blank (NaN or exactly zero) fraction exceeds ``max_blank_fraction`` are
    skipped: survey edges and masked regions are not sources. Reads one window of ``data``
    (a memory map) one frame-row at a time.
    """
    fy0, fy1, fx0, fx1 = grid.tile_frames_range(index)
    a, s = grid.aperture_px, grid.stride_px
    config = ComplexityConfig(**{**config.__dict__, "aperture_px": None})
    rows = []
    for fy in range(fy0, fy1):
        y0 = fy * s
        x0, x1 = fx0 * s, (fx1 - 1) * s + a
        strip = np.asarray(data[y0 : y0 + a, x0:x1], dtype=np.float32)  # (a, strip width)
        frames = sliding_window_view(strip, (a, a), axis=(0, 1))[0, ::s]  # (n, a, a), a view
        blank = (~np.isfinite(frames) | (frames == 0)).mean(axis=(1, 2))
        keep = np.flatnonzero(blank <= max_blank_fraction)
        if keep.size == 0:
            continue
        scores = complexity(np.ascontiguousarray(frames[keep]), config)
        xs = (fx0 + keep) * s + (a - 1) / 2
        ys = np.full(keep.size, y0 + (a - 1) / 2)
        rows.append(np.column_stack([xs, ys, scores, blank[keep]]))
    return np.concatenate(rows) if rows else np.empty((0, len(ROW_FIELDS)))


def open_scan(
    path: str | Path,
    aperture_arcsec: float,
    stride_arcsec: float,
    tile_frames: int = 32,
    limits: MosaicLimits | None = None,
):
    """Open a mosaic for scanning: (plane read by sections, WCS, ScanGrid, notes). Raises ImageReadError
    or ValueError with a clear message for bad files and settings; reads no pixel data."""
    if aperture_arcsec is None or aperture_arcsec <= 0:
        raise ValueError(f"the aperture must be a positive size in arcseconds, not {aperture_arcsec}")
    if stride_arcsec is None or stride_arcsec <= 0:
        raise ValueError(f"the stride must be a positive size in arcseconds, not {stride_arcsec}")
    data, wcs, notes = open_mosaic(path, sections=True, limits=limits or MosaicLimits())
    from astropy.wcs.utils import proj_plane_pixel_scales

    scale = float(np.mean(proj_plane_pixel_scales(wcs)) * 3600.0)
    if not np.isfinite(scale) or scale <= 0:
        raise ImageReadError(f"{path}: the WCS gives no usable pixel scale")
    grid = ScanGrid(
        height=data.shape[0],
        width=data.shape[1],
        aperture_px=max(2, round(aperture_arcsec / scale)),
        stride_px=max(1, round(stride_arcsec / scale)),
        tile_frames=tile_frames,
    )
    return data, wcs, grid, notes


def scan_mosaic(
    path: str | Path,
    aperture_arcsec: float,
    stride_arcsec: float,
    config: ComplexityConfig | None = None,
    tile_frames: int = 32,
    on_tile: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, object, ScanGrid]:
    """Scan a whole mosaic in this process (tile by tile); returns (rows, WCS, grid)."""
    data, wcs, grid, _ = open_scan(path, aperture_arcsec, stride_arcsec, tile_frames)
    parts = []
    for index in range(grid.tile_count):
        parts.append(scan_tile(data, grid, index, config or ComplexityConfig()))
        if on_tile:
            on_tile(index + 1, grid.tile_count)
    return (np.concatenate(parts) if parts else np.empty((0, 4))), wcs, grid


def merge_overlapping(rows: np.ndarray, aperture_px: int) -> np.ndarray:
    """Keep the highest-scoring frame of each group of overlapping apertures (greedy, by score).

    rows: (n, >=3) with x, y, score; returns the indices kept, highest score first.
    """
    order = np.argsort(-rows[:, 2], kind="stable")
    kept: list[int] = []
    kept_xy = np.empty((0, 2))
    for i in order:
        xy = rows[i, :2]
        if kept_xy.size and np.any(np.all(np.abs(kept_xy - xy) < aperture_px, axis=1)):
            continue
        kept.append(int(i))
        kept_xy = np.vstack([kept_xy, xy])
    return np.array(kept, dtype=int)


def anomaly_levels(scores: np.ndarray, top_percents: tuple[float, ...]) -> Iterator[tuple[float, float]]:
    """(top percent, score threshold) for each level, e.g. the top 5 % are at or above the 95th percentile."""
    for top in sorted(top_percents, reverse=True):
        if not 0 < top < 100:
            raise ValueError(f"a catalogue level must be a percentage in (0, 100), not {top}")
        yield top, float(np.percentile(scores, 100 - top)) if scores.size else float("inf")
