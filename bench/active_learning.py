"""Does active learning save labels? A pool-based simulation on real labels.

Data: firstgalaxydata (FRI, FRII, Compact, Bent; its fixed train split is the pool, its test split
the test set) and MiraBest Confident (FRI, FRII; a fixed class-stratified fifth, drawn with
``--test-seed``, is the test set, the rest the pool); images prepared at ``--size`` px.

Each run starts from 10 labels per class, trains the supervised network (mlcore.ssl), then asks for
``--batch`` labels at a time chosen by a strategy, retraining warm-started (``--round-steps``
optimiser steps) after every batch, until ``--budget`` labels or the pool is spent; the test
accuracy (predictions averaged over the 8 right-angle rotations and mirror images) is recorded
after every round. Strategies (mlcore.active): random, entropy, margin, BALD
(MC dropout), complexity (mlcore.complexity on the cutout), novelty (mean distance to the 5 nearest
labelled cutouts in the classifier's penultimate features) and combined (the policy of
``--combined``: weighted percentiles, an exploration share, k-centre diversity).

Labels come from the catalogue, or from simulated volunteers (``--labels volunteers``): each
subject's label is the majority of ``--votes`` votes drawn from the volunteer confusion measured on
real Radio Galaxy Zoo EMU data (bench/_label_noise.py). With ``--labels volunteers-posterior`` the
same votes retire with the class most probable under the volunteers' confusion as a gold set of the
real one's size would measure it (mlcore.active.labels). The seed set and every answer of a seed
are drawn once and shared by all strategies.

Target = the mean accuracy random sampling reaches with its whole budget; a strategy's labels to
target = the first label count at which its mean curve (over seeds) reaches it.

    python bench/active_learning.py --quick
    nice python bench/active_learning.py --seeds 0 1 2 --labels catalogue volunteers

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

import _data
import _label_noise
import numpy as np

OUT = _data.ROOT / "bench" / "out"
FIGURES = _data.ROOT / "bench" / "figures"
STRATEGIES = ("random", "entropy", "margin", "bald", "complexity", "novelty", "combined")
FGD_CLASSES = ("FRI", "FRII", "Compact", "Bent")
MIRABEST_CONFIDENT = {"100": 0, "102": 0, "104": 0, "200": 1, "201": 1}
# Chosen among four candidates on another MiraBest test split (--test-seed 7, 3 seeds), never on
# the split the results are reported on: margin, thinned by k-centre diversity over the top 3n.
DEFAULT_COMBINED = {
    "weights": {"margin": 1.0},
    "exploration": 0.0,
    "diversity": True,
    "candidate_factor": 3,
}
NOVELTY_K = 5
# label source -> its key in the JSON (catalogue labels sit at the top of each data set)
VOLUNTEER_SOURCES = {"volunteers": "volunteer_labels", "volunteers-posterior": "volunteer_posterior_labels"}


@dataclass
class Pool:
    """A data set ready for the simulation: (N, 1, S, S) pool and test images, labels, the
    complexity of each pool cutout, the class names."""

    name: str
    x: np.ndarray
    y: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    complexity: np.ndarray
    classes: tuple[str, ...]


def _complexity(raw: np.ndarray, bad: list[int]) -> np.ndarray:
    from mlcore.complexity import complexity

    return complexity(np.delete(raw, bad, axis=0).astype(np.float32))


def firstgalaxydata_pool(size: int) -> Pool:
    from mlcore.ssl.data import prepare_images

    images, labels, splits = _data.firstgalaxydata_arrays()
    parts = {}
    for split in ("train", "test"):
        raw = images[splits == split][:, 75:225, 75:225]  # central 150 px, as MiraBest's crops
        x, bad = prepare_images(raw, size=size)
        y = np.delete(np.array([FGD_CLASSES.index(label) for label in labels[splits == split]]), bad)
        parts[split] = (x, y, raw, bad)
    x, y, raw, bad = parts["train"]
    return Pool("firstgalaxydata", x, y, parts["test"][0], parts["test"][1], _complexity(raw, bad), FGD_CLASSES)


def mirabest_pool(size: int, test_seed: int, test_fraction: float = 0.2) -> Pool:
    from mlcore.ssl.data import prepare_images

    images, codes = _data.mirabest_arrays()
    rows = np.isin(codes, list(MIRABEST_CONFIDENT))
    raw = images[rows]
    x, bad = prepare_images(raw, size=size)
    y = np.delete(np.array([MIRABEST_CONFIDENT[c] for c in codes[rows]]), bad)
    c = _complexity(raw, bad)
    rng = np.random.default_rng(test_seed)
    test = np.sort(
        np.concatenate(
            [
                rng.choice(np.flatnonzero(y == k), round(test_fraction * (y == k).sum()), replace=False)
                for k in np.unique(y)
            ]
        )
    )
    pool = np.setdiff1d(np.arange(len(y)), test)
    return Pool("mirabest", x[pool], y[pool], x[test], y[test], c[pool], ("FRI", "FRII"))


# -- one simulated run -----------------------------------------------------------------------------


def seed_set(y: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    return np.concatenate([rng.choice(np.flatnonzero(y == k), per_class, replace=False) for k in np.unique(y)])


def choose(strategy: str, clf, pool: Pool, labelled: np.ndarray, n: int, rng, combined) -> np.ndarray:
    """Indices (into the pool) of the next n cutouts to label."""
    from mlcore.active import AcquisitionPolicy, bald, entropy, knn_novelty, margin, select_batch

    unlabelled = np.setdiff1d(np.arange(len(pool.y)), labelled)
    if strategy == "random":
        return rng.choice(unlabelled, min(n, len(unlabelled)), replace=False)
    policy = combined if strategy == "combined" else AcquisitionPolicy(weights={strategy: 1.0}, exploration=0.0)
    needs = set(policy.active_weights)
    x_u = pool.x[unlabelled]
    scores: dict[str, np.ndarray] = {}
    if needs & {"entropy", "margin"}:
        probs = clf.predict_proba(x_u)
        scores.update(entropy=entropy(probs), margin=margin(probs))
    if "bald" in needs:
        scores["bald"] = bald(posterior_samples(clf, x_u, rng))
    if "complexity" in needs:
        scores["complexity"] = pool.complexity[unlabelled]
    features = None
    if "novelty" in needs or (policy.diversity and strategy == "combined"):
        features = learned_features(clf, x_u)
    if "novelty" in needs:
        scores["novelty"] = knn_novelty(features, learned_features(clf, pool.x[labelled]), k=NOVELTY_K)
    scores = {k: v for k, v in scores.items() if k in needs}
    picks, _ = select_batch(policy, scores, features if policy.diversity else None, n, rng)
    return unlabelled[picks]


def posterior_samples(clf, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(T, N, C) probabilities for BALD: MC-dropout passes of the network, or the probe's committee."""
    from mlcore.active.probe import FeatureProbe

    if isinstance(clf, FeatureProbe):
        return clf.committee_proba(x)
    return clf.mc_dropout_proba(x, seed=int(rng.integers(2**31)))


