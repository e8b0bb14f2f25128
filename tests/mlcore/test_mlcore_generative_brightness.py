"""Generated images at a classifier's input keep their drawn brightness, carried across sizes by
the real images' median peaks, instead of all taking a peak of 1."""

import numpy as np
import pytest

from mlcore.generative.brightness import matched_peak, median_peak
from mlcore.ssl.data import clip_and_scale, resample


def test_a_real_source_peak_falls_as_the_image_shrinks_so_the_sizes_need_their_own_medians():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:64, 0:64]
    images = []
    for _ in range(20):  # unresolved components: Gaussians about a pixel wide
        y, x = rng.uniform(20, 44, 2)
        images.append(np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / 2.0).astype(np.float32))
    prepared = np.stack([clip_and_scale(image) for image in images])
    at_32, at_16 = median_peak(resample(prepared, 32)), median_peak(resample(prepared, 16))
    assert median_peak(prepared) == pytest.approx(1.0) and at_16 < at_32 < 0.9


def test_the_matched_peak_carries_the_drawn_one_by_the_ratio_of_the_medians_and_never_passes_one():
    assert matched_peak(0.38, 0.38, 0.67) == pytest.approx(0.67)  # a median draw lands on the real median
    assert matched_peak(0.19, 0.38, 0.67) == pytest.approx(0.335)
    assert matched_peak(0.9, 0.38, 0.67) == 1.0
    for bad in ((0.0, 0.38, 0.67), (0.5, 0.0, 0.67), (0.5, 0.38, float("nan")), (-1.0, 0.38, 0.67)):
        with pytest.raises(ValueError, match="peaks must be positive"):
            matched_peak(*bad)


def test_the_median_peak_of_no_images_is_nan():
    assert np.isnan(median_peak(np.zeros((0, 4, 4))))
