"""Preparing radio images for the network: noise clipping, scaling to [0, 1], resampling."""

from __future__ import annotations

import numpy as np


class BadImageError(ValueError):
    """An image that cannot be used (wrong shape, no finite pixels, blank)."""


def clip_and_scale(image: np.ndarray, *, sigma: float = 3.0) -> np.ndarray:
    """(H, W) any units -> (H, W) float32 in [0, 1]: pixels below median + sigma x MAD-rms set to
    zero (as in MiraBest's preparation, Porter & Scaife 2023), then divided by the maximum.

    Raises ``BadImageError`` for an image that is not 2-D, has no finite pixels or is flat.
    """
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 2 or min(image.shape) < 2:
        raise BadImageError(f"expected a 2-D image, got shape {image.shape}")
    finite = np.isfinite(image)
    if not finite.any():
        raise BadImageError("the image has no finite pixels")
    values = image[finite]
    median = float(np.median(values))
    rms = 1.4826 * float(np.median(np.abs(values - median)))
    out = np.where(finite, image, median) - median
    threshold = sigma * rms
    out = np.where(out > threshold, out - threshold, 0.0).astype(np.float32)
    peak = float(out.max())
    if peak <= 0.0:
        raise BadImageError("the image is blank (nothing above the noise)")
    return out / peak


def resample(images: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """(N, H, W) -> (N, size, size) float32, or (N, height, width) for a ``(height, width)`` size;
    bilinear (area-averaged when shrinking)."""
    import torch
    import torch.nn.functional as F

    shape = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    images = np.asarray(images, dtype=np.float32)
    if images.shape[1:] == shape:
        return images
    x = torch.from_numpy(images)[:, None]  # (N, 1, H, W)
    shrink = images.shape[1] > shape[0] or images.shape[2] > shape[1]
    y = F.interpolate(x, size=shape, mode="area" if shrink else "bilinear", align_corners=None if shrink else False)
    return y[:, 0].numpy()


def prepare_images(images, size: int = 150, *, sigma: float = 3.0) -> tuple[np.ndarray, list[int]]:
    """A sequence of 2-D images (any sizes) -> ((N, 1, size, size) float32 in [0, 1], indices of the
    images that could not be used). Bad images are skipped, not fatal."""
    good, bad = [], []
    for index, image in enumerate(images):
        try:
            scaled = clip_and_scale(image, sigma=sigma)
        except BadImageError:
            bad.append(index)
            continue
        good.append(resample(scaled[None], size)[0])
    if not good:
        return np.zeros((0, 1, size, size), dtype=np.float32), bad
    return np.stack(good)[:, None], bad
