"""SB3's test_predict, adapted: action shapes for single and vectorised observations, deterministic and not."""

import numpy as np
import pytest
from stable_baselines3.common.env_util import make_vec_env

from sb3_cartdqn import CartDQN


@pytest.mark.parametrize("deterministic", [True, False])
def test_predict_shapes(deterministic):
    model = CartDQN("MlpPolicy", "CartPole-v1", seed=0)
    single = np.zeros(4, np.float32)
    action, state = model.predict(single, deterministic=deterministic)
    assert action.shape == () and state is None
    assert model.action_space.contains(int(action))
    batch = np.zeros((7, 4), np.float32)
    actions, _ = model.predict(batch, deterministic=deterministic)
    assert actions.shape == (7,)
    vec_env = make_vec_env("CartPole-v1", n_envs=3)
    obs = vec_env.reset()
    actions, _ = model.predict(obs, deterministic=deterministic)
    assert actions.shape == (3,)
    vec_env.step(actions)


def test_predict_wrong_shape_is_an_error():
    model = CartDQN("MlpPolicy", "CartPole-v1")
    with pytest.raises(ValueError):
        model.predict(np.zeros(5, np.float32))
