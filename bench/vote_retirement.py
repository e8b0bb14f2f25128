"""How many volunteer votes does a correct label cost? Retirement rules compared on the measured noise.

Volunteers' votes are drawn from the confusion measured on real Radio Galaxy Zoo EMU data
(bench/_label_noise.py: volunteers' descriptions against the experts' class of the same sources),
for the four firstgalaxydata classes and MiraBest's two. Each subject's true class is drawn
uniformly. Rules, each at its own settings, give a point (mean votes a subject, share of subjects
retired with a wrong label):

- ``majority``: a fixed number of votes, the most voted class (ties at random), what a plain
  classification count does;
- ``posterior``: the same votes, the class most probable under the confusion a gold set of the
  real one's size measures (mlcore.active.labels; the platform's ``method=posterior``);
- ``share_rule``: the platform's consensus retirement rule (retire once the top answer holds
  ``agreement`` of at least 3 votes; at most ``--limit`` votes, the classification count);
- ``posterior_rule``: the posterior retirement rule (retire once the most probable answer's
  posterior reaches ``agreement`` after at least 3 votes; at most ``--limit``).

The yardstick is the majority of 5 votes. For each adaptive rule: the fewest mean votes at which
one of its settings is at least as accurate (``votes_to_match_majority5``). The last line printed is
one JSON object.

    python bench/vote_retirement.py --quick
    python bench/vote_retirement.py
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import _data
import _label_noise
import numpy as np

FIGURES = _data.ROOT / "bench" / "figures"
DATASETS = {"firstgalaxydata": ("FRI", "FRII", "Compact", "Bent"), "mirabest": ("FRI", "FRII")}
FIXED_VOTES = (1, 3, 5, 7, 9, 11, 15)
SHARE_AGREEMENTS = (0.5, 0.6, 0.67, 0.75, 0.8, 0.9, 1.0)
POSTERIOR_AGREEMENTS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995)
MIN_VOTES = 3


def running_tallies(votes: np.ndarray, k: int) -> np.ndarray:
    """(N, V) votes -> (V, N, K) counts per class after each vote."""
    one_hot = votes[:, :, None] == np.arange(k)[None, None, :]
    return np.cumsum(one_hot, axis=1).transpose(1, 0, 2).astype(float)


def majority(tallies: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return (tallies + rng.random(tallies.shape) * 0.5).argmax(axis=-1)


def stopping_rule(confident: np.ndarray) -> np.ndarray:
    """(V, N) whether the rule would retire after each vote -> (N,) index of the vote it retires at
    (the last vote when it never does); votes before MIN_VOTES never retire."""
    confident = confident.copy()
    confident[: MIN_VOTES - 1] = False
    confident[-1] = True
    return confident.argmax(axis=0)


def simulate(classes: tuple[str, ...], subjects: int, limit: int, seed: int) -> dict[str, list[dict]]:
    from mlcore.active.labels import confusion_posterior

    confusion, counts = _label_noise.measured_confusion(classes)
    k = len(classes)
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, subjects)
    cumulative = np.cumsum(confusion[truth], axis=1)
    draws = rng.random((subjects, limit))
    votes = (draws[:, :, None] > cumulative[:, None, :]).sum(axis=2).clip(max=k - 1)
    tallies = running_tallies(votes, k)  # (V, N, K)
    estimate = _label_noise.gold_estimate(confusion, counts, np.random.default_rng(60_000 + seed))
    posterior = np.stack([confusion_posterior(t, estimate) for t in tallies])  # (V, N, K)
    shares = tallies / tallies.sum(axis=-1, keepdims=True)
    rows = np.arange(subjects)
    out: dict[str, list[dict]] = {"majority": [], "posterior": [], "share_rule": [], "posterior_rule": []}
    for n in (v for v in FIXED_VOTES if v <= limit):
        out["majority"].append(point(n, majority(tallies[n - 1], rng), truth, float(n)))
        out["posterior"].append(point(n, posterior[n - 1].argmax(axis=-1), truth, float(n)))
    for agreement in SHARE_AGREEMENTS:
        stop = stopping_rule(shares.max(axis=-1) >= agreement - 1e-12)
        label = majority(tallies[stop, rows], rng)
        out["share_rule"].append(point(agreement, label, truth, float((stop + 1).mean())))
    for agreement in POSTERIOR_AGREEMENTS:
        stop = stopping_rule(posterior.max(axis=-1) >= agreement - 1e-12)
        label = posterior[stop, rows].argmax(axis=-1)
        out["posterior_rule"].append(point(agreement, label, truth, float((stop + 1).mean())))
    return out


def point(setting: float, label: np.ndarray, truth: np.ndarray, mean_votes: float) -> dict:
    return {"setting": setting, "mean_votes": mean_votes, "error": float((label != truth).mean())}


def average(runs: list[dict[str, list[dict]]]) -> dict[str, list[dict]]:
    """Mean and spread over seeds, setting by setting."""
    out = {}
    for rule in runs[0]:
        out[rule] = []
        for i, first in enumerate(runs[0][rule]):
            errors = np.array([run[rule][i]["error"] for run in runs])
            votes = np.array([run[rule][i]["mean_votes"] for run in runs])
            out[rule].append(
                {
                    "setting": first["setting"],
                    "mean_votes": round(float(votes.mean()), 3),
                    "error": round(float(errors.mean()), 4),
                    "error_std": round(float(errors.std()), 4),
                }
            )
    return out


def votes_to_match(points: list[dict], target: float) -> float | None:
    """The fewest mean votes among the settings at least as accurate as ``target``."""
    good = [p["mean_votes"] for p in points if p["error"] <= target + 1e-12]
    return min(good) if good else None


def best_within(points: list[dict], votes: float) -> float | None:
    """The lowest error among the settings that cost at most ``votes`` a subject on average."""
    errors = [p["error"] for p in points if p["mean_votes"] <= votes + 1e-9]
    return min(errors) if errors else None


def summary(curves: dict[str, list[dict]]) -> dict:
    by_votes = {p["setting"]: p for p in curves["majority"]}
    target = by_votes[5]["error"]
    return {
        "error_majority5": target,
        "error_posterior5": next(p["error"] for p in curves["posterior"] if p["setting"] == 5),
        "votes_to_match_majority5": {rule: votes_to_match(points, target) for rule, points in curves.items()},
        "best_error_within_5_votes": {rule: best_within(points, 5.0) for rule, points in curves.items()},
        "curves": curves,
    }


def plot(results: dict, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(5.5 * len(results), 4.2), squeeze=False)
    styles = {"majority": "o-", "posterior": "s-", "share_rule": "^--", "posterior_rule": "D--"}
    for ax, (name, result) in zip(axes[0], results.items(), strict=True):
        for rule, points in result["curves"].items():
            x = [p["mean_votes"] for p in points]
            y = [p["error"] for p in points]
            ax.plot(x, y, styles[rule], label=rule.replace("_", " "), markersize=4)
        ax.axhline(result["error_majority5"], color="grey", linestyle=":", linewidth=1, label="majority of 5")
        ax.set(title=name, xlabel="mean votes per subject", ylabel="wrong labels (share)", ylim=(0, None))
        ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5,000 subjects, one seed")
    parser.add_argument("--subjects", type=int, default=20_000)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--limit", type=int, default=15, help="votes at which a subject retires whatever they say")
    args = parser.parse_args(argv)
    if args.quick:
        args.subjects, args.seeds = 5_000, [0]
    if args.limit < 5:
        parser.error("--limit must be at least 5 (the yardstick is the majority of 5 votes)")
    started = time.perf_counter()
    results = {}
    for name, classes in DATASETS.items():
        runs = [simulate(classes, args.subjects, args.limit, seed) for seed in args.seeds]
        results[name] = summary(average(runs))
    figure = FIGURES / ("vote_retirement_quick.png" if args.quick else "vote_retirement.png")
    plot(results, figure)
    result = {
        "bench": "vote_retirement",
        "quick": args.quick,
        "subjects": args.subjects,
        "seeds": args.seeds,
        "limit": args.limit,
        "machine": platform.machine(),
        **{
            name: {k: v for k, v in r.items() if k != "curves"} | {"curves": r["curves"]} for name, r in results.items()
        },
        "figure": str(figure.relative_to(_data.ROOT)),
        "seconds": round(time.perf_counter() - started, 2),
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
