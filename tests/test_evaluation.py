"""The evaluation rules are written once (sb3_cartdqn/common/evaluation.py) and every command follows them."""

import pathlib
import re

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor

import sb3_cartdqn
from sb3_cartdqn import CartDQN
from sb3_cartdqn.batched import BatchedCartDQN
from sb3_cartdqn.common.evaluation import (
    COMPARISON_EVAL_SEED_OFFSET,
    COMPARISON_FINAL_EVAL_SEED_OFFSET,
    EVAL_SEED_OFFSET,
    evaluate_greedy,
    first_reaching,
    is_solved,
    solved_threshold,
    verification_table,
)
from sb3_cartdqn.envs import SCREEN_DIFF_GRAY_ID, SCREEN_DIFF_ID

PACKAGE = pathlib.Path(sb3_cartdqn.__file__).parent


def test_seed_offsets():
    # The values every result so far was computed with
    assert (EVAL_SEED_OFFSET, COMPARISON_EVAL_SEED_OFFSET, COMPARISON_FINAL_EVAL_SEED_OFFSET) == (10_000, 1_000, 2_000)


def test_solved_threshold_is_the_envs_unless_given():
    assert solved_threshold("CartPole-v1") == 475.0
    assert solved_threshold("Acrobot-v1") == gym.spec("Acrobot-v1").reward_threshold == -100.0
    assert solved_threshold(SCREEN_DIFF_ID) == solved_threshold(SCREEN_DIFF_GRAY_ID) == 475.0
    assert solved_threshold("CartPole-v1", 200) == 200.0
    assert solved_threshold("CartPole-v1", 0.0) == 0.0


def test_solved_threshold_asks_when_the_env_registers_none():
    env_id = "NoThresholdCartPole-v0"
    gym.register(env_id, entry_point="gymnasium.envs.classic_control.cartpole:CartPoleEnv", max_episode_steps=10)
    try:
        with pytest.raises(ValueError, match="registers no reward_threshold: pass the solved threshold"):
            solved_threshold(env_id)
        assert solved_threshold(env_id, 5.0) == 5.0
    finally:
        del gym.registry[env_id]


def test_is_solved_at_or_above_the_threshold():
    assert is_solved(475.0, 475.0) and is_solved(500.0, 475.0)
    assert not is_solved(474.99, 475.0)
    assert is_solved(np.float64(475.0), 475.0) is True


def test_first_solved_index():
    from sb3_cartdqn.common.evaluation import first_solved_index

    assert first_solved_index([100.0, 474.9, 475.0, 10.0, 500.0], 475.0) == 2
    assert first_solved_index([100.0, 474.9], 475.0) is None and first_solved_index([], 475.0) is None


def test_first_reaching():
    assert first_reaching([10.0, 480.0, 300.0, 500.0], 475.0, [1, 2, 3, 4]) == 2.0
    assert first_reaching([10.0, 20.0], 475.0, [1, 2]) is None
    assert first_reaching([], 475.0, []) is None
    # At the threshold counts, as is_solved says
    assert first_reaching([474.0, 475.0], 475.0, [100, 200]) == 200.0


def test_evaluate_greedy_is_evaluate_policy_on_the_evaluation_seed():
    model = CartDQN("MlpPolicy", "CartPole-v1", seed=5, learning_starts=64, batch_size=32, device="cpu").learn(200)
    env = Monitor(gym.make("CartPole-v1"))
    env.reset(seed=5 + 10_000)
    expected, _ = evaluate_policy(model, env, n_eval_episodes=3, deterministic=True, return_episode_rewards=True)
    returns = evaluate_greedy(model, "CartPole-v1", 5, 3)
    assert returns.dtype == np.float64 and list(returns) == expected


def test_batched_trainer_evaluates_by_the_same_rule():
    batched = BatchedCartDQN("CartPole-v1", [3, 7], learning_starts=64, batch_size=32, buffer_size=1000)
    batched.learn(200)
    returns = batched.evaluate(n_eval_episodes=2)
    for index, seed in enumerate(batched.seeds):
        assert list(returns[index]) == list(evaluate_greedy(batched.to_cartdqn(index), "CartPole-v1", seed, 2))


def test_verification_table():
    results = [
        {"seed": seed, "budget_factor": factor, "n_timesteps": steps, "mean_return": mean, "solved": is_solved(mean, 475)}
        for seed, factor, steps, mean in [
            (1, 1.0, 1000, 500.0),
            (1, 2.0, 2000, 480.0),
            (2, 1.0, 1000, 12.5),
            (2, 2.0, 2000, 475.0),
        ]
    ]
    assert verification_table(results, [2, 1], 475).splitlines() == [
        "| seed | 1,000 steps (1x) | 2,000 steps (2x) |",
        "| --- | --- | --- |",
        "| 2 | 12.5 | 475.0 ✓ |",
        "| 1 | 500.0 ✓ | 480.0 ✓ |",
        "| solved (≥ 475) | **1/2** | **2/2** |",
    ]


def test_no_threshold_or_seed_offset_written_outside_the_rules():
    """The package writes no solved threshold (475) and adds no literal offset to a seed outside evaluation.py."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "evaluation.py" and path.parent.name == "common":
            continue
        text = path.read_text()
        if "475" in text or re.search(r"seed\w*\s*\+\s*\d[\d_]{2,}", text) or re.search(r"\d{3}\s*\+\s*seed", text):
            offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []
