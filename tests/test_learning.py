"""CartDQN at the tutorial's default settings learns CartPole-v1 (a fixed seed; about a minute on one core)."""

import gymnasium as gym
import pytest
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor

from sb3_cartdqn import CartDQN

SEED = 2
TIMESTEPS = 50_000


@pytest.mark.slow
def test_cartpole_default_settings_solve():
    model = CartDQN("MlpPolicy", "CartPole-v1", seed=SEED, device="cpu")
    model.learn(TIMESTEPS)
    eval_env = Monitor(gym.make("CartPole-v1"))
    eval_env.reset(seed=SEED + 10_000)
    mean_return, std_return = evaluate_policy(model, eval_env, n_eval_episodes=20, deterministic=True)
    print(f"seed {SEED}, {TIMESTEPS} steps: greedy return {mean_return:.1f} +/- {std_return:.1f} over 20 episodes")
    assert mean_return >= 475
