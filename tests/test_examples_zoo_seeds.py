"""examples/zoo_seeds.py trains a preset at multiples of its budget and tabulates the final greedy returns."""

import json

import pytest
from test_examples_pixel import load_example

from sb3_cartdqn.presets import load_preset


def test_preset_at_two_budgets(tmp_path):
    zoo_seeds = load_example("zoo_seeds")
    folder = tmp_path / "verify"
    # 1% and 2% of the tutorial preset's 50 000 steps; learning starts before the first 500 steps end
    args = ["--preset", "tutorial", "--seeds", "2000", "--budget-factors", "0.01", "0.02", "--eval-episodes", "2"]
    results = zoo_seeds.main([*args, "--folder", str(folder), "--", "-params", "learning_starts:64"])
    budget = load_preset("tutorial").n_timesteps
    assert [(r["budget_factor"], r["env_steps"]) for r in results] == [(0.01, budget // 100), (0.02, budget // 50)]
    assert all(r["n_timesteps"] == r["env_steps"] and r["mean_return"] > 0 for r in results)
    assert (folder / "x0.01" / "seed_2000" / "cartdqn").is_dir() and (folder / "x0.02" / "seed_2000").is_dir()
    saved = json.loads((folder / "results.json").read_text())
    assert saved["preset"] == "tutorial" and saved["results"] == results
    table = (folder / "summary.md").read_text().splitlines()
    assert table[0] == "| seed | 500 steps (0.01x) | 1,000 steps (0.02x) |"
    assert table[2] == f"| 2000 | {results[0]['mean_return']:.1f} | {results[1]['mean_return']:.1f} |"
    assert table[3] == "| solved (≥ 475) | **0/1** | **0/1** |"


def test_budget_factors_need_a_preset():
    with pytest.raises(SystemExit):
        load_example("zoo_seeds").parse_args(["--budget-factors", "1", "2"])
