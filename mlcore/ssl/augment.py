"""Weak and strong augmentations for radio images, batched on tensors (CPU or CUDA).

Weak: horizontal flip, rotation uniform in +-180 degrees, circular mask. Strong: the weak one,
then ``n`` RandAugment grey-scale operations with magnitude 1..10 (autocontrast, brightness,
contrast, equalize, identity, posterize, sharpness, shear x/y, translate x/y). Inputs and outputs
are (B, 1, H, W) in [0, 1].
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .config import AugmentConfig

OPS = (
    "autocontrast",
    "brightness",
    "contrast",
    "equalize",
    "identity",
    "posterize",
    "sharpness",
    "shear_x",
    "shear_y",
    "translate_x",
    "translate_y",
)


def circular_mask(size: int, radius: float, device=None) -> torch.Tensor:
    """(size, size) float mask: 1 inside a centred disc of radius ``radius`` x half width, else 0."""
    coords = torch.linspace(-1.0, 1.0, size, device=device)
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")
    return ((xx**2 + yy**2) <= radius**2).float()


def _affine(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W), (B, 2, 3) -> (B, C, H, W) resampled, zero outside."""
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def weak_augment(x: torch.Tensor, config: AugmentConfig, generator: torch.Generator | None = None) -> torch.Tensor:
    """(B, 1, H, W) -> (B, 1, H, W): random flip, rotation, circular mask."""
    b, device = x.shape[0], x.device
    flip = torch.rand(b, generator=generator).to(device) < config.flip_p
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    angle = (torch.rand(b, generator=generator) * 2 - 1).to(device) * math.radians(config.max_rotation_deg)
    cos, sin = torch.cos(angle), torch.sin(angle)
    zero = torch.zeros_like(cos)
    theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)  # (B, 2, 3)
    x = _affine(x, theta)
    return x * circular_mask(x.shape[-1], config.mask_radius, device)


def _equalize(x: torch.Tensor, levels: int = 256) -> torch.Tensor:
    """Histogram equalisation per image over ``levels`` grey levels; (B, 1, H, W)."""
    b = x.shape[0]
    q = (x.clamp(0, 1) * (levels - 1)).round().long().flatten(1)  # (B, HW)
    hist = torch.zeros(b, levels, device=x.device).scatter_add_(1, q, torch.ones_like(q, dtype=torch.float))
    cdf = hist.cumsum(1)
    cdf_min = torch.where(hist > 0, cdf, torch.full_like(cdf, float("inf"))).min(1, keepdim=True).values
    span = (cdf[:, -1:] - cdf_min).clamp_min(1.0)
    lut = ((cdf - cdf_min) / span).clamp(0, 1)  # (B, levels)
    return lut.gather(1, q).view_as(x)


def _apply_op(op: str, x: torch.Tensor, magnitude: torch.Tensor, sign: torch.Tensor) -> torch.Tensor:
    """One operation on a sub-batch; magnitude (B,) in [0.1, 1], sign (B,) in {-1, 1}."""
    m = magnitude[:, None, None, None]
    s = sign[:, None, None, None]
    if op == "identity":
        return x
    if op == "autocontrast":
        lo = x.amin(dim=(2, 3), keepdim=True)
        hi = x.amax(dim=(2, 3), keepdim=True)
        return (x - lo) / (hi - lo).clamp_min(1e-6)
    if op == "brightness":
        return x * (1 + s * 0.9 * m)
    if op == "contrast":
        mean = x.mean(dim=(2, 3), keepdim=True)
        return mean + (1 + s * 0.9 * m) * (x - mean)
    if op == "equalize":
        return _equalize(x)
    if op == "posterize":
        bits = (8 - (m * 4).round()).clamp(4, 8)  # 4..8 bits
        step = 2.0 ** (8 - bits)
        return torch.floor(x * 255 / step) * step / 255
    if op == "sharpness":
        kernel = torch.tensor([[1.0, 1.0, 1.0], [1.0, 5.0, 1.0], [1.0, 1.0, 1.0]], device=x.device) / 13
        channels = x.shape[1]  # each layer smoothed on its own
        weight = kernel[None, None].expand(channels, 1, 3, 3)
        smooth = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), weight, groups=channels)
        return smooth + (1 + s * 0.9 * m) * (x - smooth)
    b = x.shape[0]
    theta = torch.zeros(b, 2, 3, device=x.device)
    theta[:, 0, 0] = 1
    theta[:, 1, 1] = 1
    amount = (sign * magnitude).to(x.device)
    if op == "shear_x":
        theta[:, 0, 1] = 0.3 * amount
    elif op == "shear_y":
        theta[:, 1, 0] = 0.3 * amount
    elif op == "translate_x":
        theta[:, 0, 2] = 0.6 * amount  # grid units: 0.6 = 30% of the width
    elif op == "translate_y":
        theta[:, 1, 2] = 0.6 * amount
    else:
        raise ValueError(f"unknown operation {op!r}")
    return _affine(x, theta)


def rand_augment(x: torch.Tensor, config: AugmentConfig, generator: torch.Generator | None = None) -> torch.Tensor:
    """(B, 1, H, W) -> (B, 1, H, W): ``randaugment_n`` random operations per image."""
    b = x.shape[0]
    for _ in range(config.randaugment_n):
        choice = torch.randint(len(OPS), (b,), generator=generator)
        magnitude = torch.randint(1, config.randaugment_max_magnitude + 1, (b,), generator=generator).float()
        magnitude = magnitude / config.randaugment_max_magnitude
        sign = torch.where(torch.rand(b, generator=generator) < 0.5, -1.0, 1.0)
        out = x.clone()
        for k, op in enumerate(OPS):
            picked = (choice == k).nonzero().flatten()
            if picked.numel() == 0 or op == "identity":
                continue
            idx = picked.to(x.device)
            out[idx] = _apply_op(op, x[idx], magnitude[picked].to(x.device), sign[picked].to(x.device))
        x = out.clamp(0, 1)
    return x


def strong_augment(x: torch.Tensor, config: AugmentConfig, generator: torch.Generator | None = None) -> torch.Tensor:
    """(B, 1, H, W) -> (B, 1, H, W): the weak augmentation, then RandAugment."""
    return rand_augment(weak_augment(x, config, generator), config, generator)
