"""sample_replay gives SB3's ReplayBuffer.sample samples, with the same random draws."""

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from sb3_cartdqn.common.fast_paths.replay_sampling import fast_sampling_applies, sample_replay


def _filled_buffer(n_envs: int, size: int = 64, steps: int = 100, **kwargs) -> ReplayBuffer:
    env = gym.make("CartPole-v1")
    buffer = ReplayBuffer(size, env.observation_space, env.action_space, device="cpu", n_envs=n_envs, **kwargs)
    rng = np.random.default_rng(0)
    for _ in range(steps):
        obs = rng.normal(size=(n_envs, 4)).astype(np.float32)
        next_obs = rng.normal(size=(n_envs, 4)).astype(np.float32)
        dones = rng.random(n_envs) < 0.2
        infos = [{"TimeLimit.truncated": bool(done and rng.random() < 0.5)} for done in dones]
        buffer.add(obs, next_obs, rng.integers(0, 2, size=(n_envs,)), rng.normal(size=n_envs), dones, infos)
    return buffer


@pytest.mark.parametrize("n_envs", [1, 3])
@pytest.mark.parametrize("steps", [20, 100])  # partly filled, and wrapped around
def test_same_samples_as_sb3(n_envs, steps):
    buffer = _filled_buffer(n_envs, steps=steps)
    assert fast_sampling_applies(buffer, None)
    np.random.seed(3)
    expected = [buffer.sample(32) for _ in range(3)]
    np.random.seed(3)
    got = [sample_replay(buffer, 32) for _ in range(3)]
    assert buffer.timeouts.any() and buffer.dones.any()
    for want, have in zip(expected, got, strict=True):
        for field in ("observations", "actions", "next_observations", "dones", "rewards"):
            a, b = getattr(want, field), getattr(have, field)
            assert a.dtype == b.dtype and a.shape == b.shape, field
            assert th.equal(a, b), field
        assert have.discounts is None
    # and the random stream is left where SB3 leaves it
    np.random.seed(3)
    for _ in range(3):
        buffer.sample(32)
    after_sb3 = np.random.rand()
    np.random.seed(3)
    for _ in range(3):
        sample_replay(buffer, 32)
    assert np.random.rand() == after_sb3


def test_samples_do_not_alias_the_storage():
    buffer = _filled_buffer(1)
    samples = sample_replay(buffer, 16)
    before = buffer.observations.copy()
    samples.observations.add_(1.0)
    np.testing.assert_array_equal(buffer.observations, before)


def test_falls_back_where_it_does_not_apply():
    memory_optimised = _filled_buffer(1, optimize_memory_usage=True, handle_timeout_termination=False)
    assert not fast_sampling_applies(memory_optimised, None)
    np.random.seed(0)
    want = memory_optimised.sample(8)
    np.random.seed(0)
    assert th.equal(sample_replay(memory_optimised, 8).next_observations, want.next_observations)

    patched = _filled_buffer(1)
    patched.sample = lambda *args, **kwargs: "patched"  # type: ignore[method-assign,assignment]
    assert sample_replay(patched, 8) == "patched"

    normalize = VecNormalize(DummyVecEnv([lambda: gym.make("CartPole-v1")]))
    assert not fast_sampling_applies(_filled_buffer(1), normalize)
