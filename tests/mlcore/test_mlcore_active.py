"""mlcore.active: acquisition scores, the policy, its combined priority, batches and gold schedule."""

import math

import numpy as np
import pytest

from mlcore.active import (
    SCORE_NAMES,
    AcquisitionPolicy,
    bald,
    combined_priority,
    entropy,
    explain,
    gold_rate,
    k_center_greedy,
    knn_novelty,
    margin,
    percentile,
    select_batch,
)

# --- scores -------------------------------------------------------------------------------------


def test_entropy_is_zero_when_certain_and_log_c_when_uniform():
    h = entropy(np.array([[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]]))
    assert h[0] == pytest.approx(0.0, abs=1e-9)
    assert h[1] == pytest.approx(math.log(3))


def test_margin_is_higher_for_the_less_decided_prediction():
    m = margin(np.array([[0.9, 0.1], [0.55, 0.45], [0.5, 0.5]]))
    assert m[0] < m[1] < m[2]
    assert m[2] == pytest.approx(1.0)
    assert m[0] == pytest.approx(0.2)


def test_bald_is_zero_when_passes_agree_and_positive_when_they_disagree():
    agree = np.tile(np.array([[0.5, 0.5]]), (4, 1, 1))  # (T=4, N=1, C=2): uncertain but consistent
    disagree = np.array([[[1.0, 0.0]], [[0.0, 1.0]], [[1.0, 0.0]], [[0.0, 1.0]]])
    assert bald(agree)[0] == pytest.approx(0.0, abs=1e-9)
    assert bald(disagree)[0] == pytest.approx(math.log(2), rel=1e-6)


def test_scores_reject_arrays_of_the_wrong_shape():
    with pytest.raises(ValueError, match="shape"):
        bald(np.ones((3, 2)))
    with pytest.raises(ValueError, match="shape"):
        entropy(np.ones(3))


def test_percentile_averages_ties_and_keeps_nan():
    p = percentile(np.array([3.0, 1.0, np.nan, 1.0, 5.0]))
    assert p[1] == p[3] == pytest.approx(1 / 6)  # ranks 0 and 1 share 0.5, over 3 gaps
    assert p[0] == pytest.approx(2 / 3)
    assert p[4] == pytest.approx(1.0)
    assert math.isnan(p[2])


def test_percentile_of_one_value_is_the_middle_and_of_none_is_empty():
    assert percentile(np.array([np.nan, 7.0]))[1] == 0.5
    assert percentile(np.array([])).shape == (0,)


def test_knn_novelty_excludes_self_and_flags_the_outlier():
    features = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [10.0, 10.0]])
    nov = knn_novelty(features, k=1)
    assert nov[0] == pytest.approx(1.0)  # its own zero distance does not count
    assert np.argmax(nov) == 3


def test_knn_novelty_against_a_separate_reference_counts_every_reference_row():
    reference = np.array([[0.0, 0.0], [2.0, 0.0]])
    nov = knn_novelty(np.array([[0.0, 0.0]]), reference, k=5)  # k capped at the 2 references
    assert nov[0] == pytest.approx(1.0)


def test_k_center_greedy_picks_one_per_cluster_first():
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [20, 0], [0, 20], [20, 20]], dtype=float)
    features = np.concatenate([c + rng.normal(scale=0.1, size=(25, 2)) for c in centres])
    picks = k_center_greedy(features, 4)
    assert sorted(set(picks // 25)) == [0, 1, 2, 3]
    assert len(set(picks.tolist())) == 4


def test_k_center_greedy_never_returns_what_is_already_selected():
    features = np.arange(10, dtype=float)[:, None]
    picks = k_center_greedy(features, 20, selected=np.array([0, 9]))
    assert len(picks) == 8
    assert not {0, 9} & set(picks.tolist())
    assert picks[0] in (4, 5)  # farthest from both ends


# --- policy -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"weights": {"entropy": -1.0}}, "negative"),
        ({"weights": {"entropy": 0.0, "bald": 0.0}}, "all weights are zero"),
        ({"weights": {}}, "all weights are zero"),
        ({"weights": {"colour": 1.0}}, "unknown score"),
        ({"weights": {"entropy": float("nan")}}, "finite"),
        ({"exploration": 1.5}, "exploration"),
        ({"exploration": -0.1}, "exploration"),
        ({"gold_start": 2.0}, "gold_start"),
        ({"gold_start": 0.1, "gold_end": 0.3}, "gold_end"),
        ({"candidate_factor": 0}, "candidate_factor"),
        ({"gold_halflife": 2.5}, "gold_halflife"),
        ({"diversity": "yes"}, "diversity"),
    ],
)
def test_validate_rejects_bad_policies_with_a_clear_message(fields, message):
    with pytest.raises(ValueError, match=message):
        AcquisitionPolicy(**fields).validate()


