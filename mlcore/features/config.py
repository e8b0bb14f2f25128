"""Settings of the self-supervised encoder and its training."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class EncoderConfig:
    """A SimCLR-style run (Chen et al. 2020): two random views of each cutout (any rotation, flips,
    a small shift and zoom, Gaussian noise, a brightness stretch) pulled together, other cutouts of the
    batch pushed apart (NT-Xent loss at ``temperature``)."""

    image_size: int = 64  # inputs (N, 1, image_size, image_size) in [0, 1]
    width: int = 32  # channels of the first convolution; later ones 2x and 4x
    feature_dim: int = 128  # the representation that embed() returns
    projection_dim: int = 64  # the projection head's output, where the loss is computed
    temperature: float = 0.2
    batch_size: int = 128
    lr: float = 2e-3  # AdamW, cosine-decayed to 0 over the steps
    weight_decay: float = 1e-4
    # 600 steps left the features well short of the VDVAE reference on MiraBest; 4,000 (about half
    # an hour on one CPU core at 64 px) reach it (bench/RESULTS.md, feature probes)
    steps: int = 4000
    max_shift: float = 0.08  # fraction of the half width
    zoom: float = 0.15  # scale drawn uniformly in 1 +- zoom
    noise_std: float = 0.03
    seed: int = 0

    def __post_init__(self):
        if self.image_size < 16:
            raise ValueError("image_size must be at least 16 pixels")
        if min(self.width, self.feature_dim, self.projection_dim, self.batch_size, self.steps) < 1:
            raise ValueError("width, feature_dim, projection_dim, batch_size and steps must be positive")
        if self.batch_size < 2:
            raise ValueError("a contrastive batch needs at least two cutouts")
        if self.temperature <= 0:
            raise ValueError("temperature must be positive")

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> EncoderConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown encoder settings: {', '.join(unknown)}")
        return cls(**data)
