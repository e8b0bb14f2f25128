"""Training: the FixMatch / supervised loop as an explicit function, checkpoints, and the
scikit-learn-style ``SSLClassifier`` (fit / predict_proba / features / save / load)."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .augment import circular_mask, strong_augment, weak_augment
from .config import FixMatchConfig, NetworkConfig
from .losses import fixmatch_loss
from .network import build_network

WEIGHTS_FORMAT = "rgz-ssl-1"
DEFAULT_CONFIG = FixMatchConfig()
# progress(epoch, epochs, stats): called after every epoch with that epoch's row of the history
Progress = Callable[[int, int, dict], None]


class WeightsError(ValueError):
    """A weights file that cannot be read or does not match the architecture."""


class TrainingDataError(ValueError):
    """Training data that cannot train a classifier (no labels, one class, bad shapes)."""


def resolve_device(device: str | None) -> torch.device:
    """'auto' (or None) -> CUDA when available, else CPU."""
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def check_training_data(x: np.ndarray, y: np.ndarray, config: FixMatchConfig) -> None:
    """Raise ``TrainingDataError`` with a clear message for unusable labelled data."""
    n_classes = config.network.n_classes
    size = config.network.image_size
    if len(y) == 0:
        raise TrainingDataError("no labelled images to train on")
    if x.ndim != 4 or x.shape[1:] != (config.network.in_channels, size, size):
        raise TrainingDataError(f"images must be (N, 1, {size}, {size}), got {x.shape}")
    if len(x) != len(y):
        raise TrainingDataError(f"{len(x)} images but {len(y)} labels")
    present = np.unique(y)
    if present.min() < 0 or present.max() >= n_classes:
        raise TrainingDataError(f"labels must lie in 0..{n_classes - 1}")
    if len(present) < 2:
        raise TrainingDataError(f"the labels hold a single class ({int(present[0])}); at least two are needed")
    if not np.isfinite(x).all():
        raise TrainingDataError("the images hold NaN or infinite pixels")


def _place(model: nn.Module, device: torch.device) -> nn.Module:
    """Move the network to ``device``; on CPU in channels-last layout, in which oneDNN runs this
    network's forward and backward pass about 20 % faster (the weights file is the same)."""
    model = model.to(device)
    if device.type == "cpu":
        model = model.to(memory_format=torch.channels_last)
    return model


