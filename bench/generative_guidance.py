"""Classifier-free guidance against realism: the diffusion models that a ``generative_eval.py``
run trained (read back from its ``--checkpoints`` folder), sampled again at several guidance
scales and judged exactly as that run judges them (the same cached judges, the same seed and
classes asked for): after the cutout pipeline against the real images after it, and as drawn
against the real images as prepared (``*_raw`` keys, the figure's second panel).

Guidance trades variety for class fidelity: a larger scale pushes each sample towards what the
class embedding alone predicts. This shows where the trade sits for each network, beside the
VAE of the same run when its JSON is given (``--eval-json``).

    python bench/generative_guidance.py --quick
    python bench/generative_guidance.py --checkpoints var/generative-ckpt32 --size 32 --seed 0 \\
        --eval-json bench/out/generative_cpu32_seed0.json
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generative_eval as ge  # noqa: E402

MODELS = {"diffusion": "rab", "unet": "plain"}
KEPT = ("fd", "class_consistency", "ramis", "memorisation", "ks_flux", "ks_extent", "ks_components")


def summary(row: dict) -> dict:
    """The measures the trade is read from; diversity as the mean ratio to the real one."""
    out = {key: row[key] for key in KEPT if key in row}
    ratios = [row[f"diversity_ratio_{name}"] for name in ge.CLASSES if f"diversity_ratio_{name}" in row]
    out["diversity_ratio"] = float(np.mean(ratios)) if ratios else None
    return out


def quick_generators(real) -> dict:
    """Tiny models trained for seconds: the script end to end, not figures to quote."""
    from mlcore.generative.config import preset
    from mlcore.generative.diffusion import DiffusionGenerator

    x, y = real["train"]
    out = {}
    for name, network in MODELS.items():
        config = preset(
            "tiny", image_size=64, n_classes=len(ge.CLASSES), max_steps=5, batch_size=8, sample_steps=4, network=network
        )
        out[name] = DiffusionGenerator(config).fit(x, y)
    return out


def trained_generators(checkpoints: Path, seed: int, names=tuple(MODELS)) -> dict:
    from mlcore.generative.diffusion import DiffusionGenerator

    out = {}
    for name in names:
        path = ge.checkpoint_path(checkpoints, name, seed)
        if not path.is_file():
            raise SystemExit(f"error: {path}: no trained {name} model of seed {seed} (run generative_eval.py first)")
        out[name] = DiffusionGenerator.load(path)
    return out


def plot(results: dict, vae: dict | None, real_consistency: dict, path: Path) -> None:
    """FD against class consistency, one line per network through its guidance scales; a panel
    after the cutout pipeline and one as drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
    for ax, suffix, title in zip(axes, ("", "_raw"), ("after the cutout pipeline", "as drawn"), strict=True):
        for name, by_guidance in results.items():
            scales = sorted(by_guidance, key=float)
            fd = [by_guidance[g]["fd" + suffix] for g in scales]
            consistency = [by_guidance[g]["class_consistency" + suffix] for g in scales]
            ax.plot(fd, consistency, marker="o", label=name)
            for g, x, y in zip(scales, fd, consistency, strict=True):
                ax.annotate(f"w={g}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
        if vae and vae.get("fd" + suffix) is not None:
            point = ([vae["fd" + suffix]], [vae["class_consistency" + suffix]])
            ax.plot(*point, marker="s", linestyle="", color="k", label="VAE")
        ax.axhline(real_consistency[suffix], color="grey", linestyle=":", label="real test images")
        ax.set_title(title)
        ax.set_xlabel("Frechet distance in the judge's features (lower is better)")
        ax.set_ylabel("class consistency (higher is better)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def add_kept_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that name a generative_eval run's kept models, shared by the scripts that
    sample them again."""
    parser.add_argument("--quick", action="store_true", help="tiny models on a subset, under 45 s")
    parser.add_argument("--checkpoints", type=Path, default=None, help="the generative_eval run's checkpoint folder")
    parser.add_argument("--size", type=int, default=64, help="the run's image size")
    parser.add_argument("--seed", type=int, default=0, help="the run's seed (models, samples)")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_kept_run_arguments(parser)
    parser.add_argument("--guidance", nargs="+", type=float, default=[1.0, 1.5, 2.0, 3.0, 4.0, 6.0])
    parser.add_argument("--per-class", type=int, default=50, help="samples per class, model and scale")
    parser.add_argument("--judge-epochs", type=int, default=100, help="the run's judge epochs (reads its cache)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--eval-json", type=Path, default=None, help="the run's JSON, for the VAE's point")
    parser.add_argument("--out", type=Path, default=ge.OUT / "generative_guidance.json")
    args = parser.parse_args(argv)
    if not args.quick and args.checkpoints is None:
        parser.error("--checkpoints is required (or --quick)")
    if any(g < 0 for g in args.guidance):
        parser.error("guidance scales must be 0 or more")
    guidance = [1.0, 3.0] if args.quick else args.guidance

    import torch

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    size, limit = (64, 240) if args.quick else (args.size, None)
    per_class = 4 if args.quick else args.per_class
    real = ge.firstgalaxydata_prepared(size, limit=limit)
    mirabest = ge.mirabest_prepared(size)
    judge_steps, cache = (15, None) if args.quick else (None, args.checkpoints)
    judges = ge.trained_judges(real, mirabest, size, judge_steps, args.judge_epochs, cache)
    generators = quick_generators(real) if args.quick else trained_generators(args.checkpoints, args.seed)
    classes = ge.balanced_classes(per_class, len(ge.CLASSES))
    real_piped = ge.through_pipeline(real)

    results: dict[str, dict[str, dict]] = {}
    for name, generator in generators.items():
        results[name] = {}
        for g in guidance:
            raw = generator.sample(classes, guidance=g, seed=args.seed)
            row = summary(ge.judge(ge.cutout_pipeline(raw)[0], classes, real_piped, judges))
            row.update({f"{k}_raw": v for k, v in summary(ge.judge(raw, classes, real, judges)).items()})
            results[name][f"{g:g}"] = row
            print(
                f"[{time.perf_counter() - started:6.1f} s] {name} w={g:g}: FD {row['fd']:.2f} "
                f"(as drawn {row['fd_raw']:.2f}), class consistency {row['class_consistency']:.3f} "
                f"({row['class_consistency_raw']:.3f}), diversity {row['diversity_ratio']:.2f}",
                flush=True,
            )
    vae = None
    if args.eval_json:
        reported = json.loads(args.eval_json.read_text())["result"]
        vae = {
            "fd": reported["fd_vae"],
            "class_consistency": reported["class_consistency_vae"],
            "fd_raw": reported.get("fd_raw_vae"),
            "class_consistency_raw": reported.get("class_consistency_raw_vae"),
        }
    real_consistency = {
        "": ge.real_references(real_piped, judges)["class_consistency_real"],
        "_raw": ge.real_references(real, judges)["class_consistency_real"],
    }
    figure = ge.FIGURES / ("generative_guidance_quick.png" if args.quick else f"generative_guidance_{size}px.png")
    plot(results, vae, real_consistency, figure)

    result = {
        "bench": "generative_guidance",
        "quick": args.quick,
        "image_size": size,
        "seed": args.seed,
        "samples_per_class": per_class,
        "class_consistency_real": real_consistency[""],
        "class_consistency_real_raw": real_consistency["_raw"],
        "vae": vae,
        **{
            f"best_guidance_fd{suffix}_{name}": min(rows, key=lambda g, rows=rows, k="fd" + suffix: rows[g][k])
            for name, rows in results.items()
            for suffix in ("", "_raw")
        },
        "results": results,
        "seconds": round(time.perf_counter() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
