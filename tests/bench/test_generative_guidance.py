"""The guidance sweep's arguments and summaries, and the names the quality bench gives its runs."""

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import generative_eval  # noqa: E402
import generative_guidance  # noqa: E402


def test_a_missing_trained_model_is_a_cli_error_naming_the_file(tmp_path):
    with pytest.raises(SystemExit, match=r"diffusion-seed3\.ckpt: no trained diffusion model of seed 3"):
        generative_guidance.trained_generators(tmp_path, 3)


def test_bad_arguments_are_refused_before_any_work(capsys):
    with pytest.raises(SystemExit):
        generative_guidance.main([])
    assert "--checkpoints is required" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        generative_guidance.main(["--checkpoints", "x", "--guidance", "-1"])
    assert "guidance scales must be 0 or more" in capsys.readouterr().err


def test_the_summary_keeps_the_measures_and_averages_diversity_over_classes():
    row = {"fd": 3.0, "class_consistency": 0.5, "ramis": 1.2, "memorisation": 0.1, "extra": 9}
    row.update({"diversity_ratio_FRI": 1.0, "diversity_ratio_Bent": 0.5})
    out = generative_guidance.summary(row)
    assert out == {"fd": 3.0, "class_consistency": 0.5, "ramis": 1.2, "memorisation": 0.1, "diversity_ratio": 0.75}


def test_runs_at_another_size_than_the_presets_are_named_apart():
    assert generative_eval.run_name("cpu", 64) == "cpu"
    assert generative_eval.run_name("cpu", 32) == "cpu32"
    assert generative_eval.run_name("tiny", 32) == "tiny"
