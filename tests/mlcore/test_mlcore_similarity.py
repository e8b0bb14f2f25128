"""Brute-force nearest neighbours: the same answer as an exhaustive distance sort."""

import numpy as np
import pytest

from mlcore.similarity import FeatureIndex


def test_neighbours_match_a_full_sort_and_leave_the_query_out():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 16)).astype(np.float32)
    index = FeatureIndex(x)
    rows, distances = index.query(x[7], k=5, exclude=7)
    truth = np.argsort(np.linalg.norm(x - x[7], axis=1))[1:6]
    assert rows.tolist() == truth.tolist()
    assert np.allclose(distances, np.linalg.norm(x[truth] - x[7], axis=1), atol=1e-4)
    assert np.all(np.diff(distances) >= 0)


def test_k_is_capped_and_bad_queries_are_refused():
    index = FeatureIndex(np.eye(3, dtype=np.float32))
    rows, _ = index.query(np.array([1, 0, 0]), k=10, exclude=0)
    assert sorted(rows.tolist()) == [1, 2]
    with pytest.raises(ValueError, match="dimensions"):
        index.query(np.zeros(4), k=1)
    with pytest.raises(ValueError, match="k must"):
        index.query(np.zeros(3), k=0)
    with pytest.raises(ValueError, match="expected"):
        FeatureIndex(np.zeros(3))
