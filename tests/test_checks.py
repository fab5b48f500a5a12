"""Clear errors at construction, before any environment step, naming the parameter and the allowed values."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

from sb3_cartdqn import CartDQN


class _StepCountingEnv(gym.Env):
    observation_space = spaces.Box(-1, 1, (2,), np.float32)

    def __init__(self, action_space):
        self.action_space = action_space
        self.steps = 0

    def reset(self, *, seed=None, options=None):
        return np.zeros(2, np.float32), {}

    def step(self, action):
        self.steps += 1
        return np.zeros(2, np.float32), 0.0, False, False, {}


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(exploration_initial_eps=1.5), "exploration_initial_eps=1.5.*\\[0, 1\\]"),
        (dict(exploration_initial_eps=-0.1), "exploration_initial_eps"),
        (dict(exploration_final_eps=-0.1), "exploration_final_eps=-0.1.*\\[0, 1\\]"),
        (dict(exploration_final_eps=1.2, exploration_initial_eps=1.0), "exploration_final_eps=1.2"),
        (
            dict(exploration_initial_eps=0.1, exploration_final_eps=0.5),
            "exploration_initial_eps=0.1.*>= exploration_final_eps",
        ),
        (dict(exploration_decay=0), "exploration_decay=0.*> 0"),
        (dict(exploration_decay=-5), "exploration_decay"),
        (dict(tau=0.0), "tau=0.0.*\\(0, 1\\]"),
        (dict(tau=1.5), "tau=1.5"),
        (dict(tau=-0.1), "tau"),
        (dict(batch_size=256, buffer_size=100), "batch_size=256.*buffer_size=100"),
        (dict(batch_size=0), "batch_size=0"),
        (dict(buffer_size=0), "buffer_size=0"),
        (dict(clip_grad_value=0), "clip_grad_value=0.*> 0"),
        (dict(clip_grad_value=-1.0), "clip_grad_value"),
        (dict(learning_starts=-1), "learning_starts=-1.*>= 0"),
        (dict(gamma=1.01), "gamma=1.01.*\\[0, 1\\]"),
        (dict(gamma=-0.5), "gamma"),
    ],
)
def test_invalid_hyperparameters(kwargs, match):
    env = _StepCountingEnv(spaces.Discrete(2))
    with pytest.raises(ValueError, match=match):
        CartDQN("MlpPolicy", env, **kwargs)
    assert env.steps == 0


def test_boundary_values_are_accepted():
    CartDQN("MlpPolicy", "CartPole-v1", tau=1.0, gamma=0.0, exploration_initial_eps=0.0, exploration_final_eps=0.0)
    CartDQN("MlpPolicy", "CartPole-v1", gamma=1.0, exploration_initial_eps=1.0, learning_starts=0, clip_grad_value=None)


@pytest.mark.parametrize(
    "action_space, hint",
    [
        (spaces.Box(-1, 1, (1,), np.float32), "SAC, TD3"),
        (spaces.MultiDiscrete([2, 3]), "Flatten"),
        (spaces.MultiBinary(3), "Flatten"),
    ],
)
def test_unsupported_action_space(action_space, hint):
    env = _StepCountingEnv(action_space)
    with pytest.raises(ValueError, match=f"unsupported action space.*Discrete.*{hint}"):
        CartDQN("MlpPolicy", env)
    assert env.steps == 0
