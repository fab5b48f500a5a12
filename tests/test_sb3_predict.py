"""
SB3's ``tests/test_predict.py``, its DQN cases run on CartDQN (issue #13: CartDQN as a drop-in for SB3 users).

Ported from https://github.com/DLR-RM/stable-baselines3 (MIT licence), tests/test_predict.py at e05d2db:
``test_auto_wrap[DQN]``, ``test_predict[DQN-CartPole-v1-*]``, ``test_dqn_epsilon_greedy`` and, since CartDQN
overrides ``predict``, ``test_mixing_gym_vecenv_api`` (SB3 runs it with PPO). SB3 skips DQN on Pendulum; CartDQN
refuses it with an error naming the fix (checked below).
"""

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.envs import IdentityEnv
from stable_baselines3.common.utils import get_device
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_cartdqn import CartDQN


def test_auto_wrap():
    """Test auto wrapping of env into a VecEnv."""
    env = gym.make("CartPole-v1")
    model = CartDQN("MlpPolicy", env)
    model.learn(100)


@pytest.mark.parametrize("env_id", ["Pendulum-v1", "CartPole-v1"])
@pytest.mark.parametrize("device", ["cpu", "cuda", "auto"])
def test_predict(env_id, device):
    if device == "cuda" and not th.cuda.is_available():
        pytest.skip("CUDA not available")

    if env_id == "Pendulum-v1":
        # SB3 skips DQN here; CartDQN says why it cannot run and what to use instead
        with pytest.raises(ValueError, match=r"only gymnasium\.spaces\.Discrete is supported.*SAC"):
            CartDQN("MlpPolicy", env_id, device=device)
        return

    # Test detection of different shapes by the predict method
    model = CartDQN("MlpPolicy", env_id, device=device)
    # Check that the policy is on the right device
    assert get_device(device).type == model.policy.device.type

    env = gym.make(env_id)
    vec_env = DummyVecEnv([lambda: gym.make(env_id), lambda: gym.make(env_id)])

    obs, _ = env.reset()
    action, _ = model.predict(obs)
    assert isinstance(action, np.ndarray)
    assert action.shape == env.action_space.shape
    assert env.action_space.contains(action)

    vec_env_obs = vec_env.reset()
    action, _ = model.predict(vec_env_obs)
    assert isinstance(action, np.ndarray)
    assert action.shape[0] == vec_env_obs.shape[0]

    # Special case for DQN to check the epsilon greedy exploration
    model.exploration_rate = 1.0
    action, _ = model.predict(obs, deterministic=False)
    assert action.shape == env.action_space.shape
    assert env.action_space.contains(action)

    action, _ = model.predict(vec_env_obs, deterministic=False)
    assert action.shape[0] == vec_env_obs.shape[0]


def test_dqn_epsilon_greedy():
    env = IdentityEnv(2)
    model = CartDQN("MlpPolicy", env)
    model.exploration_rate = 1.0
    obs, _ = env.reset()
    # is vectorized should not crash with discrete obs
    action, _ = model.predict(obs, deterministic=False)
    assert env.action_space.contains(action)


def test_mixing_gym_vecenv_api():
    env = gym.make("CartPole-v1")
    model = CartDQN("MlpPolicy", env)
    # Reset return a tuple (obs, info)
    wrong_obs = env.reset()
    with pytest.raises(ValueError, match=r"mixing Gym API"):
        model.predict(wrong_obs)
