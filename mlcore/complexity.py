"""Coarse-grained complexity: a compressed-length measure of how much structure an image holds.

Recipe (Segal et al. 2019, 2023): clip the noise and stretch, average g x g blocks at several
scales, quantise into a few levels, compress losslessly; the compressed length, in bits per
pixel of the frame, is the score. Pure numpy plus zlib; vectorised over a batch of frames
except for the compressor, which runs frame by frame; deterministic.
"""

from __future__ import annotations

import warnings
import zlib
from dataclasses import dataclass

import numpy as np

STRETCHES = ("asinh", "log", "linear")


@dataclass(frozen=True)
class ComplexityConfig:
    """Settings of the measure. Defaults were chosen on firstgalaxydata's training split
    (bench/complexity_eval.py) and checked on its test split; see bench/RESULTS.md."""

    noise_sigma: float = 3.0  # clip below median + noise_sigma x robust rms (MAD)
    noise_sample_step: int = 7  # noise statistics from every n-th pixel: the same estimate, n x less sorting
    stretch: str = "asinh"
    asinh_a: float = 0.1
    log_a: float = 1000.0
    scales: tuple[int, ...] = (1, 2, 4)  # block sizes g for coarse-graining
    levels: int = 16  # quantisation levels after the stretch
    compression_level: int = 6  # zlib level
    aperture_px: int | None = None  # central square scored; None = the whole frame

    def __post_init__(self):
        if self.stretch not in STRETCHES:
            raise ValueError(f"stretch must be one of {STRETCHES}, not {self.stretch!r}")
        if not self.scales or any(int(g) < 1 for g in self.scales):
            raise ValueError("scales must be block sizes of at least 1")
        if not 2 <= self.levels <= 256:
            raise ValueError("levels must lie in 2..256")
        if not 0 <= self.compression_level <= 9:
            raise ValueError("compression_level must lie in 0..9")
        if self.noise_sample_step < 1:
            raise ValueError("noise_sample_step must be at least 1")
        if self.aperture_px is not None and self.aperture_px < 2:
            raise ValueError("aperture_px must be at least 2 pixels (or None for the whole frame)")


def central_aperture(frames: np.ndarray, aperture_px: int | None) -> np.ndarray:
    """(B, H, W) -> (B, a, a) centred square, or the frames unchanged when it does not fit."""
    if aperture_px is None:
        return frames
    _, h, w = frames.shape
    a = min(aperture_px, h, w)
    y0, x0 = (h - a) // 2, (w - a) // 2
    return frames[:, y0 : y0 + a, x0 : x0 + a]


def normalise(frames: np.ndarray, config: ComplexityConfig) -> np.ndarray:
    """(B, H, W) raw data -> (B, H, W) float32 in [0, 1]: noise clipped, stretched.

    NaN pixels count as background. A frame with nothing above its noise floor becomes zeros.
    The noise floor (median + k x 1.4826 MAD) is estimated from a fixed subsample of pixels.
    """
    x = frames.astype(np.float32, copy=False)
    b = x.shape[0]
    flat = x.reshape(b, -1)
    sample = flat[:, :: config.noise_sample_step]
    all_finite = bool(np.isfinite(sample).all()) and bool(np.isfinite(flat).all())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN frames: handled below
        if all_finite:  # the common case, and much faster than the NaN-aware versions
            median = np.median(sample, axis=1, keepdims=True)
            sigma = 1.4826 * np.median(np.abs(sample - median), axis=1, keepdims=True)
            peak = flat.max(axis=1, keepdims=True)
        else:
            median = np.nanmedian(sample, axis=1, keepdims=True)
            sigma = 1.4826 * np.nanmedian(np.abs(sample - median), axis=1, keepdims=True)
            peak = np.nanmax(flat, axis=1, keepdims=True)
    floor = np.nan_to_num(median + np.float32(config.noise_sigma) * np.nan_to_num(sigma)).astype(np.float32)
    peak = np.nan_to_num(peak, nan=-np.inf)
    scale = np.where(peak > floor, 1.0 / np.where(peak > floor, peak - floor, 1.0), 0.0).astype(np.float32)
    values = flat if all_finite else np.where(np.isfinite(flat), flat, floor)
    unit = np.clip((values - floor) * scale, 0.0, 1.0)
    if config.stretch == "asinh":
        unit = np.arcsinh(unit * np.float32(1.0 / config.asinh_a)) * np.float32(1.0 / np.arcsinh(1.0 / config.asinh_a))
    elif config.stretch == "log":
        unit = np.log1p(unit * np.float32(config.log_a)) * np.float32(1.0 / np.log1p(config.log_a))
    return unit.reshape(x.shape).astype(np.float32, copy=False)


def coarse_grain(unit: np.ndarray, g: int) -> np.ndarray:
    """(B, H, W) -> (B, H // g, W // g) mean of g x g blocks (edges that do not fill a block dropped)."""
    if g == 1:
        return unit
    b, h, w = unit.shape
    h2, w2 = h // g * g, w // g * g
    # Sums of g*g strided slices: several times faster than a reshape-and-mean.
    total = np.zeros((b, h2 // g, w2 // g), dtype=np.float32)
    for dy in range(g):
        for dx in range(g):
            total += unit[:, dy:h2:g, dx:w2:g]
    return total * np.float32(1.0 / (g * g))


def quantise(unit: np.ndarray, levels: int) -> np.ndarray:
    """[0, 1] floats -> uint8 codes 0..levels-1."""
    codes = (unit * np.float32(levels)).astype(np.uint8)
    np.minimum(codes, levels - 1, out=codes)
    return codes


def complexity(frames: np.ndarray, config: ComplexityConfig = ComplexityConfig()) -> np.ndarray:
    """Coarse-grained complexity of each frame, in bits per pixel of the scored area.

    ``frames``: (B, H, W) or (H, W) array (any real dtype, NaN allowed). Returns (B,) float64
    (a 0-d array for a single frame), the sum over scales of the compressed length of the
    quantised, coarse-grained frame, times 8, divided by the number of pixels scored.
    """
    single = frames.ndim == 2
    batch = frames[None] if single else frames
    if batch.ndim != 3:
        raise ValueError(f"frames must be (H, W) or (B, H, W), not shape {frames.shape}")
    batch = central_aperture(batch, config.aperture_px)
    unit = normalise(batch, config)
    n_pixels = unit.shape[1] * unit.shape[2]
    total = np.zeros(unit.shape[0], dtype=np.float64)
    for g in config.scales:
        codes = quantise(coarse_grain(unit, int(g)), config.levels)
        total += [len(zlib.compress(frame.tobytes(), config.compression_level)) for frame in codes]
    scores = total * 8.0 / n_pixels
    return scores[0] if single else scores


def percentile_ranks(scores: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """Percentile (0..100] of each score within ``reference`` (default: the scores themselves),
    ties sharing the highest rank; a score below every reference one ranks 0."""
    scores = np.asarray(scores, dtype=np.float64)
    order = np.sort(scores if reference is None else np.asarray(reference, dtype=np.float64))
    if scores.size == 0 or order.size == 0:
        return np.zeros_like(scores)
    return 100.0 * np.searchsorted(order, scores, side="right") / order.size
