"""CartDQN's speed changes leave training bit-identical: the same run with each fast path turned off."""

import functools

import numpy as np
import pytest
import torch as th
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm

from sb3_cartdqn import CartDQN
from sb3_cartdqn.common.fast_paths import NAMES, FastPaths


def _run(slow: bool, n_envs: int, monkeypatch) -> CartDQN:
    model = CartDQN("MlpPolicy", "CartPole-v1", seed=3, device="cpu", learning_starts=64, batch_size=32)
    if n_envs > 1:
        from stable_baselines3.common.env_util import make_vec_env

        model = CartDQN(
            "MlpPolicy", make_vec_env("CartPole-v1", n_envs=n_envs, seed=3), seed=3, device="cpu", learning_starts=64,
            batch_size=32,
        )  # fmt: skip
    if slow:
        # every fast path but the soft update: lerp and SB3's polyak mul/add round differently (see its own tests)
        plain = [name for name in NAMES if name != "foreach-lerp"]
        model.fast_paths = FastPaths.for_policy(model.policy, plain=plain)
        model._store_transition = functools.partial(OffPolicyAlgorithm._store_transition, model)  # type: ignore[method-assign]
    model.learn(600)  # several episodes end: terminal observations go through _store_transition
    monkeypatch.undo()
    return model


@pytest.mark.parametrize("n_envs", [1, 2])
def test_fast_paths_change_nothing(n_envs, monkeypatch):
    fast = _run(False, n_envs, monkeypatch)
    slow = _run(True, n_envs, monkeypatch)
    assert fast._episode_num > 2
    for a, b in zip(fast.q_net.parameters(), slow.q_net.parameters(), strict=True):
        assert th.equal(a, b)
    for a, b in zip(fast.q_net_target.parameters(), slow.q_net_target.parameters(), strict=True):
        assert th.equal(a, b)
    fast_buffer, slow_buffer = fast.replay_buffer, slow.replay_buffer
    for field in ("observations", "next_observations", "actions", "rewards", "dones", "timeouts"):
        np.testing.assert_array_equal(getattr(fast_buffer, field), getattr(slow_buffer, field), err_msg=field)
    np.testing.assert_array_equal(fast._last_obs, slow._last_obs)
