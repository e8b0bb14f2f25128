"""The diffusion samples' background clip, measured: the same draws of the diffusion models that a
``generative_eval.py`` run trained (read back from its ``--checkpoints`` folder) with no clip, with
the clip of versions saved before the sigma-clipped estimate (``below-background``: level taken
as -1, noise from the pixels below it), with the sigma-clipped estimate, and with it plus the island
rule (``sigma-clipped-islands``: emission above the clip only in islands that peak at 5 sigma),
each judged exactly as
that run judges samples (the same cached judges, seed and classes asked for): after the cutout
pipeline against the real images after it, and as drawn (``*_raw`` keys).

Besides the run's measures: ``speckled_share``, the share of samples whose emission after the
pipeline covers more than a quarter of the frame (no real source does: ``speckled_share_real``),
and ``emission_cover``, the mean share of the frame above zero. The figure shows the draws that
two estimates (``--compare``) treat most differently, after the pipeline, one row per clip.

    python bench/generative_clip.py --quick
    python bench/generative_clip.py --checkpoints var/generative-ckpt32 --size 32 --seed 2 --models diffusion
    python bench/generative_clip.py --checkpoints var/generative-ckpt32 --size 32 --seed 1 \
        --compare sigma-clipped sigma-clipped-islands
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
import generative_guidance as gg  # noqa: E402

from mlcore.generative.config import NOISE_ESTIMATES, DiffusionConfig  # noqa: E402

CLIPS = ("none", *NOISE_ESTIMATES)
CLIP_SIGMA = DiffusionConfig().noise_clip  # every estimate at the default threshold, whatever a version saved


def draws(generator, classes, seed: int) -> dict[str, np.ndarray]:
    """The same draws (one seed) with each clip; "none" is as the network left them."""
    clips = {"none": (0.0, NOISE_ESTIMATES[0]), **{estimate: (CLIP_SIGMA, estimate) for estimate in NOISE_ESTIMATES}}
    return generator.sample_with_clips(classes, clips, seed=seed)


def judged(samples: np.ndarray, classes, real, real_piped, judges) -> dict:
    """The guidance benchmark's measures and the FD of each class, after the pipeline and as drawn."""
    piped = ge.cutout_pipeline(samples)[0]
    row = {**ge.cover_measures(piped)}
    for suffix, images, against in (("", piped, real_piped), ("_raw", samples, real)):
        measures = ge.judge(images, classes, against, judges)
        per_class = {f"fd_{name}": measures[f"fd_{name}"] for name in ge.CLASSES if f"fd_{name}" in measures}
        row.update({f"{key}{suffix}": value for key, value in {**gg.summary(measures), **per_class}.items()})
    return row


def most_changed(by_clip: dict[str, np.ndarray], n: int, pair: tuple[str, str] = NOISE_ESTIMATES[:2]) -> np.ndarray:
    """Indices of the draws whose emission cover after the pipeline two estimates set furthest apart."""
    covers = [ge.emission_cover(ge.cutout_pipeline(by_clip[e])[0]) for e in pair]
    return np.argsort(-np.abs(covers[0] - covers[1]), kind="stable")[:n]


def figure_name(quick: bool, size: int, pair: tuple[str, str]) -> str:
    """The figure's file name; a pair other than the default one is named in it, so that comparing
    other estimates does not replace the default figure."""
    stem = "generative_clip_quick" if quick else f"generative_clip_{size}px"
    if pair != NOISE_ESTIMATES[:2]:
        stem += "_" + "_vs_".join(estimate.replace("-", "_") for estimate in pair)
    return stem + ".png"


