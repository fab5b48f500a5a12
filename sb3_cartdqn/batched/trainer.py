"""N independent CartDQN runs (one per seed) computed together in one process."""

import pathlib
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.buffers import NStepReplayBuffer
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.utils import FloatSchedule, configure_logger

from sb3_cartdqn.batched.envs import SeedEnvs, make_seed_envs
from sb3_cartdqn.batched.networks import StackedMlp
from sb3_cartdqn.batched.replay import StackedBatch, StackedReplay
from sb3_cartdqn.cartdqn.cartdqn import CartDQN
from sb3_cartdqn.cartdqn.policies import CartDQNPolicy
from sb3_cartdqn.common.checks import check_finite, check_hyperparameters, check_total_timesteps
from sb3_cartdqn.common.clock import TrainingClock
from sb3_cartdqn.common.defaults import signature_with_training_arguments, training_arguments
from sb3_cartdqn.common.evaluation import EVAL_SEED_OFFSET
from sb3_cartdqn.common.exploration import ExponentialEpsilon, epsilon_greedy
from sb3_cartdqn.common.fast_paths import FastPaths
from sb3_cartdqn.common.q_learning import chosen_q_values, gradient_step, q_target, td_loss
from sb3_cartdqn.persistence.atomic import atomic_folder
from sb3_cartdqn.persistence.checkpoints import BATCHED_PREFIX, checkpoint_name


def _train_freq_steps(train_freq: int | tuple[int, str]) -> int:
    if isinstance(train_freq, int):
        return train_freq
    frequency, unit = train_freq
    if unit != "step":
        raise ValueError(
            f"BatchedCartDQN: train_freq={train_freq!r} is not supported: seeds train in lockstep, which needs a "
            "frequency in env steps (an int or (n, 'step')). Train per-episode schedules with CartDQN, one seed per process."
        )
    return int(frequency)


