"""Figures of a trained generator (matplotlib, Agg backend): PNG bytes out."""

from __future__ import annotations

import io

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from .metrics import source_properties  # noqa: E402

PROPERTIES = (
    ("flux", "integrated flux (peak units)"),
    ("extent", "largest extent (pixels)"),
    ("components", "components above threshold"),
)


def _png(fig, dpi: int) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def properties_figure(sets: dict[str, np.ndarray]):
    """Distributions of integrated flux, largest extent and component count, one step histogram
    per image set (a set named "real..." drawn thicker): what the KS statistics compare."""
    properties = {name: source_properties(images) for name, images in sets.items()}
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    for ax, (key, label) in zip(axes, PROPERTIES, strict=True):
        values = [properties[name][key] for name in sets]
        pooled = np.concatenate(values) if values else np.zeros(0)
        bins = np.arange(0, 9) - 0.5 if key == "components" else np.histogram_bin_edges(pooled, bins=20)
        for name, v in zip(sets, values, strict=True):
            width = 1.6 if name.startswith("real") else 1.1
            if len(v):
                ax.hist(v, bins=bins, histtype="step", density=True, label=name, linewidth=width)
        ax.set_xlabel(label)
    axes[0].set_ylabel("density")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def properties_png(sets: dict[str, np.ndarray], *, dpi: int = 80) -> bytes:
    return _png(properties_figure(sets), dpi)


def loss_curve_png(history: list[dict], *, dpi: int = 80) -> bytes:
    """The training loss per epoch (rows of ``DiffusionGenerator.history_``), on a log scale: the
    loss falls by orders of magnitude in the first epochs."""
    fig, ax = plt.subplots(figsize=(5, 3))
    epochs = [h["epoch"] for h in history]
    losses = [h["loss"] for h in history]
    ax.plot(epochs, losses, marker="o" if len(epochs) <= 30 else None)
    if losses and min(losses) > 0:
        ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel="training loss")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    return _png(fig, dpi)
