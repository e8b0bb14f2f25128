"""The active-learning benchmark's summary (labels to target, savings) and its volunteer noise model."""

import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import _label_noise  # noqa: E402
import active_learning  # noqa: E402


def run(strategy, seed, accuracies, labels="catalogue"):
    curve = [[20 + 20 * i, a] for i, a in enumerate(accuracies)]
    noise = {
        "votes": 5,
        "vote_confusion": [[1, 0], [0, 1]],
        "votes_behind_each_row": [1, 1],
        "majority_error_rate": 0.1,
    }
    return {
        "dataset": "toy",
        "labels": labels,
        "strategy": strategy,
        "seed": seed,
        "curve": curve,
        "cpu_seconds": 1.0,
        "noise": noise if labels == "volunteers" else {},
    }


def test_labels_to_target_and_saving_from_mean_curves():
    rows = [
        run("random", 0, [0.5, 0.6, 0.7, 0.8]),
        run("random", 1, [0.5, 0.6, 0.7, 0.8]),
        run("combined", 0, [0.5, 0.85, 0.9, 0.9]),
        run("combined", 1, [0.5, 0.75, 0.9, 0.9]),  # mean 0.8 at 40 labels: reaches the target there
        run("entropy", 0, [0.5, 0.6, 0.8, 0.8]),
        run("entropy", 1, [0.5, 0.6, 0.8, 0.8]),
        run("novelty", 0, [0.5, 0.5, 0.5, 0.5]),
        run("novelty", 1, [0.5, 0.5, 0.5, 0.5]),
        run("random", 0, [0.5, 0.6, 0.7, 0.7], labels="volunteers"),
    ]
    result, panels = active_learning.summarise(rows)
    toy = result["toy"]
    assert toy["target_accuracy"] == pytest.approx(0.8)
    assert toy["labels_to_target_random"] == 80
    assert toy["labels_to_target_best"] == 40 and toy["best_strategy"] == "combined"
    assert toy["label_saving"] == pytest.approx(0.5)
    assert toy["labels_to_target"]["novelty"] is None
    assert toy["curves"]["combined"]["std"][1] == pytest.approx(0.05)
    assert toy["volunteer_labels"]["labels_to_target_random"] == 60  # 0.7 first reached at 60
    assert toy["volunteer_labels"]["majority_error_rate"] == pytest.approx(0.1)
    assert set(panels) == {"toy, catalogue labels", "toy, volunteers labels"}


def test_noisy_majority_follows_the_confusion():
    rng = np.random.default_rng(0)
    truth = np.repeat([0, 1], 5000)
    exact = _label_noise.noisy_majority(truth, np.eye(2), 5, rng)
    assert (exact == truth).all()
    confusion = np.array([[0.7, 0.3], [0.3, 0.7]])
    one_vote = _label_noise.noisy_majority(truth, confusion, 1, rng)
    five_votes = _label_noise.noisy_majority(truth, confusion, 5, rng)
    assert (one_vote != truth).mean() == pytest.approx(0.3, abs=0.02)
    assert (five_votes != truth).mean() == pytest.approx(0.163, abs=0.02)  # P(at least 3 of 5 wrong)


def test_volunteer_confusion_is_measured_on_the_shared_data():
    if not (_label_noise.TEXT2TAG / "english_annotations.csv").is_file():
        pytest.skip("../shared/data/text2tag is missing")
    confusion, counts = _label_noise.measured_confusion(("FRI", "FRII", "Compact", "Bent"))
    np.testing.assert_allclose(confusion.sum(axis=1), 1.0)
    assert (counts > 20).all()
    assert (np.diag(confusion) > confusion.max(axis=1) - 1e-9).all()  # the true class is the most common vote


def test_the_probe_learner_needs_a_saved_encoder(tmp_path, capsys):
    with pytest.raises(SystemExit):
        active_learning.parse_args(["--learner", "probe"])
    assert "--learner probe needs --encoder" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        active_learning.parse_args(["--learner", "probe", "--encoder", str(tmp_path / "missing.pt")])
    assert "missing.pt" in capsys.readouterr().err


def test_the_probe_learner_chooses_from_its_committee_and_the_scaled_features():
    from mlcore.active.probe import FeatureProbe

    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(-1, 1, (40, 6)), rng.normal(1, 1, (40, 6))])
    y = np.repeat([0, 1], 40)
    pool = active_learning.Pool("toy", x, y, x[:10], y[:10], rng.random(80), ("a", "b"))
    labelled = np.array([0, 1, 2, 40, 41, 42])
    probe = FeatureProbe(x, committee=4).fit(x[labelled], y[labelled])
    assert active_learning.posterior_samples(probe, x, rng).shape == (4, 80, 2)
    np.testing.assert_allclose(active_learning.learned_features(probe, x), probe.scaled(x))
    from mlcore.active import AcquisitionPolicy

    policy = AcquisitionPolicy.from_dict(active_learning.DEFAULT_COMBINED)
    for strategy in ("bald", "novelty", "combined"):
        picks = active_learning.choose(strategy, probe, pool, labelled, 5, np.random.default_rng(1), policy)
        assert len(set(picks)) == 5 and not set(picks) & set(labelled)


def test_posterior_consensus_uses_the_same_votes_and_errs_less_on_four_classes():
    if not (_label_noise.TEXT2TAG / "english_annotations.csv").is_file():
        pytest.skip("../shared/data/text2tag is missing")
    from types import SimpleNamespace

    truth = np.random.default_rng(3).integers(0, 4, 4000)
    pool = SimpleNamespace(y=truth, classes=("FRI", "FRII", "Compact", "Bent"))
    majority, noise = active_learning.observed_labels(pool, "volunteers", 0, 5)
    posterior, posterior_noise = active_learning.observed_labels(pool, "volunteers-posterior", 0, 5)
    again, _ = active_learning.observed_labels(pool, "volunteers-posterior", 0, 5)
    np.testing.assert_array_equal(posterior, again)  # same seed, same labels
    assert posterior_noise["majority_error_rate"] < noise["majority_error_rate"] - 0.03
    assert "gold_estimate" in posterior_noise and "gold_estimate" not in noise
    # where every vote agrees, both rules agree with it
    votes = _label_noise.noisy_votes(
        truth, _label_noise.measured_confusion(pool.classes)[0], 5, np.random.default_rng(50_000)
    )
    unanimous = votes.max(axis=1) == 5
    np.testing.assert_array_equal(majority[unanimous], posterior[unanimous])


def test_volunteer_sources_get_their_own_keys_in_the_summary():
    rows = [run("random", 0, [0.5, 0.7]), run("random", 0, [0.5, 0.6], labels="volunteers")]
    rows.append(run("random", 0, [0.5, 0.65], labels="volunteers"))
    rows[-1]["labels"] = "volunteers-posterior"
    result, panels = active_learning.summarise(rows)
    assert result["toy"]["volunteer_labels"]["target_accuracy"] == pytest.approx(0.6)
    assert result["toy"]["volunteer_posterior_labels"]["target_accuracy"] == pytest.approx(0.65)
    assert "toy, volunteers-posterior labels" in panels
