"""The guidance sweep's arguments and summaries, and the quality bench's run names and VAE budget."""

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


def test_the_vae_budget_is_the_recorded_ratio_unless_calibration_is_asked_for():
    recorded = generative_eval.VAE_STEPS_PER_DIFFUSION_STEP[("cpu", 64)]
    assert generative_eval.vae_step_ratio(None, "cpu", 64) == recorded
    assert generative_eval.vae_step_ratio("12.5", "cpu", 64) == 12.5
    assert generative_eval.vae_step_ratio("calibrate", "cpu", 64) is None
    assert generative_eval.vae_step_ratio(None, "cpu", 48) is None  # none recorded: measured


@pytest.mark.parametrize("option", ["0", "-3", "nan", "fast"])
def test_a_bad_vae_step_ratio_is_refused_with_the_value(option):
    with pytest.raises(SystemExit, match=rf"--vae-step-ratio: .* got '{option}'"):
        generative_eval.vae_step_ratio(option, "cpu", 64)