def test_to_dict_and_from_dict_round_trip_and_reject_unknown_fields():
    policy = AcquisitionPolicy(weights={"bald": 2.0, "novelty": 0.5}, exploration=0.2, diversity=False)
    data = policy.to_dict()
    assert set(data["weights"]) == set(SCORE_NAMES)
    assert AcquisitionPolicy.from_dict(data) == policy
    with pytest.raises(ValueError, match="unknown policy field"):
        AcquisitionPolicy.from_dict({**data, "temperature": 1})
    with pytest.raises(ValueError, match="negative"):
        AcquisitionPolicy.from_dict({"weights": {"bald": -2}})


def test_combined_priority_is_the_weighted_mean_of_percentiles():
    policy = AcquisitionPolicy(weights={"entropy": 3.0, "complexity": 1.0})
    scores = {"entropy": np.array([0.0, 1.0, 2.0]), "complexity": np.array([2.0, 1.0, 0.0])}
    priority = combined_priority(policy, scores)
    np.testing.assert_allclose(priority, [0.25, 0.5, 0.75])


def test_combined_priority_falls_back_to_the_scores_a_row_has():
    policy = AcquisitionPolicy(weights={"entropy": 1.0, "complexity": 1.0})
    scores = {"entropy": np.array([np.nan, 0.0, 1.0]), "complexity": np.array([1.0, 0.0, 0.5])}
    priority = combined_priority(policy, scores)
    assert priority[0] == pytest.approx(1.0)  # complexity alone: the highest of the three
    stale = {"entropy": np.full(3, np.nan), "complexity": np.full(3, np.nan)}
    assert np.isnan(combined_priority(policy, stale)).all()
    only_complexity = combined_priority(policy, {"complexity": np.array([0.0, 1.0])})
    np.testing.assert_allclose(only_complexity, [0.0, 1.0])


def test_explain_shares_add_up_to_the_priority():
    policy = AcquisitionPolicy(weights={"entropy": 1.0, "bald": 3.0})
    rng = np.random.default_rng(1)
    scores = {"entropy": rng.random(50), "bald": rng.random(50)}
    why = explain(policy, scores, 7)
    assert why["priority"] == pytest.approx(combined_priority(policy, scores)[7])
    assert sum(s["share"] for s in why["scores"].values()) == pytest.approx(why["priority"])
    assert why["scores"]["bald"]["value"] == pytest.approx(scores["bald"][7])
    best = int(np.argmax(combined_priority(policy, scores)))
    assert explain(policy, scores, best)["rank"] == 1
    with pytest.raises(IndexError):
        explain(policy, scores, 50)


def test_select_batch_without_exploration_or_diversity_takes_the_top():
    policy = AcquisitionPolicy(weights={"entropy": 1.0}, exploration=0.0, diversity=False)
    scores = {"entropy": np.arange(100, dtype=float)}
    idx, reasons = select_batch(policy, scores, None, 5, np.random.default_rng(0))
    assert idx.tolist() == [99, 98, 97, 96, 95]
    assert reasons == ["priority"] * 5


def test_select_batch_serves_the_exploration_share_at_random():
    policy = AcquisitionPolicy(weights={"entropy": 1.0}, exploration=0.25, diversity=False)
    scores = {"entropy": np.arange(1000, dtype=float)}
    idx, reasons = select_batch(policy, scores, None, 20, np.random.default_rng(3))
    assert reasons.count("exploration") == 5
    assert len(set(idx.tolist())) == 20
    explored = idx[np.array(reasons) == "exploration"]
    assert (explored < 900).any()  # drawn from the whole pool, not the top


def test_select_batch_with_diversity_avoids_near_duplicates():
    rng = np.random.default_rng(0)
    # the 30 highest-priority rows are copies of one point; the next 70 are spread out
    features = np.concatenate([np.zeros((30, 2)) + rng.normal(scale=1e-3, size=(30, 2)), rng.normal(size=(70, 2)) * 5])
    scores = {"entropy": np.concatenate([np.linspace(2, 1.5, 30), np.linspace(1, 0, 70)])}
    policy = AcquisitionPolicy(weights={"entropy": 1.0}, exploration=0.0, candidate_factor=10)
    idx, reasons = select_batch(policy, scores, features, 10, rng)
    assert idx[0] == 0 and reasons[0] == "priority"
    assert (idx < 30).sum() <= 2
    assert "diversity" in reasons
    plain = AcquisitionPolicy(weights={"entropy": 1.0}, exploration=0.0, diversity=False)
    assert (select_batch(plain, scores, features, 10, rng)[0] < 30).all()


def test_select_batch_with_no_usable_scores_falls_back_to_exploration():
    policy = AcquisitionPolicy(weights={"bald": 1.0}, exploration=0.0)
    scores = {"bald": np.full(40, np.nan)}
    idx, reasons = select_batch(policy, scores, None, 10, np.random.default_rng(0))
    assert len(set(idx.tolist())) == 10
    assert reasons == ["exploration"] * 10


