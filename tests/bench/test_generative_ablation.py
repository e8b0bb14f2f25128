"""The block ablation benchmark: its arms, its arguments and its summary."""

import sys
from dataclasses import replace
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import generative_ablation  # noqa: E402


def test_bad_arguments_are_refused_before_any_work(capsys):
    with pytest.raises(SystemExit):
        generative_ablation.main([])
    assert "--checkpoints is required" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        generative_ablation.main(["--checkpoints", "x", "--per-class", "1"])
    assert "--per-class must be 2 or more" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        generative_ablation.main(["--checkpoints", "x", "--arms", "vae"])
    assert "invalid choice: 'vae'" in capsys.readouterr().err


def test_arms_differ_only_in_the_block_mix_and_share_the_eval_runs_checkpoints():
    from mlcore.generative.config import preset

    config = preset("cpu", image_size=32, n_classes=4)
    configs = {arm: generative_ablation.arm_config(config, arm, seed=3) for arm in generative_ablation.ARMS}
    assert {arm: (c.unet.network, c.unet.mix) for arm, c in configs.items()} == {
        "gated": ("rab", "gated"),
        "fixed": ("rab", "fixed"),
        "local": ("rab", "local"),
        "lowest": ("rab", "lowest"),
        "plain": ("plain", "lowest"),  # no blocks to mix: left at the default
    }
    for c in configs.values():
        assert c.seed == 3
        assert c.as_dict() | {"unet": None} == configs["gated"].as_dict() | {"unet": None}
    # generative_eval's run with the same settings trains exactly the "lowest" (default) and "plain"
    # arms, under the same checkpoint names; no other arm may write to them
    assert configs["lowest"] == replace(config, seed=3)
    assert configs["plain"] == replace(config, seed=3, unet=replace(config.unet, network="plain"))
    names = {arm: generative_ablation.ARMS[arm][0] for arm in generative_ablation.ARMS}
    assert names["lowest"] == "diffusion" and names["plain"] == "unet"
    assert len(set(names.values())) == len(names)


def test_the_summary_gives_each_arms_mean_and_spread_over_seeds():
    rows = [
        {"arm": "gated", "seed": 0, "fd_raw": 2.0, "class_consistency_raw": 0.5, "parameters": 10},
        {"arm": "gated", "seed": 1, "fd_raw": 4.0, "class_consistency_raw": 0.7, "parameters": 10},
        {"arm": "local", "seed": 0, "fd_raw": 3.0, "class_consistency_raw": None, "parameters": 8},
    ]
    summary = generative_ablation.summarise(rows)
    assert summary["fd_raw_gated"] == 3.0 and summary["fd_raw_gated_std"] == 1.0
    assert summary["class_consistency_raw_gated"] == pytest.approx(0.6)
    assert summary["fd_raw_local"] == 3.0 and "fd_raw_local_std" not in summary
    assert "class_consistency_raw_local" not in summary  # nothing measured, nothing reported
    assert "fd_raw_fixed" not in summary and summary["parameters_local"] == 8


def test_the_gate_profile_reads_each_gated_blocks_mean_gate_by_timestep():
    import numpy as np
    import torch

    from mlcore.generative.config import preset
    from mlcore.generative.diffusion import DiffusionGenerator

    torch.set_num_threads(1)
    x = np.zeros((8, 1, 16, 16), np.float32)
    x[:, 0, 6:10, 6:10] = 0.8
    y = np.arange(8) % 2
    config = preset("tiny", image_size=16, n_classes=2, max_steps=1, mix="gated")
    gated = DiffusionGenerator(config).fit(x, y)
    model = gated.model_
    with torch.no_grad():
        for block in model.down:
            block.gate_embed.bias.fill_(10.0)  # all to the convolution
        for block in model.up:
            block.gate_embed.bias.fill_(-10.0)  # all to the attention
    profile = generative_ablation.gate_profile(gated, x, y)
    parts = profile["blocks"]
    assert parts == ["down"] * len(model.down) + ["middle"] * len(model.middle) + ["up"] * len(model.up)
    assert list(profile["by_timestep"]) == [str(t) for t in generative_ablation.GATE_TIMESTEPS]
    for means in profile["by_timestep"].values():
        assert all(m > 0.99 for m, part in zip(means, parts, strict=True) if part == "down")
        assert all(m < 0.01 for m, part in zip(means, parts, strict=True) if part == "up")
        assert all(0.0 < m < 1.0 for m in means)
    fixed = DiffusionGenerator(replace(config, unet=replace(config.unet, mix="fixed"))).fit(x, y)
    assert generative_ablation.gate_profile(fixed, x, y) == {}
    lowest = DiffusionGenerator(replace(config, unet=replace(config.unet, mix="lowest"))).fit(x, y)
    # tiny has two levels: the second level's down block, both middle blocks and its two up blocks
    assert generative_ablation.gate_profile(lowest, x, y)["blocks"] == ["down", "middle", "middle", "up", "up"]