class BatchedCartDQN:
    """
    ``CartDQN("MlpPolicy", env_id, seed=s, ...)`` for every ``s`` in ``seeds``, trained in one process as one batched
    computation: the N online and target networks are stacked weights (``torch.baddbmm``), one fused AMSGrad AdamW
    steps all of them, one ``_foreach_lerp_`` soft-updates all targets, one forward picks every seed's action, one
    gather samples every seed's replay buffer, and the N environments step together (a ``CartPoleVectorEnv`` for
    ``CartPole-v1``). Each seed keeps its own initial weights (those ``CartDQN(seed=s)`` starts from), environment,
    replay buffer, random generator (epsilon draws, random actions, replay sampling) and optimizer state.

    Seeds stay independent: AdamW, value clipping and the soft update are elementwise, and the loss is the sum over
    seeds of each seed's mean Huber loss, so each seed's gradient is the one it would get alone.
    Every seed takes one env step (one stored transition) per step, so they train in lockstep: ``train_freq`` must
    be counted in steps. :meth:`to_cartdqn` turns seed ``i`` into an ordinary ``CartDQN`` model (weights, target
    weights, optimizer state, step counts, episode statistics and replay buffer), which can be saved, loaded,
    evaluated and trained further.

    :param env: a Gymnasium env id with Box observations and Discrete actions
    :param seeds: one seed per run
    :param hyperparameters: ``CartDQN``'s training arguments by name (``learning_rate``, ``buffer_size`` and
        ``batch_size`` per seed, ``learning_starts``, ``tau``, ``gamma``, ``train_freq`` in env steps only,
        ``gradient_steps``, ``exploration_initial_eps``, ``exploration_final_eps``, ``exploration_decay``,
        ``clip_grad_value``, ``n_steps`` and ``double_q``; the list and the defaults, the tutorial's, are
        :data:`~sb3_cartdqn.common.defaults.TRAINING_ARGUMENTS` and :data:`~sb3_cartdqn.common.defaults.TUTORIAL`).
        ``n_steps`` has the semantics of SB3's ``NStepReplayBuffer``: an exported seed gets one with the same
        ``n_steps`` and ``gamma``
    :param check_finite: as ``CartDQN``
    :param stats_window_size: as ``CartDQN`` (episodes kept per seed for ``ep_info_buffer``)
    :param policy_kwargs: as ``CartDQN``'s ``MlpPolicy`` (``net_arch``, ``activation_fn`` ReLU or Tanh,
        ``dueling``, ``optimizer_kwargs``; the optimizer must be AdamW)
    :param env_kwargs: keyword arguments for ``gym.make`` (any makes every seed a separate ``gym.make``)
    :param tensorboard_log: folder for one TensorBoard run per seed (``CartDQN_seed<s>_<n>``, CartDQN's keys)
    :param device: where the networks and replay buffers live
    """

    def __init__(
        self,
        env: str,
        seeds: Sequence[int],
        *,
        check_finite: bool = True,
        stats_window_size: int = 100,
        policy_kwargs: dict[str, Any] | None = None,
        env_kwargs: dict[str, Any] | None = None,
        tensorboard_log: str | None = None,
        device: th.device | str = "cpu",
        **hyperparameters: Any,
    ) -> None:
        self.seeds = [int(seed) for seed in seeds]
        if not self.seeds:
            raise ValueError("BatchedCartDQN needs at least one seed.")
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"BatchedCartDQN: seeds must differ (got {self.seeds}); repeated seeds give identical runs.")
        self.env_id = env
        self.tensorboard_log = tensorboard_log
        self.loggers: list[Logger] = []
        #: ``(num_timesteps, [N, n_eval_episodes] returns)`` of each evaluation during ``learn(eval_freq=...)``
        self.evaluations: list[tuple[int, np.ndarray]] = []
        #: the clock of ``learn`` (restarted by each call): wall and CPU seconds of training, evaluations excluded
        self.clock = TrainingClock()
        #: wall-clock seconds of ``learn`` before each of ``evaluations``, evaluation time excluded
        self.evaluations_train_seconds: list[float] = []
        #: this process's CPU seconds of ``learn`` before each of ``evaluations``, evaluation time excluded
        self.evaluations_train_cpu_seconds: list[float] = []
        #: wall-clock seconds spent in those evaluations
        self.eval_seconds = 0.0
        self.env_kwargs = env_kwargs
        settings = training_arguments("BatchedCartDQN", **hyperparameters)
        check_hyperparameters(stats_window_size=stats_window_size, **settings)
        self.n_steps = settings.pop("n_steps")
        self.double_q = bool(settings.pop("double_q"))
        #: the arguments of each seed's exported ``CartDQN`` (:meth:`to_cartdqn` adds its n-step buffer and Double DQN)
        self.hyperparameters: dict[str, Any] = dict(
            settings, check_finite=check_finite, stats_window_size=stats_window_size, policy_kwargs=policy_kwargs
        )
        self.learning_starts = settings["learning_starts"]
        self.batch_size = settings["batch_size"]
        self.tau = settings["tau"]
        self.gamma = settings["gamma"]
        self.train_freq = _train_freq_steps(settings["train_freq"])
        self.gradient_steps = settings["gradient_steps"]
        self.clip_grad_value = settings["clip_grad_value"]
        self.check_finite = check_finite
        self.device = th.device(device)
        self.lr_schedule = FloatSchedule(settings["learning_rate"])
        self.exploration_schedule = ExponentialEpsilon(
            settings["exploration_initial_eps"], settings["exploration_final_eps"], settings["exploration_decay"]
        )

        self.envs: SeedEnvs = make_seed_envs(env, self.seeds, env_kwargs)
        self.n_seeds = len(self.seeds)
        self.n_actions = int(self.envs.action_space.n)
        self._setup_networks(policy_kwargs or {})
        self.replay = StackedReplay(self.n_seeds, settings["buffer_size"], self.envs.observation_space.shape, self.device)
        # Each seed's own generator: epsilon draws, random actions, replay sampling
        self.rngs = [np.random.default_rng(seed) for seed in self.seeds]

        self.num_timesteps = 0
        self._n_updates = 0
        self._last_obs: np.ndarray | None = None
        self._current_progress_remaining = 1.0
        self.exploration_rate = self.exploration_schedule(0)
        self._episode_returns = np.zeros(self.n_seeds)
        self._episode_lengths = np.zeros(self.n_seeds, dtype=np.int64)
        self.episode_returns: list[list[float]] = [[] for _ in self.seeds]
        self.episode_lengths: list[list[int]] = [[] for _ in self.seeds]
        self._episode_times: list[list[float]] = [[] for _ in self.seeds]
        self._start_time = time.time()
        # Per-seed sums of [loss, mean Q] since the last read (on device: no sync per gradient step)
        self._train_stats = th.zeros(2, self.n_seeds, device=self.device)
        self._train_stats_count = 0

    def _setup_networks(self, policy_kwargs: dict[str, Any]) -> None:
        """Build each seed's CartDQN policy as ``CartDQN(seed=s)`` would (same initial weights), then stack them."""
        policies = []
        for seed in self.seeds:
            with th.random.fork_rng(devices=[]):
                th.manual_seed(seed)  # what CartDQN's _setup_model does (set_random_seed) before building its policy
                policies.append(
                    CartDQNPolicy(self.envs.observation_space, self.envs.action_space, self.lr_schedule, **policy_kwargs)
                )
        optimizer = policies[0].optimizer
        if type(optimizer) is not th.optim.AdamW:
            raise ValueError(
                f"BatchedCartDQN steps every seed with one fused AdamW; optimizer_class={type(optimizer).__name__} is not "
                "supported. Train it with CartDQN, one seed per process."
            )
        self.q_net = StackedMlp.stack([policy.q_net for policy in policies], self.device)
        self.q_net_target = StackedMlp.stack([policy.q_net_target for policy in policies], self.device)
        for param in self.q_net_target.params:
            param.requires_grad_(False)
        # The same class and keyword arguments as each seed's policy (fused AMSGrad AdamW by default)
        self.optimizer = th.optim.AdamW(self.q_net.params, lr=self.lr_schedule(1.0), **policies[0].optimizer_kwargs)
        # CartDQN's gradient step functions, on the stacked weights (the stacked forward is already plain tensor calls)
        self.fast_paths = FastPaths.build(
            self.q_net, self.q_net_target, self.optimizer, self.q_net.params, self.q_net_target.params
        )

    # --- acting -----------------------------------------------------------------------------------------------

    def _sample_actions(self, obs: np.ndarray) -> np.ndarray:
        """
        CartDQN's ``_sample_action`` for every seed: epsilon-greedy with ``epsilon = schedule(num_timesteps)``, each
        seed drawing from its own generator (one uniform to explore or not, one for the random action).

        :param obs: ``[N, *obs_shape]``
        :return: one action per seed
        """
        self.exploration_rate = self.exploration_schedule(self.num_timesteps)
        draws = np.array([rng.random(2) for rng in self.rngs])
        random_actions = (draws[:, 1] * self.n_actions).astype(np.int64)
        return epsilon_greedy(
            draws[:, 0], self.exploration_rate, lambda: self._greedy_actions(obs), lambda explore: random_actions[explore]
        )

    def _greedy_actions(self, obs: np.ndarray) -> np.ndarray:
        """
        :param obs: ``[N, *obs_shape]``, one observation per seed
        :return: each seed's ``argmax_a Q(s, a)``
        """
        with th.no_grad():
            obs_t = th.as_tensor(obs, dtype=th.float32, device=self.device).reshape(self.n_seeds, 1, -1)
            return self.q_net(obs_t).argmax(dim=2).reshape(-1).cpu().numpy()

    def evaluate(self, n_eval_episodes: int = 10, seed_offset: int = EVAL_SEED_OFFSET) -> np.ndarray:
        """
        Every seed's greedy policy, all seeds stepped together, as ``python -m sb3_cartdqn.main`` evaluates one model:
        a fresh env reset with ``seed + seed_offset``, then ``evaluate_policy(model, env, n_eval_episodes,
        deterministic=True)`` (whose own first reset continues that env's random stream).

        :param n_eval_episodes: episodes per seed
        :param seed_offset: added to each seed to seed its evaluation env
        :return: ``[N, n_eval_episodes]`` episode returns
        """
        envs = make_seed_envs(self.env_id, [seed + seed_offset for seed in self.seeds], self.env_kwargs)
        envs.reset()
        obs = envs.reset(seeded=False)
        returns = np.zeros((self.n_seeds, n_eval_episodes))
        counts = np.zeros(self.n_seeds, dtype=np.int64)
        current = np.zeros(self.n_seeds)
        while (counts < n_eval_episodes).any():
            steps = envs.step(self._greedy_actions(obs))
            current += steps.rewards
            for index in np.flatnonzero(steps.terminations | steps.truncations):
                if counts[index] < n_eval_episodes:
                    returns[index, counts[index]] = current[index]
                    counts[index] += 1
                current[index] = 0.0
            obs = steps.obs
        return returns

    # --- learning ---------------------------------------------------------------------------------------------

    def td_targets(self, batch: StackedBatch) -> th.Tensor:
        """
        CartDQN's TD target (``sb3_cartdqn.common.q_learning.q_target``) for every seed.

        :param batch: ``[N, B, ...]`` transitions
        :return: ``[N, B]`` targets
        """
        return self._td_targets(batch).squeeze(-1)

    def _td_targets(self, batch: StackedBatch) -> th.Tensor:
        """:return: ``[N, B, 1]`` targets (see :meth:`td_targets`)"""
        discounts = batch.discounts.unsqueeze(-1) if batch.discounts is not None else self.gamma
        return q_target(
            batch.rewards.unsqueeze(-1),
            batch.dones.unsqueeze(-1),
            discounts,
            batch.next_observations.flatten(2),
            self.fast_paths.q_target,
            self.fast_paths.q if self.double_q else None,
        )

    def gradient_step(self, batch: StackedBatch) -> None:
        """
        One CartDQN gradient step for every seed at once, with CartDQN's functions
        (``sb3_cartdqn.common.q_learning``): TD target, Huber loss, backward, value clipping, fused AMSGrad AdamW,
        soft target update.

        :param batch: ``[N, B, ...]`` transitions, seed ``i``'s from seed ``i``'s buffer
        """
        paths = self.fast_paths
        targets = self._td_targets(batch)
        current = chosen_q_values(paths.q(batch.observations.flatten(2)), batch.actions.unsqueeze(-1))
        # Sum over seeds of each seed's mean Huber loss: seed i's gradient is d(loss_i)/d(theta_i), as alone
        losses = td_loss(current, targets)
        gradient_step(losses.sum(), paths, self.clip_grad_value, self.tau)
        with th.no_grad():
            self._train_stats += th.stack((losses.detach(), current.detach().mean(dim=(1, 2))))

    def train(self, gradient_steps: int) -> None:
        """
        CartDQN's ``train``: ``gradient_steps`` gradient steps on fresh samples of every seed's buffer.

        :param gradient_steps: number of gradient steps
        """
        lr = self.lr_schedule(self._current_progress_remaining)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        for _ in range(gradient_steps):
            self.gradient_step(self.replay.sample(self.rngs, self.batch_size, self.n_steps, self.gamma))
        self._train_stats_count += gradient_steps
        self._n_updates += gradient_steps

    def _record_episodes(self, rewards: np.ndarray, ended: np.ndarray) -> None:
        self._episode_returns += rewards
        self._episode_lengths += 1
        for index in np.flatnonzero(ended):
            self.episode_returns[index].append(float(self._episode_returns[index]))
            self.episode_lengths[index].append(int(self._episode_lengths[index]))
            self._episode_times[index].append(round(time.time() - self._start_time, 6))
        self._episode_returns[ended] = 0.0
        self._episode_lengths[ended] = 0

    def _dump_logs(self) -> None:
        """Write each seed's episode statistics, exploration rate and training statistics to its own logger."""
        stats = self.train_stats()
        window = self.hyperparameters["stats_window_size"]
        for index, logger in enumerate(self.loggers):
            returns, lengths = self.episode_returns[index][-window:], self.episode_lengths[index][-window:]
            if returns:
                logger.record("rollout/ep_rew_mean", float(np.mean(returns)))
                logger.record("rollout/ep_len_mean", float(np.mean(lengths)))
            logger.record("rollout/exploration_rate", self.exploration_rate)
            logger.record("time/episodes", len(self.episode_returns[index]))
            logger.record("train/n_updates", self._n_updates)
            if stats is not None:
                logger.record("train/loss", float(stats["loss"][index]))
                logger.record("train/q_values", float(stats["q_values"][index]))
            logger.dump(step=self.num_timesteps)

    def _collect_step(self) -> None:
        """One env step of every seed: act, step, check, store the transitions, count the episodes."""
        obs = self._last_obs
        assert obs is not None
        actions = self._sample_actions(obs)
        steps = self.envs.step(actions)
        ended = steps.terminations | steps.truncations
        if self.check_finite:
            no_dones = np.zeros(0, dtype=bool)
            check_finite(steps.next_obs, steps.rewards, no_dones, [], self.num_timesteps)
            if ended.any():
                check_finite(steps.obs, np.zeros(1), no_dones, [], self.num_timesteps)
        self.replay.add(obs, actions, steps.rewards, steps.next_obs, steps.terminations, steps.truncations)
        self._record_episodes(steps.rewards, ended)
        self._last_obs = steps.obs
        self.num_timesteps += 1

    def record_evaluation(self, n_eval_episodes: int, seed_offset: int = EVAL_SEED_OFFSET) -> None:
        """
        :meth:`evaluate`, outside the training clock, kept in ``evaluations`` (with the clock's seconds before it in
        ``evaluations_train_seconds`` and ``evaluations_train_cpu_seconds``) and written to each seed's logger as
        ``eval/mean_reward``: what ``learn(eval_freq=...)`` does every ``eval_freq`` steps.

        :param n_eval_episodes: episodes per seed
        :param seed_offset: added to each seed to seed its evaluation env
        """
        self.evaluations_train_seconds.append(self.clock.wall_seconds())
        self.evaluations_train_cpu_seconds.append(self.clock.cpu_seconds())
        excluded_before = self.clock.excluded_wall
        with self.clock.excluded():
            returns = self.evaluate(n_eval_episodes, seed_offset)
        self.eval_seconds += self.clock.excluded_wall - excluded_before
        self.evaluations.append((self.num_timesteps, returns))
        for logger, seed_returns in zip(self.loggers, returns, strict=False):
            logger.record("eval/mean_reward", float(seed_returns.mean()))
            logger.dump(step=self.num_timesteps)

    def _setup_learn(self) -> None:
        """Open each seed's TensorBoard run (if any) and reset the envs on the first call."""
        if self.tensorboard_log is not None:
            first = not self.loggers
            self.loggers = [
                configure_logger(0, self.tensorboard_log, f"CartDQN_seed{seed}", reset_num_timesteps=first)
                for seed in self.seeds
            ]
        if self._last_obs is None:
            self._last_obs = self.envs.reset()
            if self.check_finite:
                check_finite(self._last_obs, np.zeros(1), np.zeros(0, dtype=bool), [], self.num_timesteps)

    def learn(
        self,
        total_timesteps: int,
        progress_bar: bool = False,
        log_interval: int = 1000,
        eval_freq: int = 0,
        n_eval_episodes: int = 10,
        eval_seed_offset: int = EVAL_SEED_OFFSET,
        eval_callback: Callable[[int, np.ndarray], bool] | None = None,
        checkpoint_freq: int = 0,
        checkpoint_path: str | pathlib.Path | None = None,
        after_env_step: Callable[[int], object] | None = None,
    ) -> "BatchedCartDQN":
        """
        Train every seed for ``total_timesteps`` more env steps each (CartDQN's ``learn`` with
        ``reset_num_timesteps=False`` after the first call: the step count and epsilon continue).

        :param total_timesteps: env steps per seed
        :param progress_bar: show SB3's progress bar (tqdm.rich) over the steps of the whole batch
        :param log_interval: with ``tensorboard_log``, write every seed's statistics every ``log_interval`` env steps
            (not episodes, as CartDQN counts it: seeds end episodes at different steps); this reads and resets
            :meth:`train_stats`
        :param eval_freq: every ``eval_freq`` env steps (0: never), evaluate every seed's greedy policy (what SB3's
            ``EvalCallback`` does for one model; see :meth:`evaluate`) and append ``(num_timesteps, returns)`` to
            ``evaluations`` (and the seconds spent training so far, evaluations excluded, to
            ``evaluations_train_seconds``)
        :param n_eval_episodes: episodes per seed in each of those evaluations
        :param eval_seed_offset: each evaluation's envs are reset with ``seed + eval_seed_offset``
        :param eval_callback: called after each of those evaluations with ``(num_timesteps, returns)`` (``returns``:
            ``[N, n_eval_episodes]``); training stops when it returns False (what an SB3 callback's ``_on_step``
            returning False does, e.g. RL Zoo's pruning ``TrialEvalCallback``)
        :param checkpoint_freq: every ``checkpoint_freq`` env steps (0: never), save every seed with its replay
            buffer (:meth:`save_seeds`) into ``checkpoint_path/batched_<num_timesteps>_steps/``
            (:meth:`save_checkpoint`), written to a hidden folder and renamed into place when complete (what SB3's
            ``CheckpointCallback`` does for one model); each seed then resumes alone as a CartDQN (``CartDQN.load`` +
            ``load_replay_buffer`` + ``learn(..., reset_num_timesteps=False)``), with new episodes
        :param checkpoint_path: the folder of those checkpoints (needed with ``checkpoint_freq``)
        :param after_env_step: called with ``num_timesteps`` after each env step, before that step's gradient steps
            (where an SB3 callback's ``on_step`` runs); its time counts as training on :attr:`clock` unless it
            excludes it (``with batched.clock.excluded(): ...``)
        :return: self
        """
        check_total_timesteps(total_timesteps, "BatchedCartDQN", "batched.learn(total - batched.num_timesteps)")
        if checkpoint_freq > 0 and checkpoint_path is None:
            raise ValueError("learn(checkpoint_freq=...) needs checkpoint_path, the folder to write the checkpoints to.")
        self._setup_learn()
        end = self.num_timesteps + int(total_timesteps)
        self.clock.start()
        bar = None
        if progress_bar:
            # SB3's progress bar (tqdm.rich, as CartDQN.learn(progress_bar=True) shows it), over every seed's steps
            from stable_baselines3.common.callbacks import tqdm

            if tqdm is None:
                raise ImportError("The progress bar needs tqdm and rich (pip install tqdm rich), as SB3's does.")
            bar = tqdm(total=int(total_timesteps) * self.n_seeds, unit="seed-step")
        while self.num_timesteps < end:
            self._collect_step()
            if after_env_step is not None:
                after_env_step(self.num_timesteps)
            self._current_progress_remaining = 1.0 - self.num_timesteps / end
            if bar is not None:
                bar.update(self.n_seeds)
            if self.num_timesteps % self.train_freq == 0 and self.num_timesteps >= self.learning_starts:
                self.train(self.gradient_steps if self.gradient_steps >= 0 else self.train_freq)
            if self.loggers and self.num_timesteps % log_interval == 0:
                self._dump_logs()
            if eval_freq > 0 and self.num_timesteps % eval_freq == 0:
                self.record_evaluation(n_eval_episodes, eval_seed_offset)
                if eval_callback is not None and not eval_callback(self.num_timesteps, self.evaluations[-1][1]):
                    break
            if checkpoint_freq > 0 and self.num_timesteps % checkpoint_freq == 0:
                assert checkpoint_path is not None
                self.save_checkpoint(checkpoint_path)
        if bar is not None:
            bar.close()
        if self.loggers:
            self._dump_logs()
            for logger in self.loggers:
                logger.close()
        return self

    def train_stats(self) -> dict[str, np.ndarray] | None:
        """
        :return: each seed's mean loss and mean Q since the last call (``loss``, ``q_values``: arrays of length N);
            None if no gradient step was taken since
        """
        if self._train_stats_count == 0:
            return None
        loss, q_values = (self._train_stats / self._train_stats_count).cpu().numpy()
        self._train_stats.zero_()
        self._train_stats_count = 0
        return {"loss": loss, "q_values": q_values}

    # --- export -----------------------------------------------------------------------------------------------

    def to_cartdqn(self, index: int, env: gym.Env | str | None = None, **kwargs: Any) -> CartDQN:
        """
        Seed ``index`` as an ordinary ``CartDQN`` model, as if it had been trained alone: online and target weights,
        AdamW state, ``num_timesteps``, ``_n_updates``, exploration rate, episode statistics and the replay buffer's
        contents. ``learn(..., reset_num_timesteps=False)`` continues its step count and epsilon schedule.

        :param index: seed position in ``seeds``
        :param env: the env the model gets (default: the env id, with ``env_kwargs``)
        :param kwargs: extra ``CartDQN`` arguments (``verbose``, ``tensorboard_log``, ...)
        :return: the model
        """
        if env is None:
            env = gym.make(self.env_id, **self.env_kwargs) if self.env_kwargs else self.env_id
        if self.double_q:
            kwargs = dict(double_q=True, **kwargs)
        if self.n_steps > 1:
            kwargs = dict(
                replay_buffer_class=NStepReplayBuffer,
                replay_buffer_kwargs=dict(n_steps=self.n_steps, gamma=self.gamma),
                **kwargs,
            )
        model = CartDQN("MlpPolicy", env, seed=self.seeds[index], device=self.device, **self.hyperparameters, **kwargs)
        self.q_net.load_into(index, model.q_net)
        self.q_net_target.load_into(index, model.q_net_target)
        optimizer = model.policy.optimizer
        stacked_states = [self.optimizer.state.get(stacked) for stacked in self.q_net.params]
        if all(stacked_states):  # after a first gradient step
            per_key = {
                key: self.q_net.seed_tensors(index, [state[key] for state in stacked_states])  # type: ignore[index]
                for key in stacked_states[0]  # type: ignore[union-attr]
                if key != "step"
            }
            for k, param in enumerate(model.q_net.parameters()):
                step = stacked_states[min(k, len(stacked_states) - 1)]["step"]  # type: ignore[index]
                optimizer.state[param] = {"step": step.detach().clone(), **{key: per_key[key][k] for key in per_key}}
        model.num_timesteps = self.num_timesteps
        model._n_updates = self._n_updates
        model._episode_num = len(self.episode_returns[index])
        model._current_progress_remaining = self._current_progress_remaining
        model.exploration_rate = self.exploration_schedule(self.num_timesteps)
        window = self.hyperparameters["stats_window_size"]
        infos = zip(self.episode_returns[index], self.episode_lengths[index], self._episode_times[index], strict=True)
        model.ep_info_buffer = deque(({"r": r, "l": length, "t": t} for r, length, t in infos), maxlen=window)
        model.ep_success_buffer = deque(maxlen=window)
        assert model.replay_buffer is not None
        self.replay.export(index, model.replay_buffer)
        return model

    def save_seeds(self, folder: str | pathlib.Path, replay_buffers: bool = False) -> list[pathlib.Path]:
        """
        Save every seed as a CartDQN ``.zip`` (``CartDQN.load`` reads each one).

        :param folder: where to write ``seed_<seed>.zip`` (and ``seed_<seed>_replay.pkl``)
        :param replay_buffers: also save each seed's replay buffer (``CartDQN.load_replay_buffer``)
        :return: the paths of the models
        """
        folder = pathlib.Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for index, seed in enumerate(self.seeds):
            model = self.to_cartdqn(index)
            path = folder / f"seed_{seed}.zip"
            model.save(path)
            if replay_buffers:
                model.save_replay_buffer(folder / f"seed_{seed}_replay.pkl")
            paths.append(path)
        return paths

    def save_checkpoint(self, folder: str | pathlib.Path, name_prefix: str = BATCHED_PREFIX) -> pathlib.Path:
        """
        :meth:`save_seeds` with replay buffers into ``folder/<name_prefix>_<num_timesteps>_steps/`` (CartDQN's
        checkpoint names), atomically as CartDQN's checkpoints are written (``atomic_folder``: a hidden temporary
        folder, flushed to disk and renamed into place once every file is written; an existing one of that step is
        replaced, and removed only once its replacement is in place). ``list_batched_checkpoints`` lists them.

        :param folder: the folder of checkpoints
        :param name_prefix: the checkpoints' common prefix
        :return: the checkpoint folder
        """
        final = pathlib.Path(folder) / checkpoint_name(name_prefix, self.num_timesteps)
        with atomic_folder(final) as temporary:
            self.save_seeds(temporary, replay_buffers=True)
        return final

    def nbytes_per_seed(self) -> int:
        """:return: bytes each seed holds: replay storage, online and target weights, optimizer state"""
        tensors = [*self.q_net.params, *self.q_net_target.params]
        tensors += [value for state in self.optimizer.state.values() for value in state.values() if value.dim() > 0]
        weights = sum(tensor.element_size() * tensor.nelement() for tensor in tensors)
        return (weights + self.replay.nbytes()) // self.n_seeds


#: ``help(BatchedCartDQN)`` and ``inspect.signature`` show each training argument with its default, the tutorial's
BatchedCartDQN.__signature__ = signature_with_training_arguments(BatchedCartDQN.__init__)  # type: ignore[attr-defined]
