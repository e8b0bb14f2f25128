"""Volunteers' marks on a cutout: pixel positions on the radio frame and where they lie on the sky.

Mark coordinates follow Zooniverse's drawing tools: ``x`` to the right and ``y`` down from the
top-left corner of the displayed image, in image pixels, so the centre of the top-left pixel
is (0.5, 0.5). Contour paths use pixel indices (centre of the top-left pixel at (0, 0)).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS
from astropy.wcs.utils import proj_plane_pixel_scales
from sklearn.cluster import DBSCAN


def marks_to_sky(wcs_header: str, height: int, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(N,) mark positions -> (N,) RA and Dec in degrees (ICRS), or None without a WCS."""
    if not wcs_header:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wcs = WCS(fits.Header.fromstring(wcs_header))
        # Raster rows run top-down, FITS rows bottom-up; FITS pixel indices are pixel centres.
        sky = wcs.pixel_to_world(np.asarray(x, float) - 0.5, height - 0.5 - np.asarray(y, float))
    icrs = sky.icrs
    return np.asarray(icrs.ra.deg, float), np.asarray(icrs.dec.deg, float)


@dataclass(frozen=True)
class PointClusterConfig:
    """DBSCAN settings; the defaults are panoptes_aggregation's point_reducer_dbscan defaults."""

    eps: float = 5.0  # pixels
    min_samples: int = 3


@dataclass(frozen=True)
class PointCluster:
    x: float  # mean position, image pixels
    y: float
    count: int  # points in the cluster
    var_x: float | None  # covariance of the points (None for a single point), pixels^2
    var_y: float | None
    var_x_y: float | None
    members: tuple[int, ...]  # indices of the input points

    @property
    def spread(self) -> float | None:
        """RMS distance of the points from the centre per axis, in pixels."""
        if self.var_x is None or self.var_y is None:
            return None
        return float(np.sqrt(max(0.0, (self.var_x + self.var_y) / 2)))


def cluster_points(
    x: np.ndarray, y: np.ndarray, config: PointClusterConfig = PointClusterConfig()
) -> list[PointCluster]:
    """(N,) points -> DBSCAN clusters, largest first, with centres and covariances computed as
    panoptes_aggregation's point reducer computes them (mean; numpy covariance, ddof 1)."""
    points = np.column_stack([np.asarray(x, float), np.asarray(y, float)])  # (N, 2)
    if len(points) == 0:
        return []
    labels = DBSCAN(eps=config.eps, min_samples=config.min_samples).fit(points).labels_
    clusters = []
    for label in sorted(set(labels) - {-1}):
        members = np.flatnonzero(labels == label)
        chosen = points[members]
        centre = chosen.mean(axis=0)
        if len(chosen) > 1:
            cov = np.cov(chosen.T)
            var = (float(cov[0, 0]), float(cov[1, 1]), float(cov[0, 1]))
        else:
            var = (None, None, None)
        clusters.append(
            PointCluster(float(centre[0]), float(centre[1]), len(members), *var, tuple(int(i) for i in members))
        )
    return sorted(clusters, key=lambda c: -c.count)


def pixel_scale_arcsec(wcs_header: str) -> float | None:
    if not wcs_header:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wcs = WCS(fits.Header.fromstring(wcs_header))
    return float(np.mean(proj_plane_pixel_scales(wcs)) * 3600.0)


# Shape parameters in Zooniverse's order (panoptes_aggregation's SHAPE_LUT), and the period of an
# angle parameter (always the last one) in degrees.
SHAPE_PARAMS: dict[str, tuple[str, ...]] = {
    "circle": ("x", "y", "r"),
    "ellipse": ("x", "y", "rx", "ry", "angle"),
    "rectangle": ("x", "y", "width", "height"),
    "line": ("x1", "y1", "x2", "y2"),
}
ANGLE_PERIOD = {"ellipse": 360.0}


@dataclass(frozen=True)
class ShapeCluster:
    params: dict[str, float]  # the cluster's average shape, named as SHAPE_PARAMS
    count: int
    members: tuple[int, ...]  # indices of the input shapes


def shape_distances(shape: str, params: np.ndarray) -> np.ndarray:
    """(N, P) shapes -> (N, N) distances: Euclidean in parameter space, an angle taken as the
    shorter way round its period (panoptes_aggregation's shape metric, not symmetric)."""
    difference = params[:, None, :] - params[None, :, :]  # (N, N, P)
    period = ANGLE_PERIOD.get(shape)
    if period is not None:
        angle = params[:, -1] % period
        d = np.abs(angle[:, None] - angle[None, :])
        difference[:, :, -1] = np.minimum(period - d, d)
    return np.sqrt((difference**2).sum(axis=-1))


def mean_angle(theta: np.ndarray, period: float) -> float:
    """The angle whose squared circular distances to ``theta`` add up least, found as
    panoptes_aggregation finds it (bounded scalar minimisation, rounded to 0.001 degree)."""
    from scipy.optimize import minimize_scalar

    def spread(a: float) -> float:
        d = np.abs(a % period - theta % period)
        return float((np.minimum(period - d, d) ** 2).sum())

    found = minimize_scalar(spread, bounds=(0, period), method="bounded")
    return float(np.round(found.x, 3) % period)


def cluster_shapes(
    shape: str, params: np.ndarray, config: PointClusterConfig = PointClusterConfig()
) -> list[ShapeCluster]:
    """(N, P) shapes of one tool -> DBSCAN clusters, largest first, averaged as
    panoptes_aggregation's shape_reducer_dbscan averages them (mean; an angle by ``mean_angle``).
    Fewer shapes than ``min_samples`` make no cluster, as there."""
    names = SHAPE_PARAMS[shape]
    params = np.asarray(params, float).reshape(-1, len(names))
    if len(params) < config.min_samples:
        return []
    distances = shape_distances(shape, params)
    labels = DBSCAN(eps=config.eps, min_samples=config.min_samples, metric="precomputed").fit(distances).labels_
    clusters = []
    for label in sorted(set(labels) - {-1}):
        members = np.flatnonzero(labels == label)
        average = params[members].mean(axis=0)
        if shape in ANGLE_PERIOD:
            average[-1] = mean_angle(params[members, -1], ANGLE_PERIOD[shape])
        values = {name: float(v) for name, v in zip(names, average, strict=True)}
        clusters.append(ShapeCluster(values, len(members), tuple(int(i) for i in members)))
    return sorted(clusters, key=lambda c: -c.count)
