"""The background-clip benchmark: its arguments, its draws and the draws it shows."""

import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import generative_clip  # noqa: E402


def test_bad_arguments_are_refused_before_any_work(capsys):
    with pytest.raises(SystemExit):
        generative_clip.main([])
    assert "--checkpoints is required" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        generative_clip.main(["--checkpoints", "x", "--per-class", "1"])
    assert "--per-class must be 2 or more" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        generative_clip.main(["--checkpoints", "x", "--models", "vae"])
    assert "invalid choice: 'vae'" in capsys.readouterr().err


def test_a_missing_model_is_a_cli_error_naming_its_file(tmp_path):
    with pytest.raises(SystemExit, match=r"unet-seed4\.ckpt: no trained unet model of seed 4"):
        generative_clip.main(["--checkpoints", str(tmp_path), "--seed", "4", "--models", "unet"])


def test_every_clip_draws_the_same_samples_and_the_most_changed_come_first():
    import torch

    from mlcore.generative.config import preset
    from mlcore.generative.diffusion import DiffusionGenerator

    torch.set_num_threads(1)
    x = np.zeros((8, 1, 16, 16), np.float32)
    x[:, 0, 6:10, 6:10] = 0.8
    config = preset("tiny", image_size=16, n_classes=2, max_steps=2, sample_steps=2)
    generator = DiffusionGenerator(config).fit(x, np.arange(8) % 2)
    classes = np.array([0, 1, 0, 1])
    by_clip = generative_clip.draws(generator, classes, seed=3)
    assert set(by_clip) == {"none", "sigma-clipped", "below-background", "sigma-clipped-islands"}
    as_drawn = by_clip["none"]
    for clip in ("sigma-clipped", "below-background", "sigma-clipped-islands"):
        assert np.array_equal(by_clip[clip], generator.sample(classes, seed=3, noise_estimate=clip))
        kept = by_clip[clip] > 0
        assert kept.sum() <= (as_drawn > 0).sum()  # a clip only ever removes background
    lifted = {"none": as_drawn, "sigma-clipped": np.zeros_like(as_drawn), "below-background": as_drawn.copy()}
    lifted["sigma-clipped"][:, 0, 8, 8] = 1.0
    lifted["below-background"][2] = 0.0
    lifted["below-background"][2, 0, 8, 8] = 1.0
    order = generative_clip.most_changed(lifted, 4)
    assert order[-1] == 2  # the one draw both estimates leave a single pixel of


def test_the_figure_names_a_pair_other_than_the_default():
    assert generative_clip.figure_name(False, 32, ("sigma-clipped", "below-background")) == "generative_clip_32px.png"
    assert generative_clip.figure_name(True, 64, ("sigma-clipped", "below-background")) == "generative_clip_quick.png"
    named = generative_clip.figure_name(False, 32, ("sigma-clipped", "sigma-clipped-islands"))
    assert named == "generative_clip_32px_sigma_clipped_vs_sigma_clipped_islands.png"
