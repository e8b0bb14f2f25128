"""The class-conditional diffusion generator: noise schedules and samplers from diffusers, an
explicit training step and sampling loop, EMA weights, classifier-free guidance, checkpoints with
exact resume.

Images are (N, 1, S, S) float32 in [0, 1] as ``mlcore.ssl.data.prepare_images`` makes them
(noise-clipped, peak 1); the network sees them in [-1, 1].
"""

from __future__ import annotations

import math
import os
import pickle
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.swa_utils import AveragedModel

from .background import clip_background
from .config import NOISE_ESTIMATES, DiffusionConfig
from .network import build_network

Progress = Callable[[int, int, dict], None]  # (epoch, total epochs, last history row)


class GeneratorDataError(ValueError):
    """Training images or labels that a generator cannot use."""


class GeneratorWeightsError(ValueError):
    """A weights file that is not a generator of the architecture it claims (or not one at all)."""


def noise_scheduler(config: DiffusionConfig):
    """The training schedule (DDPM: ``add_noise``)."""
    from diffusers import DDPMScheduler

    return DDPMScheduler(
        num_train_timesteps=config.train_timesteps,
        beta_schedule=config.beta_schedule,
        prediction_type=config.prediction_type,
    )


def sampling_scheduler(config: DiffusionConfig, sampler: str | None = None):
    """The sampler on the training schedule: DPM-Solver++ (default), DDIM or ancestral DDPM."""
    from diffusers import DDIMScheduler, DDPMScheduler, DPMSolverMultistepScheduler

    # "trailing" spacing starts sampling at the last training step, where the schedule is pure
    # noise like the sampler's starting draw (Lin et al. 2024, arXiv:2305.08891).
    base = {**noise_scheduler(config).config, "timestep_spacing": "trailing"}
    name = sampler or config.sampler
    if name == "dpmsolver++":
        return DPMSolverMultistepScheduler.from_config(base, algorithm_type="dpmsolver++", solver_order=2)
    if name == "ddim":
        # Clipping only the image estimate, not the noise estimate, leaves DDIM's two out of step.
        return DDIMScheduler.from_config(base, clip_sample=False)
    return DDPMScheduler.from_config(base)


