"""Noise-prediction networks: a U-Net of residual attention blocks (Astro-RAB, after GalCatDiff,
arXiv:2506.16255) and, as the ablation baseline, diffusers' plain residual ``UNet2DModel``.

Both take (x, t, y): noisy images (B, C, S, S), integer time steps (B,) and class indices (B,),
where index ``n_classes`` means "no class" (classifier-free guidance); both return the predicted
noise (B, C, S, S). This file holds blocks and networks only: no I/O, no training.

Astro-RAB's internals are not published. The design here, and why:
- Two branches read the same input. A convolutional residual branch (GroupNorm, SiLU, 3x3
  convolutions) keeps local detail: compact cores, hot spots, the edges of lobes. An attention
  branch lets every pixel look at the whole map: an FR II's two lobes sit far apart but must
  agree in brightness and lie on one axis, and a bent tail's jets curve about one host.
- Attention in every block, at every resolution, would cost (S^2)^2 on a 64 x 64 map. Keys and
  values are taken from the feature map average-pooled to ``attention_pool`` pixels a side, while
  queries stay at full resolution: global context at a cost linear in the image area (the
  spatial-reduction attention of pyramid vision transformers).
- Both branches are conditioned on the time step and the class embedding (scale and shift after
  the normalisation, as in diffusion U-Nets), since what "plausible" means changes with the noise
  level and the class.
- A learned gate mixes them per pixel and channel, from the conditioning and both branches'
  outputs: sigmoid(W_e e + W_f [local, global]). It starts at one half each; the network learns
  where it needs local or global information (for example at low noise levels, mostly local).
- The branches' last layers start at zero, so every block starts as the identity (stable early
  training with few images).

Measured (bench/RESULTS.md, "Which parts of the residual attention block matter"; 32 px, two
seeds): the attention branch and the gate raise class consistency, and the block without
attention (``mix="local"``) has the lowest Frechet distance. The learnt gates stay near one half,
with the lowest-resolution blocks leaning to attention. Hence ``mix="lowest"``: gated blocks only
at the lowest resolution and in the middle, attention-free blocks elsewhere: where one pixel's
view already spans the source, and where diffusion U-Nets usually keep attention. On two CPU
builds and every seed measured its draws had a lower FD than the gated-everywhere layout's and
the plain U-Net's, and class consistency as high or higher, with 89 % of the gated parameters
(bench/RESULTS.md, "Attention at the lowest resolution only"). It is the default
(config.DEFAULT_MIX); versions saved before it keep the gated layout they were trained with.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .config import BLOCK_MIXES, UNetConfig


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """(B,) integer steps -> (B, dim) sinusoidal embedding."""
    half = dim // 2
    freqs = torch.exp(-math.log(10_000) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = t.float()[:, None] * freqs[None]  # (B, half)
    return torch.cat([angles.sin(), angles.cos()], dim=1)


def _groups(channels: int) -> int:
    return min(8, channels)


def _zero(module: nn.Module) -> nn.Module:
    for parameter in module.parameters():
        nn.init.zeros_(parameter)
    return module


class ConditionedNorm(nn.Module):
    """GroupNorm whose scale and shift come from the conditioning embedding."""

    def __init__(self, channels: int, embed_dim: int):
        super().__init__()
        self.norm = nn.GroupNorm(_groups(channels), channels, affine=False)
        self.film = nn.Linear(embed_dim, 2 * channels)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        scale, shift = self.film(emb)[:, :, None, None].chunk(2, dim=1)  # (B, C, 1, 1) each
        return self.norm(x) * (1 + scale) + shift


class PooledAttention(nn.Module):
    """Self-attention with full-resolution queries and keys / values from a pooled map."""

    def __init__(self, channels: int, embed_dim: int, heads: int, pool: int):
        super().__init__()
        if channels % heads:
            raise ValueError(f"{channels} channels do not split into {heads} heads")
        self.heads, self.pool = heads, pool
        self.norm = ConditionedNorm(channels, embed_dim)
        self.query = nn.Conv2d(channels, channels, 1)
        self.key_value = nn.Conv2d(channels, 2 * channels, 1)
        self.out = _zero(nn.Conv2d(channels, channels, 1))

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        normed = self.norm(x, emb)
        q = self.query(normed).reshape(b, self.heads, c // self.heads, h * w).transpose(2, 3)  # (B, h, HW, d)
        pooled = F.adaptive_avg_pool2d(normed, min(self.pool, h))  # (B, C, P, P)
        k, v = self.key_value(pooled).reshape(b, 2, self.heads, c // self.heads, -1).transpose(3, 4).unbind(1)
        attended = F.scaled_dot_product_attention(q, k, v)  # (B, h, HW, d)
        return self.out(attended.transpose(2, 3).reshape(b, c, h, w))


class ResidualAttentionBlock(nn.Module):
    """Astro-RAB: a convolutional branch and an attention branch, mixed by a learned gate.

    ``mix`` selects the block's ablations (config.RAB_MIXES): "gated" is the design above; "fixed"
    mixes the two branches half and half, without the gate; "local" drops the attention branch,
    leaving a conditioned residual convolution block."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        embed_dim: int,
        heads: int,
        pool: int,
        dropout: float,
        mix: str = "gated",
    ):
        super().__init__()
        if mix not in BLOCK_MIXES:
            raise ValueError(f"a block's mix must be one of {BLOCK_MIXES}, not {mix!r}")
        self.mix = mix
        self.skip = nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()
        self.norm1 = ConditionedNorm(in_channels, embed_dim)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.norm2 = ConditionedNorm(out_channels, embed_dim)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = _zero(nn.Conv2d(out_channels, out_channels, 3, padding=1))
        if mix != "local":
            self.attention = PooledAttention(out_channels, embed_dim, heads, pool)
        if mix == "gated":
            self.gate_embed = nn.Linear(embed_dim, out_channels)
            self.gate_features = _zero(nn.Conv2d(2 * out_channels, out_channels, 1))

    def branches(self, x: torch.Tensor, emb: torch.Tensor) -> tuple:
        """(skip, local branch, attention branch or None, gate or None), each (B, C, H, W): the
        parts ``forward`` adds up, and what a study of the learned gate reads."""
        base = self.skip(x)
        local = self.conv1(F.silu(self.norm1(x, emb)))
        local = self.conv2(self.dropout(F.silu(self.norm2(local, emb))))
        if self.mix == "local":
            return base, local, None, None
        global_ = self.attention(base, emb)
        if self.mix == "fixed":
            return base, local, global_, None
        gate = torch.sigmoid(
            self.gate_embed(emb)[:, :, None, None] + self.gate_features(torch.cat([local, global_], 1))
        )
        return base, local, global_, gate

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        base, local, global_, gate = self.branches(x, emb)
        if global_ is None:
            return base + local
        if gate is None:
            return base + 0.5 * (local + global_)
        return base + gate * local + (1 - gate) * global_


