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
