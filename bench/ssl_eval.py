"""FixMatch against the supervised baseline on real radio galaxies (MiraBest Confident).

Labelled: MiraBest Confident (FRI = 0, FRII = 1), training images not in the MiraBest test batch,
less a class-stratified validation fifth per seed (``--val-frac``) whose accuracy picks the weights
that are tested, as in the public implementation;
test: the MiraBest test batch without hybrids (``test_names.txt``, confident images). For each
number of labels (a class-balanced random draw, per seed) both methods train for the same number
of optimiser steps; FixMatch's unlabelled pool is the rest of the Confident training set ("confident",
no shift), MiraBest Uncertain ("uncertain") or firstgalaxydata ("firstgalaxydata", another FIRST
catalogue: the central 150 x 150 pixels of its 300 x 300 images, same 1.8 arcsec pixels). Reported per
run: test accuracy, macro F1, ECE (15 equal-width bins) and the Frechet distance between the
labelled and unlabelled sets in the network's 256-d feature space. Results are written after every
run (``--out``); a plot of accuracy and ECE against labels is drawn at the end.

    python bench/ssl_eval.py --quick
    nice python bench/ssl_eval.py --labels 50 200 all --seeds 0 1 --steps 200 --mu 2 --threads 1
    python bench/ssl_eval.py --dataset firstgalaxydata --labels all --methods supervised --seeds 0
    nice python bench/ssl_eval.py --labels all --methods supervised --architectures tang d16 --epochs 50 \
        --shift-labels '' --seeds 0 1 2

``--architectures`` compares networks on the same runs: ``tang`` (the Tang CNN) and ``d16``/``d8`` (the
D16/D8-equivariant CNN after Scaife & Porter 2021, ``mlcore.ssl.equivariant``); ``--image-size``
resamples the images (the equivariant networks take 4k + 2 pixels: 150, 70...). Each run also reports
``test_accuracy_rotations``, the test accuracy of the predictions averaged over the 8 right-angle
rotations and mirror images.

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from ssl_eval_data import balanced_draw, firstgalaxydata_pool, firstgalaxydata_splits, mirabest_splits, validation_split
from ssl_eval_plots import MIRABEST_REFERENCES, plot, plot_curves

OUT = Path(__file__).resolve().parent / "out"
QUICK_SIZE, QUICK_STEPS = 64, 1200


def quick_run(data) -> dict:
    """Seconds, not hours: the supervised network on every MiraBest Confident label at 64 px for
    1,200 steps, the best validated weights tested. It shows learning, not the published figure
    (that needs the full schedule at 150 px)."""
    from mlcore.ssl.config import FixMatchConfig, NetworkConfig
    from mlcore.ssl.data import resample

    small = {key: (resample(x[:, 0], QUICK_SIZE)[:, None], y) for key, (x, y) in data.items()}
    base = FixMatchConfig(network=NetworkConfig(image_size=QUICK_SIZE), lr=1e-3, batch_size=32, val_every=1)
    return run_one(
        small,
        method="supervised",
        n_labels="all",
        seed=0,
        pool="confident",
        steps=QUICK_STEPS,
        mu=2,
        base_config=base,
        val_fraction=0.2,
    )


def run_one(
    data,
    *,
    method,
    n_labels,
    seed,
    pool,
    steps,
    mu,
    epochs=None,
    curve=False,
    val_fraction=0.0,
    fgd=None,
    base_config=None,
    architecture="tang",
) -> dict:
    """One training run and its test metrics. ``epochs`` (passes over the labelled set, the
    published schedule) replaces the fixed ``steps`` budget when given; ``val_fraction`` of the
    training images is held out to pick the best validated weights; ``curve`` also records the
    test accuracy at each validation (for the learning curve only: nothing is selected on it)."""
    import torch

    from mlcore.ssl.config import FixMatchConfig
    from mlcore.ssl.estimator import SSLClassifier
    from mlcore.ssl.metrics import classification_metrics, frechet_distance

    x_train, y_train = data["train"]
    x_test, y_test = data["test"]
    val, candidates = validation_split(y_train, val_fraction, seed)
    if n_labels == "all":
        chosen = candidates
    else:
        chosen = candidates[balanced_draw(y_train[candidates], int(n_labels), seed)]
    rest = np.setdiff1d(candidates, chosen)
    if pool == "confident":
        x_pool = x_train[rest]
    elif pool == "uncertain":
        x_pool = data["uncertain"][0]
    else:
        x_pool = fgd
    if epochs:
        schedule = {"epochs": epochs, "max_steps": None}
    else:
        schedule = {"epochs": 10**6, "max_steps": steps}
    config = replace(base_config or FixMatchConfig(), method=method, seed=seed, mu=mu, **schedule)
    config = replace(config, network=replace(config.network, architecture=architecture, image_size=x_train.shape[-1]))
    started = time.perf_counter()
    clf = SSLClassifier(config, device="auto").fit(
        x_train[chosen],
        y_train[chosen],
        x_pool if len(x_pool) else None,
        x_train[val],
        y_train[val],
        monitor=(x_test, y_test) if curve else None,
    )
    seconds = time.perf_counter() - started
    metrics = classification_metrics(clf.predict_proba(x_test), y_test, n_bins=config.ece_bins)
    rotated = classification_metrics(clf.predict_proba(x_test, rotations=True), y_test, n_bins=config.ece_bins)
    fd = None
    if len(x_pool) >= 2:
        fd = frechet_distance(clf.features(x_train[chosen]), clf.features(x_pool))
    last = clf.history_[-1] if clf.history_ else {}
    row = {
        "method": method,
        "architecture": architecture,
        "image_size": int(x_train.shape[-1]),
        "labels": len(chosen),
        "label_setting": n_labels,
        "seed": seed,
        "pool": pool if method == "fixmatch" else "-",
        "pool_size": int(len(x_pool)) if method == "fixmatch" else 0,
        "steps": int(last.get("step", 0)),
        "epochs": int(last.get("epoch", 0)),
        "mu": mu,
        "test_accuracy": metrics["accuracy"],
        "test_accuracy_rotations": rotated["accuracy"],
        "macro_f1": metrics["macro_f1"],
        "ece": metrics["ece"],
        "frechet_distance": fd,
        "final_mask_rate": last.get("mask_rate"),
        "train_seconds": round(seconds, 1),
        # CPU kernels sum in an order that depends on the thread count, so a run is reproduced
        # only with the same --threads (and seed); --curve changes nothing.
        "threads": torch.get_num_threads(),
        "validation_images": len(val),
        "selected_epoch": clf.selected_epoch_,
        "best_val_accuracy": clf.best_val_accuracy_,
        "test_curve": [[h["epoch"], h["monitor_accuracy"]] for h in clf.history_ if "monitor_accuracy" in h],
    }
    if row["test_curve"]:  # one epoch's accuracy on 104 images is noisy: also the mean of the last 50 epochs
        late = [a for e, a in row["test_curve"] if e > row["epochs"] - 50]
        row["test_accuracy_last50_mean"] = float(np.mean(late))
    return row


def summarise(rows: list[dict]) -> list[dict]:
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["method"], r["pool"], r["labels"], r.get("architecture", "tang")), []).append(r)
    out = []
    for (method, pool, labels, architecture), rs in sorted(groups.items(), key=lambda kv: kv[0]):
        acc = np.array([r["test_accuracy"] for r in rs])
        rotated = [r["test_accuracy_rotations"] for r in rs if r.get("test_accuracy_rotations") is not None]
        ece = np.array([r["ece"] for r in rs])
        fds = [r["frechet_distance"] for r in rs if r["frechet_distance"] is not None]
        out.append(
            {
                "method": method,
                "architecture": architecture,
                "pool": pool,
                "labels": labels,
                "seeds": len(rs),
                "accuracy_mean": float(acc.mean()),
                "accuracy_std": float(acc.std()),
                "accuracy_rotations_mean": float(np.mean(rotated)) if rotated else None,
                "accuracy_rotations_std": float(np.std(rotated)) if rotated else None,
                "ece_mean": float(ece.mean()),
                "ece_std": float(ece.std()),
                "frechet_mean": float(np.mean(fds)) if fds else None,
            }
        )
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one short FixMatch run with the default settings")
    parser.add_argument("--labels", nargs="+", default=["50", "100", "200", "400", "all"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", default=["supervised", "fixmatch"])
    parser.add_argument("--steps", type=int, default=250, help="optimiser steps per run (both methods)")
    parser.add_argument(
        "--epochs", type=int, help="passes over the labelled set per run, as published (800); replaces --steps"
    )
    parser.add_argument("--mu", type=int, default=7, help="unlabelled : labelled batch ratio")
    parser.add_argument("--shift-labels", default="200", help="label count of the dataset-shift runs ('' = none)")
    parser.add_argument("--dataset", choices=["mirabest", "firstgalaxydata"], default="mirabest", help="labelled set")
    parser.add_argument(
        "--curve", action="store_true", help="record the test accuracy at every validation (learning curves)"
    )
    parser.add_argument(
        "--val-frac",
        type=float,
        default=0.2,
        help="training images held out (per class, per seed) to pick the best validated weights; 0: last weights",
    )
    parser.add_argument(
        "--threads", type=int, default=2, help="torch CPU threads; part of what a run reproduces (with the seed)"
    )
    parser.add_argument(
        "--architectures",
        nargs="+",
        default=["tang"],
        help="networks to compare on the same runs: tang, d16, d8 (the equivariant CNN needs escnn)",
    )
    parser.add_argument(
        "--image-size", type=int, default=150, help="resample the images to this size (d16/d8: 4k + 2 pixels)"
    )
    parser.add_argument("--out", type=Path, default=OUT / "ssl_eval.json")
    parser.add_argument("--replot", action="store_true", help="only redraw the plot of the --out results")
    args = parser.parse_args()
    if args.replot:
        refs = MIRABEST_REFERENCES if args.dataset == "mirabest" else None
        saved = json.loads(args.out.read_text())
        plot(saved["summary"], args.out.with_suffix(".png"), refs)
        plot_curves(saved["rows"], args.out.with_name(args.out.stem + "_curves.png"), refs)
        return

    from mlcore.ssl.config import NetworkConfig
    from mlcore.ssl.network import build_network

    for architecture in args.architectures:
        try:  # built once here, so that a size the network cannot take stops the run before any training
            build_network(NetworkConfig(architecture=architecture, image_size=args.image_size))
        except ValueError as exc:
            parser.error(f"--architectures {architecture} / --image-size {args.image_size}: {exc}")

    import torch

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    data = firstgalaxydata_splits() if args.dataset == "firstgalaxydata" and not args.quick else mirabest_splits()
    if args.image_size != 150 and not args.quick:
        from mlcore.ssl.data import resample

        data = {key: (resample(x[:, 0], args.image_size)[:, None], y) for key, (x, y) in data.items()}
    if args.quick:
        row = quick_run(data)
        result = {
            "bench": "ssl_eval",
            "quick": True,
            "method": row["method"],
            "image_size": QUICK_SIZE,
            "labels": row["labels"],
            "steps": row["steps"],
            "test_accuracy": row["test_accuracy"],
            "ece": row["ece"],
            "threads": row["threads"],
            "seconds": round(time.perf_counter() - started, 1),
        }
        print(json.dumps(result))
        return

    device = "cuda" if torch.cuda.is_available() else "cpu"
    rows: list[dict] = []
    plan = []
    for n in args.labels:
        for seed in args.seeds:
            for method in args.methods:
                for architecture in args.architectures:
                    pool = "confident" if n != "all" else "uncertain"
                    plan.append((method, n, seed, pool, architecture))
    if args.shift_labels:
        for seed in args.seeds[:1]:
            plan.append(("fixmatch", args.shift_labels, seed, "uncertain", args.architectures[0]))
            if args.dataset == "mirabest":
                plan.append(("fixmatch", args.shift_labels, seed, "firstgalaxydata", args.architectures[0]))
    fgd = firstgalaxydata_pool() if any(p[3] == "firstgalaxydata" for p in plan) else None
    if fgd is not None and args.image_size != 150:
        from mlcore.ssl.data import resample

        fgd = resample(fgd[:, 0], args.image_size)[:, None]
    sizes = {key: len(value[1]) for key, value in data.items()}
    print(f"images {sizes}, device {device}")
    for method, n, seed, pool, architecture in plan:
        row = run_one(
            data,
            method=method,
            n_labels=n,
            seed=seed,
            pool=pool,
            steps=args.steps,
            mu=args.mu,
            epochs=args.epochs,
            curve=args.curve,
            val_fraction=args.val_frac,
            fgd=fgd,
            architecture=architecture,
        )
        rows.append(row)
        print(json.dumps(row), flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"rows": rows, "summary": summarise(rows)}, indent=1))
    summary = summarise(rows)
    refs = MIRABEST_REFERENCES if args.dataset == "mirabest" else None
    plot(summary, args.out.with_suffix(".png"), refs)
    plot_curves(rows, args.out.with_name(args.out.stem + "_curves.png"), refs)
    result = {
        "bench": "ssl_eval",
        "dataset": args.dataset,
        "device": device,
        "steps": None if args.epochs else args.steps,
        "epochs": args.epochs,
        "mu": args.mu,
        "summary": summary,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
