"""mlcore.ssl: network, augmentations, losses, metrics, uncertainty, training smoke runs, checkpoints."""

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from mlcore.ssl.augment import circular_mask, strong_augment, weak_augment
from mlcore.ssl.checkpoint import WeightsError
from mlcore.ssl.config import AugmentConfig, FixMatchConfig, NetworkConfig
from mlcore.ssl.data import BadImageError, clip_and_scale, prepare_images
from mlcore.ssl.estimator import SSLClassifier, TrainingDataError
from mlcore.ssl.losses import fixmatch_loss, pseudo_labels
from mlcore.ssl.metrics import classification_metrics, expected_calibration_error, frechet_distance
from mlcore.ssl.network import TangCNN
from mlcore.ssl.uncertainty import bald, margin, predictive_entropy

SIZE = 64  # tiny images keep the smoke runs to a fraction of a second


def tiny_config(**overrides) -> FixMatchConfig:
    base = {"batch_size": 8, "mu": 2, "epochs": 3, "mc_samples": 4, "network": NetworkConfig(image_size=SIZE)}
    base.update(overrides)
    return FixMatchConfig(**base)


def toy_set(n: int, seed: int = 0):
    """Class 0: one compact blob; class 1: two blobs far apart (an FRI/FRII caricature)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:SIZE, :SIZE] - SIZE / 2
    images, labels = [], []
    for i in range(n):
        label = i % 2
        angle = rng.uniform(0, np.pi)
        if label == 0:
            img = np.exp(-(xx**2 + yy**2) / 12.0)
        else:
            dx, dy = 11 * np.cos(angle), 11 * np.sin(angle)
            img = np.exp(-((xx - dx) ** 2 + (yy - dy) ** 2) / 6.0) + np.exp(-((xx + dx) ** 2 + (yy + dy) ** 2) / 6.0)
        images.append(img + rng.normal(0, 0.02, img.shape))
        labels.append(label)
    x, bad = prepare_images(images, size=SIZE)
    assert bad == []
    return x, np.array(labels)


def test_tang_network_has_the_published_shape():
    net = TangCNN()
    assert net.n_features == 256
    x = torch.zeros(2, 1, 150, 150)
    assert net(x).shape == (2, 2)
    assert net.embed(x).shape == (2, 256)


def test_augmentations_keep_shape_range_and_mask():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(6, 1, SIZE, SIZE, generator=g)
    config = AugmentConfig()
    weak = weak_augment(x, config, torch.Generator().manual_seed(1))
    strong = strong_augment(x, config, torch.Generator().manual_seed(1))
    outside = circular_mask(SIZE, config.mask_radius) == 0
    for out in (weak, strong):
        assert out.shape == x.shape
        assert out.min() >= 0 and out.max() <= 1
    assert torch.all(weak[..., outside] == 0)  # strong ops (contrast, translate) may move the edge
    again = weak_augment(x, config, torch.Generator().manual_seed(1))
    assert torch.equal(weak, again)  # seeded
    assert not torch.allclose(weak, strong)


def test_fixmatch_loss_masks_unconfident_pseudo_labels():
    logits_x = torch.tensor([[2.0, 0.0], [0.0, 2.0]])
    y = torch.tensor([0, 1])
    weak = torch.tensor([[10.0, 0.0], [0.0, 0.1]])  # first confident (class 0), second not
    strong = torch.tensor([[0.0, 0.0], [5.0, 0.0]])
    labels, mask = pseudo_labels(weak, tau=0.95)
    assert labels.tolist() == [0, 1] and mask.tolist() == [1.0, 0.0]
    loss, parts = fixmatch_loss(logits_x, y, weak, strong, tau=0.95, lambda_u=2.0)
    expected_u = math.log(2) / 2  # CE of uniform logits on the one masked-in image, averaged over 2
    assert parts["loss_u"] == pytest.approx(expected_u, rel=1e-5)
    assert parts["mask_rate"] == 0.5
    assert float(loss) == pytest.approx(parts["loss_x"] + 2.0 * expected_u, rel=1e-5)
    supervised, parts = fixmatch_loss(logits_x, y, None, None, tau=0.95, lambda_u=1.0)
    assert parts["loss_u"] == 0.0 and float(supervised) == pytest.approx(parts["loss_x"])


def test_calibration_error_known_answers():
    y = np.array([0] * 8 + [1] * 2)
    calibrated = np.tile([0.8, 0.2], (10, 1))  # 80 % confident, 80 % right
    assert expected_calibration_error(calibrated, y, n_bins=10) == pytest.approx(0.0, abs=1e-12)
    overconfident = np.tile([1.0, 0.0], (10, 1))
    assert expected_calibration_error(overconfident, y, n_bins=10) == pytest.approx(0.2)
    metrics = classification_metrics(overconfident, y, n_bins=10, class_names=["FRI", "FRII"])
    assert metrics["accuracy"] == 0.8
    assert metrics["confusion"] == [[8, 0], [2, 0]]
    assert metrics["recall"] == [1.0, 0.0] and metrics["f1"][1] == 0.0
    assert sum(row["count"] for row in metrics["reliability"]) == 10 and metrics["ece_bins"] == 10


def test_frechet_distance_known_answers():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4000, 3))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    shifted = a + np.array([2.0, 0.0, 0.0])
    assert frechet_distance(a, shifted) == pytest.approx(4.0, rel=1e-6)
    with pytest.raises(ValueError):
        frechet_distance(a, rng.normal(size=(10, 4)))


def test_uncertainty_scores():
    proba = np.array([[0.5, 0.5], [1.0, 0.0], [0.9, 0.1]])
    assert predictive_entropy(proba) == pytest.approx([math.log(2), 0.0, 0.3250829733914482], abs=1e-9)
    assert margin(proba) == pytest.approx([0.0, 1.0, 0.8])
    agree = np.stack([proba, proba])
    disagree = np.stack([np.array([[1.0, 0.0]] * 3), np.array([[0.0, 1.0]] * 3)])
    assert bald(agree) == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)
    assert bald(disagree) == pytest.approx([math.log(2)] * 3, rel=1e-6)


def test_preprocessing_rejects_bad_images_and_keeps_good_ones():
    good = np.zeros((60, 80), np.float32)
    good[30, 40] = 5.0
    out = clip_and_scale(good)
    assert out.max() == 1.0 and out.min() == 0.0
    with pytest.raises(BadImageError):
        clip_and_scale(np.full((10, 10), np.nan))
    x, bad = prepare_images([good, np.zeros((10, 10)), np.full((5, 5), np.nan), good], size=SIZE)
    assert x.shape == (2, 1, SIZE, SIZE) and bad == [1, 2]


def test_training_rejects_no_labels_and_a_single_class():
    x, y = toy_set(8)
    with pytest.raises(TrainingDataError, match="no labelled"):
        SSLClassifier(tiny_config(), device="cpu").fit(x[:0], y[:0])
    with pytest.raises(TrainingDataError, match="single class"):
        SSLClassifier(tiny_config(), device="cpu").fit(x[y == 0], y[y == 0])


def test_supervised_smoke_run_learns_a_toy_task():
    torch.set_num_threads(1)
    x, y = toy_set(32)
    config = tiny_config(method="supervised", epochs=12, lr=2e-3, network=NetworkConfig(image_size=SIZE, dropout=0.1))
    clf = SSLClassifier(config, device="cpu").fit(x, y)
    losses = [h["loss_x"] for h in clf.history_]
    # the median of the last epochs: a memorising net on 32 images may spike in a single epoch
    assert all(np.isfinite(losses)) and np.median(losses[-4:]) < losses[0] / 2
    x_test, y_test = toy_set(20, seed=1)
    proba = clf.predict_proba(x_test)
    assert proba.shape == (20, 2) and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert (proba.argmax(1) == y_test).mean() >= 0.8


def test_fixmatch_smoke_run_uses_the_unlabelled_pool():
    torch.set_num_threads(1)
    x, y = toy_set(8)
    pool, _ = toy_set(16, seed=2)
    seen = []
    config = tiny_config(epochs=2, tau=0.5)  # two classes: every pseudo-label has max prob >= 0.5
    clf = SSLClassifier(config, device="cpu", progress=lambda e, n, row: seen.append((e, n, row))).fit(x, y, pool)
    assert [e for e, _, _ in seen] == [1, 2] and seen[-1][1] == 2
    assert clf.history_[-1]["mask_rate"] == 1.0 and clf.history_[-1]["loss_u"] > 0
    mc = clf.mc_dropout_proba(x, samples=3)
    assert mc.shape == (3, 8, 2) and np.isfinite(bald(mc)).all()
    assert clf.features(x).shape == (8, 16)


class Crash(Exception):
    """A training's worker dying mid-run."""


