"""Acquisition scores: pure functions of predicted probabilities or feature vectors.

Every uncertainty or novelty score follows one convention: higher = more worth a label.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree
from scipy.stats import rankdata

_EPS = 1e-12


def _probabilities(probs: np.ndarray, ndim: int) -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != ndim:
        raise ValueError(f"expected a {ndim}-d array of probabilities, got shape {p.shape}")
    return p


def entropy(probs: np.ndarray) -> np.ndarray:
    """(N, C) class probabilities -> (N,) predictive entropy in nats (0 = certain, ln C = uniform)."""
    p = np.clip(_probabilities(probs, 2), _EPS, 1.0)
    return -(p * np.log(p)).sum(axis=1)


def margin(probs: np.ndarray) -> np.ndarray:
    """(N, C) -> (N,) one minus (top-1 minus top-2 probability): 0 = certain, 1 = a tie between two classes."""
    p = _probabilities(probs, 2)
    if p.shape[1] < 2:
        raise ValueError("margin needs at least two classes")
    top = np.sort(p, axis=1)
    return 1.0 - (top[:, -1] - top[:, -2])


def bald(mc_probs: np.ndarray) -> np.ndarray:
    """(T, N, C) probabilities of T MC-dropout passes -> (N,) BALD mutual information in nats:
    entropy of the mean prediction minus the mean entropy of the passes (Houlsby et al. 2011)."""
    mc = _probabilities(mc_probs, 3)
    mean_entropy = np.mean([entropy(p) for p in mc], axis=0)
    return np.maximum(entropy(mc.mean(axis=0)) - mean_entropy, 0.0)


def percentile(values: np.ndarray) -> np.ndarray:
    """(N,) values -> (N,) ranks scaled to [0, 1] (lowest 0, highest 1), ties share their mean rank,
    NaN stays NaN. A single finite value gets 0.5: it is neither high nor low."""
    v = np.asarray(values, dtype=np.float64).ravel()
    out = np.full(v.shape, np.nan)
    finite = np.isfinite(v)
    count = int(finite.sum())
    if count == 1:
        out[finite] = 0.5
    elif count > 1:
        out[finite] = (rankdata(v[finite], method="average") - 1.0) / (count - 1)
    return out


def knn_novelty(features: np.ndarray, reference: np.ndarray | None = None, k: int = 10) -> np.ndarray:
    """(N, D) features -> (N,) mean Euclidean distance to the k nearest (M, D) reference features.

    With `reference` None or the very same array as `features`, each row's own entry is left out,
    so a cutout is never its own neighbour. k is capped at the number of neighbours available."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"expected (N, D) features, got shape {x.shape}")
    if k < 1:
        raise ValueError("k must be at least 1")
    self_reference = reference is None or reference is features
    ref = x if self_reference else np.asarray(reference, dtype=np.float64)
    if ref.ndim != 2 or ref.shape[1] != x.shape[1]:
        raise ValueError(f"reference must be (M, {x.shape[1]}), got shape {ref.shape}")
    available = ref.shape[0] - (1 if self_reference else 0)
    if available < 1 or x.shape[0] == 0:
        return np.full(x.shape[0], np.nan)
    k_eff = min(k, available)
    query_k = k_eff + 1 if self_reference else k_eff
    dist, _ = cKDTree(ref).query(x, k=query_k)
    dist = dist.reshape(x.shape[0], query_k)
    if self_reference:
        dist = dist[:, 1:]  # the nearest point of a row in its own set is itself, at distance 0
    return dist.mean(axis=1)


def k_center_greedy(features: np.ndarray, n: int, selected: np.ndarray | None = None) -> np.ndarray:
    """Core-set selection (Sener & Savarese 2018): pick n rows of (N, D) features, each the one
    farthest from everything picked so far (and from the already `selected` indices, if given).

    Returns (n',) indices into features, in the order picked, never one of `selected`; n' = min(n,
    rows left). With nothing selected yet the first pick is the row nearest the mean."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"expected (N, D) features, got shape {x.shape}")
    taken = np.zeros(x.shape[0], dtype=bool)
    if selected is not None and len(selected):
        taken[np.asarray(selected, dtype=int)] = True
    n = min(int(n), int((~taken).sum()))
    if n <= 0:
        return np.zeros(0, dtype=int)
    picks: list[int] = []
    if taken.any():
        min_dist = _min_distance(x, x[taken])
    else:
        first = int(np.argmin(np.linalg.norm(x - x.mean(axis=0), axis=1)))  # a representative start
        picks.append(first)
        taken[first] = True
        min_dist = np.linalg.norm(x - x[first], axis=1)
    while len(picks) < n:
        candidate = np.where(taken, -np.inf, min_dist)
        idx = int(np.argmax(candidate))
        picks.append(idx)
        taken[idx] = True
        min_dist = np.minimum(min_dist, np.linalg.norm(x - x[idx], axis=1))
    return np.asarray(picks, dtype=int)


def _min_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, D), (M, D) -> (N,) Euclidean distance of each row of a to its nearest row of b, in chunks
    of b so memory stays bounded."""
    out = np.full(a.shape[0], np.inf)
    a_sq = (a**2).sum(1)[:, None]
    for start in range(0, b.shape[0], 256):
        block = b[start : start + 256]
        sq = a_sq + (block**2).sum(1)[None, :] - 2.0 * a @ block.T
        out = np.minimum(out, np.sqrt(np.maximum(sq, 0.0)).min(axis=1))
    return out
