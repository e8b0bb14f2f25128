"""Turning radio data into pictures: intervals and stretches from astropy.visualization."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from astropy.visualization import (
    AsinhStretch,
    AsymmetricPercentileInterval,
    LinearStretch,
    LogStretch,
    MinMaxInterval,
    PercentileInterval,
    SqrtStretch,
    ZScaleInterval,
)
from PIL import Image

STRETCHES = ("linear", "sqrt", "log", "asinh")
INTERVALS = ("peak", "percentile", "zscale", "minmax")


@dataclass(frozen=True)
class RenderConfig:
    """How a cutout is drawn: an interval picks the data range, a stretch maps it to grey.

    The default, "peak", runs from a low percentile of the pixels to the brightest one, so a
    compact source is not clipped flat; the asinh stretch then lifts the faint emission. It is
    the same range the browser starts from (see :func:`pixels_u16`).
    """

    interval: str = "peak"
    lower_percentile: float = 0.5
    percentile: float = 99.5
    stretch: str = "asinh"
    asinh_a: float = 0.1
    log_a: float = 1000.0

    def __post_init__(self):
        if self.interval not in INTERVALS:
            raise ValueError(f"interval must be one of {INTERVALS}, not {self.interval!r}")
        if self.stretch not in STRETCHES:
            raise ValueError(f"stretch must be one of {STRETCHES}, not {self.stretch!r}")
        if not 0 < self.percentile <= 100:
            raise ValueError("percentile must lie in (0, 100]")


def display_orientation(data: np.ndarray) -> np.ndarray:
    """(H, W) FITS orientation (row 0 at the bottom) -> raster orientation (row 0 at the top)."""
    return np.flipud(data)


def _interval(config: RenderConfig):
    if config.interval == "zscale":
        return ZScaleInterval()
    if config.interval == "minmax":
        return MinMaxInterval()
    if config.interval == "peak":
        return AsymmetricPercentileInterval(config.lower_percentile, 100.0)
    return PercentileInterval(config.percentile)


def _stretch(config: RenderConfig):
    return {
        "linear": LinearStretch(),
        "sqrt": SqrtStretch(),
        "log": LogStretch(a=config.log_a),
        "asinh": AsinhStretch(a=config.asinh_a),
    }[config.stretch]


def scaled(data: np.ndarray, config: RenderConfig = RenderConfig()) -> np.ndarray:
    """(H, W) data -> (H, W) float32 in [0, 1] after interval and stretch; NaN becomes 0."""
    finite = np.isfinite(data)
    vmin, vmax = _interval(config).get_limits(data[finite])
    if not vmax > vmin:
        vmin, vmax = float(np.min(data[finite])), float(np.max(data[finite]))
    span = (vmax - vmin) or 1.0
    unit = np.clip((np.where(finite, data, vmin) - vmin) / span, 0.0, 1.0)
    return np.asarray(_stretch(config)(unit, clip=True), dtype=np.float32)


def render_png(data: np.ndarray, config: RenderConfig = RenderConfig()) -> bytes:
    """(H, W) data in FITS orientation -> 8-bit grey PNG bytes, north up."""
    grey = np.round(display_orientation(scaled(data, config)) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(grey, mode="L").save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def pixels_u16(data: np.ndarray, lower_percentile: float = 0.5) -> bytes:
    """(H, W) data -> little-endian uint16 bytes in raster order, linear from a low percentile to the peak.

    Browsers stretch these 65,536 levels themselves (sqrt, log, asinh), so faint emission
    keeps its detail where an 8-bit PNG would flatten it.
    """
    finite = np.isfinite(data)
    values = data[finite]
    vmin = float(np.percentile(values, lower_percentile))
    vmax = float(values.max())
    span = (vmax - vmin) or 1.0
    unit = np.clip((np.where(finite, data, vmin) - vmin) / span, 0.0, 1.0)
    return np.round(display_orientation(unit) * 65535).astype("<u2").tobytes()
