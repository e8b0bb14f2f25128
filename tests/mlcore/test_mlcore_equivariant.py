"""The D16/D8-equivariant classifier (mlcore.ssl.equivariant, escnn): its feature maps turn and
mirror with the cutout, its rotation-averaged predictions do not change, it trains and round-trips
its weights, and bad settings are refused with a clear message."""

import numpy as np
import pytest
import torch

from mlcore.ssl.checkpoint import WeightsError
from mlcore.ssl.config import FixMatchConfig, NetworkConfig
from mlcore.ssl.data import prepare_images
from mlcore.ssl.estimator import SSLClassifier
from mlcore.ssl.network import build_network

SIZE = 38  # 4k + 2 pixels: 36 after the first convolution, 18, 16, 8 (every pooling aligned)


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def dihedral(x: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
    """The 7 non-trivial right-angle rotations and mirror images of (B, C, S, S) maps."""
    views = [(f"rot{90 * k}", torch.rot90(x, k, dims=(-2, -1))) for k in (1, 2, 3)]
    views += [(f"flip-rot{90 * k}", torch.rot90(x.flip(-1), k, dims=(-2, -1))) for k in range(4)]
    return views


def toy_set(n: int, seed: int = 0):
    """Class 0: one compact blob; class 1: two blobs far apart, at a random angle."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:SIZE, :SIZE] - SIZE / 2
    images = []
    for i in range(n):
        if i % 2 == 0:
            img = np.exp(-(xx**2 + yy**2) / 8.0)
        else:
            angle = rng.uniform(0, np.pi)
            dx, dy = 7 * np.cos(angle), 7 * np.sin(angle)
            img = np.exp(-((xx - dx) ** 2 + (yy - dy) ** 2) / 4.0) + np.exp(-((xx + dx) ** 2 + (yy + dy) ** 2) / 4.0)
        images.append(img + rng.normal(0, 0.02, img.shape))
    x, bad = prepare_images(images, size=SIZE)
    assert bad == []
    return x, np.arange(n) % 2


def config(architecture="d8", **overrides) -> FixMatchConfig:
    base = {
        "method": "supervised",
        "batch_size": 8,
        "mu": 1,
        "epochs": 3,
        "mc_samples": 3,
        "network": NetworkConfig(architecture=architecture, image_size=SIZE, dropout=0.1),
    }
    base.update(overrides)
    return FixMatchConfig(**base)


@pytest.mark.parametrize("architecture", ["d16", "d8"])
def test_feature_maps_turn_and_mirror_with_the_cutout(architecture):
    torch.manual_seed(0)
    net = build_network(NetworkConfig(architecture=architecture, image_size=SIZE)).eval()
    x = torch.rand(2, 1, SIZE, SIZE)
    with torch.no_grad():
        maps = net.feature_maps(x)  # (2, 16, 8, 8)
        assert maps.shape == (2, 16, 8, 8) and maps.abs().max() > 1e-3
        scale = maps.abs().max()
        for name, turned in dihedral(x):
            expected = dict(dihedral(maps))[name]
            error = (net.feature_maps(turned) - expected).abs().max() / scale
            assert error < 1e-4, f"{architecture} feature maps are not equivariant to {name}: {error:.2e}"
        # the 4 x 4 pooled features (the head's input) rotate with the cutout as a 4 x 4 grid
        pooled = net.embed(x).reshape(2, 16, 4, 4)
        for name, turned in dihedral(x):
            expected = dict(dihedral(pooled))[name]
            assert torch.allclose(net.embed(turned).reshape(2, 16, 4, 4), expected, atol=1e-4 * float(scale))


def test_a_plain_cnn_is_not_equivariant_which_the_check_would_see():
    """The same check fails for the Tang CNN: it measures something."""
    torch.manual_seed(0)
    net = build_network(NetworkConfig(architecture="tang", image_size=64)).eval()
    x = torch.rand(2, 1, 64, 64)
    with torch.no_grad():
        maps = net.features[:-1](x)  # before the flatten: (2, 16, 4, 4)
        turned = net.features[:-1](torch.rot90(x, 1, dims=(-2, -1)))
    assert not torch.allclose(turned, torch.rot90(maps, 1, dims=(-2, -1)), atol=1e-3)


def test_training_learns_a_toy_task_and_rotation_averaging_is_invariant(tmp_path):
    x, y = toy_set(24)
    clf = SSLClassifier(config(epochs=10, lr=2e-3), device="cpu").fit(x, y)
    losses = [h["loss_x"] for h in clf.history_]
    assert all(np.isfinite(losses)) and np.median(losses[-3:]) < losses[0]
    x_test, y_test = toy_set(16, seed=1)
    proba = clf.predict_proba(x_test, rotations=True)
    assert proba.shape == (16, 2) and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert (proba.argmax(1) == y_test).mean() >= 0.75
    # rotation test-time averaging: the prediction of any right-angle turn or mirror image is the same
    for name, turned in dihedral(torch.from_numpy(x_test)):
        np.testing.assert_allclose(
            clf.predict_proba(turned.numpy(), rotations=True), proba, atol=1e-5, err_msg=f"not invariant to {name}"
        )
    # the platform's feature spaces keep their size
    assert clf.features(x_test).shape == (16, 256) and clf.penultimate_features(x_test).shape == (16, 256)
    assert clf.mc_dropout_proba(x_test[:4]).shape == (3, 4, 2)
    # weights round trip, and do not load into another architecture
    path = tmp_path / "d8.pt"
    clf.save(path)
    loaded = SSLClassifier.load(path, device="cpu")
    np.testing.assert_allclose(loaded.predict_proba(x_test), clf.predict_proba(x_test), atol=1e-5)
    with pytest.raises(WeightsError, match="does not match the d16 architecture"):
        SSLClassifier.load(path, device="cpu", config=config("d16"))


def test_fixmatch_runs_on_the_equivariant_network():
    x, y = toy_set(8)
    pool, _ = toy_set(8, seed=2)
    clf = SSLClassifier(config(method="fixmatch", max_steps=2), device="cpu").fit(x, y, pool)
    assert len(clf.history_) >= 1 and "mask_rate" in clf.history_[-1]


@pytest.mark.parametrize(
    "network, message",
    [
        ({"architecture": "d7"}, "architecture must be one of"),
        ({"architecture": "e2cnn"}, "architecture must be one of"),
        ({"architecture": "d16", "image_size": 64}, "4k \\+ 2 pixels"),
        ({"architecture": "d8", "image_size": 151}, "4k \\+ 2 pixels"),
        ({"architecture": "d8", "image_size": 26}, "too small"),
    ],
)
def test_bad_architecture_settings_are_refused(network, message):
    with pytest.raises(ValueError, match=message):
        FixMatchConfig.from_dict({"network": network})