def learned_features(clf, x: np.ndarray) -> np.ndarray:
    """The space of novelty and diversity: the network's penultimate layer, or the encoder's
    features as the probe sees them."""
    from mlcore.active.probe import FeatureProbe

    return clf.scaled(x) if isinstance(clf, FeatureProbe) else clf.penultimate_features(x)


def simulate_probe(
    pool: Pool, strategy: str, seed: int, observed: np.ndarray, args, combined
) -> list[tuple[int, float]]:
    """As ``simulate``, with the probe on the encoder's features (``pool.x`` holds them) as the learner,
    refitted from scratch after every batch."""
    from mlcore.active.probe import FeatureProbe

    rng = np.random.default_rng(seed)
    labelled = seed_set(pool.y, args.per_class, rng)
    clf = FeatureProbe(pool.x, committee=args.committee, seed=seed)  # standardised over the pool once
    curve = []
    while True:
        clf.fit(pool.x[labelled], observed[labelled])
        curve.append((len(labelled), float((clf.predict(pool.x_test) == pool.y_test).mean())))
        room = min(args.budget - len(labelled), len(pool.y) - len(labelled), args.batch)
        if room <= 0:
            return curve
        labelled = np.concatenate([labelled, choose(strategy, clf, pool, labelled, room, rng, combined)])