def _run(path, seed, arms, accuracy=0.74, unet=None):
    import json

    result = {
        "bench": "generative_ablation",
        "quick": False,
        "preset": "cpu",
        "image_size": 32,
        "samples_per_class": 50,
        "judge_test_accuracy": accuracy,
        "threads": 2,
        **dict.fromkeys(generative_ablation.REFERENCE_KEYS, 0.8),
    }
    rows = [{"arm": arm, "seed": seed, "fd_raw": 1.0 + seed + i} for i, arm in enumerate(arms)]
    config = {"seed": seed, "lr": 3e-4, "unet": unet or {"base_channels": 32, "mix": "lowest"}}
    path.write_text(json.dumps({"result": result, "rows": rows, "config": config}))
    return path


def test_runs_of_other_seeds_or_arms_merge_and_other_judges_or_repeats_are_refused(tmp_path):
    first = _run(tmp_path / "a.json", 0, ["gated", "local"])
    second = _run(tmp_path / "b.json", 1, ["gated"])
    merged = generative_ablation.merge([first, second])
    assert merged["result"]["seeds"] == 2 and merged["result"]["arms"] == ["gated", "local"]
    assert merged["result"]["fd_raw_gated"] == 1.5 and merged["result"]["fd_raw_gated_std"] == 0.5
    assert merged["result"]["fd_raw_local"] == 2.0 and len(merged["rows"]) == 3
    other_judges = _run(tmp_path / "c.json", 2, ["gated"], accuracy=0.665)
    with pytest.raises(SystemExit, match=r"c\.json: a different run .*judge_test_accuracy"):
        generative_ablation.merge([first, other_judges])
    with pytest.raises(SystemExit, match="repeat an arm of a seed: gated seed 0"):
        generative_ablation.merge([first, _run(tmp_path / "d.json", 0, ["gated"])])
    # Runs saved while the default mix was "gated" are the same runs: each arm sets its own mix.
    before = _run(tmp_path / "f.json", 2, ["gated"], unet={"base_channels": 32, "mix": "gated"})
    assert generative_ablation.merge([first, before])["result"]["seeds"] == 2
    wider = _run(tmp_path / "g.json", 2, ["gated"], unet={"base_channels": 64, "mix": "lowest"})
    with pytest.raises(SystemExit, match=r"g\.json: a different run .*config"):
        generative_ablation.merge([first, wider])
    (tmp_path / "e.json").write_text('{"result": {"bench": "generative_eval"}, "rows": [], "config": {}}')
    with pytest.raises(SystemExit, match="e.json: not a generative_ablation result"):
        generative_ablation.merge([first, tmp_path / "e.json"])


def test_the_merge_writes_its_summary_and_a_figure_named_after_it(tmp_path, monkeypatch):
    import json

    monkeypatch.setattr(generative_ablation.ge, "FIGURES", tmp_path / "figures")
    paths = []
    for seed in (0, 1):
        path = _run(tmp_path / f"seed{seed}.json", seed, ["lowest", "plain"])
        run = json.loads(path.read_text())
        for row in run["rows"]:
            row.update(class_consistency_raw=0.5 + 0.01 * seed, fd=2.0 + seed)
        path.write_text(json.dumps(run))
        paths.append(path)
    out = tmp_path / "generative_ablation_cpu32_other_machine.json"
    result = generative_ablation.main(["--merge", *map(str, paths), "--out", str(out)])
    assert result["arms"] == ["lowest", "plain"] and result["seeds"] == 2
    assert result["fd_raw_lowest"] == 1.5 and result["fd_raw_plain"] == 2.5
    assert json.loads(out.read_text())["result"] == result
    assert (tmp_path / "figures" / "generative_ablation_cpu32_other_machine.png").stat().st_size > 10_000
    assert not (tmp_path / "figures" / "generative_ablation_cpu32.png").exists()
