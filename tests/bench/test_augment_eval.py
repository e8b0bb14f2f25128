"""The augmentation benchmark's draws, synthetic budgets and synthetic pool."""

import argparse
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import augment_eval  # noqa: E402
import generative_eval  # noqa: E402


def test_a_stratified_draw_keeps_the_class_shares_and_every_class():
    y = np.array([0] * 60 + [1] * 30 + [2] * 9 + [3] * 1)
    drawn = augment_eval.stratified_draw(y, 20, seed=0)
    assert len(drawn) == 20 and len(set(drawn)) == 20
    counts = np.bincount(y[drawn], minlength=4)
    assert counts.tolist() == [12, 6, 1, 1]  # 11.4 / 5.7 / 1.8 / 0.2 of 20, at least one each
    assert np.array_equal(drawn, augment_eval.stratified_draw(y, 20, seed=0))
    assert not np.array_equal(drawn, augment_eval.stratified_draw(y, 20, seed=1))
    assert np.array_equal(augment_eval.stratified_draw(y, None, seed=0), np.arange(100))
    assert np.array_equal(augment_eval.stratified_draw(y, 500, seed=0), np.arange(100))


def test_synthetic_budgets_follow_the_count_or_the_ratio_of_real_labels():
    y = np.array([0, 0, 0, 3, 3])
    assert augment_eval.synthetic_counts(y, [3], 60, 1.0) == {3: 60}
    assert augment_eval.synthetic_counts(y, [0, 3], None, 1.5) == {0: 4, 3: 3}
    assert augment_eval.synthetic_counts(y, [1], None, 2.0) == {1: 0}


def test_a_label_budget_is_a_positive_number_or_all():
    assert augment_eval.parse_budget("all") == "all"
    assert augment_eval.parse_budget("50") == "50"
    for bad in ("0", "-5", "half", "1.5"):
        with pytest.raises(argparse.ArgumentTypeError, match=repr(bad)):
            augment_eval.parse_budget(bad)


def test_the_synthetic_pool_is_clipped_as_asked_then_prepared_as_the_platform_prepares_cutouts():
    import torch

    from mlcore.generative.config import preset
    from mlcore.generative.diffusion import DiffusionGenerator

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    x = np.zeros((8, 1, 16, 16), np.float32)
    x[:, 0, 6:10, 6:10] = rng.uniform(0.5, 1.0, (8, 1, 1))
    config = preset("tiny", image_size=16, n_classes=4, max_steps=2, sample_steps=2, noise_estimate="below-background")
    generator = DiffusionGenerator(config).fit(x, np.arange(8) % 4)
    pools = {
        estimate: augment_eval.synthetic_pool(generator, {3: 4, 1: 0}, 7, None, 16, estimate)
        for estimate in (None, "sigma-clipped")
    }
    for estimate, pool in pools.items():
        drawn = generator.sample(np.full(4, 3), seed=7 * 1000 + 3, noise_estimate=estimate)
        assert np.array_equal(pool[3], generative_eval.cutout_pipeline(drawn)[0])
        assert pool[1].shape == (0, 1, 16, 16)
    assert not np.array_equal(pools[None][3], pools["sigma-clipped"][3])
    resampled = augment_eval.synthetic_pool(generator, {3: 2}, 7, None, 32)
    assert resampled[3].shape == (2, 1, 32, 32)


def test_matched_brightness_keeps_each_drawn_peak_times_the_real_ratio_instead_of_lifting_it_to_one():
    import torch

    from mlcore.generative.config import preset
    from mlcore.generative.diffusion import DiffusionGenerator

    torch.set_num_threads(1)
    rng = np.random.default_rng(1)
    x = np.zeros((8, 1, 16, 16), np.float32)
    x[:, 0, 6:10, 6:10] = rng.uniform(0.3, 0.6, (8, 1, 1))
    config = preset("tiny", image_size=16, n_classes=4, max_steps=2, sample_steps=2)
    generator = DiffusionGenerator(config).fit(x, np.arange(8) % 4)
    lifted = augment_eval.synthetic_pool(generator, {3: 4}, 7, None, 16)[3]
    matched = augment_eval.synthetic_pool(generator, {3: 4}, 7, None, 16, brightness="matched", peak_ratio=0.5)[3]
    drawn = generator.sample(np.full(4, 3), seed=7 * 1000 + 3)
    peaks = drawn.reshape(4, -1).max(axis=1)
    lit = lifted.reshape(4, -1).max(axis=1) > 0  # the pipeline leaves a blank draw blank
    assert lit.any() and np.allclose(lifted.reshape(4, -1).max(axis=1)[lit], 1.0)
    expected = np.minimum(peaks * 0.5, 1.0)[lit]
    assert np.allclose(matched.reshape(4, -1).max(axis=1)[lit], expected, atol=1e-6) and (expected < 1).any()
    assert np.allclose(matched, np.minimum(lifted * (peaks * 0.5)[:, None, None, None], 1.0), atol=1e-6)


def test_a_classifier_smaller_than_the_networks_smallest_input_is_refused_before_any_work(capsys):
    with pytest.raises(SystemExit):
        augment_eval.main(["--generator", "missing.ckpt", "--classifier-size", "32"])
    assert "--classifier-size must be 64 or more" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        augment_eval.main(["--classifier-size", "64"])
    assert "--generator is required" in capsys.readouterr().err


def test_the_summary_sums_each_arms_confusion_over_seeds_so_lost_sources_can_be_traced():
    def row(seed, arm, accuracy, confusion):
        recalls = {f"recall_{name}": 0.5 for name in augment_eval.CLASSES}
        return {
            "seed": seed,
            "budget": "50",
            "arm": arm,
            "accuracy": accuracy,
            "ece": 0.1,
            **recalls,
            "confusion": confusion,
        }

    eye = np.eye(4, dtype=int).tolist()
    fri_to_bent = [[0, 0, 0, 1], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
    rows = [
        row(0, "real", 0.5, eye),
        row(1, "real", 0.7, eye),
        row(0, "augmented", 0.6, fri_to_bent),
        row(1, "augmented", 0.6, eye),
    ]
    summary = augment_eval.summarise(rows)
    assert summary["confusion_real_50"] == (2 * np.eye(4, dtype=int)).tolist()
    assert summary["confusion_augmented_50"][0] == [1, 0, 0, 1]  # one FRI source called Bent
    assert summary["accuracy_gain_50"] == pytest.approx(0.0)
    assert "confusion_real_50_std" not in summary
    assert augment_eval.largest_confusion_shifts(summary, "50") == ["FRI as Bent +1"]
    unchanged = {"confusion_real_50": eye, "confusion_augmented_50": eye}
    assert augment_eval.largest_confusion_shifts(unchanged, "50") == []


def test_the_figure_draws_the_curves_and_one_confusion_shift_per_budget(tmp_path):
    eye = np.eye(4, dtype=int)
    summary = {}
    for budget in ("50", "all"):
        for arm in augment_eval.ARMS:
            for measure in ("accuracy", "recall_Bent"):
                summary[f"{measure}_{arm}_{budget}"], summary[f"{measure}_{arm}_{budget}_std"] = 0.5, 0.1
            summary[f"confusion_{arm}_{budget}"] = (eye * (3 if arm == "real" else 2)).tolist()
    path = tmp_path / "figure.png"
    augment_eval.plot(summary, ["50", "all"], {"50": 50, "all": 1758}, path)
    assert path.stat().st_size > 10_000
