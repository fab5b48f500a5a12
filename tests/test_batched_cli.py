"""python -m sb3_cartdqn.batched: seeds trained in one process, each evaluated and saved as a CartDQN model."""

import argparse
import json

import pytest

from sb3_cartdqn import CartDQN
from sb3_cartdqn.batched.__main__ import main, parse_seeds


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
