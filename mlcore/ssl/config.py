"""Settings of the classifier and its training; defaults are the published FixMatch settings for
MiraBest of Slijepcevic et al. (MNRAS 514, 2599, 2022, arXiv:2204.08816; public implementation
GitHub ``inigoval/fixmatch``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

METHODS = ("fixmatch", "supervised")
# multibranch: one Tang branch per input layer; d16, d8: the D_N-equivariant CNN (mlcore.ssl.equivariant)
ARCHITECTURES = ("tang", "multibranch", "d16", "d8")
EQUIVARIANT_ORDERS = {"d16": 16, "d8": 8}  # architecture -> N of the dihedral group D_N


@dataclass(frozen=True)
class NetworkConfig:
    architecture: str = "tang"
    in_channels: int = 1
    image_size: int = 150  # inputs are resampled to image_size x image_size pixels
    n_classes: int = 2
    dropout: float = 0.5

    def __post_init__(self):
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}, not {self.architecture!r}")
        if self.architecture in EQUIVARIANT_ORDERS and self.image_size % 4 != 2:
            raise ValueError(
                f"the {self.architecture} network needs an image size of 4k + 2 pixels (150, 70, 66...) so that its "
                f"pooling stays aligned with rotations, not {self.image_size}"
            )
        if self.architecture in EQUIVARIANT_ORDERS and self.image_size < 30:
            raise ValueError(f"images of {self.image_size} px are too small for the {self.architecture} network")
        if self.n_classes < 2:
            raise ValueError("a classifier needs at least two classes")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("dropout must lie in [0, 1)")


@dataclass(frozen=True)
class AugmentConfig:
    flip_p: float = 0.5  # horizontal flip probability
    max_rotation_deg: float = 180.0  # rotation uniform in +-max_rotation_deg
    mask_radius: float = 0.71  # circular mask radius as a fraction of the half width
    randaugment_n: int = 2  # strong: number of random grey-scale operations
    randaugment_max_magnitude: int = 10  # magnitude drawn uniformly from 1..max


@dataclass(frozen=True)
class FixMatchConfig:
    """One training run. ``method='supervised'`` trains the baseline (labelled loss only)."""

    method: str = "fixmatch"
    tau: float = 0.95  # confidence threshold for pseudo-labels
    lambda_u: float = 1.0  # weight of the unlabelled loss
    mu: int = 7  # unlabelled : labelled batch ratio
    batch_size: int = 20  # labelled batch
    lr: float = 5e-4  # Adam
    weight_decay: float = 0.0
    epochs: int = 800  # passes over the labelled set
    max_steps: int | None = None  # stop after this many optimiser steps (smoke runs)
    seed: int = 0
    network: NetworkConfig = NetworkConfig()
    augment: AugmentConfig = AugmentConfig()
    ece_bins: int = 15  # equal-width confidence bins for the expected calibration error
    mc_samples: int = 20  # MC-dropout forward passes for BALD
    # With a validation set: its accuracy every `val_every` epochs (and after the last), and the
    # weights of the best one kept at the end, as the public implementation selects its checkpoint.
    val_every: int = 3
    select_best: bool = True
    layers: tuple[str, ...] = ("radio",)  # image layers, one input channel each (radio: the cutout itself)

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, not {self.method!r}")
        if not 0.0 < self.tau <= 1.0:
            raise ValueError("tau must lie in (0, 1]")
        if self.mu < 1 or self.batch_size < 1 or self.epochs < 1:
            raise ValueError("mu, batch_size and epochs must be positive")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError("max_steps must be positive")
        if self.val_every < 1:
            raise ValueError("val_every must be positive")
        if not self.layers or len(set(self.layers)) != len(self.layers):
            raise ValueError("layers must name distinct image layers")
        if len(self.layers) != self.network.in_channels:
            raise ValueError(f"{len(self.layers)} layer(s) need a network of as many input channels")

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> FixMatchConfig:
        """Inverse of ``as_dict``; unknown keys are an error so that typos do not pass silently."""
        data = dict(data)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown training settings: {', '.join(unknown)}")
        if isinstance(data.get("network"), dict):
            data["network"] = NetworkConfig(**data["network"])
        if isinstance(data.get("augment"), dict):
            data["augment"] = AugmentConfig(**data["augment"])
        if isinstance(data.get("layers"), list):
            data["layers"] = tuple(data["layers"])
        return cls(**data)
