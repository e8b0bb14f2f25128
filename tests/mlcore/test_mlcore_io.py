import io

import numpy as np
import pytest
from astropy.io import fits
from PIL import Image

from mlcore.contours import contour_levels, contour_paths, noise_sigma
from mlcore.cutouts import SourcePosition, cut_sources, open_mosaic
from mlcore.io import ImageLimits, ImageReadError, read_image, sniff_format
from mlcore.render import RenderConfig, pixels_u16, render_png, scaled
from tests.factories import blob_array, fits_bytes


def test_reads_real_atca_fits_with_wcs(shared_data):
    image = read_image(shared_data / "rgz_atlas_examples" / "S311.fits")
    assert image.format == "fits" and image.shape == (301, 301)
    ra, dec = image.centre_radec()
    assert 9.0 < ra < 9.7 and -44.5 < dec < -43.8  # ELAIS-S1
    assert image.pixel_scale_arcsec() == pytest.approx(0.6, rel=0.01)


def test_reads_real_mirabest_fits_and_its_position(shared_data):
    path = next((shared_data / "mirabest" / "FITS_sample").glob("100_010.451-009.284*.fits"))
    image = read_image(path)
    ra, dec = image.centre_radec()
    assert ra == pytest.approx(10.451, abs=0.01) and dec == pytest.approx(-9.284, abs=0.01)


def test_png_is_flipped_to_fits_orientation():
    raster = np.zeros((10, 12), dtype=np.uint8)
    raster[0, :] = 255  # top row bright
    buffer = io.BytesIO()
    Image.fromarray(raster).save(buffer, format="PNG")
    image = read_image(buffer.getvalue())
    assert image.format == "png" and image.shape == (10, 12)
    assert image.data[-1].max() == 255 and image.data[0].max() == 0
    assert image.wcs is None and image.centre_radec() is None


def test_cube_takes_first_plane_and_says_so():
    cube = np.stack([blob_array(32, seed=1), np.zeros((32, 32), np.float32)])[None]  # (1, 2, 32, 32)
    image = read_image(fits_bytes(cube))
    assert image.shape == (32, 32)
    assert np.allclose(image.data, blob_array(32, seed=1))
    assert any("first plane" in note for note in image.notes)


def test_several_hdus_uses_first_image_hdu():
    hdul = fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(blob_array(16)), fits.ImageHDU(np.ones((4, 4)))])
    buffer = io.BytesIO()
    hdul.writeto(buffer)
    image = read_image(buffer.getvalue())
    assert image.shape == (16, 16)
    assert any("HDU 1" in note for note in image.notes)


def test_nans_are_kept_and_reported():
    data = blob_array(32)
    data[:4, :4] = np.nan
    image = read_image(fits_bytes(data))
    assert np.isnan(image.data).sum() == 16
    assert any("16 NaN" in note for note in image.notes)
    png = Image.open(io.BytesIO(render_png(image.data)))
    assert png.size == (32, 32)


def test_no_wcs_is_a_note_not_an_error():
    image = read_image(fits_bytes(blob_array(16), wcs=False))
    assert image.wcs is None
    assert any("no celestial WCS" in note for note in image.notes)


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"", "empty"),
        (b"hello, this is a text file", "not a FITS, PNG or JPEG"),
        (fits_bytes(blob_array(64))[:4000], "not a readable FITS"),
        (fits_bytes(np.full((8, 8), np.nan, np.float32)), "no finite pixels"),
        (fits_bytes(np.zeros((8, 8), np.float32)), "blank"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not a readable PNG"),
        (fits_bytes(np.zeros((1, 8), np.float32)), "only 8x1"),
    ],
)
def test_bad_files_get_clear_errors(payload, message):
    with pytest.raises(ImageReadError, match=message):
        read_image(payload)


def test_oversized_file_and_image_are_refused():
    with pytest.raises(ImageReadError, match="larger than the limit"):
        read_image(fits_bytes(blob_array(64)), limits=ImageLimits(max_bytes=1000))
    with pytest.raises(ImageReadError, match="pixel limit"):
        read_image(fits_bytes(blob_array(64)), limits=ImageLimits(max_side=32))


