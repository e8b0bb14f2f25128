"""The generator speed benchmark's choice of models."""

import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import generative_speed  # noqa: E402


def test_an_unknown_model_is_refused(capsys):
    with pytest.raises(SystemExit):
        generative_speed.main(["--models", "huge"])
    assert "invalid choice: 'huge'" in capsys.readouterr().err


def test_the_chosen_models_alone_are_timed(capsys):
    result = generative_speed.main(["--quick", "--threads", "1", "--models", "tiny"])
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == result
    assert result["train_images_per_s_tiny"] > 0 and result["sample_images_per_s_tiny"] > 0
    timed = {key.rsplit("_per_s_", 1)[1] for key in result if "_images_per_s_" in key}
    assert timed == {"tiny"}


def test_a_batch_below_one_is_refused(capsys):
    with pytest.raises(SystemExit):
        generative_speed.main(["--models", "gpu", "--batch-size", "0"])
    assert "--batch-size must be 1 or more" in capsys.readouterr().err


def test_the_gated_layout_is_timed_as_its_own_network():
    from dataclasses import replace

    from mlcore.generative.config import DEFAULT_MIX, preset
    from mlcore.generative.network import build_network, parameter_count

    result = generative_speed.main(["--quick", "--threads", "1", "--models", "cpu32", "cpu32_gated"])
    assert DEFAULT_MIX != "gated"
    unet = preset("cpu", n_classes=generative_speed.N_CLASSES).unet
    default = parameter_count(build_network(replace(unet, image_size=32)))
    gated = parameter_count(build_network(replace(unet, image_size=32, mix="gated")))
    assert result["parameters_cpu32"] == default
    assert result["parameters_cpu32_gated"] == gated > default
