"""Evaluation of a probabilistic classifier: accuracy, per-class precision / recall / F1, confusion
matrix, expected calibration error with its reliability table, and the Frechet distance between
two feature sets. numpy in, plain Python numbers and lists out (JSON-ready)."""

from __future__ import annotations

import warnings

import numpy as np


def calibration_table(proba: np.ndarray, y_true: np.ndarray, n_bins: int = 15) -> list[dict]:
    """(N, K) probabilities, (N,) labels -> one row per equal-width bin of the top-class confidence
    over [0, 1]: lower and upper edge, count, mean confidence, accuracy (None when empty)."""
    proba = np.asarray(proba, dtype=np.float64)
    y_true = np.asarray(y_true)
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y_true
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # bin i holds (edge_i, edge_{i+1}]; a confidence of exactly 0 goes to the first bin
    index = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    rows = []
    for i in range(n_bins):
        inside = index == i
        count = int(inside.sum())
        rows.append(
            {
                "lower": float(edges[i]),
                "upper": float(edges[i + 1]),
                "count": count,
                "confidence": float(confidence[inside].mean()) if count else None,
                "accuracy": float(correct[inside].mean()) if count else None,
            }
        )
    return rows


def expected_calibration_error(proba: np.ndarray, y_true: np.ndarray, n_bins: int = 15) -> float:
    """ECE (Guo et al. 2017): sum over ``n_bins`` equal-width confidence bins of
    (bin count / N) x |accuracy - mean confidence|, in [0, 1]."""
    rows = calibration_table(proba, y_true, n_bins)
    n = sum(r["count"] for r in rows)
    if n == 0:
        return 0.0
    return float(sum(r["count"] / n * abs(r["accuracy"] - r["confidence"]) for r in rows if r["count"]))


def classification_metrics(
    proba: np.ndarray, y_true: np.ndarray, *, n_bins: int = 15, class_names: list[str] | None = None
) -> dict:
    """All metrics of a test set: accuracy, per-class precision / recall / F1 (+ macro F1),
    confusion matrix (rows: true class, columns: predicted), ECE and its reliability table."""
    proba = np.asarray(proba, dtype=np.float64)
    y_true = np.asarray(y_true).astype(int)
    if proba.ndim != 2 or proba.shape[0] != y_true.shape[0]:
        raise ValueError(f"probabilities {proba.shape} do not match labels {y_true.shape}")
    k = proba.shape[1]
    pred = proba.argmax(axis=1)
    confusion = np.zeros((k, k), dtype=int)
    np.add.at(confusion, (y_true, pred), 1)
    tp = np.diag(confusion).astype(float)
    predicted = confusion.sum(axis=0).astype(float)
    actual = confusion.sum(axis=1).astype(float)
    precision = np.divide(tp, predicted, out=np.zeros(k), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros(k), where=actual > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(k), where=denom > 0)
    names = class_names or [str(i) for i in range(k)]
    return {
        "n": int(y_true.shape[0]),
        "accuracy": float((pred == y_true).mean()) if y_true.size else 0.0,
        "classes": list(names),
        "precision": precision.tolist(),
        "recall": recall.tolist(),
        "f1": f1.tolist(),
        "macro_f1": float(f1.mean()),
        "confusion": confusion.tolist(),
        "ece": expected_calibration_error(proba, y_true, n_bins),
        "ece_bins": n_bins,
        "reliability": calibration_table(proba, y_true, n_bins),
    }


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """|mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) between (N, D) and (M, D) feature sets."""
    from scipy import linalg

    a = np.asarray(features_a, dtype=np.float64)
    b = np.asarray(features_b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sets must be (N, D) and (M, D), got {a.shape} and {b.shape}")
    if a.shape[0] < 2 or b.shape[0] < 2:
        raise ValueError("each feature set needs at least two rows")
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a near-singular product is handled below
        covmean = linalg.sqrtm(cov_a @ cov_b)
    if not np.isfinite(covmean).all():  # singular product: regularise (as in the FID reference code)
        offset = np.eye(a.shape[1]) * 1e-6
        covmean = linalg.sqrtm((cov_a + offset) @ (cov_b + offset))
    covmean = np.real(covmean)
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(covmean))
