"""How fast the generators train and sample on this machine's CPU: the diffusion model's presets
``tiny`` and ``cpu`` (residual attention U-Net), the ``cpu`` preset with diffusers' plain U-Net,
and the conditional VAE baseline at the ``cpu`` preset's image size; with ``--models`` also the
``cpu`` preset at 32 px (both networks, and the VAE at 32 px), the ``gpu`` preset, and the
residual attention network with gated blocks at every resolution (``cpu_gated``, ``cpu32_gated``:
``mix: gated``, the layout before ``mix: lowest`` became the default).

Training: images per second of the real ``fit`` (flips, optimiser step, EMA), timed over its
second epoch so that the first one's warm-up is left out. Sampling: images per second of
``sample`` with DPM-Solver++ in 25 steps and the preset's guidance (two network passes per step),
after a warm-up call. Random images stand in for data: the speed does not depend on the pixels.

    python bench/generative_speed.py --quick
    python bench/generative_speed.py --threads 2 --train-steps 20 --samples 64
    python bench/generative_speed.py --models cpu32 cpu32_gated cpu32_plain_unet vae32
    python bench/generative_speed.py --models gpu --train-steps 2 --samples 2
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

N_CLASSES = 4
MODELS = (
    "tiny",
    "cpu",
    "cpu_plain_unet",
    "vae",
    "cpu32",
    "cpu32_plain_unet",
    "vae32",
    "gpu",
    "cpu_gated",
    "cpu32_gated",
)


def random_images(n: int, size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random((n, 1, size, size), dtype=np.float32), np.arange(n) % N_CLASSES


def diffusion_config(name: str, network: str = "rab"):
    from mlcore.generative.config import preset

    return preset(name, n_classes=N_CLASSES, network=network)


def training_rate(make_generator, size: int, batch: int, steps: int):
    """Images per second of the second of two equal epochs of ``steps`` optimiser steps each, and
    the generator so trained."""
    x, y = random_images(batch * steps, size)
    generator = make_generator(epochs=2).fit(x, y)
    return batch * steps / generator.history_[-1]["seconds"], generator


def sampling_rate(sample, n: int) -> float:
    """Images per second of ``sample(classes)`` for ``n`` images, after a warm-up call of one."""
    sample(np.arange(1))
    classes = np.arange(n) % N_CLASSES
    started = time.perf_counter()
    sample(classes)
    return n / (time.perf_counter() - started)


def measure_diffusion(config, train_steps: int, samples: int, sample_steps: int) -> dict:
    from mlcore.generative.diffusion import DiffusionGenerator
    from mlcore.generative.network import build_network, parameter_count

    def make(epochs):
        return DiffusionGenerator(replace(config, epochs=epochs, max_steps=None))

    size, batch = config.unet.image_size, config.batch_size
    train, fitted = training_rate(make, size, batch, train_steps)

    def sample(classes):
        return fitted.sample(classes, steps=sample_steps, sampler="dpmsolver++", batch_size=64)

    return {
        "image_size": size,
        "batch_size": batch,
        "parameters": parameter_count(build_network(config.unet)),
        "train_images_per_s": train,
        "sample_images_per_s": sampling_rate(sample, samples),
        "guidance": config.guidance,
    }


def measure_vae(size: int, train_steps: int, samples: int, batch_size: int = 32) -> dict:
    from mlcore.generative.config import VAEConfig
    from mlcore.generative.vae import VAEGenerator

    config = VAEConfig(image_size=size, n_classes=N_CLASSES, batch_size=batch_size)

    def make(epochs):
        return VAEGenerator(replace(config, epochs=epochs))

    train, fitted = training_rate(make, size, config.batch_size, train_steps)
    return {
        "image_size": size,
        "batch_size": config.batch_size,
        "parameters": sum(p.numel() for p in fitted.model_.parameters()),
        "train_images_per_s": train,
        "sample_images_per_s": sampling_rate(fitted.sample, samples),
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few steps and samples each, under 45 s")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--train-steps", type=int, default=20, help="optimiser steps timed per model")
    parser.add_argument("--samples", type=int, default=64, help="images sampled per model")
    parser.add_argument("--sample-steps", type=int, default=25, help="DPM-Solver++ steps")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="training batch for every model (default: each preset's; the gpu preset's 128 needs more "
        "memory than a CPU machine of 24 GiB has)",
    )
    parser.add_argument(
        "--models",
        nargs="+",
        choices=MODELS,
        default=list(MODELS[:4]),
        help="what to time: the presets (cpu32: the cpu preset at 32 px; gpu: the accelerator's preset on "
        "this CPU, take few --train-steps), the VAE at 64 and 32 px, and the all-gated layout (cpu_gated, "
        "cpu32_gated)",
    )
    args = parser.parse_args(argv)
    if args.batch_size is not None and args.batch_size < 1:
        parser.error("--batch-size must be 1 or more")

    import torch

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    # --quick: one step of 8 images timed per model and two images sampled (a step of the cpu
    # preset's own 32 images takes seconds): a pipeline check, not the figures to quote
    train_steps, samples = (1, 2) if args.quick else (args.train_steps, args.samples)
    batch = {"batch_size": 8} if args.quick else {"batch_size": args.batch_size} if args.batch_size else {}

    def config(name: str, network: str = "rab", size: int | None = None, mix: str | None = None):
        config = replace(diffusion_config(name, network), **batch)
        unet = {"image_size": size} if size else {}
        unet |= {"mix": mix} if mix else {}
        return replace(config, unet=replace(config.unet, **unet)) if unet else config

    def diffusion(name: str, network: str = "rab", size: int | None = None, mix: str | None = None):
        return lambda: measure_diffusion(config(name, network, size, mix), train_steps, samples, args.sample_steps)

    models = {
        "tiny": diffusion("tiny"),
        "cpu": diffusion("cpu"),
        "cpu_plain_unet": diffusion("cpu", "plain"),
        "vae": lambda: measure_vae(diffusion_config("cpu").unet.image_size, train_steps, samples, **batch),
        "cpu32": diffusion("cpu", size=32),
        "cpu32_plain_unet": diffusion("cpu", "plain", size=32),
        "vae32": lambda: measure_vae(32, train_steps, samples, **batch),
        "gpu": diffusion("gpu"),
        # the layout with gated blocks at every resolution, the default before `mix: lowest`
        "cpu_gated": diffusion("cpu", mix="gated"),
        "cpu32_gated": diffusion("cpu", size=32, mix="gated"),
    }
    result = {"bench": "generative_speed", "quick": args.quick, "device": "cpu", "threads": args.threads}
    for name in args.models:
        measure = models[name]
        row = measure()
        print(f"[{time.perf_counter() - started:6.1f} s] {name}: {json.dumps(row)}", flush=True)
        result[f"train_images_per_s_{name}"] = round(row["train_images_per_s"], 2)
        result[f"sample_images_per_s_{name}"] = round(row["sample_images_per_s"], 2)
        result[f"parameters_{name}"] = row["parameters"]
        result[f"batch_size_{name}"] = row["batch_size"]
    result.update(
        {
            "train_steps_timed": train_steps,
            "samples_timed": samples,
            "sample_steps": args.sample_steps,
            "sampler": "dpmsolver++",
            "seconds": round(time.perf_counter() - started, 1),
        }
    )
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
