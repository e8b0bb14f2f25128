"""The bridge from the annotations app to mlcore: files and rows in, arrays and bytes out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.conf import settings

from mlcore.active.labels import confusion_from_counts, confusion_posterior
from mlcore.active.policy import AcquisitionPolicy, gold_rate
from mlcore.complexity import ComplexityConfig, complexity, percentile_ranks
from mlcore.contours import contour_levels, contour_paths
from mlcore.cutouts import MosaicLimits, SourcePosition, cut_sources, open_mosaic, to_fits_bytes
from mlcore.datasets import LabelledImage, iter_firstgalaxydata
from mlcore.io import ImageLimits, ImageReadError, SkyImage, read_image, sniff_format
from mlcore.layers import FramedLayer, LayerError, covered_positions, onto_frame, source_key, wcs_problem
from mlcore.marks import (
    SHAPE_PARAMS,
    PointClusterConfig,
    cluster_points,
    cluster_shapes,
    marks_to_sky,
    pixel_scale_arcsec,
)
from mlcore.render import pixels_u16, render_png
from mlcore.sky import sky_summary

__all__ = [
    "FramedLayer",
    "ImageReadError",
    "LayerError",
    "marks_to_sky",
    "PointClusterConfig",
    "cluster_points",
    "cluster_shapes",
    "SHAPE_PARAMS",
    "pixel_scale_arcsec",
    "covered_positions",
    "frame_layer",
    "render_layer",
    "source_key",
    "cutout_complexity",
    "wcs_problem",
    "ranks",
    "LabelledImage",
    "PreparedCutout",
    "SkyImage",
    "SourcePosition",
    "demo_images",
    "mosaic_cutouts",
    "prepare_cutout",
    "cutout_sky",
    "read_cutout_image",
    "sniff_format",
]


@dataclass
class PreparedCutout:
    """Everything stored for one cutout, computed once at ingestion."""

    image: SkyImage
    source_bytes: bytes
    png: bytes
    pixels: bytes
    contours: list


def image_limits() -> ImageLimits:
    return ImageLimits(max_bytes=settings.RGZ_MAX_UPLOAD_BYTES, max_pixels=settings.RGZ_MAX_IMAGE_PIXELS)


def mosaic_limits() -> MosaicLimits:
    return MosaicLimits(
        max_pixels=settings.RGZ_MAX_MOSAIC_PIXELS, max_decoded_pixels=settings.RGZ_MAX_DECODED_MOSAIC_PIXELS
    )


def cutout_sky(cutout) -> dict | None:
    """Where the cutout's pixels lie on the sky, for the page's scale bar and cursor position."""
    return sky_summary(
        wcs_header=cutout.wcs_header,
        width=cutout.width,
        height=cutout.height,
        ra_deg=cutout.ra_deg,
        dec_deg=cutout.dec_deg,
        pixel_scale_arcsec=cutout.survey.pixel_scale_arcsec,
    )


def read_cutout_image(source: str | bytes) -> SkyImage:
    return read_image(source, limits=image_limits())


def prepare_cutout(image: SkyImage, source_bytes: bytes | None = None) -> PreparedCutout:
    """Render the display PNG, the 16-bit pixels for in-browser stretching, and the contours."""
    if source_bytes is None:
        source_bytes = to_fits_bytes(image)
    levels = contour_levels(image.data)
    return PreparedCutout(
        image=image,
        source_bytes=source_bytes,
        png=render_png(image.data),
        pixels=pixels_u16(image.data),
        contours=contour_paths(image.data, levels),
    )


def frame_layer(layer: SkyImage, *, frame_wcs_header: str, width: int, height: int) -> FramedLayer:
    """A layer on a cutout's radio frame (reprojected, or the same pixel grid); LayerError says why not."""
    return onto_frame(layer, frame_wcs_header=frame_wcs_header, frame_shape=(height, width))


def render_layer(framed: FramedLayer) -> tuple[bytes, bytes]:
    """The display PNG and the 16-bit pixels of a layer on the radio frame (as for the radio image)."""
    return render_png(framed.data), pixels_u16(framed.data)


def complexity_config(pixel_scale_arcsec: float | None) -> ComplexityConfig:
    """The measure's settings for a cutout of this pixel scale (aperture fixed on the sky)."""
    if not pixel_scale_arcsec:
        return ComplexityConfig()
    return ComplexityConfig(aperture_px=max(2, round(settings.RGZ_COMPLEXITY_APERTURE_ARCSEC / pixel_scale_arcsec)))


def cutout_complexity(image: SkyImage, survey_pixel_scale: float | None = None) -> float:
    """Coarse-grained complexity (bits per pixel) of a cutout's central aperture."""
    scale = image.pixel_scale_arcsec() or survey_pixel_scale
    return float(complexity(image.data, complexity_config(scale)))


def ranks(scores: list[float], reference: list[float] | None = None) -> list[float]:
    reference = None if reference is None else np.asarray(reference, dtype=float)
    return percentile_ranks(np.asarray(scores, dtype=float), reference).tolist()


def mosaic_cutouts(path: str, sources: list[SourcePosition], size_arcsec: float):
    """Open the mosaic now (raising ImageReadError for a bad file) and return a generator of
    CutoutResult, one per source; the mosaic is memory-mapped, never read whole."""
    data, wcs, notes = open_mosaic(path, limits=mosaic_limits())

    def results():
        for result in cut_sources(data, wcs, sources, size_arcsec):
            if result.image is not None:
                result.image.notes.extend(notes)
            yield result

    return results()


def demo_images(limit: int | None = None):
    return iter_firstgalaxydata(limit=limit)


def policy_normalise(values: dict) -> dict:
    """An acquisition policy's settings, validated (ValueError with the reason) and completed
    with the library's defaults."""
    policy = AcquisitionPolicy.from_dict(values)
    policy.validate()
    return policy.to_dict()


def policy_gold_rate(values: dict, answered: int) -> float:
    """Share of gold-standard subjects for a volunteer who answered ``answered`` subjects."""
    return float(gold_rate(AcquisitionPolicy.from_dict(values), answered))


def votes_posterior(tallies: np.ndarray, gold_counts: np.ndarray) -> np.ndarray:
    """(N, K) votes per subject and answer, (K, K) gold counts (true answer -> vote) -> (N, K)
    P(true answer | votes) under the crowd's confusion, one pseudo-vote per cell."""
    return confusion_posterior(tallies, confusion_from_counts(gold_counts, smoothing=1.0))
