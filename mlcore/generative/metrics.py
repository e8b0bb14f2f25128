"""How realistic generated radio sources are: pure functions over arrays.

Images are (N, 1, S, S) or (N, S, S) in [0, 1], noise-clipped (zero below 3 sigma, peak 1), as
``mlcore.ssl.data.prepare_images`` makes real ones; features and probabilities come from the
platform's own classifier (its penultimate layer, its softmax).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from scipy.stats import ks_2samp

from mlcore.ssl.metrics import frechet_distance

__all__ = [
    "frechet_distance",
    "ramis",
    "class_consistency",
    "source_properties",
    "property_ks",
    "memorisation_share",
    "diversity",
]


def ramis(proba: np.ndarray) -> float:
    """RAMIS (Bastien et al. 2021): exp(mean over images of KL(p(y|x) || p(y))), p(y) the mean of
    p(y|x) over the images. proba (N, K). 1 when every image looks alike to the classifier, K at
    most (confident and balanced)."""
    proba = np.clip(np.asarray(proba, dtype=np.float64), 1e-12, 1.0)
    marginal = proba.mean(axis=0, keepdims=True)
    kl = (proba * (np.log(proba) - np.log(marginal))).sum(axis=1)
    return float(np.exp(kl.mean()))


def class_consistency(proba: np.ndarray, requested: np.ndarray) -> float:
    """The share of images that the classifier assigns to the class asked for."""
    return float((np.asarray(proba).argmax(axis=1) == np.asarray(requested)).mean())


def source_properties(images: np.ndarray, threshold: float = 0.05, min_pixels: int = 3) -> dict[str, np.ndarray]:
    """Per image: ``flux`` (sum of pixels above ``threshold`` of the peak scale, the integrated
    flux in peak units), ``extent`` (largest distance between two emitting pixels, in pixels) and
    ``components`` (connected regions above threshold of at least ``min_pixels`` pixels)."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 4:
        images = images[:, 0]
    flux, extent, components = [], [], []
    for image in images:
        mask = image > threshold
        labelled, count = ndimage.label(mask)
        sizes = np.bincount(labelled.ravel())[1:] if count else np.zeros(0)
        kept = np.isin(labelled, np.flatnonzero(sizes >= min_pixels) + 1)
        components.append(int((sizes >= min_pixels).sum()))
        flux.append(float(image[mask].sum()))
        extent.append(_largest_extent(np.argwhere(kept)))
    return {"flux": np.array(flux), "extent": np.array(extent), "components": np.array(components)}


def _largest_extent(points: np.ndarray) -> float:
    """Largest pairwise distance of (M, 2) pixel positions, through their convex hull."""
    if len(points) < 2:
        return 0.0
    try:
        from scipy.spatial import ConvexHull, QhullError

        points = points[ConvexHull(points).vertices]
    except (QhullError, ValueError):
        pass  # collinear: every point is a candidate
    if len(points) > 2000:
        points = points[:: len(points) // 2000 + 1]
    diff = points[:, None, :] - points[None, :, :]
    return float(np.sqrt((diff**2).sum(-1)).max())


def property_ks(real: np.ndarray, generated: np.ndarray, **kwargs) -> dict[str, float]:
    """Two-sample KS statistic per source property (0: same distribution, 1: disjoint)."""
    a, b = source_properties(real, **kwargs), source_properties(generated, **kwargs)
    return {name: float(ks_2samp(a[name], b[name]).statistic) for name in a}


def _flat(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images, dtype=np.float32)
    return images.reshape(len(images), -1)


def _nearest(queries: np.ndarray, references: np.ndarray, exclude_self: bool = False) -> np.ndarray:
    """Distance of each query row to its nearest reference row (Euclidean)."""
    q2 = (queries**2).sum(1)[:, None]
    r2 = (references**2).sum(1)[None, :]
    d2 = np.maximum(q2 + r2 - 2 * queries @ references.T, 0.0)
    if exclude_self:
        np.fill_diagonal(d2, np.inf)
    return np.sqrt(d2.min(axis=1))


def memorisation_share(
    samples: np.ndarray, train: np.ndarray, test: np.ndarray, *, seed: int = 0
) -> tuple[float, float]:
    """(share of samples, share of real test images) lying nearer a training image than any
    (other) test image, in pixel space, with the training set subsampled to the test set's size
    so that the two reference sets weigh the same. A model that draws new sources from the
    distribution scores about what the real test images score; one that copies training images
    scores near 1."""
    rng = np.random.default_rng(seed)
    test_flat = _flat(test)
    train_flat = _flat(train)
    if len(train_flat) > len(test_flat):
        train_flat = train_flat[rng.choice(len(train_flat), len(test_flat), replace=False)]
    sample_flat = _flat(samples)
    generated = float((_nearest(sample_flat, train_flat) < _nearest(sample_flat, test_flat)).mean())
    real = float((_nearest(test_flat, train_flat) < _nearest(test_flat, test_flat, exclude_self=True)).mean())
    return generated, real


def diversity(features: np.ndarray) -> float:
    """Mean pairwise Euclidean distance between feature vectors (N, D)."""
    features = np.asarray(features, dtype=np.float64)
    if len(features) < 2:
        return 0.0
    sq = (features**2).sum(1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * features @ features.T, 0.0)
    upper = np.triu_indices(len(features), k=1)
    return float(np.sqrt(d2[upper]).mean())
