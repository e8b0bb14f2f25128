"""Generated images at a classifier's input with the brightness of real ones.

A real image is noise-clipped and scaled to a peak of 1 at its own resolution, then resampled to
the classifier's size: shrinking averages its brightest pixel with fainter neighbours, so its peak
at the classifier's input falls (firstgalaxydata: a median of 0.67 at 64 px, 0.38 at 32 px). A
generator learns the images at its own size, peaks included. Scaled to a peak of 1 again and
resampled, a generated image comes out brighter than the real images of the classifier's size
(a median of 0.79 against 0.67 for a 32 px generator read at 64 px), a difference a classifier can
learn as a mark of the class it was asked for. So the prepared generated image (peak 1 before the
resampling) is scaled by its drawn peak, carried to the classifier's size by the ratio of the real
images' median peaks at the two sizes (``matched_peak``).
"""

from __future__ import annotations

import numpy as np


def median_peak(images: np.ndarray) -> float:
    """The median over images (N, ...) of each one's brightest pixel; NaN for none."""
    images = np.asarray(images)
    return float(np.median(images.reshape(len(images), -1).max(axis=1))) if len(images) else float("nan")


def matched_peak(drawn_peak: float, generator_median: float, classifier_median: float) -> float:
    """The peak a generated image drawn with ``drawn_peak`` takes at the classifier's input, where
    the real images' median peak is ``generator_median`` at the generator's size and
    ``classifier_median`` at the classifier's (at most 1, as a real one)."""
    if not generator_median > 0 or not classifier_median > 0 or not drawn_peak > 0:
        raise ValueError(f"peaks must be positive, not {drawn_peak}, {generator_median}, {classifier_median}")
    return float(min(1.0, drawn_peak * classifier_median / generator_median))
