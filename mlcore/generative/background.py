"""The generated samples' background clip: what the network left of the noise set back to the
training images' background, so that it does not survive the cutout pipeline as speckle."""

from __future__ import annotations

import numpy as np
import torch

from .config import NOISE_ESTIMATES

# The "sigma-clipped-islands" clip keeps emission only in islands that peak at this many times the
# noise (PyBDSF's thresh_pix default): chance noise reaches it about once in 3.5 million pixels.
ISLAND_PEAK_SIGMA = 5.0


def clip_background(
    images: torch.Tensor, sigma: float, *, estimate: str = "sigma-clipped", min_pixels: int = 16
) -> torch.Tensor:
    """Samples (N, C, S, S) in the network's space -> the same with their background noise
    clipped as the training images' was: every pixel less than ``sigma`` times the image's
    background noise above its background level is set to -1 (the training images' background).

    The training images were noise-clipped, so their background is exactly -1; a sample's is -1
    plus what the network failed to remove. Left alone, that speckle survives the cutout pipeline:
    once clamped at -1, more than half of a sample's pixels are equal, its median absolute
    deviation is zero, and every positive pixel counts as source. How the level and the noise are
    measured (``estimate``):

    - ``"sigma-clipped"``: the median and MAD-rms of the pixels left after iterative 3-sigma
      clipping (``astropy.stats.sigma_clipped_stats``), the usual radio background estimate. A
      sample whose whole background is lifted (a faint plate: about one draw in eight of the
      ``cpu`` preset at 32 px) has its level subtracted from the source too, since the network
      added it everywhere.
    - ``"below-background"`` (versions saved before the sigma-clipped estimate): the level is
      taken to be -1 and the noise is measured from the pixels below it (a half-normal's median
      is 0.674 sigma, the MAD rule's 1.4826); an image with fewer than ``min_pixels`` of them,
      such as a lifted plate, is left as drawn.
    - ``"sigma-clipped-islands"``: the sigma-clipped level and noise, and the pixels above the
      threshold count as emission only in islands (8-connected) whose peak reaches
      ``ISLAND_PEAK_SIGMA`` times the noise, the rule of radio source finders (PyBDSF's
      ``thresh_isl`` 3 and ``thresh_pix`` 5). Pure noise puts about one pixel in 700 above 3 sigma,
      so a 32 x 32 draw keeps one or two stray specks by chance, and scaled to a peak of 1 they
      weigh most beside a faint source. It also drops the real single-pixel islands: the real
      cutouts at 32 px keep 1.3-2.7 each (noise peaks of the full-resolution clip, resampled), and
      the ``cpu`` preset's draws 3-6 (see bench/RESULTS.md for what it does to the measures).
    """
    if estimate not in NOISE_ESTIMATES:
        raise ValueError(f"estimate must be one of {NOISE_ESTIMATES}, not {estimate!r}")
    if sigma <= 0:
        return images
    if estimate == "sigma-clipped":
        return _clip_at_sigma_clipped_level(images, sigma)
    if estimate == "sigma-clipped-islands":
        return _clip_at_sigma_clipped_level(images, sigma, island_peak=ISLAND_PEAK_SIGMA)
    out = images.clone()
    for image in out:
        below = image[image < -1.0]
        if below.numel() < min_pixels:
            continue
        rms = 1.4826 * float((-1.0 - below).median())
        image[image < -1.0 + sigma * rms] = -1.0
    return out


def _clip_at_sigma_clipped_level(images: torch.Tensor, sigma: float, island_peak: float | None = None) -> torch.Tensor:
    from astropy.stats import sigma_clipped_stats

    flat = images.detach().cpu().double().numpy().reshape(len(images), -1)
    _, level, rms = sigma_clipped_stats(flat, axis=1, sigma=3.0, maxiters=10, stdfunc="mad_std")
    shape = (-1,) + (1,) * (images.dim() - 1)
    level = torch.as_tensor(level, dtype=images.dtype, device=images.device).view(shape)
    rms = torch.as_tensor(rms, dtype=images.dtype, device=images.device).view(shape)
    background = images < level + sigma * rms
    if island_peak is not None:
        background = ~_islands_peaking(~background, images >= level + island_peak * rms)
    return torch.where(background, torch.full_like(images, -1.0), images - (level + 1.0))


def _islands_peaking(emission: torch.Tensor, peak: torch.Tensor) -> torch.Tensor:
    """(N, C, S, S) masks -> the ``emission`` pixels whose 8-connected island (per image and
    channel) holds at least one ``peak`` pixel."""
    from scipy import ndimage

    emission_np, peak_np = emission.cpu().numpy(), peak.cpu().numpy()
    kept = np.zeros_like(emission_np)
    for index in np.ndindex(emission_np.shape[:2]):
        labels, _ = ndimage.label(emission_np[index], structure=np.ones((3, 3), dtype=bool))
        peaking = np.unique(labels[peak_np[index] & emission_np[index]])
        kept[index] = np.isin(labels, peaking[peaking > 0])
    return torch.from_numpy(kept).to(emission.device)
