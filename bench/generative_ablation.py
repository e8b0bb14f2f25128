"""Which parts of the residual attention block matter: the RAB U-Net as designed (a learned gate
mixing a convolutional and an attention branch), the same U-Net with the two branches mixed half
and half (no gate), the same with no attention branch (a conditioned residual convolution U-Net),
the same with gated blocks only at the lowest resolution and in the middle (attention-free blocks
elsewhere, where diffusion U-Nets usually leave attention out), and diffusers' plain U-Net, trained
alike on firstgalaxydata and judged exactly as ``generative_eval.py`` judges (its judges,
measures, seeds and classes asked for).

The arms share everything but the block's mix (``UNetConfig.mix``), so a difference between
"gated" and "fixed" is the gate's, and between "fixed" and "local" the attention branch's. The
"lowest" arm (the default layout) and "plain" use ``generative_eval.py``'s checkpoint names, so
with the same ``--checkpoints`` folder a model that run trained is read back (or resumed), not
trained again.

    python bench/generative_ablation.py --quick
    python bench/generative_ablation.py --preset cpu --size 32 --seeds 0 --checkpoints var/generative-ckpt32
    python bench/generative_ablation.py --merge seed0.json seed1.json --out both.json   # runs of a seed each
The last line printed is one JSON object; the figure goes to bench/figures/.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generative_eval as ge  # noqa: E402

from mlcore.generative.config import DEFAULT_MIX  # noqa: E402

# arm: (checkpoint name, network, mix); the plain U-Net has no blocks to mix and keeps the default.
ARMS = {
    "gated": ("rab-gated", "rab", "gated"),
    "fixed": ("rab-fixed", "rab", "fixed"),
    "local": ("rab-local", "rab", "local"),
    "lowest": ("diffusion", "rab", "lowest"),
    "plain": ("unet", "plain", DEFAULT_MIX),
}
# The measures compared, as drawn (against the real images as the generators learnt them) and after
# the cutout pipeline (plain keys).
MEASURES = (
    "fd_raw",
    "ramis_raw",
    "class_consistency_raw",
    "ks_flux_raw",
    "ks_extent_raw",
    "ks_components_raw",
    "memorisation_raw",
    "fd",
    "class_consistency",
)


def arm_config(config, arm: str, seed: int):
    _, network, mix = ARMS[arm]
    return replace(config, seed=seed, unet=replace(config.unet, network=network, mix=mix))


def train_arm(real, config, arm: str, seed: int, checkpoints: Path | None, say) -> tuple:
    """One arm of one seed, trained (or resumed, or read back) -> (generator, train seconds)."""
    from mlcore.generative.diffusion import DiffusionGenerator
    from mlcore.generative.network import parameter_count

    run = arm_config(config, arm, seed)

    def report(epoch, total, row):
        left = row["seconds"] * (total - epoch)
        say(f"seed {seed} {arm}: epoch {epoch}/{total}, loss {row['loss']:.4f}, about {left / 60:.0f} min left")

    path = ge.checkpoint_path(checkpoints, ARMS[arm][0], seed) if checkpoints else None
    generator = DiffusionGenerator(run, checkpoint_path=path, progress=report).fit(*real["train"])
    seconds = sum(row["seconds"] for row in generator.history_)  # across resumes
    say(
        f"seed {seed} {arm}: {parameter_count(generator.model_):,} parameters, trained in {seconds:.1f} s, "
        f"loss {generator.history_[-1]['loss']:.4f}"
    )
    return generator, seconds


GATE_TIMESTEPS = (50, 250, 500, 750, 950)  # of the 1,000 training steps: nearly clean to nearly noise


def gate_profile(generator, images: np.ndarray, classes: np.ndarray, seed: int = 0) -> dict[str, list[float]]:
    """What a gated model's blocks learnt to weigh: for real images noised to each of
    ``GATE_TIMESTEPS``, the mean gate of every block in the order the U-Net runs them (down,
    middle, up), as the share given to the convolutional branch (1 - share: attention).
    Returns {"blocks": [where each block sits: down, middle or up], "by_timestep": {timestep:
    [mean gate per block]}}; empty for a model without a learnt gate."""
    import torch

    from mlcore.generative.diffusion import noise_scheduler
    from mlcore.generative.network import ResidualAttentionBlock

    model = generator.model_
    placed = [
        (part, block)
        for part in ("down", "middle", "up")
        for block in getattr(model, part, [])
        if isinstance(block, ResidualAttentionBlock) and block.mix == "gated"
    ]
    if not placed:
        return {}
    blocks = [block for _, block in placed]
    scheduler = noise_scheduler(generator.config)
    x0 = torch.from_numpy(images * 2 - 1).float()
    y = torch.from_numpy(classes).long()
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(seed))
    means: list[float] = []

    def record(block, args):
        means.append(float(block.branches(*args)[3].mean()))

    hooks = [block.register_forward_pre_hook(record) for block in blocks]
    out: dict = {"blocks": [part for part, _ in placed], "by_timestep": {}}
    try:
        with torch.no_grad():
            for step in GATE_TIMESTEPS:
                t = torch.full((len(x0),), step, dtype=torch.long)
                means.clear()
                model(scheduler.add_noise(x0, noise, t), t, y)
                out["by_timestep"][str(step)] = list(means)
    finally:
        for hook in hooks:
            hook.remove()
    return out


def summarise(rows: list[dict]) -> dict:
    """Mean and spread over seeds of each arm's measures: ``{measure}_{arm}`` and ``..._std``."""
    out = {}
    for arm in ARMS:
        mine = [row for row in rows if row["arm"] == arm]
        for key in (*MEASURES, "train_seconds", "parameters", "final_loss"):
            values = [row[key] for row in mine if row.get(key) is not None]
            if values:
                out[f"{key}_{arm}"] = float(np.mean(values))
                if len(values) > 1:
                    out[f"{key}_{arm}_std"] = float(np.std(values))
    return out


