"""The "Tang" CNN of the FixMatch radio-galaxy study (Tang et al. 2019 layout), 1x150x150 input, and
its multi-branch form for several image layers (one convolutional branch per layer, fused before
the head, as for images plus kinematic maps in arXiv:2311.10351)."""

from __future__ import annotations

from dataclasses import replace

import torch
from torch import nn

from .config import EQUIVARIANT_ORDERS, NetworkConfig

DEFAULT_NETWORK = NetworkConfig()


class TangCNN(nn.Module):
    """conv 6@11x11 -> ReLU -> maxpool 2; conv 16@5x5/2 -> BN -> ReLU -> maxpool 3/2;
    3 x (conv 3x3 -> BN -> ReLU) with 24, 24, 16 channels -> maxpool 5/4; flatten (256 for
    150x150 input) -> 3 x [Linear 256, ReLU, Dropout] -> Linear n_classes."""

    def __init__(self, config: NetworkConfig = DEFAULT_NETWORK):
        super().__init__()
        self.config = config
        c = config.in_channels
        self.features = nn.Sequential(
            nn.Conv2d(c, 6, 11, padding=1),  # (B, 6, 142, 142); padding as in inigoval/fixmatch
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),  # (B, 6, 71, 71)
            nn.Conv2d(6, 16, 5, stride=2, padding=1),  # (B, 16, 35, 35)
            nn.BatchNorm2d(16),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2),  # (B, 16, 17, 17)
            nn.Conv2d(16, 24, 3, padding=1),
            nn.BatchNorm2d(24),
            nn.ReLU(inplace=True),
            nn.Conv2d(24, 24, 3, padding=1),
            nn.BatchNorm2d(24),
            nn.ReLU(inplace=True),
            nn.Conv2d(24, 16, 3, padding=1),  # (B, 16, 17, 17)
            nn.BatchNorm2d(16),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(5, stride=4),  # (B, 16, 4, 4)
            nn.Flatten(),  # (B, 256)
        )
        try:
            with torch.no_grad():
                n_flat = self.features(torch.zeros(1, c, config.image_size, config.image_size)).shape[1]
        except RuntimeError as exc:
            size = config.image_size
            raise ValueError(f"images of {size} px are too small for the Tang CNN (64 px at least)") from exc
        self.n_features = n_flat
        layers: list[nn.Module] = []
        width = n_flat
        for _ in range(3):
            layers += [nn.Linear(width, 256), nn.ReLU(inplace=True), nn.Dropout(config.dropout)]
            width = 256
        layers.append(nn.Linear(width, config.n_classes))
        self.head = nn.Sequential(*layers)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, 256) flattened convolutional features (Frechet-distance space)."""
        return self.features(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, n_classes) logits."""
        return self.head(self.features(x))


def _head(width: int, config: NetworkConfig) -> nn.Sequential:
    layers: list[nn.Module] = []
    for _ in range(3):
        layers += [nn.Linear(width, 256), nn.ReLU(inplace=True), nn.Dropout(config.dropout)]
        width = 256
    layers.append(nn.Linear(width, config.n_classes))
    return nn.Sequential(*layers)


class MultiBranchCNN(nn.Module):
    """One Tang convolutional branch per input channel (layer: radio, infrared...), their features
    concatenated, then the Tang head: (B, C, H, W) -> (B, n_classes)."""

    def __init__(self, config: NetworkConfig = DEFAULT_NETWORK):
        super().__init__()
        self.config = config
        single = replace(config, in_channels=1, architecture="tang")
        self.branches = nn.ModuleList(TangCNN(single).features for _ in range(config.in_channels))
        self.n_features = TangCNN(single).n_features * config.in_channels
        self.head = _head(self.n_features, config)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, C * 256): each layer's branch features, side by side."""
        return torch.cat([branch(x[:, i : i + 1]) for i, branch in enumerate(self.branches)], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, n_classes) logits."""
        return self.head(self.embed(x))


def build_network(config: NetworkConfig) -> nn.Module:
    if config.architecture == "tang":
        return TangCNN(config)
    if config.architecture == "multibranch":
        return MultiBranchCNN(config)
    if config.architecture in EQUIVARIANT_ORDERS:
        from .equivariant import EquivariantCNN  # escnn only where it is used

        return EquivariantCNN(config)
    raise ValueError(f"unknown architecture {config.architecture!r}")
