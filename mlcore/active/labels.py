"""Consensus from noisy votes when each voter's confusion is known (measured on gold subjects).

A plain majority throws away what the gold standard says about how volunteers err: if true FRI
sources draw "Bent" a third of the time and true Bent sources almost never draw "FRI", a split
vote means something different for each. The posterior of the true class given the votes, with
votes independent given the class (Dawid & Skene 1979, with the confusion fixed rather than
estimated by EM), uses that.
"""

from __future__ import annotations

import numpy as np


def confusion_from_counts(counts: np.ndarray, smoothing: float = 1.0) -> np.ndarray:
    """(K, K) gold counts (true class -> vote) -> row-normalised confusion, with `smoothing` added
    to every cell so that a vote never seen on gold does not make a class impossible."""
    counts = np.asarray(counts, dtype=float)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(f"gold counts must be a square (K, K) array, got shape {counts.shape}")
    if (counts < 0).any() or not np.isfinite(counts).all():
        raise ValueError("gold counts must be finite and non-negative")
    if smoothing < 0:
        raise ValueError(f"smoothing must be non-negative, got {smoothing}")
    smoothed = counts + smoothing
    totals = smoothed.sum(axis=1, keepdims=True)
    if (totals == 0).any():
        raise ValueError("a true class has no gold votes and no smoothing")
    return smoothed / totals


def confusion_posterior(tallies: np.ndarray, confusion: np.ndarray, prior: np.ndarray | None = None) -> np.ndarray:
    """(N, K) vote counts per subject and class, (K, K) P(vote = j | true = i) -> (N, K)
    P(true = i | votes), votes independent given the true class; `prior` uniform when not given."""
    tallies = np.asarray(tallies, dtype=float)
    confusion = np.asarray(confusion, dtype=float)
    k = confusion.shape[0]
    if confusion.shape != (k, k) or tallies.ndim != 2 or tallies.shape[1] != k:
        raise ValueError(
            f"tallies (N, {k}) and a ({k}, {k}) confusion expected, got {tallies.shape} and {confusion.shape}"
        )
    if not np.allclose(confusion.sum(axis=1), 1) or (confusion < 0).any():
        raise ValueError("every row of the confusion must be a distribution over votes")
    prior = np.full(k, 1 / k) if prior is None else np.asarray(prior, dtype=float)
    if prior.shape != (k,) or (prior <= 0).any():
        raise ValueError(f"prior must hold {k} positive values")
    with np.errstate(divide="ignore"):
        log_confusion = np.log(confusion)
    # 0 * log 0 is 0: a vote never cast says nothing, even where the confusion rules it out
    log_likelihood = np.where(tallies[:, None, :] > 0, tallies[:, None, :] * log_confusion[None], 0.0).sum(axis=2)
    log_post = log_likelihood + np.log(prior / prior.sum())
    if np.isneginf(log_post).all(axis=1).any():
        raise ValueError("some subject's votes are impossible under every class of the confusion")
    log_post -= log_post.max(axis=1, keepdims=True)
    post = np.exp(log_post)
    return post / post.sum(axis=1, keepdims=True)