REFERENCE_KEYS = tuple(
    key + suffix for suffix in ("", "_raw") for key in ("fd_real_floor", "ramis_real", "class_consistency_real")
)


def without_arm_settings(run: dict) -> dict:
    """A run with the settings each arm sets for itself (network, mix) left out of its base
    config: runs from before and after the default mix moved are the same runs."""
    config = dict(run["config"])
    if isinstance(config.get("unet"), dict):
        config["unet"] = {k: v for k, v in config["unet"].items() if k not in ("network", "mix")}
    return {**run, "config": config}


def merge(paths: list[Path]) -> dict:
    """One summary over several runs (other seeds, or other arms of a seed): they must share
    their judges and settings, and no arm of a seed may appear twice."""
    runs = []
    for path in paths:
        run = ge.load_run(path)
        if run["result"].get("bench") != "generative_ablation":
            raise SystemExit(f"{path}: not a generative_ablation result")
        runs.append(run)
    first = runs[0]
    ge.refuse_different_runs(paths, [without_arm_settings(run) for run in runs])
    rows = [row for run in runs for row in run["rows"]]
    pairs = [(row["arm"], row["seed"]) for row in rows]
    repeated = sorted({pair for pair in pairs if pairs.count(pair) > 1})
    if repeated:
        raise SystemExit(f"the runs repeat an arm of a seed: {', '.join(f'{a} seed {s}' for a, s in repeated)}")
    references = {key: first["result"][key] for key in REFERENCE_KEYS}
    result = {key: first["result"][key] for key in ("bench", "quick", *ge.SAME_RUN_KEYS)}
    result.update(
        seeds=len({row["seed"] for row in rows}),
        arms=[arm for arm in ARMS if any(row["arm"] == arm for row in rows)],
        merged=[str(path) for path in paths],
        **references,
        **summarise(rows),
    )
    return {"result": result, "rows": rows, "config": first["config"]}


