"""python -m sb3_cartdqn.batched: seeds trained in one process, each evaluated and saved as a CartDQN model."""

import argparse
import json

import pytest

from sb3_cartdqn import CartDQN
from sb3_cartdqn.batched.cli import main, parse_seeds


def test_parse_seeds():
    assert parse_seeds("0-3,10") == [0, 1, 2, 3, 10]
    assert parse_seeds("7") == [7]
    with pytest.raises(argparse.ArgumentTypeError, match="range like 0-9"):
        parse_seeds("a-b")


def test_cli_trains_evaluates_and_saves(tmp_path):
    results = main(
        ["--seeds", "4,5", "--timesteps", "200", "--eval-episodes", "2", "--out", str(tmp_path), "--no-progress-bar"]
    )
    assert [row["seed"] for row in results["per_seed"]] == [4, 5]
    assert json.loads((tmp_path / "results.json").read_text())["timesteps_per_seed"] == 200
    model = CartDQN.load(tmp_path / "seed_5.zip")
    assert model.num_timesteps == 200 and model.seed == 5
    assert (tmp_path / "tb" / "CartDQN_seed4_1").is_dir()


def test_cli_results_are_evaluate_policys(tmp_path):
    """The reported mean is evaluate_policy's on the saved model, under python -m sb3_cartdqn.main's protocol."""
    import gymnasium as gym
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.monitor import Monitor

    results = main(["--seeds", "6", "--timesteps", "200", "--eval-episodes", "3", "--out", str(tmp_path), "--no-progress-bar"])
    env = Monitor(gym.make("CartPole-v1"))
    env.reset(seed=6 + 10_000)
    mean, _ = evaluate_policy(CartDQN.load(tmp_path / "seed_6.zip"), env, n_eval_episodes=3, deterministic=True)
    assert results["per_seed"][0]["eval_mean_return"] == mean


def test_preset_at_budget_factors_writes_the_verification_table(tmp_path):
    """--preset NAME --budget-factors: every budget trained in one process, its seeds together; one table."""
    budgets = ["--preset", "tutorial", "--seeds", "8,9", "--timesteps", "150", "--budget-factors", "1", "2"]
    summary = main([*budgets, "--eval-episodes", "2", "--out", str(tmp_path), "--no-progress-bar"])
    assert [budget["timesteps_per_seed"] for budget in summary["budgets"]] == [150, 300]
    assert CartDQN.load(tmp_path / "x2" / "seed_9.zip").num_timesteps == 300
    table = (tmp_path / "summary.md").read_text()
    assert "| seed | 150 steps (1x) | 300 steps (2x) |" in table
    rows = {row["seed"]: row for row in summary["budgets"][1]["per_seed"]}
    assert f"| 9 | {rows[9]['eval_mean_return']:.1f}" in table
    assert f"**{summary['budgets'][0]['solved']}/2**" in table


def test_preset_the_batched_trainer_cannot_take_is_named(tmp_path, monkeypatch):
    from sb3_cartdqn.batched import cli
    from sb3_cartdqn.presets import load_preset

    preset = load_preset("tutorial")
    odd = type(preset)(**{**preset.__dict__, "kwargs": {**preset.kwargs, "optimize_memory_usage": True}})
    monkeypatch.setattr(cli, "load_preset", lambda name, env: odd)
    with pytest.raises(SystemExit, match="one seed per process"):
        main(["--seeds", "1", "--timesteps", "10", "--out", str(tmp_path), "--no-progress-bar"])
