"""Uncertainty scores for ranking cutouts: pure functions of predicted probabilities."""

from __future__ import annotations

import numpy as np

_EPS = 1e-12


def predictive_entropy(proba: np.ndarray) -> np.ndarray:
    """(N, K) probabilities -> (N,) entropy in nats (0 = certain, ln K = uniform)."""
    p = np.clip(np.asarray(proba, dtype=np.float64), _EPS, 1.0)
    return -(p * np.log(p)).sum(axis=1)


def margin(proba: np.ndarray) -> np.ndarray:
    """(N, K) -> (N,) top-1 minus top-2 probability (small = uncertain)."""
    p = np.sort(np.asarray(proba, dtype=np.float64), axis=1)
    return p[:, -1] - p[:, -2]


def bald(mc_proba: np.ndarray) -> np.ndarray:
    """(T, N, K) probabilities of T MC-dropout passes -> (N,) BALD mutual information in nats:
    entropy of the mean prediction minus the mean entropy of the passes (Houlsby et al. 2011)."""
    mc = np.asarray(mc_proba, dtype=np.float64)
    if mc.ndim != 3:
        raise ValueError(f"expected (T, N, K) probabilities, got shape {mc.shape}")
    mean_entropy = np.mean([predictive_entropy(p) for p in mc], axis=0)
    return np.maximum(predictive_entropy(mc.mean(axis=0)) - mean_entropy, 0.0)
