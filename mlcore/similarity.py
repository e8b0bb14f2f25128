"""Exact nearest neighbours in a learned feature space, by brute force on a float32 matrix.

One matrix-vector product per query: over 100,000 128-d vectors it answers in a few milliseconds
on a CPU (bench/similarity_speed.py), so no approximate index is needed at the platform's scale.
"""

from __future__ import annotations

import numpy as np


class FeatureIndex:
    """Euclidean k-nearest-neighbour search over (N, D) features; build once, query many times."""

    def __init__(self, features: np.ndarray):
        x = np.ascontiguousarray(features, dtype=np.float32)
        if x.ndim != 2:
            raise ValueError(f"expected (N, D) features, got shape {x.shape}")
        self.features_ = x
        self.sq_norms_ = np.einsum("ij,ij->i", x, x)  # (N,)

    def __len__(self) -> int:
        return self.features_.shape[0]

    def query(self, vector: np.ndarray, k: int, exclude: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(D,) query -> (k',) row indices nearest first and their Euclidean distances; row
        ``exclude`` (the query's own row) is left out; k' = min(k, rows available)."""
        q = np.asarray(vector, dtype=np.float32).ravel()
        if q.shape[0] != self.features_.shape[1]:
            raise ValueError(f"query has {q.shape[0]} dimensions, the index {self.features_.shape[1]}")
        if k < 1:
            raise ValueError("k must be at least 1")
        d2 = self.sq_norms_ - 2.0 * (self.features_ @ q) + float(q @ q)  # (N,) squared distances
        if exclude is not None:
            d2[exclude] = np.inf
        k = min(int(k), len(self) - (exclude is not None))
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        part = np.argpartition(d2, k - 1)[:k]
        order = part[np.argsort(d2[part], kind="stable")]
        return order.astype(np.int64), np.sqrt(np.maximum(d2[order], 0.0))
