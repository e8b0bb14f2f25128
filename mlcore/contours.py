"""Radio contours: levels at multiples of the noise, traced as polylines for an overlay."""

from __future__ import annotations

import contourpy
import numpy as np

from .render import display_orientation


def noise_sigma(data: np.ndarray, iterations: int = 5) -> float:
    """Robust rms of the background: scaled median absolute deviation, with sources clipped.

    Emission above median + 3 sigma is dropped and the estimate repeated, so bright extended
    sources do not inflate the noise.
    """
    values = data[np.isfinite(data)]
    sigma = 0.0
    for _ in range(iterations):
        median = np.median(values)
        sigma = float(1.4826 * np.median(np.abs(values - median)))
        kept = values[values <= median + 3 * sigma]
        if sigma == 0 or kept.size == values.size or kept.size < 16:
            break
        values = kept
    return sigma


def contour_levels(data: np.ndarray, *, first_sigma: float = 3.0, max_levels: int = 6) -> list[float]:
    """Levels at first_sigma x sigma above the median, doubling up to the peak.

    Where the background is flat (sigma 0, as in clipped 8-bit images) the levels are
    fractions of the peak instead.
    """
    values = data[np.isfinite(data)]
    sigma = noise_sigma(data)
    background = values[values <= np.median(values) + 3 * sigma] if sigma > 0 else values
    median, peak = float(np.median(background)), float(values.max())
    if sigma > 0 and median + first_sigma * sigma < peak:
        levels = []
        level = median + first_sigma * sigma
        while level < peak and len(levels) < max_levels:
            levels.append(level)
            level = median + (level - median) * 2
        return levels
    base = float(values.min())
    return [base + (peak - base) * f for f in (0.05, 0.1, 0.2, 0.4, 0.8)][:max_levels]


def contour_paths(data: np.ndarray, levels: list[float], *, max_points: int = 6000) -> list[dict]:
    """Polylines of each level in raster pixel coordinates (x right, y down), for drawing.

    Returns ``[{"level": float, "paths": [[[x, y], ...], ...]}, ...]`` with at most about
    ``max_points`` points over all levels (long lines are thinned).
    """
    raster = np.where(np.isfinite(data), data, np.nanmin(data))
    generator = contourpy.contour_generator(z=display_orientation(raster).astype(np.float64))
    traced = [(level, [line for line in generator.lines(level) if len(line) >= 3]) for level in levels]
    total = sum(len(line) for _, lines in traced for line in lines) or 1
    step = max(1, int(np.ceil(total / max_points)))
    out = []
    for level, lines in traced:
        paths = []
        for line in lines:
            thinned = line[::step]
            if len(thinned) >= 2:
                paths.append(np.round(thinned, 1).tolist())
        out.append({"level": float(level), "paths": paths})
    return out