def test_select_batch_never_asks_for_more_rows_than_exist():
    policy = AcquisitionPolicy(weights={"entropy": 1.0})
    idx, reasons = select_batch(policy, {"entropy": np.array([0.1, 0.2, 0.3])}, None, 10, np.random.default_rng(0))
    assert sorted(idx.tolist()) == [0, 1, 2] and len(reasons) == 3
    with pytest.raises(ValueError, match="disagree"):
        select_batch(policy, {"entropy": np.zeros(3)}, np.zeros((4, 2)), 2, np.random.default_rng(0))


def test_gold_rate_starts_high_and_halves_toward_the_floor():
    policy = AcquisitionPolicy(gold_start=0.4, gold_end=0.1, gold_halflife=20)
    assert gold_rate(policy, 0) == pytest.approx(0.4)
    assert gold_rate(policy, 20) == pytest.approx(0.25)
    assert gold_rate(policy, 10_000) == pytest.approx(0.1)
    np.testing.assert_allclose(gold_rate(policy, np.array([0, 40])), [0.4, 0.175])
    with pytest.raises(ValueError):
        gold_rate(policy, -1)


def test_select_batch_with_no_model_at_all_serves_the_pool_at_random():
    policy = AcquisitionPolicy()
    idx, reasons = select_batch(policy, {}, None, 5, np.random.default_rng(0), n_rows=12)
    assert len(set(idx.tolist())) == 5 and all(0 <= i < 12 for i in idx)
    assert reasons == ["exploration"] * 5
    assert len(select_batch(policy, {}, None, 5, np.random.default_rng(0))[0]) == 0  # an empty pool
    with pytest.raises(ValueError, match="n_rows"):
        select_batch(policy, {"entropy": np.zeros(3)}, None, 2, np.random.default_rng(0), n_rows=4)


# --- the feature probe ----------------------------------------------------------------------------


def _two_blobs(n_per_class: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.normal(-1.0, 1.0, (n_per_class, 8)), rng.normal(1.0, 1.0, (n_per_class, 8))])
    return x, np.repeat([0, 1], n_per_class)


def test_feature_probe_learns_separable_features_and_its_committee_disagrees_where_unsure():
    from mlcore.active.probe import FeatureProbe

    x, y = _two_blobs(100)
    probe = FeatureProbe(x, committee=8, seed=3).fit(x[::5], y[::5])  # 40 labels of 200
    assert (probe.predict(x) == y).mean() > 0.9
    assert probe.predict_proba(x).shape == (200, 2)
    assert probe.c_ in probe.cs
    committee = probe.committee_proba(x)
    assert committee.shape == (8, 200, 2)
    between, far = np.zeros((1, 8)), np.full((1, 8), 4.0)
    assert bald(probe.committee_proba(between))[0] > bald(probe.committee_proba(far))[0]


def test_feature_probe_is_reproducible_for_a_seed():
    from mlcore.active.probe import FeatureProbe

    x, y = _two_blobs(50)
    a = FeatureProbe(x, seed=1).fit(x[::4], y[::4]).committee_proba(x)
    b = FeatureProbe(x, seed=1).fit(x[::4], y[::4]).committee_proba(x)
    np.testing.assert_array_equal(a, b)


def test_feature_probe_fits_with_one_label_in_a_class():
    from mlcore.active.probe import FeatureProbe

    x, y = _two_blobs(20)
    rows = np.array([0, 1, 2, 25])  # class 1 has a single label: no cross-validation possible
    probe = FeatureProbe(x).fit(x[rows], y[rows])
    assert probe.c_ == probe.cs[len(probe.cs) // 2]
    assert set(probe.predict(x)) <= {0, 1}


@pytest.mark.parametrize(
    ("pool", "labels", "message"),
    [
        (np.ones(5), None, "shape"),
        (np.array([[0.0, np.nan], [1.0, 1.0]]), None, "NaN"),
        (np.ones((1, 3)), None, "two rows"),
        (np.eye(4), np.array([1, 1, 1, 1]), "single class"),
        (np.eye(4), np.array([0, 1]), "labels"),
    ],
)
def test_feature_probe_rejects_bad_input(pool, labels, message):
    from mlcore.active.probe import FeatureProbe

    with pytest.raises(ValueError, match=message):
        FeatureProbe(pool).fit(pool, labels) if labels is not None else FeatureProbe(pool)


def test_feature_probe_refuses_to_predict_before_fit_and_a_committee_of_one():
    from mlcore.active.probe import FeatureProbe

    x, _ = _two_blobs(5)
    with pytest.raises(RuntimeError, match="not fitted"):
        FeatureProbe(x).predict(x)
    with pytest.raises(ValueError, match="two members"):
        FeatureProbe(x, committee=1)
