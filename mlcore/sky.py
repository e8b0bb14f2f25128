"""A cutout's sky coordinates in a form a browser can evaluate: a tangent-plane WCS summary."""

from __future__ import annotations

import warnings

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

# Projections the page inverts exactly; any other is shown as a tangent-plane approximation.
EXACT_PROJECTIONS = {"TAN", "SIN"}


def sky_summary(
    *,
    wcs_header: str,
    width: int,
    height: int,
    ra_deg: float | None = None,
    dec_deg: float | None = None,
    pixel_scale_arcsec: float | None = None,
) -> dict | None:
    """``{crpix, crval, cd, projection, pixel_scale_arcsec, approximate}`` in raster pixels, or None.

    ``crpix`` is in 0-based raster pixels (row 0 at the top, as the page draws it); ``cd`` maps
    raster pixel offsets (dx right, dy down) to intermediate world degrees. Without a WCS header a
    centre position and a pixel scale give an approximate north-up summary.
    """
    summary = _from_header(wcs_header, height) if wcs_header else None
    if summary is not None:
        return summary
    if ra_deg is None or dec_deg is None or not pixel_scale_arcsec:
        return None
    scale = pixel_scale_arcsec / 3600.0
    return {
        "crpix": [(width - 1) / 2, (height - 1) / 2],
        "crval": [float(ra_deg), float(dec_deg)],
        "cd": [[-scale, 0.0], [0.0, -scale]],  # east left, north up
        "projection": "TAN",
        "pixel_scale_arcsec": float(pixel_scale_arcsec),
        "approximate": True,
    }


def _from_header(text: str, height: int) -> dict | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wcs = WCS(fits.Header.fromstring(text)).celestial
    except Exception:  # a header astropy cannot read leaves the page without sky positions
        return None
    if not wcs.has_celestial or wcs.naxis != 2:
        return None
    cd = np.asarray(wcs.wcs.cd if wcs.wcs.has_cd() else wcs.wcs.get_pc() * wcs.wcs.cdelt[:, None], dtype=float)
    # FITS rows run bottom-up and count from 1; the page's raster rows run top-down from 0.
    crpix_fits = wcs.wcs.crpix
    crpix = [float(crpix_fits[0] - 1), float(height - crpix_fits[1])]
    cd_raster = [[float(cd[0, 0]), float(-cd[0, 1])], [float(cd[1, 0]), float(-cd[1, 1])]]
    projection = wcs.wcs.ctype[0][-3:].upper()
    scale = float(np.sqrt(abs(np.linalg.det(cd))) * 3600.0)
    return {
        "crpix": crpix,
        "crval": [float(wcs.wcs.crval[0]), float(wcs.wcs.crval[1])],
        "cd": cd_raster,
        "projection": projection if projection in EXACT_PROJECTIONS else "TAN",
        "pixel_scale_arcsec": scale,
        "approximate": projection not in EXACT_PROJECTIONS,
    }


def pixel_to_sky(summary: dict, x: float, y: float) -> tuple[float, float]:
    """RA, Dec in degrees of raster pixel (x, y): the same sums the page does, for tests."""
    (a, b), (c, d) = summary["cd"]
    dx, dy = x - summary["crpix"][0], y - summary["crpix"][1]
    xi, eta = np.radians(a * dx + b * dy), np.radians(c * dx + d * dy)
    ra0, dec0 = np.radians(summary["crval"])
    if summary["projection"] == "SIN":
        # orthographic: (xi, eta) are direction cosines
        cos_c = np.sqrt(max(0.0, 1 - xi * xi - eta * eta))
        dec = np.arcsin(cos_c * np.sin(dec0) + eta * np.cos(dec0))
        ra = ra0 + np.arctan2(xi, cos_c * np.cos(dec0) - eta * np.sin(dec0))
    else:
        denom = np.cos(dec0) - eta * np.sin(dec0)
        ra = ra0 + np.arctan2(xi, denom)
        dec = np.arctan2(np.sin(dec0) + eta * np.cos(dec0), np.hypot(xi, denom))
    return float(np.degrees(ra) % 360.0), float(np.degrees(dec))
