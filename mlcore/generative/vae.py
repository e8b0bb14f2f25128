"""The baseline generator: a fully connected conditional VAE of the Bastien et al. (2021) kind
(public code ``joshen1307/RAGA``, ``raga/cvae.py``): the flattened image and a one-hot class in,
fully connected layers to a Gaussian latent, a Bernoulli likelihood on pixels in [0, 1]."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .config import VAEConfig
from .diffusion import Progress, _save_atomic, prepared_training_data, random_symmetry


class ConditionalVAE(nn.Module):
    def __init__(self, config: VAEConfig):
        super().__init__()
        self.config = config
        pixels = config.image_size**2
        widths = [pixels + config.n_classes, *config.hidden]
        encoder = []
        for cin, cout in zip(widths[:-1], widths[1:], strict=True):
            encoder += [nn.Linear(cin, cout), nn.ReLU()]
        self.encoder = nn.Sequential(*encoder)
        self.to_mean = nn.Linear(config.hidden[-1], config.latent)
        self.to_log_var = nn.Linear(config.hidden[-1], config.latent)
        widths = [config.latent + config.n_classes, *reversed(config.hidden)]
        decoder = []
        for cin, cout in zip(widths[:-1], widths[1:], strict=True):
            decoder += [nn.Linear(cin, cout), nn.ReLU()]
        decoder.append(nn.Linear(config.hidden[0], pixels))  # logits of the Bernoulli likelihood
        self.decoder = nn.Sequential(*decoder)

    def decode(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """z (B, L), y (B,) -> pixel logits (B, S*S)."""
        return self.decoder(torch.cat([z, F.one_hot(y, self.config.n_classes).float()], 1))

    def forward(self, x: torch.Tensor, y: torch.Tensor, noise: torch.Tensor):
        """x (B, S*S) in [0, 1] -> (logits (B, S*S), mean (B, L), log variance (B, L))."""
        h = self.encoder(torch.cat([x, F.one_hot(y, self.config.n_classes).float()], 1))
        mean, log_var = self.to_mean(h), self.to_log_var(h).clamp(-20, 10)
        z = mean + torch.exp(0.5 * log_var) * noise
        return self.decode(z, y), mean, log_var


def vae_loss(logits: torch.Tensor, x: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """Negative ELBO per image: Bernoulli reconstruction + KL to the unit Gaussian prior."""
    reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    kl = -0.5 * torch.sum(1 + log_var - mean.pow(2) - log_var.exp())
    return (reconstruction + kl) / len(x)


class VAEGenerator:
    """Trains and samples the conditional VAE (scikit-learn style, like ``DiffusionGenerator``)."""

    def __init__(self, config: VAEConfig, *, device: str = "cpu", progress: Progress | None = None):
        self.config = config
        self.device = device
        self.progress = progress

    def fit(self, x, y) -> VAEGenerator:
        config = self.config
        x, y, generator = prepared_training_data(x, y, config.n_classes, config.image_size, config.seed)
        device = torch.device(self.device)
        model = ConditionalVAE(config).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
        data = torch.from_numpy(x).to(device)
        labels = torch.from_numpy(y).to(device)
        batch = min(config.batch_size, len(data))
        steps_per_epoch = math.ceil(len(data) / batch)
        total_epochs = config.epochs
        if config.max_steps is not None:
            total_epochs = min(total_epochs, math.ceil(config.max_steps / steps_per_epoch))
        history, step = [], 0
        for epoch in range(1, total_epochs + 1):
            model.train()
            started, losses = time.monotonic(), []
            order = torch.randperm(len(data), generator=generator)
            for s in range(steps_per_epoch):
                if config.max_steps is not None and step >= config.max_steps:
                    break
                idx = order[s * batch : (s + 1) * batch].to(device)
                xb = random_symmetry(data[idx], generator) if config.flips else data[idx]
                flat = xb.flatten(1)  # (B, S*S)
                noise = torch.randn((len(flat), config.latent), generator=generator).to(device)
                logits, mean, log_var = model(flat, labels[idx], noise)
                loss = vae_loss(logits, flat, mean, log_var)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                losses.append(float(loss.detach()))
                step += 1
            if not losses:
                break
            history.append(
                {"epoch": epoch, "step": step, "loss": float(np.mean(losses)), "seconds": time.monotonic() - started}
            )
            if self.progress is not None:
                self.progress(epoch, total_epochs, history[-1])
        self.model_ = model.eval()
        self.history_ = history
        return self

    def sample(self, classes, *, seed: int = 0, batch_size: int = 256) -> np.ndarray:
        """classes (N,) -> (N, 1, S, S) float32 images in [0, 1] (the decoder's mean); latents
        drawn from the prior."""
        if not hasattr(self, "model_"):
            raise RuntimeError("the generator is not fitted")
        config = self.config
        classes = np.asarray(classes, dtype=np.int64)
        if classes.size and (classes.min() < 0 or classes.max() >= config.n_classes):
            raise ValueError(f"classes must lie in 0..{config.n_classes - 1}")
        device = next(self.model_.parameters()).device
        generator = torch.Generator().manual_seed(seed)
        out = []
        with torch.no_grad():
            for i in range(0, len(classes), batch_size):
                y = torch.from_numpy(classes[i : i + batch_size]).to(device)
                z = torch.randn((len(y), config.latent), generator=generator).to(device)
                out.append(torch.sigmoid(self.model_.decode(z, y)).reshape(len(y), 1, config.image_size, -1).cpu())
        size = config.image_size
        return torch.cat(out).numpy() if out else np.zeros((0, 1, size, size), dtype=np.float32)

    def save(self, path: str | Path) -> None:
        _save_atomic({"config": self.config.as_dict(), "model": self.model_.state_dict()}, Path(path))

    @classmethod
    def load(cls, path: str | Path, *, device: str = "cpu") -> VAEGenerator:
        state = torch.load(path, map_location=device, weights_only=False)
        config = VAEConfig.from_dict(state["config"])
        generator = cls(config, device=device)
        model = ConditionalVAE(config).to(device)
        model.load_state_dict(state["model"])
        generator.model_ = model.eval()
        generator.history_ = []
        return generator
