"""SB3's test_run for DQN, adapted: CartDQN runs with its policies, VecEnvs and options."""

import numpy as np
import pytest
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.envs import FakeImageEnv, IdentityEnv, SimpleMultiObsEnv
from stable_baselines3.common.vec_env import SubprocVecEnv

from sb3_cartdqn import CartDQN


def test_cartpole_string_env():
    model = CartDQN("MlpPolicy", "CartPole-v1", learning_starts=100, seed=0)
    model.learn(300)
    assert model.num_timesteps == 300


@pytest.mark.parametrize("train_freq", [4, (1, "episode"), (2, "step")])
def test_train_freq(train_freq):
    model = CartDQN("MlpPolicy", "CartPole-v1", train_freq=train_freq, learning_starts=100, gradient_steps=-1, seed=0)
    model.learn(400)
    assert model._n_updates > 0


def test_n_envs_subproc():
    env = make_vec_env("CartPole-v1", n_envs=2, vec_env_cls=SubprocVecEnv, vec_env_kwargs=dict(start_method="spawn"))
    model = CartDQN("MlpPolicy", env, learning_starts=100, seed=0)
    model.learn(300)
    assert model._n_updates == (300 - 100) // 2 + 1
    env.close()


def test_multi_input_policy():
    model = CartDQN("MultiInputPolicy", SimpleMultiObsEnv(random_start=True), learning_starts=50, buffer_size=500, seed=0)
    model.learn(150)
    obs = model.get_env().reset()
    action, _ = model.predict(obs, deterministic=True)
    assert action.shape == (1,)


def test_cnn_policy_on_images():
    env = FakeImageEnv(screen_height=36, screen_width=36, n_channels=1, discrete=True)
    model = CartDQN("CnnPolicy", env, buffer_size=300, learning_starts=64, batch_size=32, seed=0)
    model.learn(100)
    assert model._n_updates > 0


def test_optimize_memory_usage():
    model = CartDQN(
        "MlpPolicy",
        IdentityEnv(4),
        optimize_memory_usage=True,
        replay_buffer_kwargs=dict(handle_timeout_termination=False),
        seed=0,
    )
    model.learn(300)
    assert model._n_updates > 0


def test_learning_rate_schedule():
    model = CartDQN("MlpPolicy", "CartPole-v1", learning_rate=lambda progress: 1e-3 * progress, learning_starts=10, seed=0)
    seen = []
    original_train = model.train

    def train(gradient_steps, batch_size):
        original_train(gradient_steps, batch_size)
        seen.append((model._current_progress_remaining, model.policy.optimizer.param_groups[0]["lr"]))

    model.train = train
    model.learn(200)
    assert len(seen) == 191
    for progress, lr in seen:
        assert np.isclose(lr, 1e-3 * progress)
    assert seen[0][1] > seen[-1][1]
