"""LIME explanations of one prediction: superpixels of the cutout weighted by their effect on the
predicted class (Ribeiro et al. 2016, package ``lime``)."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np

MIN_SOURCE_PIXELS = 4  # an island above the first contour smaller than this is noise, left to the background


def superpixels(image: np.ndarray, n_segments: int = 40) -> np.ndarray:
    """(H, W) in [0, 1] -> (H, W) int segment ids that follow the source.

    The emission is cut along the radio contours (3 sigma above a clipped-MAD noise estimate,
    doubling, as the classify page draws them): each band between two levels, split into its
    connected parts, is a segment, so a lobe, its bright core and a jet are switched on and off as
    wholes. The background below the first contour is cut into a coarse grid of the segments left
    of ``n_segments``. (SLIC on a radio image is a near-regular grid: the noise has no edges.)
    """
    from scipy import ndimage

    from mlcore.contours import contour_levels

    image = np.asarray(image, dtype=np.float64)  # (H, W)
    height, width = image.shape
    flat = not np.ptp(image) > 0
    levels = [] if flat else contour_levels(image, first_sigma=3.0, max_levels=6)
    band = np.digitize(image, levels) if levels else np.zeros(image.shape, dtype=np.int64)  # 0: background
    segments = np.full(image.shape, -1, dtype=np.int64)
    next_id = 0
    for level in range(1, len(levels) + 1):
        parts, count = ndimage.label(band == level)
        sizes = ndimage.sum_labels(np.ones_like(parts), parts, index=np.arange(1, count + 1))
        for part, size in zip(range(1, count + 1), sizes, strict=True):
            if size >= MIN_SOURCE_PIXELS:
                segments[parts == part] = next_id
                next_id += 1
    side = max(2, int(round(np.sqrt(max(n_segments - next_id, 4)))))
    rows, cols = np.mgrid[0:height, 0:width]
    grid = (rows * side // height) * side + cols * side // width
    background = segments < 0
    segments[background] = next_id + grid[background]
    return np.unique(segments, return_inverse=True)[1].reshape(image.shape)  # ids 0..n-1


def lime_explanation(
    predict_proba: Callable[[np.ndarray], np.ndarray],
    image: np.ndarray,
    *,
    num_samples: int = 300,
    n_segments: int = 40,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Explain the predicted class of one (H, W) image in [0, 1].

    ``predict_proba`` takes (N, H, W) images and returns (N, K) probabilities; ``progress(done,
    total)`` hears how many perturbed images have been classified. Returns ``label`` (the
    explained class index), ``segments`` (H, W) ids and ``weights`` {segment: weight}.
    """
    from lime import lime_image

    image = np.asarray(image, dtype=np.float64)
    segments = superpixels(image, n_segments)

    done = 0

    def classifier_fn(batch: np.ndarray) -> np.ndarray:  # (N, H, W, 3) -> (N, K)
        nonlocal done
        proba = predict_proba(batch[..., 0].astype(np.float32))
        done += len(batch)
        if progress is not None:
            progress(min(done, num_samples), num_samples)
        return proba

    explainer = lime_image.LimeImageExplainer(random_state=seed)
    explanation = explainer.explain_instance(
        image,
        classifier_fn,
        top_labels=1,
        hide_color=0,
        num_samples=num_samples,
        segmentation_fn=lambda _rgb: segments,
        random_seed=seed,
        batch_size=64,
    )
    label = int(explanation.top_labels[0])
    weights = {int(seg): float(w) for seg, w in explanation.local_exp[label]}
    return {"label": label, "segments": segments, "weights": weights, "score": float(explanation.score)}


def explanation_png(
    image: np.ndarray, segments: np.ndarray, weights: dict[int, float], *, title: str = "", origin: str = "upper"
) -> bytes:
    """The image with superpixels coloured by weight (red: for the class, blue: against);
    ``origin="lower"`` for arrays in FITS orientation (first row at the bottom)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from skimage.segmentation import find_boundaries

    heat = np.zeros(segments.shape, dtype=np.float64)
    for seg, weight in weights.items():
        heat[segments == seg] = weight
    limit = float(np.abs(heat).max()) or 1.0
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(image, cmap="gray", origin=origin)
    ax.imshow(heat, cmap="bwr", vmin=-limit, vmax=limit, alpha=0.45, origin=origin)
    ax.contour(find_boundaries(segments), levels=[0.5], colors="yellow", linewidths=0.4, origin=origin)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()
