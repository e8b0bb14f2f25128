"""The scikit-learn-style ``SSLClassifier``: fit / predict_proba / features / mc_dropout_proba /
save / load around the training loop (``loop``) and its files (``checkpoint``)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .augment import circular_mask
from .checkpoint import checkpoint_resume, checkpoint_save, weights_load_into, weights_read, weights_save
from .config import FixMatchConfig
from .loop import train_loop
from .network import build_network

DEFAULT_CONFIG = FixMatchConfig()
# progress(epoch, epochs, stats): called after every epoch with that epoch's row of the history
Progress = Callable[[int, int, dict], None]


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


def _epochs_to_run(config: FixMatchConfig, n_labelled: int) -> int:
    """The epochs a fit will run: ``config.epochs`` or fewer when ``config.max_steps`` ends it first."""
    if config.max_steps is None:
        return config.epochs
    steps_per_epoch = max(1, math.ceil(n_labelled / config.batch_size))
    return min(config.epochs, math.ceil(config.max_steps / steps_per_epoch))


def _evaluation_sets(x_val, y_val, monitor) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """History key -> (images, labels) measured after an epoch: validation and the monitor set."""
    measured = {}
    if x_val is not None and len(x_val):
        measured["val_accuracy"] = (np.asarray(x_val, dtype=np.float32), np.asarray(y_val).astype(np.int64))
    if monitor is not None and len(monitor[0]):
        measured["monitor_accuracy"] = (np.asarray(monitor[0], dtype=np.float32), np.asarray(monitor[1]))
    return measured


class SSLClassifier:
    """FixMatch (``config.method='fixmatch'``) or the supervised baseline on the Tang CNN.

    Inputs are prepared images (N, 1, S, S) in [0, 1] (``mlcore.ssl.data.prepare_images``) and
    integer labels 0..K-1. ``checkpoint_path``: a checkpoint is written after every
    ``checkpoint_every`` epochs and a later ``fit`` with the same path resumes from it.
    ``warm_start``: a later ``fit`` continues from the weights of the previous one (with a fresh
    optimiser and schedule) instead of starting from random weights, as in scikit-learn; active
    learning retrains this way after every batch of new labels.
    """

    def __init__(
        self,
        config: FixMatchConfig = DEFAULT_CONFIG,
        *,
        device: str | None = "auto",
        checkpoint_path: str | Path | None = None,
        checkpoint_every: int = 1,
        progress: Progress | None = None,
        warm_start: bool = False,
    ):
        self.config = config
        self.warm_start = warm_start
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
        previous = getattr(self, "model_", None)
        warm = self.warm_start and getattr(previous, "config", None) == config.network  # same architecture only
        model = _place(previous if warm else build_network(config.network), device)
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        state = checkpoint_resume(
            None if warm else self.checkpoint_path,
            config=config,
            model=model,
            optimizer=optimizer,
            generator=generator,
            device=device,
        )
        self.resumed_from_epoch_ = state.epoch

        x_u = None
        if x_unlabelled is not None and len(x_unlabelled):
            x_u = torch.from_numpy(np.asarray(x_unlabelled, dtype=np.float32)).to(device)
        measured = _evaluation_sets(x_val, y_val, monitor)

        def evaluate() -> dict:
            return {
                key: float((_predict(model, xe, config, device).argmax(1) == ye).mean())
                for key, (xe, ye) in measured.items()
            }

        total_epochs = _epochs_to_run(config, len(y))

        def on_epoch_end(epoch: int, step: int, rows: list[dict]) -> None:
            accuracy = rows[-1].get("val_accuracy")
            if config.select_best and accuracy is not None and accuracy > state.best.get("val_accuracy", -1.0):
                weights = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
                state.best.update(epoch=epoch, val_accuracy=accuracy, model=weights)
            if self.checkpoint_path and (epoch % self.checkpoint_every == 0 or epoch == config.epochs):
                state.epoch, state.step, state.history = epoch, step, rows
                checkpoint_save(
                    self.checkpoint_path,
                    config=config,
                    model=model,
                    optimizer=optimizer,
                    generator=generator,
                    state=state,
                )
            if self.progress is not None:
                self.progress(epoch, total_epochs, rows[-1])

        history = train_loop(
            model,
            optimizer,
            torch.from_numpy(x).to(device),
            torch.from_numpy(y).to(device),
            x_u,
            config,
            generator=generator,
            start_epoch=state.epoch,
            start_step=state.step,
            history=state.history,
            evaluate=evaluate if measured else None,
            on_epoch_end=on_epoch_end,
        )
        return self._fitted(model, history, state.best)

    def _fitted(self, model: nn.Module, history: list[dict], best: dict) -> SSLClassifier:
        """Keep the best validated weights (when any were validated), not the last ones."""
        self.selected_epoch_ = history[-1]["epoch"] if history else 0
        if best:
            model.load_state_dict(best["model"])
            self.selected_epoch_ = best["epoch"]
        self.best_val_accuracy_ = best.get("val_accuracy")
        model.eval()
        self.model_ = model
        self.history_ = history
        self.n_classes_ = self.config.network.n_classes
        return self

    # -- inference --------------------------------------------------------------------------
    def _model(self) -> nn.Module:
        if not hasattr(self, "model_"):
            raise RuntimeError("the classifier is not fitted")
        return self.model_

    def predict_proba(self, x, batch_size: int = 256, *, rotations: bool = False) -> np.ndarray:
        """(N, 1, S, S) -> (N, K) class probabilities (the circular mask applied). ``rotations``:
        test-time averaging, the mean over the 8 right-angle rotations and mirror images of each
        cutout (radio sources have no preferred orientation)."""
        model = self._model()
        device = next(model.parameters()).device
        return _predict(model, np.asarray(x, dtype=np.float32), self.config, device, batch_size, rotations=rotations)

    def predict(self, x, *, rotations: bool = False) -> np.ndarray:
        return self.predict_proba(x, rotations=rotations).argmax(axis=1)

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

    def penultimate_features(self, x, batch_size: int = 256) -> np.ndarray:
        """(N, 1, S, S) -> (N, 256) activations of the last hidden layer (dropout off): the space in
        which the classifier separates the classes, used for diversity, novelty and similarity."""
        model = self._model()
        device = next(model.parameters()).device
        model.eval()
        mask = circular_mask(self.config.network.image_size, self.config.augment.mask_radius, device)
        hidden = model.head[:-1]  # every head layer but the final linear one
        out = []
        with torch.no_grad():
            for i in range(0, len(x), batch_size):
                xb = torch.from_numpy(np.asarray(x[i : i + batch_size], dtype=np.float32)).to(device) * mask
                out.append(hidden(model.embed(xb)).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, hidden[-3].out_features), dtype=np.float32)

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
        weights_save(path, config=self.config, model=self._model())

    @classmethod
    def load(cls, path: str | Path, *, device: str | None = "auto", config: FixMatchConfig | None = None):
        """Read a weights file; ``WeightsError`` when it is unreadable or does not fit the
        architecture (of ``config`` when given, else of the settings stored with it)."""
        device_ = resolve_device(device)
        stored, weights = weights_read(path, device_)
        config = config or stored
        model = _place(build_network(config.network), device_)
        weights_load_into(model, weights, path=path, config=config)
        model.eval()
        clf = cls(config, device=str(device_))
        clf.model_ = model
        clf.history_ = []
        clf.n_classes_ = config.network.n_classes
        return clf


def _dihedral(x: torch.Tensor) -> list[torch.Tensor]:
    """(B, C, S, S) -> its 8 rotations by right angles and their mirror images."""
    return [torch.rot90(v, k, dims=(-2, -1)) for v in (x, x.flip(-1)) for k in range(4)]


def _predict(
    model: nn.Module, x: np.ndarray, config: FixMatchConfig, device, batch_size: int = 256, *, rotations: bool = False
) -> np.ndarray:
    """(N, 1, S, S) -> (N, K) softmax probabilities with the circular mask (averaged over the 8
    dihedral views with ``rotations``); restores the train mode."""
    was_training = model.training
    model.eval()
    mask = circular_mask(config.network.image_size, config.augment.mask_radius, device)
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            xb = torch.from_numpy(x[i : i + batch_size]).to(device) * mask  # (B, 1, S, S)
            views = _dihedral(xb) if rotations else [xb]
            out.append(torch.stack([torch.softmax(model(v), dim=1) for v in views]).mean(0).cpu().numpy())
    model.train(was_training)
    if not out:
        return np.zeros((0, config.network.n_classes), dtype=np.float32)
    return np.concatenate(out)