def _save_atomic(obj: dict, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def train_loop(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    x_l: torch.Tensor,
    y_l: torch.Tensor,
    x_u: torch.Tensor | None,
    config: FixMatchConfig,
    *,
    generator: torch.Generator,
    start_epoch: int = 0,
    start_step: int = 0,
    history: list[dict] | None = None,
    evaluate: Callable[[], dict] | None = None,
    on_epoch_end: Callable[[int, int, list[dict]], None] | None = None,
) -> list[dict]:
    """Train from ``start_epoch`` to ``config.epochs`` (or ``config.max_steps``).

    x_l (N, 1, S, S), y_l (N,), x_u (M, 1, S, S) or None on the model's device. An epoch is one
    pass over the labelled set in batches of ``batch_size``; each step also draws ``mu`` x batch
    unlabelled images. Returns the history, one dict per epoch.
    """
    history = list(history or [])
    aug = config.augment
    use_unlabelled = config.method == "fixmatch" and x_u is not None and len(x_u) > 0
    n = len(x_l)
    batch = min(config.batch_size, n)
    steps_per_epoch = max(1, math.ceil(n / batch))
    step = start_step
    for epoch in range(start_epoch, config.epochs):
        if config.max_steps is not None and step >= config.max_steps:
            break
        model.train()
        started = time.monotonic()
        order = torch.randperm(n, generator=generator)
        sums = {"loss": 0.0, "loss_x": 0.0, "loss_u": 0.0, "mask_rate": 0.0}
        correct = seen = steps = 0
        for s in range(steps_per_epoch):
            if config.max_steps is not None and step >= config.max_steps:
                break
            idx = order[s * batch : (s + 1) * batch]
            if len(idx) < batch:  # last partial batch: top up at random so every step has `batch` images
                idx = torch.cat([idx, torch.randint(n, (batch - len(idx),), generator=generator)])
            idx = idx.to(x_l.device)
            xb = weak_augment(x_l[idx], aug, generator)  # (B, 1, S, S)
            yb = y_l[idx]
            if use_unlabelled:
                uidx = torch.randint(len(x_u), (config.mu * batch,), generator=generator).to(x_u.device)
                xu = x_u[uidx]  # (muB, 1, S, S)
                inputs = torch.cat([xb, weak_augment(xu, aug, generator), strong_augment(xu, aug, generator)])
                logits = model(inputs)  # (B + 2 muB, K)
                logits_x = logits[:batch]
                logits_w, logits_s = logits[batch:].chunk(2)
            else:
                logits_x = model(xb)
                logits_w = logits_s = None
            loss, parts = fixmatch_loss(logits_x, yb, logits_w, logits_s, tau=config.tau, lambda_u=config.lambda_u)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            sums["loss"] += float(loss.detach())
            for key in ("loss_x", "loss_u", "mask_rate"):
                sums[key] += parts[key]
            correct += int((logits_x.argmax(1) == yb).sum())
            seen += len(yb)
            steps += 1
            step += 1
        if steps == 0:
            break
        row = {"epoch": epoch + 1, "step": step, **{k: v / steps for k, v in sums.items()}}
        row["train_accuracy"] = correct / max(seen, 1)
        last = epoch + 1 == config.epochs or (config.max_steps is not None and step >= config.max_steps)
        if evaluate is not None and ((epoch + 1) % config.val_every == 0 or last):
            row.update(evaluate())
        row["seconds"] = time.monotonic() - started
        history.append(row)
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1, step, history)
    return history


