"""The guidance sweep's arguments and summaries, and the quality bench's run names and VAE budget."""

import json
import sys
from pathlib import Path

import numpy as np
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


def _result_file(tmp_path, seed, fd_diffusion, threads=2, floor=0.8):
    rows = [
        {"model": model, "seed": seed, "fd": fd, "memorisation_real": 0.5, "class_consistency": 0.25}
        for model, fd in (("diffusion", fd_diffusion), ("unet", 20.0), ("vae", 15.0))
    ]
    result = {"bench": "generative_eval", "quick": False, "preset": "cpu", "image_size": 32}
    result.update(samples_per_class=50, judge_test_accuracy=0.74, threads=threads)
    result.update(fd_real_floor=floor, ramis_real=1.6, class_consistency_real=0.74)
    path = tmp_path / f"seed{seed}-threads{threads}-floor{floor}.json"
    path.write_text(json.dumps({"result": result, "rows": rows, "config": {"seed": 0, "epochs": 25}}))
    return path


def test_runs_of_one_seed_each_merge_into_means_and_spreads(tmp_path):
    merged = generative_eval.merge([_result_file(tmp_path, 0, 10.0), _result_file(tmp_path, 1, 14.0)])
    result = merged["result"]
    assert result["seeds"] == 2 and len(merged["rows"]) == 6
    assert result["fd_diffusion"] == pytest.approx(12.0) and result["fd_diffusion_std"] == pytest.approx(2.0)
    assert result["fd_vae"] == pytest.approx(15.0) and result["fd_real_floor"] == 0.8
    assert result["memorisation_real"] == 0.5


def test_a_floor_that_differs_only_in_its_last_digits_is_the_same_run(tmp_path):
    # The same judges' FD floor, as two runs of them computed it (the twelfth digit differs).
    seed0 = _result_file(tmp_path, 0, 10.0, floor=0.8867403303175507)
    merged = generative_eval.merge([seed0, _result_file(tmp_path, 1, 14.0, floor=0.8867403303166697)])
    assert merged["result"]["seeds"] == 2


def test_merging_refuses_different_runs_a_repeated_seed_and_other_files(tmp_path):
    seed0 = _result_file(tmp_path, 0, 10.0)
    with pytest.raises(SystemExit, match=r"seed1-threads1-floor0\.8\.json: a different run .*\(threads differ\)"):
        generative_eval.merge([seed0, _result_file(tmp_path, 1, 14.0, threads=1)])
    with pytest.raises(SystemExit, match=r"repeat a seed"):
        generative_eval.merge([seed0, seed0])
    with pytest.raises(SystemExit, match=r"a different run .*\(fd_real_floor differ\)"):
        generative_eval.merge([seed0, _result_file(tmp_path, 1, 14.0, floor=0.81)])  # other judges
    other = tmp_path / "other.json"
    other.write_text("{}")
    with pytest.raises(SystemExit, match=r"other\.json: not a generative_eval result"):
        generative_eval.merge([seed0, other])


def test_rejudging_a_run_that_is_not_there_is_a_cli_error_before_any_work(tmp_path):
    missing = tmp_path / "nothing.json"
    with pytest.raises(SystemExit, match=r"nothing\.json: not a generative_eval result"):
        generative_eval.main(["--rejudge", "--out", str(missing)])


class _PooledJudge:
    """A stand-in judge for the bookkeeping: features are the quadrants' mean brightness."""

    def features(self, images):
        h = images.shape[-1] // 2
        quads = [images[..., :h, :h], images[..., :h, h:], images[..., h:, :h], images[..., h:, h:]]
        return np.stack([q.mean(axis=(1, 2, 3)) for q in quads], axis=1) + 1e-3 * np.arange(4)

    def predict_proba(self, images):
        logits = 10 * self.features(images)
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        return p / p.sum(axis=1, keepdims=True)


def _faint_sources(rng, n, size=16, peak=0.4):
    images = np.zeros((n, 1, size, size), np.float32)
    for i in range(n):
        y, x = rng.integers(3, size - 3, 2)
        images[i, 0, y - 1 : y + 2, x - 1 : x + 2] = peak * rng.uniform(0.5, 1.0)
    return images


