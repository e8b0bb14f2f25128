"""What the two-arm classifier benchmarks (layers_eval, augment_eval) share: the run's clock,
a short supervised training, the mean and spread over seeds, and the result file."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np


class RunClock:
    """Progress lines stamped with the seconds since the run began."""

    def __init__(self, threads: int):
        import torch

        torch.set_num_threads(threads)  # part of what a run reproduces (with the seed)
        self.started = time.perf_counter()

    def seconds(self) -> float:
        return round(time.perf_counter() - self.started, 1)

    def say(self, message: str) -> None:
        print(f"[{time.perf_counter() - self.started:7.1f} s] {message}", flush=True)


def train_supervised(x: np.ndarray, y: np.ndarray, *, network, steps: int, seed: int, batch_size: int, **config):
    """The platform's classifier, supervised, for ``steps`` optimiser steps on the CPU.
    ``network``: a NetworkConfig; ``config``: other FixMatchConfig fields."""
    from mlcore.ssl.config import FixMatchConfig
    from mlcore.ssl.estimator import SSLClassifier

    settings = FixMatchConfig(
        method="supervised",
        network=network,
        epochs=10**6,
        max_steps=steps,
        batch_size=batch_size,
        lr=1e-3,
        seed=seed,
        **config,
    )
    return SSLClassifier(settings, device="cpu").fit(x, y)


def mean_and_spread(out: dict, key: str, values, digits: int | None = None) -> None:
    """``out[key]``: the mean of ``values`` over seeds, ``out[key + "_std"]``: their standard deviation."""
    values = np.asarray(values, dtype=float)
    mean, std = float(values.mean()), float(values.std())
    if digits is not None:
        mean, std = round(mean, digits), round(std, digits)
    out[key], out[f"{key}_std"] = mean, std


def write_result(result: dict, rows: list[dict], out: Path) -> dict:
    """Save the result and its rows to ``out`` and print the result as the last line (one JSON object)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"result": result, "rows": rows}, indent=1))
    print(json.dumps(result))
    return result
