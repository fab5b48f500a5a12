"""Same seed, same machine, CPU: bit-identical runs (parameters, optimizer state and episode returns)."""

import pytest
import torch as th
from stable_baselines3.common.env_util import make_vec_env

from sb3_cartdqn import CartDQN

STEPS = 1000


def _run(seed, n_envs):
    env = make_vec_env("CartPole-v1", n_envs=n_envs, seed=seed)
    model = CartDQN("MlpPolicy", env, seed=seed, device="cpu")
    model.learn(STEPS)
    returns = [info["r"] for info in model.ep_info_buffer]
    params = [p.detach().clone() for p in model.policy.parameters()]  # online and target networks
    optimizer = [v.clone() for s in model.policy.optimizer.state_dict()["state"].values() for v in s.values()]
    return model, returns, params, optimizer


@pytest.mark.parametrize("n_envs", [1, 2])
def test_same_seed_bit_identical(n_envs):
    model, returns, params, optimizer = _run(0, n_envs)
    assert model._n_updates > 0 and len(returns) >= 10  # it trained and finished episodes
    _, returns_again, params_again, optimizer_again = _run(0, n_envs)
    assert returns == returns_again
    assert all(th.equal(a, b) for a, b in zip(params, params_again, strict=True))
    assert all(th.equal(a, b) for a, b in zip(optimizer, optimizer_again, strict=True))
    # ...and the comparison can fail: another seed gives another run
    _, returns_other, params_other, _ = _run(1, n_envs)
    assert returns != returns_other
    assert not all(th.equal(a, b) for a, b in zip(params, params_other, strict=True))
