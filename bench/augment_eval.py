"""Does augmentation with generated sources help the classifier? The platform's classifier
(``mlcore.ssl``, supervised) trained on real labelled images only, and on the same real images
plus synthetic ones from a trained diffusion generator, tested on the untouched real test split.

Data: firstgalaxydata's own train / test split (FRI, FRII, Compact, Bent), the central 150 x 150
pixels, prepared as ``bench/generative_eval.py`` prepares them, at the generator's image size or
64 px, the classifier's smallest, if that is larger (``--classifier-size``); a smaller generator's
samples are resampled to it after the cutout pipeline.
Per seed and label budget (50, 100, all) the real labels are drawn stratified by class; both arms
see the same real labels and train for the same number of optimiser steps. The augmented arm adds
synthetic images only of ``--synthetic-classes``, ``--synthetic-per-class`` of each, or (the
default) ``--synthetic-ratio`` times the real labels drawn of that class. Reported per arm and
budget (mean and spread over seeds): accuracy, recall of every class, expected calibration error
(15 equal-width bins).

The generator: a checkpoint written by ``bench/generative_eval.py --checkpoints DIR``
(``DIR/diffusion-seed0.ckpt``) or a generator version's weights file, via ``--generator``;
``--quick`` trains a tiny one itself for seconds (its samples are noise-like: the run checks the
pipeline, not the science).

    python bench/augment_eval.py --quick
    python bench/augment_eval.py --generator bench/out/checkpoints/diffusion-seed0.ckpt \\
        --synthetic-classes Bent FRI --synthetic-ratio 1 --seeds 0 1 2 --threads 2
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402
from _runs import RunClock, mean_and_spread, train_supervised, write_result  # noqa: E402
from generative_eval import CLASSES, cutout_pipeline, firstgalaxydata_prepared  # noqa: E402

from mlcore.generative.brightness import median_peak  # noqa: E402
from mlcore.generative.config import NOISE_ESTIMATES  # noqa: E402

OUT = _data.ROOT / "bench" / "out"
FIGURES = _data.ROOT / "bench" / "figures"
ARMS = ("real", "augmented")
# The Tang CNN pools its input four times over: 64 px is the smallest image it takes. A smaller
# generator's samples are resampled to it, as the platform resamples every cutout.
SMALLEST_CLASSIFIER_SIZE = 64


def stratified_draw(y: np.ndarray, n: int | None, seed: int) -> np.ndarray:
    """Indices of ``n`` labels drawn in proportion to the class counts (at least one of each
    class), or every index when ``n`` is None or not smaller than the set."""
    if n is None or n >= len(y):
        return np.arange(len(y))
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(y, return_counts=True)
    quota = np.maximum(1, np.floor(counts / counts.sum() * n).astype(int))
    for k in np.argsort(-(counts / counts.sum() * n - quota))[: max(0, n - quota.sum())]:
        quota[k] += 1  # largest remainders first, so that the quotas add up to n
    picks = [
        rng.choice(np.flatnonzero(y == c), min(q, c_n), replace=False)
        for c, q, c_n in zip(classes, quota, counts, strict=True)
    ]
    return np.sort(np.concatenate(picks))


def synthetic_counts(y_real: np.ndarray, classes: list[int], per_class: int | None, ratio: float) -> dict[int, int]:
    """How many synthetic images of each chosen class join a training set with labels ``y_real``."""
    if per_class is not None:
        return {k: per_class for k in classes}
    return {k: int(round(ratio * int((y_real == k).sum()))) for k in classes}


def quick_generator(real: dict, seed: int, size: int = 32):
    """A tiny diffusion model trained for seconds on the training split at ``size`` pixels
    (pipeline check only)."""
    from mlcore.generative.config import preset
    from mlcore.generative.diffusion import DiffusionGenerator
    from mlcore.ssl.data import resample

    x, y = real["train"]
    config = preset("tiny", image_size=size, n_classes=len(CLASSES), max_steps=3, batch_size=8, guidance=1.0, seed=seed)
    return DiffusionGenerator(config).fit(resample(x[:, 0], size)[:, None], y)


BRIGHTNESS = ("pipeline", "matched")


def synthetic_pool(
    generator,
    needed: dict[int, int],
    seed: int,
    steps: int | None,
    size: int,
    noise_estimate: str | None = None,
    brightness: str = "pipeline",
    peak_ratio: float = 1.0,
) -> dict[int, np.ndarray]:
    """{class: (n, 1, size, size) samples}, drawn once per seed (smaller budgets take the first
    ones), resampled to the classifier's ``size`` if the generator draws another. ``noise_estimate``:
    how the generator's background clip measures the background (default: the generator's own).

    ``brightness``: ``pipeline`` prepares them as the platform prepares a synthetic cutout before a
    classifier trains on it (noise clip, peak 1: ``generative_eval.cutout_pipeline``); ``matched``
    noise-clips them the same way but keeps each one's drawn brightness, times ``peak_ratio`` (the
    real images' median peak at the classifier's size over that at the generator's), so that their
    peaks at the classifier's input follow the real images' rather than all being 1."""
    from mlcore.ssl.data import resample

    pool = {}
    for k, n in needed.items():
        if not n:
            pool[k] = np.zeros((0, 1, size, size), np.float32)
            continue
        classes = np.full(n, k, dtype=np.int64)
        samples = generator.sample(classes, seed=seed * 1000 + k, steps=steps, noise_estimate=noise_estimate)
        prepared = cutout_pipeline(samples)[0]  # as classifiers.ml: clipped and scaled, then resampled
        if brightness == "matched":
            drawn_peaks = samples.reshape(n, -1).max(axis=1)[:, None, None, None]
            prepared = np.minimum(prepared * drawn_peaks * peak_ratio, 1.0).astype(np.float32)
        pool[k] = resample(prepared[:, 0], size)[:, None]
    return pool


def train_classifier(x, y, size: int, steps: int, seed: int, batch_size: int = 32):
    from mlcore.ssl.config import NetworkConfig

    network = NetworkConfig(image_size=size, n_classes=len(CLASSES))
    return train_supervised(x, y, network=network, steps=steps, seed=seed, batch_size=batch_size)


def test_metrics(classifier, x_test, y_test) -> dict:
    from mlcore.ssl.metrics import classification_metrics

    m = classification_metrics(classifier.predict_proba(x_test), y_test, class_names=list(CLASSES))
    return {
        "accuracy": m["accuracy"],
        "ece": m["ece"],
        **{f"recall_{name}": r for name, r in zip(CLASSES, m["recall"], strict=True)},
        "confusion": m["confusion"],  # rows: true class, columns: predicted (CLASSES order)
    }


def summarise(rows: list[dict]) -> dict:
    """``{measure}_{arm}_{budget}`` means and ``..._std`` spreads, the augmented minus real
    accuracy and Bent recall per budget, and ``confusion_{arm}_{budget}``: the test confusion
    matrices summed over seeds, which show where the sources a class loses go."""
    out = {}
    measures = ["accuracy", "ece", *(f"recall_{name}" for name in CLASSES)]
    for budget in dict.fromkeys(r["budget"] for r in rows):
        for arm in ARMS:
            mine = [r for r in rows if r["budget"] == budget and r["arm"] == arm]
            for measure in measures:
                mean_and_spread(out, f"{measure}_{arm}_{budget}", [r[measure] for r in mine])
            out[f"confusion_{arm}_{budget}"] = np.sum([r["confusion"] for r in mine], axis=0).tolist()
        for measure in ("accuracy", "recall_Bent"):
            out[f"{measure}_gain_{budget}"] = out[f"{measure}_augmented_{budget}"] - out[f"{measure}_real_{budget}"]
    return out


def largest_confusion_shifts(summary: dict, budget: str, top: int = 3) -> list[str]:
    """The off-diagonal cells that augmentation grew most (summed over seeds), e.g. 'FRI as Bent +5'."""
    shift = np.subtract(summary[f"confusion_augmented_{budget}"], summary[f"confusion_real_{budget}"])
    np.fill_diagonal(shift, 0)
    cells = sorted(((int(v), t, q) for (t, q), v in np.ndenumerate(shift) if v > 0), key=lambda c: (-c[0], c[1], c[2]))
    return [f"{CLASSES[t]} as {CLASSES[q]} +{v}" for v, t, q in cells[:top]]


def plot(summary: dict, budgets: list[str], labels_at: dict[str, int], path: Path) -> None:
    """Accuracy and Bent recall against real labels, both arms, error bars over seeds; below,
    per budget, the augmented minus the real-only confusion matrix (summed over seeds)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [labels_at[b] for b in budgets]
    columns = max(2, len(budgets))  # a confusion panel per budget under the two curve panels
    fig = plt.figure(figsize=(3.2 * columns, 7.0))
    grid = fig.add_gridspec(2, 2 * columns)
    curves = [fig.add_subplot(grid[0, :columns]), fig.add_subplot(grid[0, columns:])]
    for ax, measure, title in zip(curves, ("accuracy", "recall_Bent"), ("test accuracy", "Bent recall"), strict=True):
        for arm, marker in zip(ARMS, ("o", "s"), strict=True):
            means = [summary[f"{measure}_{arm}_{b}"] for b in budgets]
            stds = [summary[f"{measure}_{arm}_{b}_std"] for b in budgets]
            ax.errorbar(
                xs, means, stds, marker=marker, capsize=3, label="real only" if arm == "real" else "real + synthetic"
            )
        ax.set_xscale("log")
        ax.minorticks_off()
        ax.set_xticks(xs, [f"{b}\n({n})" if b == "all" else b for b, n in zip(budgets, xs, strict=True)])
        ax.set(xlabel="real labels", ylabel=title, ylim=(0, 1))
    curves[0].legend(fontsize=8)
    for i, budget in enumerate(budgets):
        shift = np.subtract(summary[f"confusion_augmented_{budget}"], summary[f"confusion_real_{budget}"])
        limit = max(1, int(np.abs(shift).max()))
        ax = fig.add_subplot(grid[1, 2 * i : 2 * i + 2])
        ax.imshow(shift, cmap="RdBu", vmin=-limit, vmax=limit)
        for (t, q), v in np.ndenumerate(shift):
            ax.text(q, t, f"{v:+d}" if v else "0", ha="center", va="center", fontsize=8)
        ax.set_xticks(range(len(CLASSES)), CLASSES, fontsize=7)
        ax.set_yticks(range(len(CLASSES)), CLASSES, fontsize=7)
        ax.set(xlabel="predicted", ylabel="true" if i == 0 else None, title=f"{budget} labels: augmented - real")
        ax.title.set_fontsize(8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def parse_budget(text: str) -> str:
    if text != "all" and not (text.isdigit() and int(text) > 0):
        raise argparse.ArgumentTypeError(f"a label budget is a positive whole number or 'all', not {text!r}")
    return text


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tiny generator and short trainings, under 45 s")
    parser.add_argument("--generator", type=Path, help="diffusion checkpoint or weights (bench/generative_eval.py)")
    parser.add_argument("--labels", nargs="+", type=parse_budget, default=["50", "100", "all"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--synthetic-classes", nargs="+", default=["Bent"], choices=CLASSES)
    amount = parser.add_mutually_exclusive_group()
    amount.add_argument("--synthetic-per-class", type=int, help="synthetic images of each chosen class")
    amount.add_argument(
        "--synthetic-ratio", type=float, default=1.0, help="synthetic images per real label of a chosen class"
    )
    parser.add_argument("--steps", type=int, default=1500, help="classifier optimiser steps (both arms)")
    parser.add_argument(
        "--classifier-size",
        type=int,
        default=None,
        help=f"the classifier's image size (default: the generator's, {SMALLEST_CLASSIFIER_SIZE} at least); "
        "real images are prepared at it, synthetic ones resampled to it",
    )
    parser.add_argument("--sample-steps", type=int, default=None, help="sampler steps (default: the generator's)")
    parser.add_argument(
        "--noise-estimate",
        choices=NOISE_ESTIMATES,
        default=None,
        help="how the generator's background clip measures the background (default: the generator's own)",
    )
    parser.add_argument(
        "--synthetic-brightness",
        choices=BRIGHTNESS,
        default="pipeline",
        help="pipeline: synthetic images scaled to a peak of 1 as the cutout pipeline does; matched: their drawn "
        "brightness kept, carried to the classifier's size by the real images' median peaks at the two sizes",
    )
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (part of what a run reproduces)")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="rows and summary (default bench/out/augment_eval*.json); the figure takes its name",
    )
    args = parser.parse_args(argv)
    if args.synthetic_per_class is not None and args.synthetic_per_class < 0:
        parser.error("--synthetic-per-class must be 0 or more")
    if args.synthetic_ratio < 0:
        parser.error("--synthetic-ratio must be 0 or more")
    if args.classifier_size is not None and args.classifier_size < SMALLEST_CLASSIFIER_SIZE:
        parser.error(f"--classifier-size must be {SMALLEST_CLASSIFIER_SIZE} or more (the Tang CNN's smallest input)")
    if not args.quick and args.generator is None:
        parser.error("--generator is required (a checkpoint of bench/generative_eval.py --checkpoints DIR)")

    clock = RunClock(args.threads)
    say = clock.say
    if args.quick:
        # a prefix of the archive (mixed classes, about 50 test images), 240 training images of it
        size, limit, seeds, steps, sample_steps, batch_size, train_cap = 64, 720, [0], 8, 2, 16, 240
    else:
        from mlcore.generative.diffusion import DiffusionGenerator

        generator = DiffusionGenerator.load(args.generator)
        if generator.config.unet.n_classes != len(CLASSES):
            raise SystemExit(
                f"{args.generator}: a generator of {generator.config.unet.n_classes} classes, not {CLASSES}"
            )
        size = args.classifier_size or max(generator.config.unet.image_size, SMALLEST_CLASSIFIER_SIZE)
        seeds, steps = args.seeds, args.steps
        limit, sample_steps, batch_size, train_cap = None, None, 32, None
    sample_steps = args.sample_steps or sample_steps
    real = firstgalaxydata_prepared(size, limit=limit)
    (x_train, y_train), (x_test, y_test) = real["train"], real["test"]
    kept = stratified_draw(y_train, train_cap, seed=0)
    x_train, y_train = x_train[kept], y_train[kept]
    real["train"] = (x_train, y_train)
    say(f"firstgalaxydata at {size} px: {len(y_train)} train, {len(y_test)} test")
    chosen_classes = [CLASSES.index(name) for name in args.synthetic_classes]
    generator_size = 32 if args.quick else generator.config.unet.image_size
    # a real source's peak falls as an image shrinks: its median at each size carries the drawn
    # brightness from the generator's size to the classifier's (``--synthetic-brightness matched``)
    real_peak = median_peak(x_train)
    real_peak_at_generator = real_peak
    if generator_size != size:
        real_peak_at_generator = median_peak(firstgalaxydata_prepared(generator_size, limit)["train"][0])
    peak_ratio = real_peak / real_peak_at_generator
    say(f"real median peak: {real_peak:.3f} at {size} px, {real_peak_at_generator:.3f} at {generator_size} px")
    synthetic_peaks = []

    rows, labels_at = [], {}
    for seed in seeds:
        if args.quick:
            generator = quick_generator(real, seed)
        draws = {b: stratified_draw(y_train, None if b == "all" else int(b), seed) for b in args.labels}
        needed = {
            k: max(
                synthetic_counts(y_train[d], [k], args.synthetic_per_class, args.synthetic_ratio)[k]
                for d in draws.values()
            )
            for k in chosen_classes
        }
        pool = synthetic_pool(
            generator, needed, seed, sample_steps, size, args.noise_estimate, args.synthetic_brightness, peak_ratio
        )
        synthetic_peaks.append(median_peak(np.concatenate(list(pool.values()))))
        say(
            f"seed {seed}: sampled {sum(needed.values())} synthetic images ({needed}), "
            f"median peak {synthetic_peaks[-1]:.3f} at the classifier's input ({args.synthetic_brightness})"
        )
        for budget, drawn in draws.items():
            labels_at[budget] = len(drawn)
            counts = synthetic_counts(y_train[drawn], chosen_classes, args.synthetic_per_class, args.synthetic_ratio)
            x_syn = [pool[k][:n] for k, n in counts.items() if n]
            y_syn = [np.full(n, k) for k, n in counts.items() if n]
            sets = {
                "real": (x_train[drawn], y_train[drawn]),
                "augmented": (
                    np.concatenate([x_train[drawn], *x_syn]),
                    np.concatenate([y_train[drawn], *y_syn]).astype(np.int64),
                ),
            }
            for arm, (x, y) in sets.items():
                classifier = train_classifier(x, y, size, steps, seed, batch_size)
                row = {
                    "seed": seed,
                    "budget": budget,
                    "arm": arm,
                    "real_labels": len(drawn),
                    "synthetic": int(len(y) - len(drawn)),
                    **test_metrics(classifier, x_test, y_test),
                }
                rows.append(row)
                say(
                    f"seed {seed}, {budget} labels, {arm}: accuracy {row['accuracy']:.3f}, "
                    f"Bent recall {row['recall_Bent']:.3f}, ECE {row['ece']:.3f}"
                )
    summary = summarise(rows)
    for budget in args.labels:
        grown = largest_confusion_shifts(summary, budget)
        say(f"{budget} labels, confusions augmentation added (summed over seeds): {', '.join(grown) or 'none'}")
    out = args.out or OUT / f"augment_eval{'_quick' if args.quick else ''}.json"
    plot(summary, list(args.labels), labels_at, FIGURES / f"{out.stem}.png")  # named as the run's JSON
    result = {
        "bench": "augment_eval",
        "quick": args.quick,
        "generator": "tiny, trained here" if args.quick else str(args.generator),
        "image_size": size,
        "generator_image_size": generator.config.unet.image_size,
        "seeds": seeds,
        "labels": {b: labels_at[b] for b in args.labels},
        "synthetic_classes": list(args.synthetic_classes),
        "synthetic_per_class": args.synthetic_per_class,
        "synthetic_ratio": None if args.synthetic_per_class is not None else args.synthetic_ratio,
        "classifier_steps": steps,
        "sample_steps": sample_steps,
        "noise_estimate": args.noise_estimate or generator.config.noise_estimate,
        "synthetic_brightness": args.synthetic_brightness,
        "median_peak_real": real_peak,
        "median_peak_real_at_generator_size": real_peak_at_generator,
        "median_peak_synthetic": float(np.mean(synthetic_peaks)),
        "threads": args.threads,
        **summary,
        "seconds": clock.seconds(),
    }
    return write_result(result, rows, out)


if __name__ == "__main__":
    main()
