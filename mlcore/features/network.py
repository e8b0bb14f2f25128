"""A small convolutional encoder with a projection head (SimCLR layout)."""

from __future__ import annotations

import torch
from torch import nn

from .config import EncoderConfig


def _block(c_in: int, c_out: int, kernel: int, stride: int) -> list[nn.Module]:
    return [
        nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    ]


class ConvEncoder(nn.Module):
    """(B, 1, S, S) -> (B, feature_dim): four conv blocks (stride 2, 2, 2, 1; width w, 2w, 4w, 4w),
    global average pooling, a linear layer. ``project`` maps features to the loss space."""

    def __init__(self, config: EncoderConfig):
        super().__init__()
        w = config.width
        self.backbone = nn.Sequential(
            *_block(1, w, 5, 2),  # (B, w, S/2, S/2)
            *_block(w, 2 * w, 3, 2),  # (B, 2w, S/4, S/4)
            *_block(2 * w, 4 * w, 3, 2),  # (B, 4w, S/8, S/8)
            *_block(4 * w, 4 * w, 3, 1),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),  # (B, 4w)
            nn.Linear(4 * w, config.feature_dim),
        )
        self.projection = nn.Sequential(
            nn.ReLU(),
            nn.Linear(config.feature_dim, config.feature_dim),
            nn.ReLU(),
            nn.Linear(config.feature_dim, config.projection_dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, S, S) -> (B, feature_dim)."""
        return self.backbone(x)

    def project(self, features: torch.Tensor) -> torch.Tensor:
        """(B, feature_dim) -> (B, projection_dim)."""
        return self.projection(features)
