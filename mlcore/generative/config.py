"""Settings of the generators: the diffusion model (network, noise schedule, training, sampling)
and the conditional VAE baseline; presets for CI, this CPU and an accelerator.

Sources: GalCatDiff (arXiv:2506.16255), its Astro-RAB residual attention blocks and class
embedding; Bastien et al. (MNRAS 503, 3351, 2021, arXiv:2102.01007; public code GitHub
``joshen1307/RAGA``), the conditional VAE and RAMIS.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

NETWORKS = ("rab", "plain")  # Astro-RAB U-Net, or diffusers' UNet2DModel (the ablation baseline)
SAMPLERS = ("dpmsolver++", "ddim", "ddpm")
BETA_SCHEDULES = ("squaredcos_cap_v2", "linear", "scaled_linear")
# What the network predicts. "v_prediction" (Salimans & Ho 2022) is the default: with "epsilon" the
# image estimate at high noise is the noise error divided by sqrt(alpha_bar) (about 0.06 at the
# first sampling step of the cosine schedule), so a short CPU training run left the deterministic
# samplers (DPM-Solver++, DDIM) with noise they never removed; v keeps that estimate well scaled.
PREDICTION_TYPES = ("v_prediction", "epsilon")
# How a sample's background level and noise are measured for the clip, and which pixels above the
# threshold count as emission (see background.clip_background).
NOISE_ESTIMATES = ("sigma-clipped", "below-background", "sigma-clipped-islands")
# How the residual attention blocks combine their branches: the learned gate in every block (the
# design); its ablations, a fixed half-and-half mix and no attention branch at all; or "lowest",
# gated blocks at the lowest resolution (and the middle) and attention-free blocks elsewhere, where
# diffusion U-Nets usually place attention (see network.py).
RAB_MIXES = ("gated", "fixed", "local", "lowest")
BLOCK_MIXES = ("gated", "fixed", "local")  # what one block can be
# The default since the ablations (why: network.py). Versions saved before it read back as
# "gated", the layout they were trained with (DiffusionConfig.from_dict).
DEFAULT_MIX = "lowest"


@dataclass(frozen=True)
class UNetConfig:
    network: str = "rab"
    image_size: int = 64
    in_channels: int = 1
    n_classes: int = 4  # a learned embedding per class, plus one for "no class" (guidance)
    base_channels: int = 32
    channel_mults: tuple[int, ...] = (1, 2, 2)
    blocks_per_level: int = 1
    heads: int = 2
    # Keys and values of every block's attention come from the feature map pooled to this many
    # pixels a side: global context at a cost linear in the image area (see network.py).
    attention_pool: int = 8
    dropout: float = 0.0
    mix: str = DEFAULT_MIX  # the residual attention blocks' branch mix (RAB_MIXES)

    def __post_init__(self):
        if self.network not in NETWORKS:
            raise ValueError(f"network must be one of {NETWORKS}, not {self.network!r}")
        if self.n_classes < 1:
            raise ValueError("n_classes must be at least 1")
        if self.mix not in RAB_MIXES:
            raise ValueError(f"mix must be one of {RAB_MIXES}, not {self.mix!r}")
        if self.network != "rab" and self.mix != DEFAULT_MIX:
            raise ValueError(
                f"mix {self.mix!r} is a setting of the residual attention blocks: network must be 'rab' "
                f"(the {self.network!r} network has none; leave mix at {DEFAULT_MIX!r})"
            )
        if self.image_size % (2 ** (len(self.channel_mults) - 1)):
            raise ValueError(
                f"image_size {self.image_size} must divide by 2^{len(self.channel_mults) - 1} (one halving per level)"
            )
        if self.base_channels % 8 or any(m < 1 for m in self.channel_mults):
            raise ValueError("base_channels must be a multiple of 8 and channel multipliers positive")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("dropout must lie in [0, 1)")

    @property
    def null_class(self) -> int:
        return self.n_classes


@dataclass(frozen=True)
class DiffusionConfig:
    """One training run of the diffusion generator and how it samples."""

    unet: UNetConfig = field(default_factory=UNetConfig)
    train_timesteps: int = 1000
    beta_schedule: str = "squaredcos_cap_v2"
    prediction_type: str = "v_prediction"
    condition_dropout: float = 0.1  # share of training examples shown without their class
    guidance: float = 2.0  # classifier-free guidance scale at sampling (1: conditional only)
    sampler: str = "dpmsolver++"
    sample_steps: int = 25
    # Samples' backgrounds are noise-clipped like the training images were: pixels within this many
    # times their own background noise of the background are set to it (0: samples as drawn).
    noise_clip: float = 3.0
    noise_estimate: str = "sigma-clipped"
    batch_size: int = 32
    lr: float = 2e-4
    weight_decay: float = 0.0
    ema_decay: float = 0.999
    epochs: int = 100  # passes over the training images
    max_steps: int | None = None  # stop after this many optimiser steps
    flips: bool = True  # random flips and quarter turns: radio sources have no preferred orientation
    seed: int = 0

    def __post_init__(self):
        if self.beta_schedule not in BETA_SCHEDULES:
            raise ValueError(f"beta_schedule must be one of {BETA_SCHEDULES}")
        if self.prediction_type not in PREDICTION_TYPES:
            raise ValueError(f"prediction_type must be one of {PREDICTION_TYPES}, not {self.prediction_type!r}")
        if self.sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {SAMPLERS}, not {self.sampler!r}")
        if not 0.0 <= self.condition_dropout < 1.0:
            raise ValueError("condition_dropout must lie in [0, 1)")
        if self.guidance < 0:
            raise ValueError("guidance must be 0 or more")
        if self.noise_clip < 0:
            raise ValueError("noise_clip must be 0 or more")
        if self.noise_estimate not in NOISE_ESTIMATES:
            raise ValueError(f"noise_estimate must be one of {NOISE_ESTIMATES}, not {self.noise_estimate!r}")
        if self.batch_size < 1 or self.epochs < 1 or self.sample_steps < 1 or self.train_timesteps < 2:
            raise ValueError("batch_size, epochs, sample_steps and train_timesteps must be positive")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError("max_steps must be positive")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError("ema_decay must lie in [0, 1)")

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> DiffusionConfig:
        data = dict(data)
        data.setdefault("prediction_type", "epsilon")  # weights saved before the setting existed
        data.setdefault("noise_clip", 0.0)  # versions saved before it sample as they always did
        data.setdefault("noise_estimate", "below-background")  # likewise those clipped before it
        unet = dict(data.pop("unet", {}))
        if unet.get("network", "rab") == "rab":
            unet.setdefault("mix", "gated")  # saved before the mix was a setting: every block was gated
        else:
            unet.pop("mix", None)  # the plain U-Net has no blocks to mix (saved as "gated" before the default moved)
        if "channel_mults" in unet:
            unet["channel_mults"] = tuple(unet["channel_mults"])
        return cls(unet=UNetConfig(**unet), **data)


@dataclass(frozen=True)
class VAEConfig:
    """The fully connected conditional VAE of Bastien et al. 2021 (public code ``joshen1307/RAGA``:
    flattened input, 4096-2048-1024-512-256 to the latent, Bernoulli likelihood, one-hot label)."""

    image_size: int = 64
    n_classes: int = 4
    latent: int = 32
    hidden: tuple[int, ...] = (2048, 1024, 512, 256)
    batch_size: int = 32
    lr: float = 1e-3
    epochs: int = 100
    max_steps: int | None = None
    flips: bool = True
    seed: int = 0

    def __post_init__(self):
        if self.latent < 1 or not self.hidden or any(h < 1 for h in self.hidden):
            raise ValueError("latent and hidden sizes must be positive")
        if self.n_classes < 1 or self.batch_size < 1 or self.epochs < 1:
            raise ValueError("n_classes, batch_size and epochs must be positive")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError("max_steps must be positive")

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> VAEConfig:
        data = dict(data)
        data["hidden"] = tuple(data.get("hidden", cls.hidden))
        return cls(**data)


# Presets: `tiny` trains in seconds (tests, --quick); `cpu` is sized for about 90 minutes on two
# CPU cores (see bench/RESULTS.md); `gpu` is the full-size run for an accelerator.
PRESETS: dict[str, DiffusionConfig] = {
    "tiny": DiffusionConfig(
        unet=UNetConfig(image_size=32, base_channels=16, channel_mults=(1, 2), heads=1, attention_pool=4),
        batch_size=16,
        epochs=2,
        max_steps=30,
        sample_steps=10,
        ema_decay=0.9,
    ),
    "cpu": DiffusionConfig(
        unet=UNetConfig(image_size=64, base_channels=32, channel_mults=(1, 2, 2), heads=2, attention_pool=8),
        batch_size=32,
        epochs=25,  # about 90 minutes on one thread of these cores (bench/RESULTS.md)
        lr=3e-4,
    ),
    "gpu": DiffusionConfig(
        unet=UNetConfig(
            image_size=64, base_channels=128, channel_mults=(1, 2, 2, 2), blocks_per_level=2, heads=4, attention_pool=16
        ),
        batch_size=128,
        epochs=2000,
        lr=1e-4,
        ema_decay=0.9999,
    ),
}


def preset(name: str, **overrides) -> DiffusionConfig:
    """A preset with top-level fields replaced; ``image_size`` and ``n_classes`` reach the network."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    config = PRESETS[name]
    unet_fields = {k: overrides.pop(k) for k in ("image_size", "n_classes", "network", "mix") if k in overrides}
    if unet_fields:
        config = replace(config, unet=replace(config.unet, **unet_fields))
    return replace(config, **overrides)