def plot(rows: list[dict], references: dict, path: Path) -> None:
    """Per arm, each seed's FD and class consistency as drawn, with the real references."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    arms = [arm for arm in ARMS if any(row["arm"] == arm for row in rows)]
    panels = (
        ("fd_raw", "FD as drawn (lower is better)", "fd_real_floor_raw", "real floor"),
        ("class_consistency_raw", "class consistency as drawn", "class_consistency_real_raw", "real"),
        ("fd", "FD after the cutout pipeline", "fd_real_floor", "real floor"),
    )
    profiles = [row["gate_profile"] for row in rows if row["arm"] == "gated" and row.get("gate_profile")]
    fig, axes = plt.subplots(1, len(panels) + bool(profiles), figsize=(4.2 * (len(panels) + bool(profiles)), 3.6))
    if profiles:
        plot_gates(axes[-1], profiles)
    for ax, (key, title, reference, label) in zip(axes, panels, strict=False):
        for i, arm in enumerate(arms):
            values = [row[key] for row in rows if row["arm"] == arm]
            ax.scatter(np.full(len(values), i), values, color="C0", alpha=0.7)
            ax.hlines(np.mean(values), i - 0.25, i + 0.25, color="C3")
        ax.axhline(references[reference], color="grey", linestyle=":", label=label)
        ax.set_xticks(range(len(arms)), arms)
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
    fig.suptitle("residual attention block ablation: each dot a seed, the red bar the mean", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_gates(ax, profiles: list[dict]) -> None:
    """The gated arm's mean gate against the timestep, a line per part of the U-Net (mean of its
    blocks and of the seeds)."""
    steps = [int(t) for t in profiles[0]["by_timestep"]]
    for part, colour in (("down", "C0"), ("middle", "C2"), ("up", "C3")):
        chosen = [i for i, where in enumerate(profiles[0]["blocks"]) if where == part]
        means = [np.mean([[p["by_timestep"][str(t)][i] for i in chosen] for p in profiles]) for t in steps]
        ax.plot(steps, means, marker="o", color=colour, label=f"{part} blocks")
    ax.axhline(0.5, color="grey", linestyle=":", label="start (half and half)")
    ax.set_xlabel("timestep (0 clean, 1000 noise)")
    ax.set_ylabel("gate: share to the convolution")
    ax.set_title("what the gate learnt (gated arm)", fontsize=9)
    ax.legend(fontsize=7)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny models on a subset, under 45 s")
    parser.add_argument("--preset", default="cpu", help="generator preset (tiny, cpu, gpu)")
    parser.add_argument("--size", type=int, default=None, help="image size (default: the preset's)")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs (default: the preset's)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--arms", nargs="+", choices=list(ARMS), default=list(ARMS))
    parser.add_argument("--per-class", type=int, default=50, help="samples per class and arm")
    parser.add_argument("--judge-epochs", type=int, default=100, help="epochs of the judging classifiers")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (part of what a run reproduces)")
    parser.add_argument("--checkpoints", type=Path, default=None, help="folder of resumable checkpoints")
    parser.add_argument("--out", type=Path, default=None, help="default bench/out/generative_ablation[_quick].json")
    parser.add_argument(
        "--merge",
        nargs="+",
        type=Path,
        default=None,
        help="only summarise several JSON results of this command (other seeds or arms) into --out, "
        "with the figure bench/figures/<--out's name>.png",
    )
    args = parser.parse_args(argv)
    if args.merge:
        if args.out is None:
            parser.error("--merge needs --out")
        merged = merge(args.merge)
        result = merged["result"]
        plot(merged["rows"], result, ge.FIGURES / f"{args.out.stem}.png")  # named after the summary
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(merged, indent=1))
        print(json.dumps(result))
        return result
    if not args.quick and args.checkpoints is None:
        parser.error("--checkpoints is required (or --quick): each arm trains for minutes to hours")
    if args.per_class < 2:
        parser.error("--per-class must be 2 or more (the measures compare sets)")

    import torch

    from mlcore.generative.config import preset
    from mlcore.generative.network import parameter_count

    torch.set_num_threads(args.threads)
    started = time.perf_counter()

    def say(message: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f} s] {message}", flush=True)

    if args.quick:
        config = preset("tiny", image_size=64, n_classes=len(ge.CLASSES), max_steps=5, batch_size=8, sample_steps=4)
        seeds, per_class, judge_steps, limit = [0], 4, 15, 240
    else:
        overrides = {"n_classes": len(ge.CLASSES)}
        if args.size:
            overrides["image_size"] = args.size
        if args.epochs:
            overrides["epochs"] = args.epochs
        config = preset(args.preset, **overrides)
        seeds, per_class, judge_steps, limit = args.seeds, args.per_class, None, None
    size = config.unet.image_size
    real = ge.firstgalaxydata_prepared(size, limit=limit)
    judges = ge.trained_judges(
        real, ge.mirabest_prepared(size), size, judge_steps, args.judge_epochs, None if args.quick else args.checkpoints
    )
    judge_accuracy = float((judges[0].predict(real["test"][0]) == real["test"][1]).mean())
    say(f"judges ready; 4-class test accuracy {judge_accuracy:.3f}")
    real_piped = ge.through_pipeline(real)
    references = {**ge.real_references(real_piped, judges), **ge.real_references(real, judges, "_raw")}
    classes = ge.balanced_classes(per_class, len(ge.CLASSES))

    rows = []
    for seed in seeds:
        for arm in args.arms:
            generator, seconds = train_arm(real, config, arm, seed, None if args.quick else args.checkpoints, say)
            kept = {"raw": generator.sample(classes, seed=seed)}
            row = {"arm": arm, "seed": seed, "train_seconds": seconds}
            row.update(parameters=parameter_count(generator.model_))
            row.update(final_loss=generator.history_[-1]["loss"], train_steps=generator.history_[-1]["step"])
            row.update(ge.judged(kept, classes, real, real_piped, judges))
            profile = gate_profile(generator, *real["test"], seed=seed)
            if profile:
                row["gate_profile"] = profile
                say(
                    f"seed {seed} {arm}: mean gate (share to the convolution) by timestep "
                    + ", ".join(f"{t}: {np.mean(v):.2f}" for t, v in profile["by_timestep"].items())
                )
            rows.append(row)
            say(
                f"seed {seed} {arm}: FD as drawn {row['fd_raw']:.2f}, RAMIS {row['ramis_raw']:.3f}, class "
                f"consistency {row['class_consistency_raw']:.2f}; after the pipeline FD {row['fd']:.2f}"
            )
    name = "generative_ablation_quick" if args.quick else f"generative_ablation_{ge.run_name(args.preset, size)}"
    plot(rows, references, ge.FIGURES / f"{name}.png")
    result = {
        "bench": "generative_ablation",
        "quick": args.quick,
        "preset": "tiny" if args.quick else args.preset,
        "image_size": size,
        "seeds": len(seeds),
        "arms": args.arms,
        "samples_per_class": per_class,
        "judge_test_accuracy": judge_accuracy,
        "threads": args.threads,
        **references,
        **summarise(rows),
        "seconds": round(time.perf_counter() - started, 1),
    }
    out = args.out or ge.OUT / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"result": result, "rows": rows, "config": config.as_dict()}, indent=1))
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
