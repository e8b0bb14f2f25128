"""Does a second image layer help the classifier? The platform's multi-branch network
(``mlcore.ssl``, architecture ``multibranch``: one convolutional branch per layer, fused before the
head) trained on the radio image alone and on radio plus a second layer, same seeds, same steps,
same folds, side by side.

Two data sets, both far from a real test of the idea:

- **Tutorial subjects** (``shared/data/rgz_atlas_examples/examples``): the original Radio Galaxy
  Zoo tutorial subjects, a radio PNG and an infrared heat-map PNG (with the radio contours drawn
  on it) of the same field, labelled by their folder (compact, extended, multiple). The 13 with
  both images are used: the accuracy is leave-one-out over 13 images, so one image is nearly
  8 points. Tiny.
- **MiraBest Confident** (FRI, FRII) with a **synthetic** second layer: a host-galaxy-like
  Gaussian at the radio peak, a few random field sources and noise, drawn independently of the
  label. It carries no information the radio image lacks, so this is a smoke test of the
  two-branch pipeline at a realistic size, not a measurement of a benefit.

A real benefit needs real infrared (or optical) cutouts of labelled radio sources.

    python bench/layers_eval.py --quick
    python bench/layers_eval.py --seeds 0 1 --steps 40 --mirabest-limit 300 --mirabest-folds 2
One torch thread by default: these networks are small, and on a busy two-core machine a second
thread spent over ten times the CPU per step waiting for the first.
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

OUT = _data.ROOT / "bench" / "out"
TUTORIAL = _data.SHARED / "rgz_atlas_examples" / "examples"
TUTORIAL_CLASSES = ("compact", "extended", "multiple")
MIRABEST_CONFIDENT = {"100": 0, "102": 0, "104": 0, "200": 1, "201": 1}
ARMS = ("radio", "radio+second")


def _grey(path: Path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(path).convert("L"), dtype=np.float32)


def tutorial_set(size: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(N, 2, size, size) radio and infrared planes in [0, 1], (N,) folder labels, names."""
    from mlcore.ssl.data import clip_and_scale, resample

    planes, labels, names = [], [], []
    for k, folder in enumerate(TUTORIAL_CLASSES):
        for radio in sorted((TUTORIAL / folder).glob("*_radio.png")):
            infrared = radio.with_name(radio.name.replace("_radio.png", "_heatmap_contours.png"))
            if not infrared.is_file():
                continue
            pair = [clip_and_scale(_grey(radio)), _grey(infrared) / 255.0]
            planes.append(resample(np.stack(pair), size))
            labels.append(k)
            names.append(radio.stem.removesuffix("_radio"))
    if not planes:
        raise SystemExit(f"{TUTORIAL}: no tutorial subjects (the shared data folder must sit beside the project)")
    return np.stack(planes).astype(np.float32), np.array(labels), names