class SSLClassifier:
    """FixMatch (``config.method='fixmatch'``) or the supervised baseline on the Tang CNN.

    Inputs are prepared images (N, 1, S, S) in [0, 1] (``mlcore.ssl.data.prepare_images``) and
    integer labels 0..K-1. ``checkpoint_path``: a checkpoint is written after every
    ``checkpoint_every`` epochs and a later ``fit`` with the same path resumes from it.
    """

    def __init__(
        self,
        config: FixMatchConfig = DEFAULT_CONFIG,
        *,
        device: str | None = "auto",
        checkpoint_path: str | Path | None = None,
        checkpoint_every: int = 1,
        progress: Progress | None = None,
    ):
        self.config = config
        self.device = device
        self.checkpoint_path = checkpoint_path
        self.checkpoint_every = checkpoint_every
        self.progress = progress

    # -- training ---------------------------------------------------------------------------
    def fit(self, x, y, x_unlabelled=None, x_val=None, y_val=None, *, monitor=None) -> SSLClassifier:
        """Train on labelled ``x``, ``y`` (and ``x_unlabelled`` for FixMatch). With ``x_val``,
        ``y_val`` the validation accuracy is recorded every ``config.val_every`` epochs and, with
        ``config.select_best``, the best validated weights are kept (``selected_epoch_``).
        ``monitor=(x, y)``: a further labelled set whose accuracy is recorded beside it as
        ``monitor_accuracy`` (learning curves) and never used to select."""
        config = self.config
        x = np.asarray(x, dtype=np.float32)
        y = np.asarray(y).astype(np.int64)
        check_training_data(x, y, config)
        device = resolve_device(self.device)
        torch.manual_seed(config.seed)
        generator = torch.Generator().manual_seed(config.seed)
        model = _place(build_network(config.network), device)
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        start_epoch = start_step = 0
        history: list[dict] = []
        best: dict = {}  # {"epoch", "val_accuracy", "model"}: the best validated weights so far
        self.resumed_from_epoch_ = 0
        if self.checkpoint_path and Path(self.checkpoint_path).is_file():
            state = torch.load(self.checkpoint_path, map_location=device, weights_only=False)
            if state.get("config") == config.as_dict():
                model.load_state_dict(state["model"])
                optimizer.load_state_dict(state["optimizer"])
                generator.set_state(state["generator"])
                torch.set_rng_state(state["torch_rng"])
                start_epoch, start_step, history = state["epoch"], state["step"], state["history"]
                best = state.get("best") or {}
                self.resumed_from_epoch_ = start_epoch

        x_l = torch.from_numpy(x).to(device)
        y_l = torch.from_numpy(y).to(device)
        x_u = None
        if x_unlabelled is not None and len(x_unlabelled):
            x_u = torch.from_numpy(np.asarray(x_unlabelled, dtype=np.float32)).to(device)
        measured = {}
        if x_val is not None and len(x_val):
            measured["val_accuracy"] = (np.asarray(x_val, dtype=np.float32), np.asarray(y_val).astype(np.int64))
        if monitor is not None and len(monitor[0]):
            measured["monitor_accuracy"] = (np.asarray(monitor[0], dtype=np.float32), np.asarray(monitor[1]))

        def evaluate() -> dict:
            out = {}
            for key, (xe, ye) in measured.items():
                out[key] = float((_predict(model, xe, config, device).argmax(1) == ye).mean())
            return out

        total_epochs = config.epochs
        if config.max_steps is not None:
            total_epochs = min(
                total_epochs, math.ceil(config.max_steps / max(1, math.ceil(len(y) / config.batch_size)))
            )

        def on_epoch_end(epoch: int, step: int, rows: list[dict]) -> None:
            accuracy = rows[-1].get("val_accuracy")
            if config.select_best and accuracy is not None and accuracy > best.get("val_accuracy", -1.0):
                weights = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
                best.update(epoch=epoch, val_accuracy=accuracy, model=weights)
            if self.checkpoint_path and (epoch % self.checkpoint_every == 0 or epoch == config.epochs):
                _save_atomic(
                    {
                        "config": config.as_dict(),
                        "model": model.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "generator": generator.get_state(),
                        "torch_rng": torch.get_rng_state(),
                        "epoch": epoch,
                        "step": step,
                        "history": rows,
                        "best": best,
                    },
                    Path(self.checkpoint_path),
                )
            if self.progress is not None:
                self.progress(epoch, total_epochs, rows[-1])

        history = train_loop(
            model,
            optimizer,
            x_l,
            y_l,
            x_u,
            config,
            generator=generator,
            start_epoch=start_epoch,
            start_step=start_step,
            history=history,
            evaluate=evaluate if measured else None,
            on_epoch_end=on_epoch_end,
        )
        self.selected_epoch_ = history[-1]["epoch"] if history else 0
        if best:  # the best validated weights, not the last ones
            model.load_state_dict(best["model"])
            self.selected_epoch_ = best["epoch"]
        self.best_val_accuracy_ = best.get("val_accuracy")
        model.eval()
        self.model_ = model
        self.history_ = history
        self.n_classes_ = config.network.n_classes
        return self

    # -- inference --------------------------------------------------------------------------
    def _model(self) -> nn.Module:
        if not hasattr(self, "model_"):
            raise RuntimeError("the classifier is not fitted")
        return self.model_

    def predict_proba(self, x, batch_size: int = 256) -> np.ndarray:
        """(N, 1, S, S) -> (N, K) class probabilities (no augmentation; the circular mask applied)."""
        model = self._model()
        return _predict(
            model, np.asarray(x, dtype=np.float32), self.config, next(model.parameters()).device, batch_size
        )

    def predict(self, x) -> np.ndarray:
        return self.predict_proba(x).argmax(axis=1)

    def features(self, x, batch_size: int = 256) -> np.ndarray:
        """(N, 1, S, S) -> (N, 256) flattened convolutional features."""
        model = self._model()
        device = next(model.parameters()).device
        model.eval()
        mask = circular_mask(self.config.network.image_size, self.config.augment.mask_radius, device)
        out = []
        with torch.no_grad():
            for i in range(0, len(x), batch_size):
                xb = torch.from_numpy(np.asarray(x[i : i + batch_size], dtype=np.float32)).to(device) * mask
                out.append(model.embed(xb).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, model.n_features), dtype=np.float32)

    def mc_dropout_proba(self, x, samples: int | None = None, seed: int = 0, batch_size: int = 256) -> np.ndarray:
        """(N, 1, S, S) -> (T, N, K) probabilities of T forward passes with dropout on (BN frozen)."""
        model = self._model()
        device = next(model.parameters()).device
        samples = samples or self.config.mc_samples
        mask = circular_mask(self.config.network.image_size, self.config.augment.mask_radius, device)
        model.eval()
        for module in model.modules():
            if isinstance(module, nn.Dropout):
                module.train()
        out = np.zeros((samples, len(x), self.config.network.n_classes), dtype=np.float32)
        try:
            with torch.random.fork_rng(devices=[]), torch.no_grad():
                torch.manual_seed(seed)
                for i in range(0, len(x), batch_size):
                    xb = torch.from_numpy(np.asarray(x[i : i + batch_size], dtype=np.float32)).to(device) * mask
                    features = model.embed(xb)  # (B, 256), computed once per batch
                    for t in range(samples):
                        out[t, i : i + len(xb)] = torch.softmax(model.head(features), 1).cpu().numpy()
        finally:
            model.eval()
        return out

    # -- persistence ------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write the weights with the settings they were trained with."""
        _save_atomic(
            {"format": WEIGHTS_FORMAT, "config": self.config.as_dict(), "model": self._model().state_dict()},
            Path(path),
        )

    @classmethod
    def load(cls, path: str | Path, *, device: str | None = "auto", config: FixMatchConfig | None = None):
        """Read a weights file; ``WeightsError`` when it is unreadable or does not fit the
        architecture (of ``config`` when given, else of the settings stored with it)."""
        device_ = resolve_device(device)
        try:
            state = torch.load(path, map_location=device_, weights_only=False)
        except Exception as exc:  # pickle, zip and torch errors alike
            raise WeightsError(f"cannot read weights file {path}: {exc}") from exc
        if not isinstance(state, dict) or state.get("format") != WEIGHTS_FORMAT:
            raise WeightsError(f"{path} is not a weights file of this library (format {WEIGHTS_FORMAT})")
        try:
            stored = FixMatchConfig.from_dict(state["config"])
        except (TypeError, ValueError) as exc:
            raise WeightsError(f"{path}: unusable settings: {exc}") from exc
        config = config or stored
        model = _place(build_network(config.network), device_)
        try:
            model.load_state_dict(state["model"])
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()
            detail = " ".join(line.strip() for line in first[:3])
            raise WeightsError(
                f"{path} does not match the {config.network.architecture} architecture "
                f"({config.network.n_classes} classes, {config.network.image_size} px): {detail}"
            ) from exc
        model.eval()
        clf = cls(config, device=str(device_))
        clf.model_ = model
        clf.history_ = []
        clf.n_classes_ = config.network.n_classes
        return clf


def _predict(model: nn.Module, x: np.ndarray, config: FixMatchConfig, device, batch_size: int = 256) -> np.ndarray:
    was_training = model.training
    model.eval()
    mask = circular_mask(config.network.image_size, config.augment.mask_radius, device)
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            xb = torch.from_numpy(x[i : i + batch_size]).to(device) * mask  # (B, 1, S, S)
            out.append(torch.softmax(model(xb), dim=1).cpu().numpy())
    model.train(was_training)
    if not out:
        return np.zeros((0, config.network.n_classes), dtype=np.float32)
    return np.concatenate(out)


def small_config(**overrides) -> FixMatchConfig:
    """Settings for smoke runs: tiny batches, a few steps (tests and CI only)."""
    base = {"batch_size": 4, "mu": 2, "epochs": 2, "max_steps": 4, "mc_samples": 4}
    base.update(overrides)
    return FixMatchConfig(network=NetworkConfig(), **base)
