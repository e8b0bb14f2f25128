"""Files of the classifier: atomic writes, the resume checkpoint written during training and the
weights file of a trained network (with the settings it was trained with)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from .config import FixMatchConfig

WEIGHTS_FORMAT = "rgz-ssl-1"


class WeightsError(ValueError):
    """A weights file that cannot be read or does not match the architecture."""


def save_atomic(obj: dict, path: str | Path) -> None:
    """``torch.save`` to a temporary name, then rename: a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


# -- resume checkpoint -----------------------------------------------------------------------
@dataclass
class ResumeState:
    """Where training stands: epochs and optimiser steps done, the history so far and the best
    validated weights (``{"epoch", "val_accuracy", "model"}``, empty until one is validated)."""

    epoch: int = 0
    step: int = 0
    history: list[dict] = field(default_factory=list)
    best: dict = field(default_factory=dict)


def checkpoint_save(
    path: str | Path,
    *,
    config: FixMatchConfig,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    state: ResumeState,
) -> None:
    """Everything a later run needs to continue exactly: weights, optimiser, both random states."""
    save_atomic(
        {
            "config": config.as_dict(),
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "generator": generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "epoch": state.epoch,
            "step": state.step,
            "history": state.history,
            "best": state.best,
        },
        path,
    )


def checkpoint_resume(
    path: str | Path | None,
    *,
    config: FixMatchConfig,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    device: torch.device,
) -> ResumeState:
    """Restore ``model``, ``optimizer``, ``generator`` and torch's global random state from the
    checkpoint at ``path`` when it was written with the same settings; else a fresh state."""
    if not path or not Path(path).is_file():
        return ResumeState()
    saved = torch.load(path, map_location=device, weights_only=False)
    if saved.get("config") != config.as_dict():
        return ResumeState()
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    generator.set_state(saved["generator"])
    torch.set_rng_state(saved["torch_rng"])
    return ResumeState(saved["epoch"], saved["step"], saved["history"], saved.get("best") or {})


# -- weights file ----------------------------------------------------------------------------
def weights_save(path: str | Path, *, config: FixMatchConfig, model: nn.Module) -> None:
    save_atomic({"format": WEIGHTS_FORMAT, "config": config.as_dict(), "model": model.state_dict()}, path)


def weights_read(path: str | Path, device: torch.device) -> tuple[FixMatchConfig, dict]:
    """(stored settings, state dict) of a weights file; ``WeightsError`` when it is unreadable."""
    try:
        state = torch.load(path, map_location=device, weights_only=False)
    except Exception as exc:  # pickle, zip and torch errors alike
        raise WeightsError(f"cannot read weights file {path}: {exc}") from exc
    if not isinstance(state, dict) or state.get("format") != WEIGHTS_FORMAT:
        raise WeightsError(f"{path} is not a weights file of this library (format {WEIGHTS_FORMAT})")
    try:
        stored = FixMatchConfig.from_dict(state["config"])
    except (TypeError, ValueError) as exc:
        raise WeightsError(f"{path}: unusable settings: {exc}") from exc
    return stored, state["model"]


def weights_load_into(model: nn.Module, weights: dict, *, path: str | Path, config: FixMatchConfig) -> None:
    """Load ``weights`` into ``model``; ``WeightsError`` naming the architecture when they do not fit."""
    try:
        model.load_state_dict(weights)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = " ".join(line.strip() for line in first[:3])
        raise WeightsError(
            f"{path} does not match the {config.network.architecture} architecture "
            f"({config.network.n_classes} classes, {config.network.image_size} px): {detail}"
        ) from exc