def test_samples_after_the_pipeline_are_judged_against_real_images_after_it():
    rng = np.random.default_rng(0)
    real = {split: (_faint_sources(rng, 40), np.arange(40) % 4) for split in ("train", "test")}
    piped = generative_eval.through_pipeline(real)
    peaks = piped["test"][0].reshape(40, -1).max(axis=1)
    assert np.allclose(peaks, 1.0) and real["test"][0].max() <= 0.4  # the rescale the samples get too
    classes = np.arange(40) % 4
    judges = (_PooledJudge(), _PooledJudge())
    draws = real["test"][0][::-1].copy()  # real-looking draws, as faint as the real images
    row = generative_eval.judged({"raw": draws, "noclip": draws}, classes, real, piped, judges)
    assert {"fd", "fd_raw", "fd_noclip", "memorisation_real", "blank_share"} <= set(row)
    assert "memorisation_real_raw" not in row and row["blank_share"] == 0.0
    # Both sides through the same pipeline: as close as the same draws judged as drawn.
    assert row["fd"] == pytest.approx(row["fd_noclip"])
    assert row["ks_flux"] < 0.5 and row["ks_flux_raw"] < 0.5
    one_sided = generative_eval.judge(generative_eval.cutout_pipeline(draws)[0], classes, real, judges)
    assert one_sided["ks_flux"] > row["ks_flux"]  # against unscaled real images the fluxes disagree


def test_a_rejudge_with_another_noise_estimate_draws_the_same_samples_clipped_its_way(tmp_path):
    import torch

    from mlcore.generative.config import preset
    from mlcore.generative.diffusion import DiffusionGenerator

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    x, y = _faint_sources(rng, 8) * 2, np.arange(8) % 2
    config = preset("tiny", image_size=16, n_classes=2, max_steps=2, sample_steps=2, noise_estimate="below-background")
    DiffusionGenerator(config).fit(x, y).save(generative_eval.checkpoint_path(tmp_path, "unet", 5))
    classes = np.array([0, 1, 1])
    before = DiffusionGenerator.load(generative_eval.checkpoint_path(tmp_path, "unet", 5)).sample(classes, seed=5)
    kept = generative_eval.redrawn({"raw": before}, classes, tmp_path, "unet", 5, "below-background", "sigma-clipped")
    assert np.array_equal(kept["raw_below-background"], before)
    again = DiffusionGenerator.load(generative_eval.checkpoint_path(tmp_path, "unet", 5)).sample(
        classes, seed=5, noise_estimate="sigma-clipped"
    )
    assert np.array_equal(kept["raw"], again)
    assert not np.array_equal(kept["raw"], before)  # an untrained network's noise: the clips differ
    with pytest.raises(SystemExit, match=r"diffusion-seed5\.ckpt: no trained diffusion model of seed 5"):
        generative_eval.redrawn({"raw": before}, classes, tmp_path, "diffusion", 5, "below-background", "sigma-clipped")
    with pytest.raises(SystemExit, match="give --checkpoints"):
        generative_eval.redrawn({"raw": before}, classes, None, "unet", 5, "below-background", "sigma-clipped")


def test_emission_over_a_quarter_of_the_frame_counts_as_speckle_not_source():
    rng = np.random.default_rng(1)
    sources = _faint_sources(rng, 3)  # 9 pixels of 256 each
    speckled = sources.copy()
    speckled[0, 0] += (rng.random((16, 16)) < 0.4) * 0.05  # about 40 % of the frame lit
    clean = generative_eval.cover_measures(sources)
    assert clean["speckled_share"] == 0.0
    assert clean["emission_cover"] == pytest.approx(9 / 256)
    marked = generative_eval.cover_measures(speckled, "_noclip")
    assert marked["speckled_share_noclip"] == pytest.approx(1 / 3)
    assert marked["emission_cover_noclip"] > clean["emission_cover"] + 0.3 / 3


def test_the_vae_reports_its_steps_and_time_left_at_intervals_and_always_at_the_end():
    said = []
    every_epoch = generative_eval.vae_reporter(3, 100, said.append, every_seconds=0)
    for step in (40, 80, 100):
        every_epoch(step // 40, 3, {"step": step, "loss": 12.5})
    assert [line.split(",")[0] for line in said] == [
        "seed 3 vae: step 40/100",
        "seed 3 vae: step 80/100",
        "seed 3 vae: step 100/100",
    ]
    assert said[-1].endswith("about 0 min left")

    said.clear()
    rarely = generative_eval.vae_reporter(3, 100, said.append, every_seconds=3600)
    for step in (40, 80, 100):
        rarely(step // 40, 3, {"step": step, "loss": 12.5})
    assert len(said) == 1 and "step 100/100" in said[0]