class RABUNet(nn.Module):
    """A class-conditional U-Net whose every block is a residual attention block."""

    def __init__(self, config: UNetConfig):
        super().__init__()
        self.config = config
        base = config.base_channels
        embed_dim = 4 * base
        lowest = len(config.channel_mults) - 1
        self.time_mlp = nn.Sequential(nn.Linear(base, embed_dim), nn.SiLU(), nn.Linear(embed_dim, embed_dim))
        self.class_embed = nn.Embedding(config.n_classes + 1, embed_dim)  # the last one: no class
        self.stem = nn.Conv2d(config.in_channels, base, 3, padding=1)

        def block(cin: int, cout: int, level: int) -> ResidualAttentionBlock:
            mix = config.mix
            if mix == "lowest":  # attention only where the map is smallest
                mix = "gated" if level == lowest else "local"
            return ResidualAttentionBlock(
                cin, cout, embed_dim, config.heads, config.attention_pool, config.dropout, mix
            )

        channels = [base * m for m in config.channel_mults]
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        skips, current = [base], base
        for level, width in enumerate(channels):
            for _ in range(config.blocks_per_level):
                self.down.append(block(current, width, level))
                current = width
                skips.append(current)
            last = level == len(channels) - 1
            self.downsample.append(nn.Identity() if last else nn.Conv2d(current, current, 3, stride=2, padding=1))
            if not last:
                skips.append(current)
        self.middle = nn.ModuleList([block(current, current, lowest), block(current, current, lowest)])
        self.up = nn.ModuleList()
        self.upsample = nn.ModuleList()
        for level, width in reversed(list(enumerate(channels))):
            for _ in range(config.blocks_per_level + 1):
                self.up.append(block(current + skips.pop(), width, level))
                current = width
            self.upsample.append(
                nn.Identity()
                if level == 0
                else nn.Sequential(
                    nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(current, current, 3, padding=1)
                )
            )
        self.head = nn.Sequential(
            nn.GroupNorm(_groups(current), current),
            nn.SiLU(),
            _zero(nn.Conv2d(current, config.in_channels, 3, padding=1)),
        )

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        emb = self.time_mlp(timestep_embedding(t, self.config.base_channels)) + self.class_embed(y)  # (B, E)
        h = self.stem(x)
        skips = [h]
        blocks = iter(self.down)
        for level, downsample in enumerate(self.downsample):
            for _ in range(self.config.blocks_per_level):
                h = next(blocks)(h, emb)
                skips.append(h)
            if level < len(self.downsample) - 1:
                h = downsample(h)
                skips.append(h)
        for block in self.middle:
            h = block(h, emb)
        blocks = iter(self.up)
        for upsample in self.upsample:
            for _ in range(self.config.blocks_per_level + 1):
                h = next(blocks)(torch.cat([h, skips.pop()], 1), emb)
            h = upsample(h)
        return self.head(h)


class PlainUNet(nn.Module):
    """diffusers' residual ``UNet2DModel`` with a class embedding: the off-the-shelf baseline,
    sized like the RAB U-Net (same widths and levels, attention only in the lowest level)."""

    def __init__(self, config: UNetConfig):
        super().__init__()
        from diffusers import UNet2DModel

        levels = len(config.channel_mults)
        self.config = config
        self.net = UNet2DModel(
            sample_size=config.image_size,
            in_channels=config.in_channels,
            out_channels=config.in_channels,
            block_out_channels=tuple(config.base_channels * m for m in config.channel_mults),
            layers_per_block=config.blocks_per_level + 1,
            down_block_types=("DownBlock2D",) * (levels - 1) + ("AttnDownBlock2D",),
            up_block_types=("AttnUpBlock2D",) + ("UpBlock2D",) * (levels - 1),
            num_class_embeds=config.n_classes + 1,
            norm_num_groups=_groups(config.base_channels),
            attention_head_dim=max(8, config.base_channels * config.channel_mults[-1] // config.heads),
            dropout=config.dropout,
        )

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(x, t, class_labels=y).sample


def build_network(config: UNetConfig) -> nn.Module:
    return RABUNet(config) if config.network == "rab" else PlainUNet(config)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