def test_training_resumes_from_its_checkpoint(tmp_path):
    torch.set_num_threads(1)
    x, y = toy_set(16)
    pool, _ = toy_set(8, seed=3)
    config = tiny_config(epochs=4)
    straight = SSLClassifier(config, device="cpu").fit(x, y, pool)

    def crash_after_two(epoch, total, row):
        if epoch == 2:
            raise Crash

    path = tmp_path / "run.ckpt"
    with pytest.raises(Crash):
        SSLClassifier(config, device="cpu", checkpoint_path=path, progress=crash_after_two).fit(x, y, pool)
    assert path.is_file()
    resumed = SSLClassifier(config, device="cpu", checkpoint_path=path).fit(x, y, pool)
    assert resumed.resumed_from_epoch_ == 2
    assert [h["epoch"] for h in resumed.history_] == [1, 2, 3, 4]
    assert np.allclose(resumed.predict_proba(x), straight.predict_proba(x), atol=1e-5)


def test_the_best_validated_weights_are_kept_across_a_resume(tmp_path):
    torch.set_num_threads(1)
    x, y = toy_set(16)
    x_val, y_val = toy_set(12, seed=5)
    x_watch, y_watch = toy_set(12, seed=6)
    config = tiny_config(method="supervised", epochs=8, val_every=2, lr=2e-3)

    def crash_after_five(epoch, total, row):
        if epoch == 5:
            raise Crash

    path = tmp_path / "run.ckpt"
    with pytest.raises(Crash):
        SSLClassifier(config, device="cpu", checkpoint_path=path, progress=crash_after_five).fit(
            x, y, None, x_val, y_val, monitor=(x_watch, y_watch)
        )
    clf = SSLClassifier(config, device="cpu", checkpoint_path=path).fit(
        x, y, None, x_val, y_val, monitor=(x_watch, y_watch)
    )
    validated = [(h["epoch"], h["val_accuracy"]) for h in clf.history_ if "val_accuracy" in h]
    assert [e for e, _ in validated] == [2, 4, 6, 8]  # every val_every epochs and after the last
    assert all("monitor_accuracy" in h for h in clf.history_ if "val_accuracy" in h)
    best_epoch, best_accuracy = max(validated, key=lambda row: row[1])  # the first of equal bests
    assert clf.selected_epoch_ == best_epoch and clf.best_val_accuracy_ == best_accuracy
    assert (clf.predict(x_val) == y_val).mean() == pytest.approx(best_accuracy)  # those weights are in use
    last = SSLClassifier(replace(config, select_best=False), device="cpu").fit(x, y, None, x_val, y_val)
    assert last.selected_epoch_ == 8 and last.best_val_accuracy_ is None


