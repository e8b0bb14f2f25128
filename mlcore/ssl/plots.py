"""Figures of a trained model (matplotlib, Agg backend): PNG bytes out."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def reliability_diagram_png(reliability: list[dict], *, title: str = "") -> bytes:
    """Bars of accuracy per confidence bin against the diagonal (rows of ``calibration_table``)."""
    fig, ax = plt.subplots(figsize=(4, 4))
    lows = [r["lower"] for r in reliability]
    width = reliability[0]["upper"] - reliability[0]["lower"] if reliability else 0.1
    accs = [r["accuracy"] or 0.0 for r in reliability]
    ax.bar(lows, accs, width=width, align="edge", edgecolor="black", color="#4c72b0", label="accuracy")
    gaps = [(r["confidence"] or 0.0) - (r["accuracy"] or 0.0) for r in reliability]
    ax.bar(lows, gaps, bottom=accs, width=width, align="edge", color="#dd8452", alpha=0.5, label="gap")
    ax.plot([0, 1], [0, 1], "k--", lw=1)
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence", ylabel="accuracy", title=title or "reliability")
    ax.legend(loc="upper left")
    return _png(fig)


def training_curves_png(history: list[dict]) -> bytes:
    """Losses and validation accuracy per epoch (rows of ``SSLClassifier.history_``)."""
    return _png(training_curves_figure(history))


def training_curves_figure(history: list[dict]):
    """The figure behind training_curves_png: one marker per epoch on short runs, whole-epoch ticks."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.2))
    epochs = [h["epoch"] for h in history]
    # a line through one point draws nothing: short runs get a marker on every epoch
    marker = "o" if len(epochs) <= 30 else None
    for key in ("loss_x", "loss_u"):
        left.plot(epochs, [h.get(key, 0.0) for h in history], label=key, marker=marker)
    left.set(xlabel="epoch", ylabel="loss")
    left.legend()
    for key in ("train_accuracy", "val_accuracy"):
        values = [h.get(key) for h in history]
        if any(v is not None for v in values):
            right.plot(epochs, values, label=key, marker=marker)
    right.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1))
    right.legend()
    for ax in (left, right):  # epochs are whole numbers
        if len(epochs) <= 12:
            ax.set_xticks(epochs)
            ax.set_xlim(min(epochs, default=1) - 0.5, max(epochs, default=1) + 0.5)
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


def confusion_png(confusion: list[list[int]], classes: list[str]) -> bytes:
    fig, ax = plt.subplots(figsize=(3.6, 3.2))
    ax.imshow(confusion, cmap="Blues")
    for i, row in enumerate(confusion):
        for j, value in enumerate(row):
            ax.text(j, i, str(value), ha="center", va="center")
    ax.set(xticks=range(len(classes)), yticks=range(len(classes)), xticklabels=classes, yticklabels=classes)
    ax.set(xlabel="predicted", ylabel="true")
    return _png(fig)
