"""The guidance sweep's arguments and summaries, and the quality bench's run names and VAE budget."""

import json
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


def _result_file(tmp_path, seed, fd_diffusion, threads=2):
    rows = [
        {"model": model, "seed": seed, "fd": fd, "memorisation_real": 0.5, "class_consistency": 0.25}
        for model, fd in (("diffusion", fd_diffusion), ("unet", 20.0), ("vae", 15.0))
    ]
    result = {"bench": "generative_eval", "quick": False, "preset": "cpu", "image_size": 32}
    result.update(samples_per_class=50, judge_test_accuracy=0.74, threads=threads)
    result.update(fd_real_floor=0.8, ramis_real=1.6, class_consistency_real=0.74)
    path = tmp_path / f"seed{seed}-threads{threads}.json"
    path.write_text(json.dumps({"result": result, "rows": rows, "config": {"seed": 0, "epochs": 25}}))
    return path


def test_runs_of_one_seed_each_merge_into_means_and_spreads(tmp_path):
    merged = generative_eval.merge([_result_file(tmp_path, 0, 10.0), _result_file(tmp_path, 1, 14.0)])
    result = merged["result"]
    assert result["seeds"] == 2 and len(merged["rows"]) == 6
    assert result["fd_diffusion"] == pytest.approx(12.0) and result["fd_diffusion_std"] == pytest.approx(2.0)
    assert result["fd_vae"] == pytest.approx(15.0) and result["fd_real_floor"] == 0.8
    assert result["memorisation_real"] == 0.5


def test_merging_refuses_different_runs_a_repeated_seed_and_other_files(tmp_path):
    seed0 = _result_file(tmp_path, 0, 10.0)
    with pytest.raises(SystemExit, match=r"seed1-threads1\.json: a different run .*\(threads differ\)"):
        generative_eval.merge([seed0, _result_file(tmp_path, 1, 14.0, threads=1)])
    with pytest.raises(SystemExit, match=r"repeat a seed"):
        generative_eval.merge([seed0, seed0])
    other = tmp_path / "other.json"
    other.write_text("{}")
    with pytest.raises(SystemExit, match=r"other\.json: not a generative_eval result"):
        generative_eval.merge([seed0, other])