def test_weights_round_trip_and_mismatch(tmp_path):
    x, y = toy_set(8)
    clf = SSLClassifier(tiny_config(max_steps=1), device="cpu").fit(x, y)
    path = tmp_path / "weights.pt"
    clf.save(path)
    loaded = SSLClassifier.load(path, device="cpu")
    assert np.allclose(loaded.predict_proba(x), clf.predict_proba(x), atol=1e-6)
    wrong = tiny_config(network=NetworkConfig(image_size=SIZE, n_classes=3))
    with pytest.raises(WeightsError, match="does not match"):
        SSLClassifier.load(path, device="cpu", config=wrong)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a weights file")
    with pytest.raises(WeightsError, match="cannot read"):
        SSLClassifier.load(garbage, device="cpu")


def test_lime_explanation_covers_the_cutout():
    from mlcore.ssl.explain import explanation_png, lime_explanation

    x, y = toy_set(8)
    clf = SSLClassifier(tiny_config(max_steps=1), device="cpu").fit(x, y)
    result = lime_explanation(lambda batch: clf.predict_proba(batch[:, None]), x[1, 0], num_samples=40, n_segments=12)
    assert result["segments"].shape == (SIZE, SIZE)
    assert set(result["weights"]) <= set(np.unique(result["segments"]).tolist()) and result["weights"]
    assert result["label"] in (0, 1)
    png = explanation_png(x[1, 0], result["segments"], result["weights"])
    assert png.startswith(b"\x89PNG")


