"""Image layers of a cutout: another band of the same field, brought onto the radio image's pixel grid.

A layer with a celestial WCS is reprojected onto the radio cutout's frame with ``reproject``;
a layer without one (a PNG or JPEG made for display) is accepted only when its pixel grid is
the radio image's, and is then assumed to be aligned with it.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS
from reproject import reproject_interp

from .io import SkyImage

# A layer covering less than this share of the radio frame is still kept, with a note.
PARTIAL_COVERAGE = 0.99


class LayerError(ValueError):
    """A layer that cannot be put on a cutout's frame; the message says why, for a person to read."""


@dataclass
class FramedLayer:
    """A layer on the radio frame: same shape as the radio image, FITS orientation, NaN where uncovered."""

    data: np.ndarray  # (H, W) float32
    reprojected: bool
    coverage: float  # share of the radio frame's pixels the layer covers, 0..1
    notes: list[str] = field(default_factory=list)


def source_key(file_stem: str) -> str:
    """The source name a file name carries: ``S1138_radio`` and ``S1138_heatmap_contours`` share ``S1138``."""
    return re.split(r"[_\s.]", file_stem.strip(), maxsplit=1)[0].lower()


def header_wcs(header_text: str) -> WCS:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return WCS(fits.Header.fromstring(header_text))


def wcs_problem(image: SkyImage) -> str:
    """Why a FITS layer has no usable celestial WCS ("" when it has one)."""
    if image.format != "fits" or image.wcs_header:
        return ""
    reasons = [note for note in image.notes if "WCS" in note]
    return reasons[0] if reasons else "no celestial WCS in the header"


def covered_positions(image: SkyImage, ra_deg: np.ndarray, dec_deg: np.ndarray) -> np.ndarray:
    """(N,) bool: which sky positions (degrees) fall on the layer's pixels."""
    if not image.wcs_header or len(ra_deg) == 0:
        return np.zeros(len(ra_deg), dtype=bool)
    wcs = header_wcs(image.wcs_header)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x, y = wcs.all_world2pix(np.asarray(ra_deg, float), np.asarray(dec_deg, float), 0)
    h, w = image.shape
    inside = (x >= -0.5) & (x <= w - 0.5) & (y >= -0.5) & (y <= h - 0.5)
    return np.asarray(inside & np.isfinite(x) & np.isfinite(y))


def onto_frame(layer: SkyImage, *, frame_wcs_header: str, frame_shape: tuple[int, int]) -> FramedLayer:
    """Put a layer on the radio frame: reproject it through both WCS, or accept a matching pixel grid.

    ``frame_shape`` is the radio image's (H, W); the result always has that shape.
    """
    problem = wcs_problem(layer)
    if problem:
        raise LayerError(f"its WCS cannot be read: {problem}")
    if layer.wcs_header:
        if not frame_wcs_header:
            if layer.shape == tuple(frame_shape):
                return _same_grid(layer, "the radio cutout has no WCS to reproject onto")
            raise LayerError("the radio cutout has no WCS, so a layer of another pixel grid cannot be placed on it")
        return _reprojected(layer, frame_wcs_header, frame_shape)
    if layer.shape != tuple(frame_shape):
        raise LayerError(
            f"{layer.format.upper()} layer without WCS is {layer.shape[1]}x{layer.shape[0]} pixels but the radio "
            f"image is {frame_shape[1]}x{frame_shape[0]}; without a WCS only the same pixel grid can be placed"
        )
    return _same_grid(layer, "no WCS: accepted because its pixel grid matches the radio image's")


def _same_grid(layer: SkyImage, why: str) -> FramedLayer:
    data = np.asarray(layer.data, dtype=np.float32)
    return FramedLayer(data=data, reprojected=False, coverage=1.0, notes=[f"{why} ({data.shape[1]}x{data.shape[0]})"])


def _reprojected(layer: SkyImage, frame_wcs_header: str, frame_shape: tuple[int, int]) -> FramedLayer:
    source_wcs = header_wcs(layer.wcs_header)
    target_wcs = header_wcs(frame_wcs_header)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data, footprint = reproject_interp(
                (np.asarray(layer.data, dtype=np.float64), source_wcs), target_wcs, shape_out=tuple(frame_shape)
            )
    except Exception as exc:  # reproject raises several types for incompatible frames
        raise LayerError(f"could not be reprojected onto the radio frame: {exc}") from exc
    covered = (footprint > 0) & np.isfinite(data)
    coverage = float(covered.mean())
    if coverage == 0 or not np.isfinite(data[covered]).any():
        raise LayerError("it does not overlap the radio cutout on the sky")
    values = data[covered]
    if float(values.max()) == float(values.min()):
        raise LayerError("it is blank where it overlaps the radio cutout")
    data = np.where(covered, data, np.nan).astype(np.float32)
    notes = [f"reprojected onto the radio frame ({frame_shape[1]}x{frame_shape[0]})"]
    if coverage < PARTIAL_COVERAGE:
        notes.append(f"covers {coverage:.0%} of the radio frame; the rest is blank")
    return FramedLayer(data=data, reprojected=True, coverage=coverage, notes=notes)
