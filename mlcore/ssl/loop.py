"""The FixMatch / supervised training loop as explicit functions: one optimiser step, then the
epochs around it (no checkpoint or model-selection logic: the caller's ``on_epoch_end`` does that)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import torch
from torch import nn

from .augment import strong_augment, weak_augment
from .config import FixMatchConfig
from .losses import fixmatch_loss


def train_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    x_b: torch.Tensor,
    y_b: torch.Tensor,
    x_u: torch.Tensor | None,
    config: FixMatchConfig,
    generator: torch.Generator,
) -> dict:
    """One optimiser step on a labelled batch x_b (B, 1, S, S), y_b (B,) and, when the pool x_u
    (M, 1, S, S) is given, ``mu`` x B unlabelled images drawn from it.

    Returns the step's ``loss``, ``loss_x``, ``loss_u``, ``mask_rate`` and ``correct`` (labelled
    images predicted right)."""
    batch = len(y_b)
    aug = config.augment
    xb = weak_augment(x_b, aug, generator)  # (B, 1, S, S)
    if x_u is not None:
        uidx = torch.randint(len(x_u), (config.mu * batch,), generator=generator).to(x_u.device)
        xu = x_u[uidx]  # (muB, 1, S, S)
        inputs = torch.cat([xb, weak_augment(xu, aug, generator), strong_augment(xu, aug, generator)])
        logits = model(inputs)  # (B + 2 muB, K)
        logits_x = logits[:batch]
        logits_w, logits_s = logits[batch:].chunk(2)
    else:
        logits_x = model(xb)
        logits_w = logits_s = None
    loss, parts = fixmatch_loss(logits_x, y_b, logits_w, logits_s, tau=config.tau, lambda_u=config.lambda_u)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return {
        "loss": float(loss.detach()),
        **{key: parts[key] for key in ("loss_x", "loss_u", "mask_rate")},
        "correct": int((logits_x.argmax(1) == y_b).sum()),
    }


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
            out = train_step(model, optimizer, x_l[idx], y_l[idx], x_u if use_unlabelled else None, config, generator)
            for key in sums:
                sums[key] += out[key]
            correct += out["correct"]
            seen += batch
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
