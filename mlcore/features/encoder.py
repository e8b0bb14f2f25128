"""``ContrastiveEncoder``: fit (labels unused) / embed / save / load, scikit-learn style."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from .config import EncoderConfig
from .losses import nt_xent
from .network import ConvEncoder
from .views import dihedral_views, random_view

WEIGHTS_FORMAT = "rgz-contrastive-encoder/1"
DEFAULT_CONFIG = EncoderConfig()
# progress(step, steps, loss): called every few steps during fit
Progress = Callable[[int, int, float], None]


class EncoderWeightsError(ValueError):
    """A weights file that cannot be read or does not fit the encoder."""


def _device(device: str | None) -> torch.device:
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _check_images(x: np.ndarray, size: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 4 or x.shape[1:] != (1, size, size):
        raise ValueError(f"images must be (N, 1, {size}, {size}), got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("the images hold NaN or infinite pixels")
    return x


class ContrastiveEncoder:
    """Self-supervised features of prepared cutouts (N, 1, S, S) in [0, 1]
    (``mlcore.ssl.data.prepare_images``). ``fit`` uses no labels; ``embed`` returns (N, feature_dim)."""

    def __init__(
        self, config: EncoderConfig = DEFAULT_CONFIG, *, device: str | None = "auto", progress: Progress | None = None
    ):
        self.config = config
        self.device = device
        self.progress = progress

    def fit(self, x) -> ContrastiveEncoder:
        """Train on the cutouts ``x`` for ``config.steps`` steps; records ``loss_history_``."""
        config = self.config
        x = _check_images(x, config.image_size)
        if len(x) < 2:
            raise ValueError("contrastive training needs at least two cutouts")
        device = _device(self.device)
        torch.manual_seed(config.seed)
        generator = torch.Generator().manual_seed(config.seed)
        model = ConvEncoder(config).to(device)
        optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, config.steps) / config.steps))
        )
        images = torch.from_numpy(x).to(device)
        batch = min(config.batch_size, len(x))
        history = []
        model.train()
        for step in range(config.steps):
            idx = torch.randperm(len(x), generator=generator)[:batch].to(device)
            xb = images[idx]  # (B, 1, S, S)
            views = torch.cat([random_view(xb, config, generator), random_view(xb, config, generator)])
            z = model.project(model(views))  # (2B, projection_dim)
            loss = nt_xent(z[:batch], z[batch:], config.temperature)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            history.append(float(loss.detach()))
            if self.progress is not None and ((step + 1) % 20 == 0 or step + 1 == config.steps):
                self.progress(step + 1, config.steps, float(np.mean(history[-20:])))
        model.eval()
        self.model_ = model
        self.loss_history_ = history
        return self

    def embed(self, x, *, rotations: bool = True, batch_size: int = 256) -> np.ndarray:
        """(N, 1, S, S) -> (N, feature_dim) features; with ``rotations`` the mean over the 8 right-angle
        rotations and mirror images, so that a cutout and its rotated copy embed alike."""
        model = self._model()
        x = _check_images(x, self.config.image_size)
        device = next(model.parameters()).device
        out = []
        with torch.no_grad():
            for i in range(0, len(x), batch_size):
                xb = torch.from_numpy(x[i : i + batch_size]).to(device)
                views = dihedral_views(xb) if rotations else [xb]
                out.append(torch.stack([model(v) for v in views]).mean(0).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.config.feature_dim), dtype=np.float32)

    def _model(self) -> ConvEncoder:
        if not hasattr(self, "model_"):
            raise RuntimeError("the encoder is not fitted")
        return self.model_

    def save(self, path: str | Path) -> None:
        """Write the weights and the settings they were trained with (atomically)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        state = {k: v.cpu() for k, v in self._model().state_dict().items()}
        torch.save({"format": WEIGHTS_FORMAT, "config": self.config.as_dict(), "model": state}, partial)
        partial.replace(path)

    @classmethod
    def load(cls, path: str | Path, *, device: str | None = "auto") -> ContrastiveEncoder:
        """Read a file written by ``save``; ``EncoderWeightsError`` when it is not one."""
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises many types for a damaged or foreign file
            raise EncoderWeightsError(f"{path}: not a readable weights file ({exc})") from exc
        if not isinstance(saved, dict) or saved.get("format") != WEIGHTS_FORMAT:
            raise EncoderWeightsError(f"{path}: not an encoder weights file")
        encoder = cls(EncoderConfig.from_dict(saved["config"]), device=device)
        model = ConvEncoder(encoder.config)
        try:
            model.load_state_dict(saved["model"])
        except RuntimeError as exc:
            raise EncoderWeightsError(f"{path}: the weights do not fit the encoder ({exc})") from exc
        encoder.model_ = model.to(_device(device)).eval()
        encoder.loss_history_ = []
        return encoder
