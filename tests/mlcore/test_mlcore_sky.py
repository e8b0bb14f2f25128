"""The sky summary the classify page uses for its scale bar and cursor position."""

import io
import warnings

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from mlcore.io import read_image
from mlcore.sky import pixel_to_sky, sky_summary


def _fits(projection: str, size: int = 64, scale_arcsec: float = 1.8, rotate_deg: float = 0.0) -> bytes:
    w = WCS(naxis=2)
    w.wcs.ctype = [f"RA---{projection}", f"DEC--{projection}"]
    w.wcs.crval = [150.0, 40.0]
    w.wcs.crpix = [20.0, 30.0]
    s = scale_arcsec / 3600
    t = np.radians(rotate_deg)
    w.wcs.cd = [[-s * np.cos(t), s * np.sin(t)], [s * np.sin(t), s * np.cos(t)]]
    buffer = io.BytesIO()
    fits.PrimaryHDU(
        data=np.random.default_rng(0).random((size, size)).astype(np.float32), header=w.to_header()
    ).writeto(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("projection", ["SIN", "TAN"])
@pytest.mark.parametrize("rotate", [0.0, 30.0])
def test_raster_pixels_map_to_the_sky_as_astropy_says(projection, rotate):
    image = read_image(_fits(projection, rotate_deg=rotate))
    summary = sky_summary(wcs_header=image.wcs_header, width=64, height=64)
    assert summary["projection"] == projection and not summary["approximate"]
    assert summary["pixel_scale_arcsec"] == pytest.approx(1.8, rel=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wcs = image.wcs
    for x, row in [(0, 0), (63, 0), (10, 50), (40, 12)]:
        # raster row 0 is the top: FITS row 63 (0-based)
        expected = wcs.pixel_to_world(x, 63 - row)
        ra, dec = pixel_to_sky(summary, x, row)
        assert ra == pytest.approx(expected.ra.deg, abs=1e-7)
        assert dec == pytest.approx(expected.dec.deg, abs=1e-7)


def test_north_is_up_in_the_raster():
    summary = sky_summary(wcs_header=read_image(_fits("SIN")).wcs_header, width=64, height=64)
    _, dec_top = pixel_to_sky(summary, 32, 0)
    _, dec_bottom = pixel_to_sky(summary, 32, 63)
    assert dec_top > dec_bottom


def test_without_a_header_the_centre_and_pixel_scale_give_an_approximate_summary():
    summary = sky_summary(wcs_header="", width=300, height=300, ra_deg=10.0, dec_deg=-5.0, pixel_scale_arcsec=1.8)
    assert summary["approximate"]
    ra, dec = pixel_to_sky(summary, 149.5, 149.5)
    assert (ra, dec) == pytest.approx((10.0, -5.0))
    _, dec_up = pixel_to_sky(summary, 149.5, 49.5)
    assert dec_up - dec == pytest.approx(100 * 1.8 / 3600, rel=1e-3)


def test_nothing_known_gives_none():
    assert sky_summary(wcs_header="", width=10, height=10) is None
    assert sky_summary(wcs_header="", width=10, height=10, ra_deg=1.0, dec_deg=1.0) is None
    assert sky_summary(wcs_header="NOT A HEADER" * 10, width=10, height=10) is None
