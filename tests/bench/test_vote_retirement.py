"""The retirement-rule simulation: stopping, matching the yardstick, and what the measured noise gives."""

import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import _label_noise  # noqa: E402
import vote_retirement  # noqa: E402


def test_a_rule_never_retires_before_the_minimum_and_always_at_the_limit():
    confident = np.array([[True, False, False], [True, False, False], [True, True, False], [True, True, False]])
    np.testing.assert_array_equal(vote_retirement.stopping_rule(confident), [2, 2, 3])


def test_running_tallies_count_each_vote_once():
    tallies = vote_retirement.running_tallies(np.array([[0, 1, 1], [2, 2, 0]]), 3)
    np.testing.assert_array_equal(tallies[-1], [[1, 2, 0], [1, 0, 2]])
    np.testing.assert_array_equal(tallies[0], [[1, 0, 0], [0, 0, 1]])


def test_votes_to_match_and_best_within():
    points = [{"mean_votes": 3.0, "error": 0.3}, {"mean_votes": 4.0, "error": 0.2}, {"mean_votes": 6.0, "error": 0.1}]
    assert vote_retirement.votes_to_match(points, 0.2) == 4.0
    assert vote_retirement.votes_to_match(points, 0.05) is None
    assert vote_retirement.best_within(points, 5.0) == 0.2
    assert vote_retirement.best_within(points, 2.0) is None


def test_on_the_measured_four_class_noise_the_posterior_rule_needs_fewer_votes():
    if not (_label_noise.TEXT2TAG / "english_annotations.csv").is_file():
        pytest.skip("../shared/data/text2tag is missing")
    curves = vote_retirement.simulate(("FRI", "FRII", "Compact", "Bent"), subjects=3000, limit=15, seed=0)
    result = vote_retirement.summary(vote_retirement.average([curves]))
    majority = result["votes_to_match_majority5"]
    assert majority["majority"] == 5.0
    assert majority["posterior_rule"] is not None and majority["posterior_rule"] < 4.5
    assert result["error_posterior5"] < result["error_majority5"]
    fixed = [p["error"] for p in result["curves"]["majority"]]
    assert fixed == sorted(fixed, reverse=True)  # more votes, fewer wrong labels