def plot(panels: dict[str, dict[str, np.ndarray]], path: Path, pair: tuple[str, str], n: int = 10) -> None:
    """Per model, the draws that the two estimates of ``pair`` treat most differently, after the
    pipeline: a row per clip."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import PowerNorm

    rows = [(name, clip) for name in panels for clip in CLIPS]
    fig, axes = plt.subplots(len(rows), n, figsize=(1.3 * n, 1.45 * len(rows)), squeeze=False)
    chosen = {name: most_changed(by_clip, n, pair) for name, by_clip in panels.items()}
    for r, (name, clip) in enumerate(rows):
        piped = ge.cutout_pipeline(panels[name][clip][chosen[name]])[0]
        for c, ax in enumerate(axes[r]):
            ax.set_xticks([])
            ax.set_yticks([])
            if c < len(piped):
                ax.imshow(piped[c, 0], cmap="inferno", norm=PowerNorm(0.5, vmin=0, vmax=1))
        axes[r, 0].set_ylabel(f"{name}\n{'no clip' if clip == 'none' else clip}", fontsize=7)
    fig.suptitle(f"the same draws after the cutout pipeline, by background clip ({pair[0]} vs {pair[1]})", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    gg.add_kept_run_arguments(parser)
    parser.add_argument("--models", nargs="+", choices=list(gg.MODELS), default=list(gg.MODELS))
    parser.add_argument("--per-class", type=int, default=50, help="samples per class and model")
    parser.add_argument("--judge-epochs", type=int, default=100, help="the run's judge epochs (reads its cache)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--compare",
        nargs=2,
        choices=NOISE_ESTIMATES,
        default=list(NOISE_ESTIMATES[:2]),
        metavar="ESTIMATE",
        help=f"the two estimates whose most differently treated draws the figure shows ({', '.join(NOISE_ESTIMATES)})",
    )
    parser.add_argument("--out", type=Path, default=None, help="default bench/out/generative_clip[_quick].json")
    args = parser.parse_args(argv)
    if not args.quick and args.checkpoints is None:
        parser.error("--checkpoints is required (or --quick)")
    if args.per_class < 2:
        parser.error("--per-class must be 2 or more (the measures compare sets)")

    import torch

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    size, limit = (64, 240) if args.quick else (args.size, None)
    per_class = 4 if args.quick else args.per_class
    if args.quick:
        generators = gg.quick_generators(ge.firstgalaxydata_prepared(64, limit=limit))
    else:
        generators = gg.trained_generators(args.checkpoints, args.seed, args.models)
    generators = {name: generators[name] for name in args.models}
    real = ge.firstgalaxydata_prepared(size, limit=limit)
    judge_steps, cache = (15, None) if args.quick else (None, args.checkpoints)
    judges = ge.trained_judges(real, ge.mirabest_prepared(size), size, judge_steps, args.judge_epochs, cache)
    real_piped = ge.through_pipeline(real)
    classes = ge.balanced_classes(per_class, len(ge.CLASSES))

    results, panels = {}, {}
    for name, generator in generators.items():
        panels[name] = draws(generator, classes, args.seed)
        results[name] = {clip: judged(panels[name][clip], classes, real, real_piped, judges) for clip in CLIPS}
        for clip, row in results[name].items():
            print(
                f"[{time.perf_counter() - started:6.1f} s] {name}, clip {clip}: FD {row['fd']:.2f} "
                f"(as drawn {row['fd_raw']:.2f}), speckled {row['speckled_share']:.3f}, "
                f"cover {row['emission_cover']:.3f}",
                flush=True,
            )
    figure = ge.FIGURES / figure_name(args.quick, size, tuple(args.compare))
    plot(panels, figure, tuple(args.compare))
    result = {
        "bench": "generative_clip",
        "quick": args.quick,
        "image_size": size,
        "seed": args.seed,
        "samples_per_class": per_class,
        "threads": args.threads,
        "compared": args.compare,
        **{f"{key}_real": value for key, value in ge.cover_measures(real_piped["test"][0]).items()},
        **ge.real_references(real_piped, judges),
        **ge.real_references(real, judges, "_raw"),
        **{
            f"{key}_{name}_{clip.replace('-', '_')}": results[name][clip][key]
            for name in results
            for clip in CLIPS
            for key in ("fd", "fd_raw", "speckled_share", "emission_cover")
        },
        "results": results,
        "seconds": round(time.perf_counter() - started, 1),
    }
    out = args.out or ge.OUT / ("generative_clip_quick.json" if args.quick else f"generative_clip_{size}px.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
