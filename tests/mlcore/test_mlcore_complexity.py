import numpy as np
import pytest

from mlcore.complexity import (
    ComplexityConfig,
    central_aperture,
    coarse_grain,
    complexity,
    normalise,
    percentile_ranks,
    quantise,
)
from tests.factories import blob_array


def noise(shape, seed=0):
    return np.random.default_rng(seed).normal(0, 1e-4, shape).astype(np.float32)


def test_structure_scores_higher_than_a_single_blob_and_noise_lowest():
    rng = np.random.default_rng(3)
    empty = noise((96, 96))
    compact = blob_array(96, seed=1, lobes=1)
    complex_ = blob_array(96, seed=2, lobes=3)
    for _ in range(6):  # knots and filaments
        y, x = rng.integers(10, 86, 2)
        complex_[y - 2 : y + 2, x - 8 : x + 8] += 3e-3
    scores = complexity(np.stack([empty, compact, complex_]))
    assert scores.shape == (3,)
    assert scores[0] < scores[1] < scores[2]


def test_deterministic_and_batch_equals_single():
    frames = np.stack([blob_array(64, seed=s) for s in range(4)])
    batch = complexity(frames)
    assert np.array_equal(batch, complexity(frames))
    assert complexity(frames[2]) == pytest.approx(batch[2])
    assert np.ndim(complexity(frames[2])) == 0


def test_noise_is_clipped_so_pure_noise_scores_near_zero():
    frames = np.stack([noise((64, 64), seed=s) for s in range(3)])
    unit = normalise(frames, ComplexityConfig())
    assert (unit == 0).mean() > 0.99  # 3 sigma clips all but the tail
    blob = complexity(blob_array(64, seed=9, lobes=2))
    assert complexity(frames).max() < 0.5 * blob


def test_nan_and_blank_frames_do_not_break_the_batch():
    good = blob_array(32)
    holes = good.copy()
    holes[:8] = np.nan
    blank = np.full((32, 32), np.nan, np.float32)
    scores = complexity(np.stack([good, holes, blank]))
    assert np.all(np.isfinite(scores))
    assert scores[2] < scores[0]


def test_coarse_grain_and_quantise_known_answers():
    unit = np.arange(16, dtype=np.float32).reshape(1, 4, 4) / 15
    assert coarse_grain(unit, 2)[0].ravel().tolist() == pytest.approx([2.5 / 15, 4.5 / 15, 10.5 / 15, 12.5 / 15])
    assert quantise(np.array([0.0, 0.49, 0.5, 1.0]), 2).tolist() == [0, 0, 1, 1]


def test_central_aperture_crops_the_middle():
    frames = np.zeros((1, 10, 10))
    frames[0, 4:6, 4:6] = 1
    assert central_aperture(frames, 4)[0].sum() == 4 and central_aperture(frames, 4).shape == (1, 4, 4)
    assert central_aperture(frames, None) is frames
    assert central_aperture(frames, 50).shape == (1, 10, 10)


def test_percentile_ranks():
    assert percentile_ranks(np.array([3.0, 1.0, 2.0, 2.0])).tolist() == [100.0, 25.0, 75.0, 75.0]
    assert percentile_ranks(np.array([])).size == 0
    # placed on another set's scale: below all 0, above all 100, the set itself unmoved
    reference = np.array([1.0, 2.0, 3.0, 4.0])
    assert percentile_ranks(np.array([0.5, 2.5, 9.0]), reference).tolist() == [0.0, 50.0, 100.0]
    assert percentile_ranks(np.array([1.0]), np.array([])).tolist() == [0.0]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"stretch": "cubic"}, "stretch"),
        ({"scales": (0,)}, "scales"),
        ({"levels": 1}, "levels"),
        ({"aperture_px": 1}, "aperture_px"),
        ({"noise_sample_step": 0}, "noise_sample_step"),
        ({"compression_level": 12}, "compression_level"),
    ],
)
def test_config_rejects_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ComplexityConfig(**kwargs)


def test_rejects_wrong_dimensions():
    with pytest.raises(ValueError, match="frames must be"):
        complexity(np.zeros((2, 3, 4, 5)))
