"""Replay sampling that hands SB3's ``ReplayBuffer`` contents to torch without per-field copies."""

import numpy as np
import torch as th
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.type_aliases import ReplayBufferSamples
from stable_baselines3.common.vec_env import VecNormalize


def fast_sampling_applies(buffer: ReplayBuffer, env: VecNormalize | None) -> bool:
    """
    Whether :func:`sample_replay` can replace ``buffer.sample``: a plain SB3 ``ReplayBuffer`` (not a subclass such as
    the n-step or Dict buffers) whose ``sample`` is not replaced on the instance, without the memory-optimised layout,
    on the CPU, and no ``VecNormalize`` to apply.

    :param buffer: the replay buffer
    :param env: the ``VecNormalize`` wrapper that ``sample`` would normalise with, if any
    :return: True when the fast path gives the same samples
    """
    return (
        type(buffer) is ReplayBuffer
        and "sample" not in vars(buffer)
        and not buffer.optimize_memory_usage
        and env is None
        and buffer.device.type == "cpu"
    )


def sample_replay(buffer: ReplayBuffer, batch_size: int, env: VecNormalize | None = None) -> ReplayBufferSamples:
    """
    ``buffer.sample(batch_size, env)`` with the same random draws (``np.random``, in the same order) and the same
    values, ~2x cheaper on the CPU: one flat row index gathers each field from a view of the storage, and the
    gathered arrays (fresh copies already) become tensors with ``torch.from_numpy`` instead of a second copy each.
    Buffers it does not apply to (see :func:`fast_sampling_applies`) are sampled by their own ``sample``.

    :param buffer: SB3 replay buffer
    :param batch_size: number of transitions
    :param env: ``VecNormalize`` wrapper to normalise with, if any
    :return: the sampled transitions (``discounts`` is None, as for SB3's one-step buffer)
    """
    if not fast_sampling_applies(buffer, env):
        return buffer.sample(batch_size, env=env)  # type: ignore[return-value]
    upper_bound = buffer.buffer_size if buffer.full else buffer.pos
    batch_inds = np.random.randint(0, upper_bound, size=batch_size)
    env_indices = np.random.randint(0, high=buffer.n_envs, size=(batch_size,))
    rows = batch_inds * buffer.n_envs + env_indices
    n_rows = buffer.buffer_size * buffer.n_envs
    # ``take`` on a flat view: the same rows as SB3's ``array[batch_inds, env_indices]``, several times cheaper
    observations = buffer.observations.reshape(n_rows, *buffer.obs_shape).take(rows, axis=0)
    next_observations = buffer.next_observations.reshape(n_rows, *buffer.obs_shape).take(rows, axis=0)
    actions = buffer.actions.reshape(n_rows, buffer.action_dim).take(rows, axis=0)
    # Only dones that are not due to timeouts (SB3's ``handle_timeout_termination``)
    dones = buffer.dones.reshape(n_rows).take(rows) * (1 - buffer.timeouts.reshape(n_rows).take(rows))
    rewards = buffer.rewards.reshape(n_rows).take(rows)
    return ReplayBufferSamples(
        th.from_numpy(observations),
        th.from_numpy(actions),
        th.from_numpy(next_observations),
        th.from_numpy(dones.reshape(-1, 1)),
        th.from_numpy(rewards.reshape(-1, 1)),
    )
