"""SB3's test_deterministic, adapted: two runs with one seed are identical."""

import numpy as np
import torch as th

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