def synthetic_second_layer(radio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(N, S, S) radio planes -> (N, S, S) label-independent planes in [0, 1]: a Gaussian 'host'
    at each radio peak, three random field sources, Gaussian noise."""
    n, size, _ = radio.shape
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    out = np.empty_like(radio)
    for i in range(n):
        py, px = np.unravel_index(int(np.argmax(radio[i])), radio[i].shape)
        plane = np.exp(-((xx - px) ** 2 + (yy - py) ** 2) / (2 * (size / 40) ** 2))
        for _ in range(3):
            cx, cy, a = rng.uniform(0, size), rng.uniform(0, size), rng.uniform(0.2, 0.8)
            plane += a * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * (size / 60) ** 2))
        plane += rng.normal(0, 0.05, plane.shape)
        plane -= plane.min()
        out[i] = plane / plane.max()
    return out


def mirabest_set(size: int, limit: int | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(N, 2, size, size): MiraBest Confident radio and its synthetic second layer; (N,) FRI 0 / FRII 1."""
    from mlcore.ssl.data import prepare_images

    images, codes = _data.mirabest_arrays()
    rows = np.flatnonzero(np.isin(codes, list(MIRABEST_CONFIDENT)))
    if limit is not None and limit < len(rows):
        rows = np.sort(np.random.default_rng(seed).choice(rows, limit, replace=False))
    x, bad = prepare_images(images[rows], size=size)
    y = np.delete(np.array([MIRABEST_CONFIDENT[c] for c in codes[rows]]), bad)
    second = synthetic_second_layer(x[:, 0], np.random.default_rng(seed + 1))
    return np.concatenate([x, second[:, None]], axis=1), y


def stratified_folds(y: np.ndarray, k: int, seed: int) -> list[np.ndarray]:
    """``k`` disjoint test index sets, each class dealt round-robin after a shuffle."""
    rng = np.random.default_rng(seed)
    folds: list[list[int]] = [[] for _ in range(k)]
    turn = 0
    for c in np.unique(y):
        for i in rng.permutation(np.flatnonzero(y == c)):
            folds[turn % k].append(int(i))
            turn += 1
    return [np.sort(np.array(f, dtype=int)) for f in folds if f]


def train(x: np.ndarray, y: np.ndarray, n_classes: int, steps: int, seed: int, batch_size: int):
    from mlcore.ssl.config import NetworkConfig

    channels = x.shape[1]
    network = NetworkConfig(
        architecture="multibranch", in_channels=channels, image_size=x.shape[-1], n_classes=n_classes
    )
    layers = ("radio", "second")[:channels]
    return train_supervised(x, y, network=network, steps=steps, seed=seed, batch_size=batch_size, layers=layers)


def compare(x: np.ndarray, y: np.ndarray, folds: list[np.ndarray], n_classes: int, steps: int, seed: int, batch):
    """Accuracy of each arm over the folds (every image predicted once, by a model that never saw it)."""
    correct = {arm: 0 for arm in ARMS}
    for test in folds:
        train_rows = np.setdiff1d(np.arange(len(y)), test)
        for arm, channels in zip(ARMS, (1, 2), strict=True):
            clf = train(x[train_rows, :channels], y[train_rows], n_classes, steps, seed, batch)
            correct[arm] += int((clf.predict(x[test, :channels]) == y[test]).sum())
    return {arm: correct[arm] / len(y) for arm in ARMS}


def summary(rows: list[dict], data: str) -> dict:
    out = {}
    for arm in ARMS:
        mean_and_spread(out, f"{data}_accuracy_{arm}", [r[arm] for r in rows if r["data"] == data], digits=4)
    out[f"{data}_difference"] = round(out[f"{data}_accuracy_radio+second"] - out[f"{data}_accuracy_radio"], 4)
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 folds, 64 px, few steps, 200 MiraBest images")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=300, help="optimiser steps per model (both arms)")
    parser.add_argument("--size", type=int, default=64, help="input pixels per side")
    parser.add_argument("--mirabest-limit", type=int, default=None, help="MiraBest images used (default all)")
    parser.add_argument("--mirabest-folds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--out", type=Path, default=None, help="rows and summary (default bench/out/layers_eval*.json)")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.size < 64:
        parser.error("--steps must be positive and --size at least 64 (the Tang CNN)")

    clock = RunClock(args.threads)
    say = clock.say
    if args.quick:
        seeds, steps, size, limit, tutorial_folds, mirabest_folds, batch = [0], 6, 64, 200, 3, 2, 16
    else:
        seeds, steps, size, limit = args.seeds, args.steps, args.size, args.mirabest_limit
        tutorial_folds, mirabest_folds, batch = None, args.mirabest_folds, 16

    x_t, y_t, names = tutorial_set(size)
    say(f"tutorial subjects: {len(y_t)} ({', '.join(names)}) at {size} px")
    rows = []
    for seed in seeds:
        folds = stratified_folds(y_t, tutorial_folds or len(y_t), seed)
        row = {"data": "tutorial", "seed": seed, **compare(x_t, y_t, folds, len(TUTORIAL_CLASSES), steps, seed, 8)}
        rows.append(row)
        say(f"tutorial, seed {seed}: radio {row['radio']:.3f}, radio+infrared {row['radio+second']:.3f}")
    for seed in seeds:
        x_m, y_m = mirabest_set(size, limit, seed)
        folds = stratified_folds(y_m, mirabest_folds, seed)
        row = {"data": "mirabest", "seed": seed, **compare(x_m, y_m, folds, 2, steps, seed, batch)}
        rows.append(row)
        say(
            f"MiraBest ({len(y_m)} images), seed {seed}: radio {row['radio']:.3f}, "
            f"radio+synthetic {row['radio+second']:.3f}"
        )
    result = {
        "bench": "layers_eval",
        "quick": args.quick,
        "network": "multibranch (one Tang branch per layer), supervised",
        "image_size": size,
        "steps": steps,
        "seeds": seeds,
        "tutorial_subjects": len(y_t),
        "tutorial_folds": tutorial_folds or len(y_t),
        "tutorial_second_layer": "infrared heat-map PNG (real, with radio contours drawn on it)",
        "mirabest_images": int(len(y_m)),
        "mirabest_folds": mirabest_folds,
        "mirabest_second_layer": "synthetic, independent of the label",
        "threads": args.threads,
        **summary(rows, "tutorial"),
        **summary(rows, "mirabest"),
        "seconds": clock.seconds(),
    }
    return write_result(result, rows, args.out or OUT / f"layers_eval{'_quick' if args.quick else ''}.json")


if __name__ == "__main__":
    main()
