import numpy as np
import pytest

from mlcore.complexity import ComplexityConfig
from mlcore.io import ImageReadError
from mlcore.scan import ScanGrid, anomaly_levels, merge_overlapping, open_scan, scan_mosaic, scan_tile
from tests.factories import blob_array, fits_bytes


def mosaic_with_source(tmp_path, size=400, scale=2.0, nan_corner=True):
    data = np.random.default_rng(0).normal(0, 1e-4, (size, size)).astype(np.float32)
    data[250:314, 100:164] += blob_array(64, seed=4, lobes=3) * 4  # one extended source
    if nan_corner:
        data[:120, -120:] = np.nan  # a blank survey edge
    path = tmp_path / "mosaic.fits"
    path.write_bytes(fits_bytes(data, ra=150.0, dec=2.0, scale_arcsec=scale))
    return path


def test_grid_covers_every_aperture_position_once():
    grid = ScanGrid(height=100, width=130, aperture_px=20, stride_px=10, tile_frames=3)
    assert (grid.frames_y, grid.frames_x) == (9, 12)
    seen = set()
    for index in range(grid.tile_count):
        fy0, fy1, fx0, fx1 = grid.tile_frames_range(index)
        seen |= {(y, x) for y in range(fy0, fy1) for x in range(fx0, fx1)}
    assert len(seen) == 9 * 12
    with pytest.raises(IndexError):
        grid.tile_frames_range(grid.tile_count)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"aperture_px": 0}, "at least 2"),
        ({"stride_px": 0}, "stride"),
        ({"aperture_px": 500}, "larger than the mosaic"),
    ],
)
def test_grid_rejects_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ScanGrid(**{"height": 100, "width": 100, "aperture_px": 20, "stride_px": 10, **kwargs})


def test_scan_finds_the_source_skips_blank_edges_and_matches_tilewise(tmp_path):
    path = mosaic_with_source(tmp_path)
    rows, wcs, grid = scan_mosaic(path, aperture_arcsec=64, stride_arcsec=32, tile_frames=4)
    assert grid.aperture_px == 32 and grid.stride_px == 16
    assert rows.shape[1] == 4 and len(rows) < grid.frames_x * grid.frames_y  # the NaN corner was skipped
    assert not np.any((rows[:, 0] > 400 - 120 + 16) & (rows[:, 1] < 120 - 16))
    best = rows[np.argmax(rows[:, 2])]
    assert 100 <= best[0] <= 164 and 250 <= best[1] <= 314  # centre inside the placed source
    data, _, grid2, _ = open_scan(path, 64, 32, tile_frames=7)  # other tiling, same frames
    again = np.concatenate([scan_tile(data, grid2, i, ComplexityConfig()) for i in range(grid2.tile_count)])
    assert np.allclose(np.sort(again[:, 2]), np.sort(rows[:, 2]))


def test_merge_keeps_one_frame_per_source():
    rows = np.array([[10, 10, 5.0], [14, 10, 9.0], [100, 100, 3.0], [12, 40, 1.0]])
    kept = merge_overlapping(rows, aperture_px=8)
    assert kept.tolist() == [1, 2, 3]


def test_anomaly_levels_from_percentiles():
    levels = dict(anomaly_levels(np.arange(1000.0), (0.5, 5, 1)))
    assert list(levels) == [5, 1, 0.5]
    assert levels[5] == pytest.approx(949.05) and levels[0.5] == pytest.approx(994.005)
    with pytest.raises(ValueError, match="percentage"):
        list(anomaly_levels(np.arange(3.0), (150,)))


def test_bad_mosaics_and_settings(tmp_path):
    nowcs = tmp_path / "nowcs.fits"
    nowcs.write_bytes(fits_bytes(blob_array(64), wcs=False))
    with pytest.raises(ImageReadError, match="no celestial WCS"):
        open_scan(nowcs, 10, 5)
    junk = tmp_path / "junk.fits"
    junk.write_text("SIMPLE  = nonsense")
    with pytest.raises(ImageReadError):
        open_scan(junk, 10, 5)
    good = mosaic_with_source(tmp_path)
    with pytest.raises(ValueError, match="positive"):
        open_scan(good, 0, 5)
    with pytest.raises(ValueError, match="larger than the mosaic"):
        open_scan(good, 5000, 100)


def test_cube_mosaic_uses_the_first_plane(tmp_path):
    plane = np.random.default_rng(1).normal(0, 1e-4, (120, 120)).astype(np.float32)
    path = tmp_path / "cube.fits"
    path.write_bytes(fits_bytes(np.stack([plane, plane * 0])[None], scale_arcsec=2.0))
    data, _, grid, notes = open_scan(path, 40, 20)
    assert data.shape == (120, 120) and any("first plane" in n for n in notes)
