"""The envs' data attributes in checkpoints (``sb3_cartdqn.persistence.env_state``)."""

import gymnasium as gym
import numpy as np
import pytest
from rl_zoo3.gym_patches import PatchedTimeLimit
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_cartdqn.persistence.env_state import capture_envs_data, envs_data_matches, restore_envs_data


def _cartpole(time_limit=gym.wrappers.TimeLimit, monitor=True):
    def make():
        env = time_limit(gym.make("CartPole-v1", max_episode_steps=None).env, max_episode_steps=500)
        return Monitor(env) if monitor else env

    return DummyVecEnv([make])


def _stepped(venv, steps=7):
    venv.seed(3)
    venv.reset()
    for _ in range(steps):
        venv.step(np.array([1]))
    return venv


@pytest.mark.parametrize(
    ("saved_with", "resumed_with"),
    [(gym.wrappers.TimeLimit, PatchedTimeLimit), (PatchedTimeLimit, gym.wrappers.TimeLimit)],
    ids=["saved-without-rl-zoo", "saved-with-rl-zoo"],
)
def test_rl_zoo_time_limit_patch_does_not_stop_a_resume(saved_with, resumed_with):
    # Importing rl_zoo3 makes every gym.make use its TimeLimit subclass: a run checkpointed in a process that had not
    # imported it must still resume its episodes in one that has (and the other way round)
    saved = capture_envs_data(_stepped(_cartpole(saved_with)))
    fresh = _cartpole(resumed_with)
    fresh.reset()
    assert envs_data_matches(fresh, saved)
    restore_envs_data(fresh, saved, "checkpoint")
    assert fresh.envs[0].unwrapped.state.tolist() == saved[0][-1]["attributes"]["state"].tolist()
    assert fresh.get_attr("_elapsed_steps") == [7]


def test_other_wrappers_do_not_match():
    saved = capture_envs_data(_stepped(_cartpole()))
    assert not envs_data_matches(_cartpole(monitor=False), saved)  # a wrapper fewer
    assert not envs_data_matches(DummyVecEnv([lambda: gym.wrappers.RecordEpisodeStatistics(gym.make("CartPole-v1"))]), saved)
    assert not envs_data_matches(DummyVecEnv([lambda: Monitor(gym.make("CartPole-v1"))] * 2), saved)  # 2 envs