def simulate(pool: Pool, strategy: str, seed: int, observed: np.ndarray, args, combined) -> list[tuple[int, float]]:
    """[(labels, test accuracy)] after every round of one run; `observed` are the labels a query
    returns (the catalogue's or the volunteers' majority)."""
    from dataclasses import replace

    from mlcore.ssl.config import FixMatchConfig, NetworkConfig
    from mlcore.ssl.estimator import SSLClassifier

    rng = np.random.default_rng(seed)
    labelled = seed_set(pool.y, args.per_class, rng)
    config = FixMatchConfig(
        method="supervised",
        network=NetworkConfig(image_size=args.size, n_classes=len(pool.classes)),
        batch_size=32,
        lr=1e-3,
        epochs=10**6,
        max_steps=args.first_steps,
        seed=seed,
        mc_samples=args.mc_samples,
    )
    clf = SSLClassifier(config, device=args.device, warm_start=True)
    curve = []
    while True:
        clf.fit(pool.x[labelled], observed[labelled])
        accuracy = float((clf.predict(pool.x_test, rotations=args.rotations) == pool.y_test).mean())
        curve.append((len(labelled), accuracy))
        room = min(args.budget - len(labelled), len(pool.y) - len(labelled), args.batch)
        if room <= 0:
            return curve
        labelled = np.concatenate([labelled, choose(strategy, clf, pool, labelled, room, rng, combined)])
        # fine-tuning, not retraining: a lower rate keeps one batch of new labels from swinging the model
        clf.config = replace(config, max_steps=args.round_steps, lr=args.round_lr, seed=seed + len(curve))


# -- summary ---------------------------------------------------------------------------------------


def mean_curves(rows: list[dict]) -> dict[str, dict]:
    """strategy -> {"labels", "mean", "std"} over the seeds (runs share their label counts)."""
    out = {}
    for strategy in STRATEGIES:
        curves = [r["curve"] for r in rows if r["strategy"] == strategy]
        if not curves:
            continue
        length = min(len(c) for c in curves)
        acc = np.array([[a for _, a in c[:length]] for c in curves])
        out[strategy] = {
            "labels": [n for n, _ in curves[0][:length]],
            "mean": acc.mean(axis=0).tolist(),
            "std": acc.std(axis=0).tolist(),
            "seeds": len(curves),
        }
    return out


def labels_to(curve: dict, target: float) -> int | None:
    for n, accuracy in zip(curve["labels"], curve["mean"], strict=True):
        if accuracy >= target - 1e-9:
            return n
    return None


def targets(curves: dict[str, dict]) -> dict:
    """The JSON keys of one data set and label source (see the module docstring)."""
    random = curves["random"]
    target = random["mean"][-1]
    reached = {s: labels_to(c, target) for s, c in curves.items()}
    n_random = reached["random"]
    others = {s: n for s, n in reached.items() if s != "random" and n is not None}
    best = min(others, key=lambda s: (others[s], -curves[s]["mean"][-1])) if others else None
    combined = reached.get("combined")
    return {
        "target_accuracy": target,
        "budget": random["labels"][-1],
        "labels_to_target_random": n_random,
        "labels_to_target_best": others.get(best),
        "best_strategy": best,
        "label_saving": 1 - others[best] / n_random if best else 0.0,
        "labels_to_target_combined": combined,
        "label_saving_combined": 1 - combined / n_random if combined else None,
        "labels_to_target": reached,
        "final_accuracy": {s: c["mean"][-1] for s, c in curves.items()},
    }


def plot(panels: dict[str, dict[str, dict]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.0), squeeze=False)
    for ax, (title, curves) in zip(axes[0], panels.items(), strict=True):
        for strategy, c in curves.items():
            i = STRATEGIES.index(strategy)  # one colour per strategy in every panel
            n, mean, std = np.array(c["labels"]), np.array(c["mean"]), np.array(c["std"])
            width = 2.2 if strategy in ("combined", "random") else 1.0
            ax.plot(n, mean, color=f"C{i}", linewidth=width, label=strategy)
            ax.fill_between(n, mean - std, mean + std, color=f"C{i}", alpha=0.12)
        target = curves["random"]["mean"][-1]
        ax.axhline(target, color="grey", linestyle=":", linewidth=1, label=f"random at budget: {target:.3f}")
        ax.set(title=title, xlabel="labels", ylabel="test accuracy")
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def observed_labels(pool: Pool, source: str, seed: int, votes: int) -> tuple[np.ndarray, dict]:
    """The label each pool subject returns when asked, and (for volunteers) how it was drawn.

    "volunteers" retires a subject with the majority of its votes; "volunteers-posterior" with the
    class most probable given the same votes and the volunteers' confusion as a gold set of the
    real one's size would measure it (mlcore.active.labels)."""
    if source == "catalogue":
        return pool.y, {}
    from mlcore.active.labels import confusion_posterior

    confusion, counts = _label_noise.measured_confusion(pool.classes)
    rng = np.random.default_rng(50_000 + seed)  # the same votes for both consensus rules
    if source == "volunteers":
        observed = _label_noise.noisy_majority(pool.y, confusion, votes, rng)
        rule = {}
    else:
        tallies = _label_noise.noisy_votes(pool.y, confusion, votes, rng)
        estimate = _label_noise.gold_estimate(confusion, counts, np.random.default_rng(60_000 + seed))
        observed = confusion_posterior(tallies, estimate).argmax(axis=1)
        rule = {"gold_estimate": np.round(estimate, 3).tolist()}
    return observed, {
        "votes": votes,
        "vote_confusion": np.round(confusion, 3).tolist(),
        "votes_behind_each_row": counts.astype(int).tolist(),
        "majority_error_rate": float((observed != pool.y).mean()),
        **rule,
    }


