"""SB3's test_deterministic, adapted: two runs with one seed are identical."""

import numpy as np
import torch as th
from stable_baselines3.common.env_util import make_vec_env

from sb3_cartdqn import CartDQN


def _run(seed: int):
    model = CartDQN("MlpPolicy", "CartPole-v1", seed=seed, device="cpu")
    model.learn(600)
    obs = np.random.default_rng(0).normal(size=(10, 4)).astype(np.float32)
    return model.get_parameters()["policy"], model.predict(obs, deterministic=False)[0], list(model.ep_info_buffer)


def test_same_seed_same_run():
    params_a, actions_a, episodes_a = _run(3)
    params_b, actions_b, episodes_b = _run(3)
    for name in params_a:
        assert th.equal(params_a[name], params_b[name]), name
    np.testing.assert_array_equal(actions_a, actions_b)
    assert [(e["r"], e["l"]) for e in episodes_a] == [(e["r"], e["l"]) for e in episodes_b]
    params_c, _, _ = _run(4)
    assert any(not th.equal(params_a[name], params_c[name]) for name in params_a)


def _run_vec(seed: int, n_envs: int):
    env = make_vec_env("CartPole-v1", n_envs=n_envs, seed=seed)
    model = CartDQN("MlpPolicy", env, seed=seed, device="cpu")
    model.learn(1000)
    optimizer = [v for s in model.policy.optimizer.state_dict()["state"].values() for v in s.values()]
    return model.get_parameters()["policy"], optimizer, [(e["r"], e["l"]) for e in model.ep_info_buffer], model._n_updates


def test_same_seed_same_run_two_envs():
    """n_envs=2 (one epsilon draw and one env RNG per env): parameters, AMSGrad state, episode returns bit-identical."""
    params_a, optimizer_a, episodes_a, updates = _run_vec(0, 2)
    assert updates > 0 and len(episodes_a) >= 10
    params_b, optimizer_b, episodes_b, _ = _run_vec(0, 2)
    for name in params_a:
        assert th.equal(params_a[name], params_b[name]), name
    assert all(th.equal(a, b) for a, b in zip(optimizer_a, optimizer_b, strict=True))
    assert episodes_a == episodes_b
    params_c, _, episodes_c, _ = _run_vec(1, 2)
    assert episodes_a != episodes_c and any(not th.equal(params_a[name], params_c[name]) for name in params_a)
