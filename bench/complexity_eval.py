"""Calibrate coarse-grained complexity on real labelled radio images.

firstgalaxydata (FIRST, 2,158 images): how well the score separates Compact from extended
sources (FRI, FRII, Bent) as ROC AUC, against a plain single-scale zlib length of the 8-bit
image. Settings are chosen by a grid on the training split and reported on the test split.
MiraBest (FIRST, Jy/beam): how the score orders FRI, FRII and hybrid sources.
The last line printed is one JSON object.

    python bench/complexity_eval.py [--quick]
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
import zlib
from dataclasses import asdict, replace
from pathlib import Path

import _data  # noqa: F401  (puts the project on the path)
import numpy as np
from sklearn.metrics import roc_auc_score

from mlcore.complexity import ComplexityConfig, complexity

OUT = Path(__file__).resolve().parent / "out"


def plain_zlib(images: np.ndarray) -> np.ndarray:
    return np.array([len(zlib.compress(np.clip(x, 0, 255).astype(np.uint8).tobytes())) for x in images], float)


def grid(quick: bool):
    apertures = (None, 100, 80) if quick else (None, 150, 100, 80, 64)
    scales = ((1,), (1, 2)) if quick else ((1,), (1, 2), (1, 2, 4))
    levels = (16,) if quick else (8, 16)
    for aperture, sc, lv in itertools.product(apertures, scales, levels):
        yield ComplexityConfig(aperture_px=aperture, scales=sc, levels=lv)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a 700-image subset and a small grid")
    args = parser.parse_args()
    started = time.perf_counter()
    images, labels, splits = _data.firstgalaxydata_arrays()
    if args.quick:
        rng = np.random.default_rng(0)
        keep = np.sort(rng.choice(len(images), 700, replace=False))
        images, labels, splits = images[keep], labels[keep], splits[keep]
    extended = (labels != "Compact").astype(int)
    train, test = splits == "train", splits == "test"

    results = []
    for config in grid(args.quick):
        auc = roc_auc_score(extended[train], complexity(images[train], config))
        results.append((auc, config))
        print(f"train AUC {auc:.4f}  aperture={config.aperture_px} scales={config.scales} levels={config.levels}")
    best_auc, best = max(results, key=lambda r: r[0])
    if not args.quick:
        for stretch in ("linear", "log"):
            variant = replace(best, stretch=stretch)
            auc = roc_auc_score(extended[train], complexity(images[train], variant))
            print(f"train AUC {auc:.4f}  stretch={stretch}")
            if auc > best_auc:
                best_auc, best = auc, variant

    scores = complexity(images, best)
    baseline = plain_zlib(images)
    cropped_baseline = plain_zlib(images[:, 110:190, 110:190])
    by_class = {c: float(np.median(scores[labels == c])) for c in ("Compact", "FRI", "FRII", "Bent")}

    mb_images, mb_codes = _data.mirabest_arrays()
    confident = np.isin(mb_codes, ["100", "102", "104", "200", "201"]) | np.char.startswith(mb_codes, "30")
    mb_scores = complexity(mb_images[confident], best)
    mb_class = np.array([{"1": "FRI", "2": "FRII", "3": "hybrid"}[c[0]] for c in mb_codes[confident]])
    mirabest_median = {c: float(np.median(mb_scores[mb_class == c])) for c in ("FRI", "FRII", "hybrid")}
    fr_mask = mb_class != "hybrid"
    auc_fri_frii = roc_auc_score((mb_class[fr_mask] == "FRII").astype(int), mb_scores[fr_mask])

    plot(scores, labels, best, OUT / "complexity_eval.png")
    result = {
        "auc_compact_vs_extended": round(float(roc_auc_score(extended[test], scores[test])), 4),
        "auc_compact_vs_extended_all": round(float(roc_auc_score(extended, scores)), 4),
        "auc_train_chosen": round(float(best_auc), 4),
        "baseline_zlib_8bit_auc": round(float(roc_auc_score(extended[test], baseline[test])), 4),
        "baseline_zlib_8bit_auc_all": round(float(roc_auc_score(extended, baseline)), 4),
        "baseline_zlib_8bit_same_aperture_auc_all": round(float(roc_auc_score(extended, cropped_baseline)), 4),
        "median_bits_per_pixel_by_class": {k: round(v, 4) for k, v in by_class.items()},
        "mirabest_median_bits_per_pixel": {k: round(v, 4) for k, v in mirabest_median.items()},
        "mirabest_auc_frii_above_fri": round(float(auc_fri_frii), 4),
        "chosen_config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(best).items()},
        "n_images": int(len(images)),
        "n_test": int(test.sum()),
        "seconds": round(time.perf_counter() - started, 1),
        "plot": str(OUT / "complexity_eval.png"),
    }
    print(json.dumps(result))


def plot(scores, labels, config, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4))
    bins = np.linspace(scores.min(), np.percentile(scores, 99.5), 60)
    for name in ("Compact", "FRI", "FRII", "Bent"):
        ax.hist(scores[labels == name], bins=bins, histtype="step", linewidth=1.6, label=name, density=True)
    ax.set_xlabel("coarse-grained complexity (bits per pixel)")
    ax.set_ylabel("density")
    ax.set_title(f"firstgalaxydata, aperture {config.aperture_px} px, scales {config.scales}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
