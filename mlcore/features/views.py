"""Random views of radio cutouts for contrastive training: radio sources have no preferred
orientation, so any rotation and flip keeps what a cutout is."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .config import EncoderConfig


def random_view(x: torch.Tensor, config: EncoderConfig, generator: torch.Generator) -> torch.Tensor:
    """(B, 1, S, S) in [0, 1] -> (B, 1, S, S): rotated by any angle, flipped half the time, shifted,
    zoomed, stretched in brightness (gamma 0.7-1.4) and given Gaussian noise; clipped to [0, 1]."""
    batch = x.shape[0]

    def uniform(low: float, high: float) -> torch.Tensor:
        return (torch.rand(batch, generator=generator) * (high - low) + low).to(x.device)

    angle = uniform(0.0, 2 * math.pi)
    scale = uniform(1 - config.zoom, 1 + config.zoom)
    flip = torch.where(torch.rand(batch, generator=generator) < 0.5, -1.0, 1.0).to(x.device)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.zeros(batch, 2, 3, device=x.device)  # (B, 2, 3) inverse map, output -> input
    theta[:, 0, 0], theta[:, 0, 1] = cos * flip, -sin
    theta[:, 1, 0], theta[:, 1, 1] = sin * flip, cos
    theta[:, :, 2] = (torch.rand(batch, 2, generator=generator).to(x.device) * 2 - 1) * config.max_shift
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    gamma = uniform(0.7, 1.4).view(batch, 1, 1, 1)
    out = out.clamp(min=0.0) ** gamma
    noise = torch.randn(out.shape, generator=generator).to(x.device) * config.noise_std
    return (out + noise).clamp(0.0, 1.0)


def dihedral_views(x: torch.Tensor) -> list[torch.Tensor]:
    """(B, C, S, S) -> the 8 rotations by multiples of 90 degrees and their mirror images."""
    out = []
    for flipped in (x, x.flip(-1)):
        out += [torch.rot90(flipped, k, dims=(-2, -1)) for k in range(4)]
    return out
