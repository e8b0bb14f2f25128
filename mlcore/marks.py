"""Volunteers' marks on a cutout: pixel positions on the radio frame and where they lie on the sky.

Mark coordinates follow Zooniverse's drawing tools: ``x`` to the right and ``y`` down from the
top-left corner of the displayed image, in image pixels, so the centre of the top-left pixel
is (0.5, 0.5). Contour paths use pixel indices (centre of the top-left pixel at (0, 0)).
"""

from __future__ import annotations

import warnings

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS


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
