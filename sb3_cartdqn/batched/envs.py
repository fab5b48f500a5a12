"""One environment per seed, stepped together, resetting in the same step as SB3's VecEnvs do."""

from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
from gymnasium.envs.classic_control.cartpole import CartPoleEnv, CartPoleVectorEnv
from gymnasium.utils import seeding


class SeedSteps(NamedTuple):
    """What one step of every seed's env returns (arrays of length N)."""

    next_obs: np.ndarray  # the observation reached: the terminal one where an episode ended
    rewards: np.ndarray
    terminations: np.ndarray
    truncations: np.ndarray
    obs: np.ndarray  # the observation to act on next: the reset one where an episode ended


class SeedEnvs:
    """
    Interface of the per-seed envs: ``reset()`` once, then ``step(actions)``. An episode that ends is reset within
    the same step (SB3's convention): ``next_obs`` holds its terminal observation, ``obs`` the first of the next one,
    so every step is one real transition for every seed.
    """

    observation_space: gym.spaces.Box
    action_space: gym.spaces.Discrete
    n_seeds: int

    def reset(self, seeded: bool = True) -> np.ndarray:
        """
        :param seeded: reset each env with its seed (``env.reset(seed=s)``), else continue its random stream
            (``env.reset()``)
        :return: first observations, ``[N, *obs_shape]``
        """
        raise NotImplementedError

    def step(self, actions: np.ndarray) -> SeedSteps:
        """:param actions: one action per seed"""
        raise NotImplementedError


class BatchedCartPole(SeedEnvs):
    """
    ``CartPole-v1`` for N seeds as Gymnasium's own ``CartPoleVectorEnv`` (one numpy computation for all).

    That env resets in ``NEXT_STEP`` mode: the step after a done would return the reset observation with reward 0
    and no transition. Here each seed's finished episode is reset right away instead (its state drawn from the seed's
    own generator, as ``CartPoleEnv.reset`` draws it, and the vector env's per-env step counter and done flag
    cleared), so the vector env never takes that empty step and no fake transition exists. Seed ``i``'s resets come
    from ``gymnasium.utils.seeding.np_random(seed_i)``: the same start states as ``gym.make("CartPole-v1")`` reset
    with ``seed=seed_i`` and then without a seed, whatever the other seeds do.

    :param seeds: one seed per env
    :param max_episode_steps: time limit (``CartPole-v1``: 500)
    """

    def __init__(self, seeds: list[int], max_episode_steps: int = 500) -> None:
        self.n_seeds = len(seeds)
        self.env = CartPoleVectorEnv(num_envs=self.n_seeds, max_episode_steps=max_episode_steps)
        self.observation_space = self.env.single_observation_space  # type: ignore[assignment]
        self.action_space = self.env.single_action_space  # type: ignore[assignment]
        self.seeds = list(seeds)
        self.rngs = [seeding.np_random(seed)[0] for seed in seeds]
        self.env.reset()

    def _reset_states(self, indices: np.ndarray) -> None:
        env = self.env
        assert env.state is not None
        for index in indices:
            env.state[:, index] = self.rngs[index].uniform(low=env.low, high=env.high, size=(4,))
        env.steps[indices] = 0
        env.prev_done[indices] = False

    def reset(self, seeded: bool = True) -> np.ndarray:
        if seeded:
            self.rngs = [seeding.np_random(seed)[0] for seed in self.seeds]
        self._reset_states(np.arange(self.n_seeds))
        assert self.env.state is not None
        return self.env.state.T.astype(np.float32)

    def step(self, actions: np.ndarray) -> SeedSteps:
        next_obs, rewards, terminations, truncations, _ = self.env.step(actions)
        done = np.flatnonzero(terminations | truncations)
        obs = next_obs
        if done.size:
            self._reset_states(done)
            obs = next_obs.copy()
            obs[done] = self.env.state[:, done].T  # type: ignore[index]
        return SeedSteps(next_obs, rewards, terminations, truncations, obs)


class SeedEnvList(SeedEnvs):
    """
    Any Gymnasium env id with a ``Box`` observation and a ``Discrete`` action space: one ``gym.make`` per seed,
    stepped in a loop, the first reset seeded with the seed (as ``CartDQN(seed=...)`` seeds its env).

    :param env_id: the Gymnasium id
    :param seeds: one seed per env
    :param env_kwargs: keyword arguments for ``gym.make``
    """

    def __init__(self, env_id: str, seeds: list[int], env_kwargs: dict[str, Any] | None = None) -> None:
        self.seeds = list(seeds)
        self.n_seeds = len(seeds)
        self.envs = [gym.make(env_id, **(env_kwargs or {})) for _ in seeds]
        observation_space, action_space = self.envs[0].observation_space, self.envs[0].action_space
        if not isinstance(observation_space, gym.spaces.Box) or not isinstance(action_space, gym.spaces.Discrete):
            raise ValueError(
                f"The batched trainer needs a Box observation and a Discrete action space; {env_id} has "
                f"{observation_space} and {action_space}. Train it with CartDQN, one seed per process."
            )
        self.observation_space = observation_space
        self.action_space = action_space

    def reset(self, seeded: bool = True) -> np.ndarray:
        seeds = self.seeds if seeded else [None] * self.n_seeds
        return np.stack([env.reset(seed=seed)[0] for env, seed in zip(self.envs, seeds, strict=True)])

    def step(self, actions: np.ndarray) -> SeedSteps:
        results = [env.step(int(action)) for env, action in zip(self.envs, actions, strict=True)]
        next_obs = np.stack([result[0] for result in results])
        rewards = np.array([result[1] for result in results], dtype=np.float32)
        terminations = np.array([result[2] for result in results], dtype=bool)
        truncations = np.array([result[3] for result in results], dtype=bool)
        obs = next_obs
        done = np.flatnonzero(terminations | truncations)
        if done.size:
            obs = next_obs.copy()
            for index in done:
                obs[index] = self.envs[index].reset()[0]
        return SeedSteps(next_obs, rewards, terminations, truncations, obs)


def make_seed_envs(env_id: str, seeds: list[int], env_kwargs: dict[str, Any] | None = None) -> SeedEnvs:
    """
    :param env_id: a Gymnasium id
    :param seeds: one seed per env
    :param env_kwargs: keyword arguments for ``gym.make``
    :return: ``BatchedCartPole`` for a plain CartPole id (Gymnasium's ``CartPoleEnv`` with its default arguments,
        a time limit and no extra wrappers, such as ``CartPole-v1``), ``SeedEnvList`` otherwise
    """
    spec = gym.spec(env_id)
    plain = not env_kwargs and not spec.kwargs and not spec.additional_wrappers and spec.max_episode_steps
    if plain and spec.entry_point in (CartPoleEnv, "gymnasium.envs.classic_control.cartpole:CartPoleEnv"):
        return BatchedCartPole(seeds, max_episode_steps=spec.max_episode_steps)  # type: ignore[arg-type]
    return SeedEnvList(env_id, seeds, env_kwargs)