def summarise(rows: list[dict]) -> tuple[dict, dict[str, dict]]:
    """Rows of runs -> (per data set the JSON keys, catalogue labels at the top level and volunteer
    labels under "volunteer_labels"; the plot panels)."""
    result: dict = {}
    panels: dict[str, dict] = {}
    for name in dict.fromkeys(r["dataset"] for r in rows):
        for source in dict.fromkeys(r["labels"] for r in rows if r["dataset"] == name):
            group = [r for r in rows if r["dataset"] == name and r["labels"] == source]
            curves = mean_curves(group)
            if "random" not in curves:
                continue
            panels[f"{name}, {source} labels"] = curves
            summary = targets(curves) | {"curves": curves, "cpu_seconds": round(sum(r["cpu_seconds"] for r in group))}
            if source in VOLUNTEER_SOURCES:
                noise = [r["noise"] for r in group if r.get("noise")]
                summary["majority_error_rate"] = float(np.mean([n["majority_error_rate"] for n in noise]))
                summary |= {k: noise[0][k] for k in ("votes", "vote_confusion", "votes_behind_each_row")}
                result.setdefault(name, {})[VOLUNTEER_SOURCES[source]] = summary
            else:
                result[name] = {**result.get(name, {}), **summary}
    return result, panels


def _without_curves(value):
    """The result as printed: everything but the per-round curves (those are in --out)."""
    if isinstance(value, dict):
        return {k: _without_curves(v) for k, v in value.items() if k != "curves"}
    return value


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="MiraBest, catalogue labels, random vs combined, 1 seed")
    parser.add_argument("--datasets", nargs="+", default=["firstgalaxydata", "mirabest"])
    parser.add_argument(
        "--labels",
        nargs="+",
        default=["catalogue", "volunteers"],
        choices=["catalogue", *VOLUNTEER_SOURCES],
        dest="sources",
        help="catalogue; volunteers (majority of --votes); volunteers-posterior (the same votes, "
        "the class most probable under a gold-measured confusion)",
    )
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGIES), choices=STRATEGIES)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--budget", type=int, default=300, help="labels at which a run stops (seed set included)")
    parser.add_argument("--batch", type=int, default=20, help="labels asked for per round")
    parser.add_argument("--per-class", type=int, default=10, help="seed set: labels per class")
    parser.add_argument("--size", type=int, default=64, help="image size in pixels (64 at least)")
    parser.add_argument("--first-steps", type=int, default=300, help="optimiser steps of the first training")
    parser.add_argument("--round-steps", type=int, default=100, help="warm-started steps after each batch")
    parser.add_argument("--round-lr", type=float, default=3e-4, help="Adam rate of the warm-started rounds")
    parser.add_argument("--mc-samples", type=int, default=10, help="MC-dropout passes for BALD")
    parser.add_argument(
        "--learner",
        choices=["cnn", "probe"],
        default="cnn",
        help="cnn: the supervised network, warm-started; probe: logistic regression on --encoder's features",
    )
    parser.add_argument(
        "--encoder", type=Path, help="a saved contrastive encoder (bench/feature_probe.py --save-encoder)"
    )
    parser.add_argument("--committee", type=int, default=10, help="bootstrap members of the probe, for BALD")
    parser.add_argument("--votes", type=int, default=5, help="simulated volunteer votes per subject")
    parser.add_argument("--combined", type=json.loads, default=DEFAULT_COMBINED, help="the combined policy, JSON")
    parser.add_argument(
        "--no-rotations",
        dest="rotations",
        action="store_false",
        help="test without averaging over the 8 right-angle rotations and mirror images",
    )
    parser.add_argument("--test-seed", type=int, default=2024, help="MiraBest's stratified test split")
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads (1 is fastest on a machine shared with other work)"
    )
    parser.add_argument(
        "--out", type=Path, default=OUT / "active_learning.json", help="rows and summary; names the figure"
    )
    parser.add_argument(
        "--merge", nargs="+", type=Path, help="only summarise and plot the rows of these --out files (parallel runs)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.datasets, args.sources, args.seeds = ["mirabest"], ["catalogue"], [0]
        args.strategies = ["random", "combined"]
        args.budget, args.first_steps, args.round_steps = 60, 100, 30
        args.out = OUT / "active_learning_quick.json"
    if args.learner == "probe" and not args.merge and (args.encoder is None or not args.encoder.is_file()):
        parser.error(f"--learner probe needs --encoder, a saved encoder file (got {args.encoder})")
    if "random" not in args.strategies:
        args.strategies = ["random", *args.strategies]  # the target is random's accuracy at its budget
    return args


def embedded(pool: Pool, encoder_path: Path) -> Pool:
    """The pool with its images replaced by the encoder's features (rotation-averaged)."""
    from dataclasses import replace

    from mlcore.features import ContrastiveEncoder

    encoder = ContrastiveEncoder.load(encoder_path, device="auto")
    if encoder.config.image_size != pool.x.shape[-1]:
        raise SystemExit(f"{encoder_path}: encoder of {encoder.config.image_size} px, images of {pool.x.shape[-1]} px")
    return replace(pool, x=encoder.embed(pool.x), x_test=encoder.embed(pool.x_test))


def run_all(args, combined) -> list[dict]:
    rows: list[dict] = []
    run = simulate_probe if args.learner == "probe" else simulate
    for name in args.datasets:
        if name == "firstgalaxydata":
            pool = firstgalaxydata_pool(args.size)
        else:
            pool = mirabest_pool(args.size, args.test_seed)
        if args.learner == "probe":
            pool = embedded(pool, args.encoder)
        print(f"{name}: pool {len(pool.y)}, test {len(pool.y_test)}", flush=True)
        for source in args.sources:
            for seed in args.seeds:
                observed, noise = observed_labels(pool, source, seed, args.votes)
                for strategy in args.strategies:
                    wall, cpu = time.perf_counter(), time.process_time()
                    curve = run(pool, strategy, seed, observed, args, combined)
                    row = {"dataset": name, "labels": source, "strategy": strategy, "seed": seed, "curve": curve}
                    row["seconds"] = round(time.perf_counter() - wall, 1)
                    row["cpu_seconds"] = round(time.process_time() - cpu, 1)
                    row["noise"] = noise
                    rows.append(row)
                    brief = {k: v for k, v in row.items() if k not in ("curve", "noise")}
                    print(json.dumps(brief | {"final": curve[-1]}), flush=True)
                    args.out.parent.mkdir(parents=True, exist_ok=True)
                    args.out.write_text(json.dumps({"rows": rows}, indent=1))  # partial results survive a stop
    return rows


def main(argv=None) -> dict:
    args = parse_args(argv)

    import torch
    from threadpoolctl import threadpool_limits

    from mlcore.active import AcquisitionPolicy

    torch.set_num_threads(args.threads)
    if args.learner == "probe":  # its many small fits ran ~20x slower with a BLAS thread per core
        threadpool_limits(args.threads)
    combined = AcquisitionPolicy.from_dict(args.combined)
    started = time.perf_counter()
    if args.merge:
        rows = [row for path in args.merge for row in json.loads(path.read_text())["rows"]]
    else:
        rows = run_all(args, combined)
    summary, panels = summarise(rows)
    figure = FIGURES / f"{args.out.stem}.png"
    plot(panels, figure)
    result = {"bench": "active_learning", "quick": args.quick, "learner": args.learner}
    if args.learner == "probe" and args.encoder:
        result["encoder"] = str(args.encoder)
    result |= {"combined_policy": combined.to_dict(), **summary}
    result["figure"] = str(figure.relative_to(_data.ROOT))
    result["seconds"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"result": result, "rows": rows}, indent=1))
    print(json.dumps(_without_curves(result)))
    return result


if __name__ == "__main__":
    main()