def random_symmetry(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """(B, C, S, S) -> the same images, each flipped and turned by a random quarter turn."""
    flip = torch.rand(len(x), generator=generator) < 0.5
    turns = torch.randint(4, (len(x),), generator=generator)
    x = torch.where(flip[:, None, None, None].to(x.device), x.flip(-1), x)
    return torch.stack([torch.rot90(image, int(k), dims=(-2, -1)) for image, k in zip(x, turns, strict=True)])


def training_step(
    model: nn.Module, scheduler, x0: torch.Tensor, y: torch.Tensor, config: DiffusionConfig, generator: torch.Generator
) -> torch.Tensor:
    """One denoising loss: x0 (B, 1, S, S) in [-1, 1], y (B,) class indices -> scalar MSE on the
    target of ``config.prediction_type`` (the noise, or v = sqrt(a) noise - sqrt(1 - a) x0)."""
    noise = torch.randn(x0.shape, generator=generator).to(x0.device)
    t = torch.randint(scheduler.config.num_train_timesteps, (len(x0),), generator=generator).to(x0.device)
    drop = torch.rand(len(x0), generator=generator).to(x0.device) < config.condition_dropout
    y = torch.where(drop, torch.full_like(y, config.unet.null_class), y)
    noisy = scheduler.add_noise(x0, noise, t)
    target = noise if config.prediction_type == "epsilon" else scheduler.get_velocity(x0, noise, t)
    return F.mse_loss(model(noisy, t, y), target)


@torch.no_grad()
def sample_loop(
    model: nn.Module,
    scheduler,
    classes: torch.Tensor,
    *,
    image_size: int,
    null_class: int,
    guidance: float,
    steps: int,
    generator: torch.Generator,
    channels: int = 1,
) -> torch.Tensor:
    """classes (N,) -> (N, C, S, S) samples, not clamped (background near -1). With guidance w the network's estimate
    (noise or v, both linear in the image) is f(x, none) + w (f(x, class) - f(x, none)); w = 1 is
    the plain conditional model."""
    device = classes.device
    scheduler.set_timesteps(steps)
    x = torch.randn((len(classes), channels, image_size, image_size), generator=generator).to(device)
    x = x * scheduler.init_noise_sigma
    guided = guidance != 1.0
    null = torch.full_like(classes, null_class)
    for t in scheduler.timesteps:
        steps_t = torch.full((len(classes),), int(t), device=device, dtype=torch.long)
        model_in = scheduler.scale_model_input(x, t)
        if guided:
            eps_cond, eps_free = model(
                torch.cat([model_in, model_in]), torch.cat([steps_t, steps_t]), torch.cat([classes, null])
            ).chunk(2)
            eps = eps_free + guidance * (eps_cond - eps_free)
        else:
            eps = model(model_in, steps_t, classes)
        x = scheduler.step(eps, t, x, generator=generator).prev_sample
    return x


def _ema(model: nn.Module, decay: float) -> AveragedModel:
    """EMA of the weights, with the usual warm-up (decay (1+n)/(10+n) until it reaches ``decay``)."""

    def average(averaged, current, num_averaged):
        rate = min(decay, (1 + float(num_averaged)) / (10 + float(num_averaged)))
        return rate * averaged + (1 - rate) * current

    return AveragedModel(model, avg_fn=average, use_buffers=True)


def _same_config(saved: dict | None, config: DiffusionConfig) -> bool:
    if not isinstance(saved, dict):
        return False
    try:
        return DiffusionConfig.from_dict(saved) == config
    except (TypeError, ValueError):  # a setting this version does not know, or no longer accepts
        return False


def _save_atomic(state: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    torch.save(state, partial)
    os.replace(partial, path)


def prepared_training_data(x, y, n_classes: int, image_size: int, seed: int):
    """Checked float32 images and int64 labels, the global seed set, and the run's own generator."""
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y).astype(np.int64)
    check_generator_data(x, y, n_classes, image_size)
    torch.manual_seed(seed)
    return x, y, torch.Generator().manual_seed(seed)


def check_generator_data(x: np.ndarray, y: np.ndarray, n_classes: int, image_size: int) -> None:
    if x.ndim != 4 or x.shape[1] != 1 or x.shape[2:] != (image_size, image_size):
        raise GeneratorDataError(f"images must be (N, 1, {image_size}, {image_size}), not {tuple(x.shape)}")
    if len(x) != len(y):
        raise GeneratorDataError(f"{len(x)} images but {len(y)} labels")
    if len(x) == 0:
        raise GeneratorDataError("no training images")
    if not np.isfinite(x).all():
        raise GeneratorDataError("images contain NaN or infinite pixels")
    if y.min() < 0 or y.max() >= n_classes:
        raise GeneratorDataError(f"labels must lie in 0..{n_classes - 1}")


class DiffusionGenerator:
    """Trains and samples the class-conditional diffusion model (scikit-learn style).

    ``checkpoint_path``: a checkpoint is written every ``checkpoint_every`` epochs and a later
    ``fit`` with the same path and config resumes from it exactly (weights, EMA, optimiser and
    random state). Sampling and ``save`` use the EMA weights.
    """

    def __init__(
        self,
        config: DiffusionConfig,
        *,
        device: str = "cpu",
        checkpoint_path: str | Path | None = None,
        checkpoint_every: int = 1,
        progress: Progress | None = None,
    ):
        self.config = config
        self.device = device
        self.checkpoint_path = checkpoint_path
        self.checkpoint_every = checkpoint_every
        self.progress = progress

    def fit(self, x, y) -> DiffusionGenerator:
        config = self.config
        x, y, generator = prepared_training_data(x, y, config.unet.n_classes, config.unet.image_size, config.seed)
        device = torch.device(self.device)
        model = build_network(config.unet).to(device)
        ema = _ema(model, config.ema_decay)
        optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        scheduler = noise_scheduler(config)
        epoch = step = 0
        history: list[dict] = []
        self.resumed_from_epoch_ = 0
        path = Path(self.checkpoint_path) if self.checkpoint_path else None
        if path and path.is_file():
            state = torch.load(path, map_location=device, weights_only=False)
            # Read through from_dict, so a checkpoint written before a setting existed (saved
            # without it) resumes when the run uses that setting's default.
            if _same_config(state.get("config"), config):
                model.load_state_dict(state["model"])
                ema.load_state_dict(state["ema"])
                optimizer.load_state_dict(state["optimizer"])
                generator.set_state(state["generator"])
                torch.set_rng_state(state["torch_rng"])
                epoch, step, history = state["epoch"], state["step"], state["history"]
                self.resumed_from_epoch_ = epoch

        self.training_model_ = ema.module  # what ``sample`` previews while training (EMA so far)
        data = torch.from_numpy(x * 2 - 1).to(device)  # (N, 1, S, S) in [-1, 1]
        labels = torch.from_numpy(y).to(device)
        batch = min(config.batch_size, len(data))
        steps_per_epoch = math.ceil(len(data) / batch)
        total_epochs = config.epochs
        if config.max_steps is not None:
            total_epochs = min(total_epochs, math.ceil(config.max_steps / steps_per_epoch))
        while epoch < total_epochs and (config.max_steps is None or step < config.max_steps):
            model.train()
            started, losses = time.monotonic(), []
            order = torch.randperm(len(data), generator=generator)
            for s in range(steps_per_epoch):
                if config.max_steps is not None and step >= config.max_steps:
                    break
                idx = order[s * batch : (s + 1) * batch].to(device)
                x0 = data[idx]
                if config.flips:
                    x0 = random_symmetry(x0, generator)
                loss = training_step(model, scheduler, x0, labels[idx], config, generator)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                ema.update_parameters(model)
                losses.append(float(loss.detach()))
                step += 1
            epoch += 1
            history.append(
                {"epoch": epoch, "step": step, "loss": float(np.mean(losses)), "seconds": time.monotonic() - started}
            )
            if path and (epoch % self.checkpoint_every == 0 or epoch == total_epochs):
                _save_atomic(
                    {
                        "config": config.as_dict(),
                        "model": model.state_dict(),
                        "ema": ema.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "generator": generator.get_state(),
                        "torch_rng": torch.get_rng_state(),
                        "epoch": epoch,
                        "step": step,
                        "history": history,
                    },
                    path,
                )
            if self.progress is not None:
                self.progress(epoch, total_epochs, history[-1])
        self.model_ = ema.module.eval()
        self.history_ = history
        return self

    def _model(self) -> nn.Module:
        """The fitted EMA weights, or during ``fit`` (from its ``progress``) the EMA weights so far."""
        model = getattr(self, "model_", None)
        if model is None:
            model = getattr(self, "training_model_", None)
        if model is None:
            raise RuntimeError("the generator is not fitted")
        return model

    def sample(
        self,
        classes,
        *,
        guidance: float | None = None,
        seed: int = 0,
        steps: int | None = None,
        sampler: str | None = None,
        noise_clip: float | None = None,
        noise_estimate: str | None = None,
        batch_size: int = 64,
    ) -> np.ndarray:
        """classes (N,) of class indices -> (N, 1, S, S) float32 images in [0, 1], their
        backgrounds noise-clipped at ``noise_clip`` (default: the config's; see
        ``clip_background``); the same seed gives the same images."""
        clip = (
            self.config.noise_clip if noise_clip is None else noise_clip,
            noise_estimate or self.config.noise_estimate,
        )
        return self.sample_with_clips(
            classes, {"": clip}, guidance=guidance, seed=seed, steps=steps, sampler=sampler, batch_size=batch_size
        )[""]

    def sample_with_clips(
        self,
        classes,
        clips: dict[str, tuple[float, str]],
        *,
        guidance: float | None = None,
        seed: int = 0,
        steps: int | None = None,
        sampler: str | None = None,
        batch_size: int = 64,
    ) -> dict[str, np.ndarray]:
        """The same draws clipped several ways from one pass of the sampler: ``clips`` maps a name
        to (noise_clip, noise_estimate), and each name gets what ``sample`` with those settings
        and the same seed gives."""
        config = self.config
        model = self._model()
        device = next(model.parameters()).device
        classes = np.asarray(classes, dtype=np.int64)
        if classes.size and (classes.min() < 0 or classes.max() >= config.unet.n_classes):
            raise ValueError(f"classes must lie in 0..{config.unet.n_classes - 1}")
        for _sigma, estimate in clips.values():
            if estimate not in NOISE_ESTIMATES:
                raise ValueError(f"noise_estimate must be one of {NOISE_ESTIMATES}, not {estimate!r}")
        generator = torch.Generator().manual_seed(seed)
        scheduler = sampling_scheduler(config, sampler)
        out = {name: [] for name in clips}
        was_training = model.training
        model.eval()
        for i in range(0, len(classes), batch_size):
            drawn = sample_loop(
                model,
                scheduler,
                torch.from_numpy(classes[i : i + batch_size]).to(device),
                image_size=config.unet.image_size,
                null_class=config.unet.null_class,
                guidance=config.guidance if guidance is None else guidance,
                steps=steps or config.sample_steps,
                generator=generator,
            )
            for name, (sigma, estimate) in clips.items():
                images = clip_background(drawn, sigma, estimate=estimate).clamp(-1, 1)
                out[name].append(((images + 1) / 2).cpu().numpy())
        model.train(was_training)
        size = config.unet.image_size
        empty = np.zeros((0, 1, size, size), dtype=np.float32)
        return {name: np.concatenate(batches) if batches else empty for name, batches in out.items()}

    def save(self, path: str | Path) -> None:
        """The EMA weights and the config, written atomically."""
        _save_atomic({"config": self.config.as_dict(), "model": self._model().state_dict()}, Path(path))

    @classmethod
    def load(cls, path: str | Path, *, device: str = "cpu") -> DiffusionGenerator:
        """A generator ready to sample, from a file of ``save`` or from a training checkpoint
        (``checkpoint_path`` of ``fit``; its EMA weights are taken, as ``save`` would)."""
        try:
            state = torch.load(path, map_location=device, weights_only=False)
            config = DiffusionConfig.from_dict(state["config"])
            model = build_network(config.unet).to(device)
            model.load_state_dict(ema_weights(state["ema"]) if "ema" in state else state["model"])
        except (RuntimeError, KeyError, TypeError, ValueError, EOFError, pickle.UnpicklingError) as exc:
            reason = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
            raise GeneratorWeightsError(f"{Path(path).name} does not hold weights of its generator: {reason}") from exc
        generator = cls(config, device=device)
        generator.model_ = model.eval()
        generator.history_ = list(state.get("history", []))
        return generator


def ema_weights(averaged_state: dict) -> dict:
    """The averaged network's own state dict out of an ``AveragedModel`` state dict (its keys are
    the network's behind ``module.``, beside the ``n_averaged`` counter)."""
    prefix = "module."
    return {key[len(prefix) :]: value for key, value in averaged_state.items() if key.startswith(prefix)}