def test_recording_a_learning_curve_changes_nothing_learned():
    """The same seed gives the same weights whether or not a monitor set is measured (the test
    curve of bench/ssl_eval.py --curve): recording more must never change a figure."""
    torch.set_num_threads(1)
    x, y = toy_set(16)
    x_val, y_val = toy_set(12, seed=5)
    config = tiny_config(method="supervised", epochs=4, val_every=1, lr=2e-3)
    plain = SSLClassifier(config, device="cpu").fit(x, y, None, x_val, y_val)
    watched = SSLClassifier(config, device="cpu").fit(x, y, None, x_val, y_val, monitor=toy_set(12, seed=6))
    for name, weights in plain.model_.state_dict().items():
        assert torch.equal(weights, watched.model_.state_dict()[name]), name
    assert [h["val_accuracy"] for h in plain.history_] == [h["val_accuracy"] for h in watched.history_]


def test_warm_start_continues_from_the_previous_weights():
    x, y = toy_set(8)
    frozen = tiny_config(method="supervised", max_steps=2, lr=0.0)  # lr 0: a fit leaves the weights as it found them

    def conv_weights(clf):
        return clf.model_.features[0].weight.detach().clone()

    warm = SSLClassifier(tiny_config(method="supervised", max_steps=3), device="cpu", warm_start=True).fit(x, y)
    trained = conv_weights(warm)
    warm.config = replace(frozen, seed=7)
    assert torch.equal(conv_weights(warm.fit(x, y)), trained)  # seed 7 would draw other initial weights

    cold = SSLClassifier(tiny_config(method="supervised", max_steps=3), device="cpu").fit(x, y)
    cold.config = replace(frozen, seed=7)
    assert not torch.equal(conv_weights(cold.fit(x, y)), trained)


def test_penultimate_features_feed_the_final_layer():
    x, y = toy_set(8)
    clf = SSLClassifier(tiny_config(method="supervised", max_steps=2), device="cpu").fit(x, y)
    hidden = clf.penultimate_features(x)
    assert hidden.shape == (8, 256)
    assert (hidden >= 0).all()  # after a ReLU
    logits = clf.model_.head[-1](torch.from_numpy(hidden))
    np.testing.assert_allclose(torch.softmax(logits, 1).detach().numpy(), clf.predict_proba(x), atol=1e-5)
    assert clf.penultimate_features(x[:0]).shape == (0, 256)


def test_rotation_averaged_predictions_ignore_a_right_angle_turn():
    x, y = toy_set(8)
    clf = SSLClassifier(tiny_config(method="supervised", max_steps=3), device="cpu").fit(x, y)
    turned = np.rot90(x, 1, axes=(2, 3)).copy()
    averaged = clf.predict_proba(x, rotations=True)
    np.testing.assert_allclose(clf.predict_proba(turned, rotations=True), averaged, atol=1e-5)
    np.testing.assert_allclose(averaged.sum(axis=1), 1.0, atol=1e-5)
    assert not np.allclose(clf.predict_proba(turned), clf.predict_proba(x), atol=1e-5)  # a plain pass is not invariant


def test_superpixels_follow_the_source_not_a_grid():
    """Two Gaussian lobes on noise: most lobe pixels lie in segments that are nearly all lobe (a
    regular grid, what SLIC gives on radio noise, puts none there); the ids are 0..n-1."""
    from mlcore.ssl.explain import superpixels

    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:64, 0:64]
    lobes = np.exp(-((x - 24) ** 2 + (y - 32) ** 2) / 20) + np.exp(-((x - 42) ** 2 + (y - 30) ** 2) / 20)
    image = np.clip(rng.normal(0, 0.02, (64, 64)) + lobes, 0, 1)
    segments = superpixels(image, n_segments=40)
    ids = np.unique(segments)
    assert segments.shape == (64, 64) and ids.tolist() == list(range(len(ids)))
    source = image > 0.3
    in_source_segments = sum(int(source[segments == s].sum()) for s in ids if source[segments == s].mean() > 0.8)
    assert in_source_segments > 0.7 * source.sum()
    assert not any(source[segments == s].mean() > 0.8 for s in ids if (segments == s).sum() > 200)  # no big blocks
    flat = superpixels(np.zeros((32, 32)), n_segments=16)  # no emission at all: the background grid alone
    assert len(np.unique(flat)) == 16