def test_sniff_format_ignores_names():
    assert sniff_format(b"SIMPLE  =                    T") == "fits"
    assert sniff_format(b"\xff\xd8\xff\xe0") == "jpeg"
    assert sniff_format(b"GIF89a") is None


@pytest.mark.parametrize("stretch", ["linear", "sqrt", "log", "asinh"])
def test_stretches_are_monotonic_and_bounded(stretch):
    ramp = np.linspace(0, 1, 101, dtype=np.float32).reshape(1, -1).repeat(2, axis=0)
    out = scaled(ramp, RenderConfig(stretch=stretch, interval="minmax"))
    assert out.min() == pytest.approx(0) and out.max() == pytest.approx(1)
    assert np.all(np.diff(out[0]) >= 0)


def test_asinh_lifts_faint_emission_above_linear():
    ramp = np.linspace(0, 1, 101, dtype=np.float32).reshape(1, -1).repeat(2, axis=0)
    linear = scaled(ramp, RenderConfig(stretch="linear", interval="minmax"))
    asinh = scaled(ramp, RenderConfig(stretch="asinh", interval="minmax"))
    assert asinh[0, 10] > 2 * linear[0, 10]


def test_default_render_keeps_a_compact_source_unclipped():
    data = np.random.default_rng(1).normal(0, 1, (100, 100)).astype(np.float32)
    data[50, 50], data[50, 51] = 1000.0, 500.0  # a compact source: two pixels of 10,000
    grey = np.asarray(Image.open(io.BytesIO(render_png(data))))
    assert grey.max() == 255 and (grey == 255).sum() == 1  # only the peak is white
    assert 150 < grey[49, 51] < 255  # the half-peak pixel (row flipped for display) stays grey


def test_render_config_rejects_unknown_names():
    with pytest.raises(ValueError, match="stretch"):
        RenderConfig(stretch="cubic")
    with pytest.raises(ValueError, match="interval"):
        RenderConfig(interval="auto")


def test_pixels_u16_is_raster_order_full_range():
    data = np.zeros((4, 5), np.float32)
    data[0, 0] = 10.0  # bottom-left in FITS orientation
    values = np.frombuffer(pixels_u16(data, lower_percentile=0), dtype="<u2").reshape(4, 5)
    assert values[-1, 0] == 65535 and values.max() == 65535 and values.min() == 0


def test_contours_trace_the_lobes_above_the_noise():
    data = blob_array(64, lobes=2)
    sigma = noise_sigma(data)
    assert sigma == pytest.approx(1e-4, rel=0.15)
    levels = contour_levels(data)
    assert levels[0] == pytest.approx(3e-4, abs=1e-4)
    assert all(b > a for a, b in zip(levels, levels[1:], strict=False))
    traced = contour_paths(data, levels)
    first = traced[0]["paths"]
    assert len(first) >= 1
    xs = [p[0] for path in first for p in path]
    assert min(xs) >= 0 and max(xs) <= 63


def test_contour_levels_fall_back_on_flat_backgrounds():
    data = np.zeros((32, 32), np.float32)
    data[10:20, 10:20] = 200
    assert contour_levels(data) == pytest.approx([10, 20, 40, 80, 160])


def test_cutouts_from_a_mosaic_keep_their_wcs(tmp_path):
    mosaic = blob_array(200, seed=3, lobes=1)
    path = tmp_path / "mosaic.fits"
    path.write_bytes(fits_bytes(mosaic, ra=150.0, dec=2.0, scale_arcsec=2.0))
    data, wcs, notes = open_mosaic(path)
    sources = [SourcePosition("centre", 150.0, 2.0), SourcePosition("far", 10.0, -50.0)]
    results = list(cut_sources(data, wcs, sources, size_arcsec=60))
    assert results[0].image is not None and results[0].image.shape == (30, 30)
    ra, dec = results[0].image.centre_radec()
    assert ra == pytest.approx(150.0, abs=2 / 3600) and dec == pytest.approx(2.0, abs=2 / 3600)
    assert results[1].image is None and "outside" in results[1].error


def test_mosaic_without_wcs_is_refused(tmp_path):
    path = tmp_path / "nowcs.fits"
    path.write_bytes(fits_bytes(blob_array(32), wcs=False))
    with pytest.raises(ImageReadError, match="no celestial WCS"):
        open_mosaic(path)
