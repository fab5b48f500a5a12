"""SB3 callbacks with CartDQN, and the tutorial's plot_durations as PlotDurationsCallback."""

import os

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.callbacks import (
    CallbackList,
    CheckpointCallback,
    EvalCallback,
    StopTrainingOnRewardThreshold,
)
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.monitor import Monitor

from sb3_cartdqn import CartDQN, PlotDurationsCallback
from sb3_cartdqn.common.callbacks import moving_average, plot_durations


def test_sb3_callbacks(tmp_path):
    model = CartDQN("MlpPolicy", "CartPole-v1", learning_starts=100, seed=0)
    checkpoint = CheckpointCallback(save_freq=200, save_path=str(tmp_path / "ckpt"), save_replay_buffer=True)
    stop = StopTrainingOnRewardThreshold(reward_threshold=-1, verbose=0)  # any reward stops: proves the hook works
    evaluation = EvalCallback(
        Monitor(gym.make("CartPole-v1")),
        eval_freq=300,
        n_eval_episodes=3,
        callback_on_new_best=stop,
        best_model_save_path=str(tmp_path / "best"),
        log_path=str(tmp_path / "eval"),
    )
    model.learn(2000, callback=CallbackList([checkpoint, evaluation]), progress_bar=True)
    assert model.num_timesteps == 300  # stopped by the reward threshold at the first evaluation
    assert os.path.exists(tmp_path / "ckpt" / "rl_model_200_steps.zip")
    assert os.path.exists(tmp_path / "ckpt" / "rl_model_replay_buffer_200_steps.pkl")
    assert os.path.exists(tmp_path / "best" / "best_model.zip")
    assert np.load(tmp_path / "eval" / "evaluations.npz")["results"].shape == (1, 3)
    CartDQN.load(tmp_path / "best" / "best_model.zip")


def test_plot_durations_records_episode_lengths(tmp_path):
    env = Monitor(gym.make("CartPole-v1"))
    callback = PlotDurationsCallback(save_path=str(tmp_path / "plots" / "durations.png"), window=5)
    CartDQN("MlpPolicy", env, seed=0).learn(1000, callback=callback)
    lengths = env.get_episode_lengths()
    assert callback.episode_durations == lengths
    assert sum(lengths) <= 1000 and len(lengths) >= 10
    assert os.path.getsize(tmp_path / "plots" / "durations.png") > 1000


def test_plot_durations_counts_without_monitor_and_with_two_envs():
    env = make_vec_env("CartPole-v1", n_envs=2, seed=0, monitor_dir=None)
    callback = PlotDurationsCallback(save_path=None)
    CartDQN("MlpPolicy", env, seed=0).learn(600, callback=callback)
    monitors = [e for e in env.envs]
    expected = sorted(length for m in monitors for length in m.get_episode_lengths())
    assert sorted(callback.episode_durations) == expected


def test_moving_average_is_the_tutorials():
    values = np.arange(1, 151, dtype=float)
    means = moving_average(values, 100)
    assert len(means) == 51
    assert means[0] == pytest.approx(50.5) and means[-1] == pytest.approx(100.5)
    assert len(moving_average(values[:50], 100)) == 0


def test_plot_durations_figure():
    fig = plot_durations(list(range(1, 150)), window=100)
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["duration", "100-episode average"]
    assert ax.get_xlabel() == "Episode" and ax.get_ylabel() == "Duration"


def test_invalid_window():
    with pytest.raises(ValueError, match="window"):
        PlotDurationsCallback(window=0)
