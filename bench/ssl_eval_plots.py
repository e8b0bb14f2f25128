"""The figures of bench/ssl_eval.py: accuracy and ECE against labels, and learning curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np

# Published accuracies on the MiraBest Confident test set (104 images), drawn as reference lines.
# Scaife & Porter (2021, MNRAS 503, 2369): the average misclassifications per class plotted by
# the authors' public code (as595/E2CNNRadGal, plots.py, plot_bar): FRI + FRII = 2.96 + 3.24
# for the standard CNN and 1.71 + 1.87 for the D16-equivariant CNN, their best model.
MIRABEST_REFERENCES = {
    "D16 CNN, Scaife & Porter 2021": 1 - (1.71 + 1.87) / 104,
    "standard CNN, Scaife & Porter 2021": 1 - (2.96 + 3.24) / 104,
}


def plot(summary: list[dict], path: Path, references: dict[str, float] | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    series: dict[tuple, list[dict]] = {}
    for s in summary:
        series.setdefault((s["method"], s["pool"], s.get("architecture", "tang")), []).append(s)
    for (method, pool, architecture), rows in series.items():
        rows = sorted(rows, key=lambda r: r["labels"])
        xs = [r["labels"] for r in rows]
        label = method if method == "supervised" else f"{method} ({pool})"
        label += "" if architecture == "tang" else f", {architecture}"
        axes[0].errorbar(
            xs,
            [r["accuracy_mean"] for r in rows],
            [r["accuracy_std"] for r in rows],
            marker="o",
            capsize=3,
            label=label,
        )
        axes[1].errorbar(
            xs, [r["ece_mean"] for r in rows], [r["ece_std"] for r in rows], marker="o", capsize=3, label=label
        )
    ticks = sorted({s["labels"] for s in summary})
    for ax in axes:
        ax.set_xscale("log")
        ax.minorticks_off()
        ax.set_xticks(ticks, [str(t) for t in ticks])
    for (name, accuracy), style in zip((references or {}).items(), ("--", ":"), strict=False):
        axes[0].axhline(accuracy, color="grey", linestyle=style, linewidth=1, label=f"{name}: {accuracy:.3f}")
    axes[0].set(xlabel="labels", ylabel="test accuracy")
    axes[1].set(xlabel="labels", ylabel="ECE (15 bins)")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_curves(rows: list[dict], path: Path, references: dict[str, float] | None = None) -> bool:
    """Test accuracy at each validation of the runs that recorded it (``--curve``), with a running
    mean over about 21 epochs; returns whether there was anything to draw."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = [r for r in rows if r.get("test_curve")]
    if not curves:
        return False
    fig, ax = plt.subplots(figsize=(7, 3.8))
    groups = sorted({(r["method"], r["pool"], r["labels"]) for r in curves}, key=str)
    colours = {g: f"C{i}" for i, g in enumerate(groups)}  # one colour per method and label count
    for r in curves:
        epochs, accuracy = np.array(r["test_curve"], dtype=float).T
        spacing = epochs[1] - epochs[0] if len(epochs) > 1 else 1
        window = max(1, min(round(21 / spacing), len(accuracy)))  # about 21 epochs
        smooth = np.convolve(accuracy, np.ones(window) / window, mode="valid")
        label = f"{r['method']}, {r['labels']} labels, seed {r['seed']}"
        if r["method"] == "fixmatch":
            label += f", mu {r['mu']} ({r['pool']})"
        colour = colours[(r["method"], r["pool"], r["labels"])]
        style = ("-", "--", ":", "-.")[r["seed"] % 4]  # one line style per seed
        ax.plot(epochs[window - 1 :], smooth, color=colour, linestyle=style, label=label)
        ax.plot(epochs, accuracy, color=colour, alpha=0.12, linewidth=0.8)
    for (name, accuracy), style in zip((references or {}).items(), ("--", ":"), strict=False):
        ax.axhline(accuracy, color="grey", linestyle=style, linewidth=1, label=f"{name}: {accuracy:.3f}")
    ax.set(xlabel="epoch (passes over the labelled set)", ylabel="test accuracy", ylim=(0.45, 1.0))
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True
