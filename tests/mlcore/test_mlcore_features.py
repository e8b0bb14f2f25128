"""mlcore.features: the contrastive loss, random views and the self-supervised encoder."""

import math

import numpy as np
import pytest
import torch

from mlcore.features import ContrastiveEncoder, EncoderConfig, EncoderWeightsError
from mlcore.features.losses import nt_xent
from mlcore.features.views import dihedral_views, random_view

SIZE = 32


def tiny_config(**overrides) -> EncoderConfig:
    base = {"image_size": SIZE, "width": 8, "feature_dim": 16, "projection_dim": 8, "batch_size": 16, "steps": 40}
    base.update(overrides)
    return EncoderConfig(**base)


def blobs(n: int, seed: int = 0) -> np.ndarray:
    """Half single blobs, half pairs of blobs at random angles: (n, 1, SIZE, SIZE) in [0, 1]."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:SIZE, :SIZE] - SIZE / 2
    out = []
    for i in range(n):
        if i % 2 == 0:
            img = np.exp(-(xx**2 + yy**2) / 8.0)
        else:
            a = rng.uniform(0, np.pi)
            dx, dy = 7 * np.cos(a), 7 * np.sin(a)
            img = np.exp(-((xx - dx) ** 2 + (yy - dy) ** 2) / 4.0) + np.exp(-((xx + dx) ** 2 + (yy + dy) ** 2) / 4.0)
        out.append(img / img.max())
    return np.stack(out)[:, None].astype(np.float32)


def test_nt_xent_is_low_for_matching_views_and_chance_for_random_ones():
    z = torch.eye(4) * 10
    assert float(nt_xent(z, z.clone(), 0.1)) < 1e-3
    same = torch.ones(4, 3)
    assert float(nt_xent(same, same, 0.5)) == pytest.approx(math.log(7), rel=1e-5)
    with pytest.raises(ValueError, match="shape"):
        nt_xent(torch.ones(4, 3), torch.ones(3, 3), 0.5)


def test_views_keep_shape_and_range_and_differ():
    g = torch.Generator().manual_seed(0)
    x = torch.from_numpy(blobs(6))
    a, b = random_view(x, tiny_config(), g), random_view(x, tiny_config(), g)
    assert a.shape == x.shape and float(a.min()) >= 0 and float(a.max()) <= 1
    assert not torch.allclose(a, b)
    assert len(dihedral_views(x)) == 8


def test_encoder_learns_and_embeds_a_rotated_copy_alike(tmp_path):
    x = blobs(48)
    encoder = ContrastiveEncoder(tiny_config(), device="cpu").fit(x)
    losses = encoder.loss_history_
    assert np.mean(losses[-10:]) < np.mean(losses[:5])
    features = encoder.embed(x)
    assert features.shape == (48, 16) and np.isfinite(features).all()
    rotated = encoder.embed(np.rot90(x, 1, axes=(2, 3)).copy())
    np.testing.assert_allclose(rotated, features, atol=1e-4)  # the 8 dihedral views average out a right angle

    path = tmp_path / "encoder.pt"
    encoder.save(path)
    np.testing.assert_allclose(ContrastiveEncoder.load(path, device="cpu").embed(x), features, atol=1e-5)


def test_encoder_rejects_bad_images_and_bad_files(tmp_path):
    encoder = ContrastiveEncoder(tiny_config(), device="cpu")
    with pytest.raises(ValueError, match="images must be"):
        encoder.fit(np.zeros((4, 1, 16, 16), dtype=np.float32))
    bad = blobs(4)
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        encoder.fit(bad)
    with pytest.raises(RuntimeError, match="not fitted"):
        encoder.embed(blobs(2))
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a weights file")
    with pytest.raises(EncoderWeightsError, match="junk.pt"):
        ContrastiveEncoder.load(junk)
    with pytest.raises(ValueError, match="unknown encoder settings"):
        EncoderConfig.from_dict({"image_size": 32, "colour": 1})
