"""One replay buffer per seed, stored as stacked tensors and sampled for all seeds at once."""

from typing import NamedTuple

import numpy as np
import torch as th
from stable_baselines3.common.buffers import ReplayBuffer


class StackedBatch(NamedTuple):
    """Transitions sampled for every seed: ``[N, batch, ...]`` each."""

    observations: th.Tensor
    actions: th.Tensor
    next_observations: th.Tensor
    rewards: th.Tensor
    dones: th.Tensor
    discounts: th.Tensor | None = None


class StackedReplay:
    """
    N ring buffers of the same capacity, written in lockstep (every seed stores one transition per env step) and
    sampled with each seed's own random generator, so that what seed ``i`` samples depends only on seed ``i``.

    What is stored follows SB3's ``ReplayBuffer(handle_timeout_termination=True)``: ``terminations`` (the episode
    ended in a terminal state: no bootstrap) apart from ``truncations`` (a time limit: the target still bootstraps).

    :param n_seeds: number of seeds
    :param capacity: transitions kept per seed (``buffer_size``)
    :param obs_shape: shape of one observation
    :param device: where the storage lives
    """

    def __init__(self, n_seeds: int, capacity: int, obs_shape: tuple[int, ...], device: th.device | str = "cpu") -> None:
        self.n_seeds = n_seeds
        self.capacity = capacity
        self.obs_shape = obs_shape
        self.device = th.device(device)
        self.observations = th.zeros((n_seeds, capacity, *obs_shape), dtype=th.float32, device=self.device)
        self.next_observations = th.zeros_like(self.observations)
        self.actions = th.zeros((n_seeds, capacity), dtype=th.long, device=self.device)
        self.rewards = th.zeros((n_seeds, capacity), dtype=th.float32, device=self.device)
        self.terminations = th.zeros((n_seeds, capacity), dtype=th.float32, device=self.device)
        self.truncations = th.zeros((n_seeds, capacity), dtype=th.bool, device=self.device)
        self.pos = 0
        self.full = False
        # Seed i's transitions start at row i * capacity of the flattened storage
        self._row_offsets = (np.arange(n_seeds) * capacity)[:, None]

    def size(self) -> int:
        """:return: transitions stored per seed"""
        return self.capacity if self.full else self.pos

    def nbytes(self) -> int:
        """:return: bytes of storage"""
        fields = (self.observations, self.next_observations, self.actions, self.rewards, self.terminations, self.truncations)
        return sum(tensor.element_size() * tensor.nelement() for tensor in fields)

    def add(
        self,
        obs: np.ndarray,
        actions: np.ndarray,
        rewards: np.ndarray,
        next_obs: np.ndarray,
        terminations: np.ndarray,
        truncations: np.ndarray,
    ) -> None:
        """
        Store one transition per seed (arrays of length N).

        :param obs: observations acted on
        :param actions: actions taken
        :param rewards: rewards received
        :param next_obs: observations reached (the terminal observation where an episode ended, not the reset one)
        :param terminations: whether the episode ended in a terminal state
        :param truncations: whether it was cut by a time limit (and did not terminate)
        """
        pos = self.pos
        self.observations[:, pos] = th.as_tensor(obs, device=self.device)
        self.next_observations[:, pos] = th.as_tensor(next_obs, device=self.device)
        self.actions[:, pos] = th.as_tensor(actions, device=self.device)
        self.rewards[:, pos] = th.as_tensor(rewards, device=self.device)
        self.terminations[:, pos] = th.as_tensor(terminations, device=self.device)
        self.truncations[:, pos] = th.as_tensor(truncations & ~terminations, device=self.device)
        self.pos = (pos + 1) % self.capacity
        self.full = self.full or self.pos == 0

    def sample_indices(self, rngs: list[np.random.Generator], batch_size: int) -> np.ndarray:
        """
        :param rngs: one generator per seed
        :param batch_size: transitions per seed
        :return: ``[N, batch_size]`` positions, drawn uniformly (with replacement) from each seed's stored ones
        """
        upper = self.size()
        return np.stack([rng.integers(0, upper, size=batch_size) for rng in rngs])

    def gather(self, indices: np.ndarray) -> StackedBatch:
        """
        :param indices: ``[N, batch_size]`` positions, seed ``i``'s row indexing seed ``i``'s buffer
        :return: the transitions, ``[N, batch_size, ...]``
        """
        n_seeds, batch_size = indices.shape
        rows = th.from_numpy((indices + self._row_offsets).reshape(-1)).to(self.device)

        def take(tensor: th.Tensor) -> th.Tensor:
            flat = tensor.view(n_seeds * self.capacity, *tensor.shape[2:])
            return flat.index_select(0, rows).view(n_seeds, batch_size, *tensor.shape[2:])

        return StackedBatch(
            take(self.observations),
            take(self.actions),
            take(self.next_observations),
            take(self.rewards),
            take(self.terminations),
        )

    def gather_n_step(self, indices: np.ndarray, n_steps: int, gamma: float) -> StackedBatch:
        """
        n-step transitions starting at ``indices``, as SB3's ``NStepReplayBuffer`` computes them: rewards summed with
        discounts ``gamma ** j`` up to the first episode end (termination or truncation) within ``n_steps``, or the
        last stored transition (never crossing into older data); the next observation and termination of that last
        step; and the bootstrap discount ``gamma ** (steps summed)``.

        :param indices: ``[N, batch_size]`` start positions
        :param n_steps: transitions summed at most
        :param gamma: discount factor
        :return: the transitions, ``[N, batch_size, ...]``, with ``discounts``
        """
        n_seeds, batch_size = indices.shape
        steps = th.arange(n_steps, device=self.device)
        starts = th.from_numpy(indices).to(self.device)
        positions = (starts.unsqueeze(2) + steps) % self.capacity  # [N, B, n]
        offsets = th.from_numpy(self._row_offsets).to(self.device).unsqueeze(2)
        rows = (positions + offsets).reshape(-1)
        ends = (self.terminations.reshape(-1)[rows] > 0) | self.truncations.reshape(-1)[rows]
        ends = ends.view(n_seeds, batch_size, n_steps) | (positions == (self.pos - 1) % self.capacity)
        last_step = th.where(ends.any(dim=2), ends.int().argmax(dim=2), n_steps - 1)  # [N, B]
        mask = steps <= last_step.unsqueeze(2)
        rewards = self.rewards.reshape(-1)[rows].view(n_seeds, batch_size, n_steps)
        returns = (rewards * gamma ** steps.float() * mask).sum(dim=2)
        last_rows = th.gather(positions, 2, last_step.unsqueeze(2)).squeeze(2) + offsets.squeeze(2)
        batch = self.gather(indices)
        return batch._replace(
            next_observations=self.next_observations.view(n_seeds * self.capacity, *self.obs_shape)[last_rows],
            rewards=returns,
            dones=self.terminations.view(-1)[last_rows],
            discounts=gamma ** mask.sum(dim=2).float(),
        )

    def sample(self, rngs: list[np.random.Generator], batch_size: int, n_steps: int = 1, gamma: float = 0.99) -> StackedBatch:
        """
        :param rngs: one generator per seed
        :param batch_size: transitions per seed
        :param n_steps: for n-step returns (see :meth:`gather_n_step`); 1: one-step transitions
        :param gamma: discount factor of the n-step returns
        :return: a uniform sample of each seed's transitions, ``[N, batch_size, ...]``
        """
        indices = self.sample_indices(rngs, batch_size)
        return self.gather(indices) if n_steps == 1 else self.gather_n_step(indices, n_steps, gamma)

    def export(self, index: int, buffer: ReplayBuffer) -> None:  # also an NStepReplayBuffer (same storage)
        """
        Copy seed ``index``'s transitions into an SB3 ``ReplayBuffer`` of the same capacity with one env (the buffer
        of the CartDQN model this seed becomes), in the same ring positions, so that resumed training samples them as
        if that model had collected them.

        :param index: seed position in the batch
        :param buffer: the destination (``n_envs == 1``, ``buffer_size == capacity``, not memory-optimised)
        """
        if buffer.buffer_size != self.capacity or buffer.n_envs != 1 or buffer.optimize_memory_usage:
            raise ValueError(
                f"Cannot copy a seed's replay into {type(buffer).__name__}(buffer_size={buffer.buffer_size}, "
                f"n_envs={buffer.n_envs}, optimize_memory_usage={buffer.optimize_memory_usage}): it needs "
                f"buffer_size={self.capacity}, one env and optimize_memory_usage=False."
            )
        terminations = self.terminations[index].cpu().numpy()
        truncations = self.truncations[index].cpu().numpy()
        buffer.observations[:, 0] = self.observations[index].cpu().numpy().reshape(buffer.observations[:, 0].shape)
        buffer.next_observations[:, 0] = (
            self.next_observations[index].cpu().numpy().reshape(buffer.next_observations[:, 0].shape)
        )
        buffer.actions[:, 0] = self.actions[index].cpu().numpy().reshape(buffer.actions[:, 0].shape)
        buffer.rewards[:, 0] = self.rewards[index].cpu().numpy()
        # SB3's layout: ``dones`` marks every episode end, ``timeouts`` those due to a time limit
        buffer.dones[:, 0] = np.maximum(terminations, truncations)
        buffer.timeouts[:, 0] = truncations
        buffer.pos = self.pos
        buffer.full = self.full
