import io
import pathlib
import pickle
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch as th
from stable_baselines3.common.buffers import NStepReplayBuffer, ReplayBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.noise import ActionNoise
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.common.utils import get_parameters_by_name, obs_as_tensor
from stable_baselines3.dqn.policies import QNetwork
from stable_baselines3.her.her_replay_buffer import HerReplayBuffer
from torch.nn import functional as F

from sb3_cartdqn.cartdqn.policies import CartDQNPolicy, CnnPolicy, MlpPolicy, MultiInputPolicy, check_policy_spaces
from sb3_cartdqn.common.checks import (
    check_action_space,
    check_finite,
    check_hyperparameters,
    check_n_step_buffer,
    check_n_step_spaces,
    check_total_timesteps,
)
from sb3_cartdqn.common.clipping import clip_grad_value
from sb3_cartdqn.common.exploration import ExponentialEpsilon
from sb3_cartdqn.common.mlp_forward import MlpForward
from sb3_cartdqn.common.optim import FusedAdamWStep
from sb3_cartdqn.common.replay import sample_replay
from sb3_cartdqn.common.target_update import copy_buffers, soft_update
from sb3_cartdqn.common.targets import q_target
from sb3_cartdqn.persistence.atomic import atomic_path
from sb3_cartdqn.persistence.model_file import (
    check_env_spaces,
    read_model_data,
    read_model_file,
    save_model,
    tensor_entry_error,
    zip_path,
)
from sb3_cartdqn.persistence.replay_file import (
    check_replay_buffer,
    read_replay_buffer,
    replay_buffer_path,
    write_replay_buffer,
)
from sb3_cartdqn.persistence.trust import code_trusted

SelfCartDQN = TypeVar("SelfCartDQN", bound="CartDQN")
PathLike = str | pathlib.Path | io.BufferedIOBase


class CartDQN(OffPolicyAlgorithm):
    """
    The PyTorch "Reinforcement Learning (DQN) Tutorial" DQN, as a Stable-Baselines3 algorithm.

    Tutorial: https://pytorch.org/tutorials/intermediate/reinforcement_q_learning.html
    Default hyperparameters are the tutorial's. Where it differs from SB3's ``DQN``:
    exponential epsilon decay in env steps, epsilon-greedy from the first step (no uniform warm-up),
    a soft target update after every gradient step (not before it), gradient clipping by value
    (not by norm), ``AdamW(amsgrad=True)``, and the first gradient step as soon as the buffer
    holds ``learning_starts`` transitions.

    Options beyond the tutorial, all off by default: ``double_q=True`` (Double DQN target), ``n_steps > 1``
    (n-step returns) and ``policy_kwargs=dict(dueling=True)`` (dueling Q-network head).

    :param policy: The policy model to use (MlpPolicy, CnnPolicy, ...)
    :param env: The environment to learn from (if registered in Gym, can be str)
    :param learning_rate: The learning rate, it can be a function
        of the current progress remaining (from 1 to 0) (tutorial ``LR``)
    :param buffer_size: size of the replay buffer (tutorial ``ReplayBuffer(10_000)``)
    :param learning_starts: number of transitions the replay buffer must hold before the first gradient step
        (tutorial: one batch, ``len(memory) >= BATCH_SIZE``). Unlike SB3, actions before that are still epsilon-greedy.
    :param batch_size: Minibatch size for each gradient update (tutorial ``BATCH_SIZE``)
    :param tau: the soft update coefficient, in (0, 1], applied after every gradient step (tutorial ``TAU``)
    :param gamma: the discount factor (tutorial ``GAMMA``)
    :param train_freq: Update the model every ``train_freq`` steps. Alternatively pass a tuple of frequency and unit
        like ``(5, "step")`` or ``(2, "episode")``.
    :param gradient_steps: How many gradient steps to do after each rollout (see ``train_freq``)
        Set to ``-1`` means to do as many gradient steps as steps done in the environment
        during the rollout.
    :param replay_buffer_class: Replay buffer class to use (for instance ``HerReplayBuffer``).
        If ``None``, it will be automatically selected.
    :param replay_buffer_kwargs: Keyword arguments to pass to the replay buffer on creation.
    :param optimize_memory_usage: Enable a memory efficient variant of the replay buffer
        at a cost of more complexity.
    :param exploration_initial_eps: epsilon at step 0 (tutorial ``EPS_START``)
    :param exploration_final_eps: asymptotic epsilon (tutorial ``EPS_END``)
    :param exploration_decay: decay constant of epsilon in environment steps (tutorial ``EPS_DECAY``)
    :param double_q: use the Double DQN target (the online network picks ``argmax_a' Q(s', a')``, the target network
        values it) instead of the tutorial's ``max_a' Q_target(s', a')``; see ``sb3_cartdqn.common.targets``
    :param n_steps: bootstrap from the observation ``n_steps`` env steps later, with the discounted sum of the rewards
        in between (n-step returns, through SB3's ``NStepReplayBuffer``); 1 is the tutorial's one-step target.
        Not available with Dict observations, ``optimize_memory_usage`` or a custom ``replay_buffer_class``.
    :param clip_grad_value: gradients are clamped to ``[-clip_grad_value, clip_grad_value]`` before each optimizer
        step (tutorial ``clip_grad_value_(..., 100)``); ``None`` disables clipping
    :param check_finite: raise a clear error as soon as the env returns a NaN or infinite observation or reward,
        before it reaches the replay buffer (about 5 microseconds per env step)
    :param stats_window_size: Window size for the rollout logging, specifying the number of episodes to average
        the reported success rate, mean episode length, and mean reward over
    :param tensorboard_log: the log location for tensorboard (if None, no logging)
    :param policy_kwargs: additional arguments to be passed to the policy on creation
    :param verbose: Verbosity level: 0 for no output, 1 for info messages (such as device or wrappers used), 2 for
        debug messages
    :param seed: Seed for the pseudo random generators
    :param device: Device (cpu, cuda, ...) on which the code should be run.
        Setting it to auto, the code will be run on the GPU if possible.
    :param _init_setup_model: Whether or not to build the network at the creation of the instance
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpPolicy": MlpPolicy,
        "CnnPolicy": CnnPolicy,
        "MultiInputPolicy": MultiInputPolicy,
    }
    exploration_schedule: ExponentialEpsilon
    q_net: QNetwork
    q_net_target: QNetwork
    policy: CartDQNPolicy

    def __init__(
        self,
        policy: str | type[CartDQNPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 1e-4,
        buffer_size: int = 10_000,
        learning_starts: int = 128,
        batch_size: int = 128,
        tau: float = 0.005,
        gamma: float = 0.99,
        train_freq: int | tuple[int, str] = 1,
        gradient_steps: int = 1,
        replay_buffer_class: type[ReplayBuffer] | None = None,
        replay_buffer_kwargs: dict[str, Any] | None = None,
        optimize_memory_usage: bool = False,
        exploration_initial_eps: float = 0.9,
        exploration_final_eps: float = 0.05,
        exploration_decay: float = 1000.0,
        double_q: bool = False,
        n_steps: int = 1,
        clip_grad_value: float | None = 100.0,
        check_finite: bool = True,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
    ) -> None:
        check_hyperparameters(
            learning_rate=learning_rate,
            train_freq=train_freq,
            gradient_steps=gradient_steps,
            stats_window_size=stats_window_size,
            learning_starts=learning_starts,
            batch_size=batch_size,
            buffer_size=buffer_size,
            tau=tau,
            gamma=gamma,
            exploration_initial_eps=exploration_initial_eps,
            exploration_final_eps=exploration_final_eps,
            exploration_decay=exploration_decay,
            clip_grad_value=clip_grad_value,
            double_q=double_q,
            n_steps=n_steps,
        )
        check_n_step_buffer(n_steps, replay_buffer_class, optimize_memory_usage)
        super().__init__(
            policy,
            env,
            learning_rate,
            buffer_size,
            learning_starts,
            batch_size,
            tau,
            gamma,
            train_freq,
            gradient_steps,
            action_noise=None,  # No action noise
            replay_buffer_class=replay_buffer_class,
            replay_buffer_kwargs=replay_buffer_kwargs,
            optimize_memory_usage=optimize_memory_usage,
            n_steps=n_steps,
            policy_kwargs=policy_kwargs,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            verbose=verbose,
            device=device,
            seed=seed,
            sde_support=False,
            supported_action_spaces=None,  # checked below, with a clearer message than SB3's assertion
            support_multi_env=True,
        )
        if getattr(self, "action_space", None) is not None:  # no env yet when called from load()
            check_action_space(self.action_space)
        # load() builds the model before restoring its policy_kwargs: it checks the saved spaces instead
        if getattr(self, "observation_space", None) is not None and _init_setup_model:
            check_policy_spaces(self.policy_class, self.observation_space, self.policy_kwargs)
            check_n_step_spaces(n_steps, self.observation_space)

        self.exploration_initial_eps = exploration_initial_eps
        self.exploration_final_eps = exploration_final_eps
        self.exploration_decay = exploration_decay
        self.clip_grad_value = clip_grad_value
        self.double_q = double_q
        self.check_finite = check_finite
        # "epsilon" for the epsilon-greedy exploration, a function of num_timesteps
        self.exploration_rate = exploration_initial_eps

        if _init_setup_model:
            self._setup_model()

    def _setup_model(self) -> None:
        if self.n_steps > 1 and self.replay_buffer_class is NStepReplayBuffer:
            # load(): the saved class is the one SB3 picked for n_steps > 1. Let SB3 pick it again (with the current
            # gamma), instead of taking it for a user's custom class and warning that n_steps is ignored.
            self.replay_buffer_class = None
        super()._setup_model()
        self._create_aliases()
        # Tensors the per-step updates work on, gathered once (foreach kernels take lists)
        self._online_params = list(self.q_net.parameters())
        self._target_params = list(self.q_net_target.parameters())
        # The same computations as the modules and optimizer, minus their per-call bookkeeping (see each class)
        self._q_forward: Callable[[th.Tensor], th.Tensor] = MlpForward.build(self.q_net) or self.q_net
        self._q_target_forward: Callable[[th.Tensor], th.Tensor] = MlpForward.build(self.q_net_target) or self.q_net_target
        self._optimizer_step = FusedAdamWStep(self.policy.optimizer)
        # Copy running stats, see https://github.com/DLR-RM/stable-baselines3/issues/996
        self.batch_norm_stats = get_parameters_by_name(self.q_net, ["running_"])
        self.batch_norm_stats_target = get_parameters_by_name(self.q_net_target, ["running_"])
        self.exploration_schedule = ExponentialEpsilon(
            self.exploration_initial_eps, self.exploration_final_eps, self.exploration_decay
        )
        self.exploration_rate = self.exploration_schedule(self.num_timesteps)
        # Sums of [loss, mean Q] since the last dump_logs, kept on device: read once per train() call, not per step
        self._train_stats = th.zeros(2, device=self.device)
        self._train_stats_count = 0

    def _create_aliases(self) -> None:
        self.q_net = self.policy.q_net
        self.q_net_target = self.policy.q_net_target

    def _sample_action(
        self,
        learning_starts: int,
        action_noise: ActionNoise | None = None,
        n_envs: int = 1,
    ) -> tuple[np.ndarray, np.ndarray]:
        """
        The tutorial's ``select_action``: epsilon-greedy from the very first step, with
        ``epsilon = exploration_schedule(num_timesteps)`` (unlike SB3, no uniform warm-up before ``learning_starts``).
        Each env draws its own uniform number; it acts at random when that number is ``<= epsilon``.

        :param learning_starts: unused: the tutorial has no warm-up phase
        :param action_noise: unused (discrete actions)
        :param n_envs: number of envs acting
        :return: the actions to take and to store in the buffer (the same for discrete actions)
        """
        self.exploration_rate = self.exploration_schedule(self.num_timesteps)
        explore = np.random.rand(n_envs) <= self.exploration_rate
        if explore.all():
            actions = np.array([self.action_space.sample() for _ in range(n_envs)])
        else:
            actions = self._greedy_actions(self._last_obs)  # type: ignore[arg-type]
            if explore.any():
                for idx in np.flatnonzero(explore):
                    actions[idx] = self.action_space.sample()
        return actions, actions

    def _greedy_actions(self, observation: np.ndarray | dict[str, np.ndarray]) -> np.ndarray:
        """
        ``argmax_a Q(s, a)`` for a batch of observations, without ``policy.predict``'s shape checks.

        :param observation: a batch of observations, as the VecEnv returns them
        :return: one action per observation
        """
        with th.no_grad():
            if isinstance(observation, np.ndarray) and self.device.type == "cpu":
                return self._q_forward(th.from_numpy(observation)).argmax(dim=1).numpy()
            return self.q_net._predict(obs_as_tensor(observation, self.device)).cpu().numpy()

    def learn(
        self: SelfCartDQN,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 4,
        tb_log_name: str = "CartDQN",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfCartDQN:
        """
        Return a trained model. Same as SB3's ``OffPolicyAlgorithm.learn``, except that gradient steps start
        as soon as ``num_timesteps >= learning_starts`` (the tutorial optimises once ``len(memory) >= BATCH_SIZE``).

        :param total_timesteps: The total number of samples (env steps) to train on
        :param callback: callback(s) called at every step with state of the algorithm.
        :param log_interval: log every ``log_interval`` episodes
        :param tb_log_name: the name of the run for TensorBoard logging
        :param reset_num_timesteps: whether or not to reset the current timestep number (used in logging)
            and so the epsilon schedule; ``False`` continues both
        :param progress_bar: Display a progress bar using tqdm and rich.
        :return: the trained model
        """
        total_timesteps, callback = self._setup_learn(
            total_timesteps,
            callback,
            reset_num_timesteps,
            tb_log_name,
            progress_bar,
        )

        callback.on_training_start(locals(), globals())

        assert self.env is not None, "You must set the environment before calling learn()"

        while self.num_timesteps < total_timesteps:
            rollout = self.collect_rollouts(
                self.env,
                train_freq=self.train_freq,  # type: ignore[arg-type]
                action_noise=self.action_noise,
                callback=callback,
                learning_starts=self.learning_starts,
                replay_buffer=self.replay_buffer,  # type: ignore[arg-type]
                log_interval=log_interval,
            )

            if not rollout.continue_training:
                break

            if self.num_timesteps > 0 and self.num_timesteps >= self.learning_starts:
                gradient_steps = self.gradient_steps if self.gradient_steps >= 0 else rollout.episode_timesteps
                if gradient_steps > 0:
                    self.train(batch_size=self.batch_size, gradient_steps=gradient_steps)

        callback.on_training_end()

        return self

    def train(self, gradient_steps: int, batch_size: int = 128) -> None:
        """
        The tutorial's ``optimize_model`` followed by its soft target update, ``gradient_steps`` times.

        :param gradient_steps: number of gradient steps
        :param batch_size: minibatch size
        """
        # Switch to train mode (this affects batch norm / dropout)
        self.policy.set_training_mode(True)
        # Update learning rate according to schedule
        self._update_learning_rate(self.policy.optimizer)

        for _ in range(gradient_steps):
            replay_data = sample_replay(self.replay_buffer, batch_size, env=self._vec_normalize_env)  # type: ignore[arg-type]
            # For n-step replay, discount factor is gamma**n_steps (when no early termination)
            discounts = replay_data.discounts if replay_data.discounts is not None else self.gamma

            # r + (1 - done) * discount * V(s'), V(s') = max_a Q_target(s', a) or its Double DQN form. Truncated
            # transitions (time limit) still bootstrap: the buffer's ``handle_timeout_termination`` clears their done flag.
            target_q_values = q_target(
                replay_data.rewards,
                replay_data.dones,
                discounts,
                replay_data.next_observations,
                self._q_target_forward,  # type: ignore[arg-type]
                self._q_forward if self.double_q else None,  # type: ignore[arg-type]
            )

            # Q(s, a) for the actions taken
            current_q_values = th.gather(self._q_forward(replay_data.observations), dim=1, index=replay_data.actions.long())

            # Huber loss (the tutorial's nn.SmoothL1Loss)
            loss = F.smooth_l1_loss(current_q_values, target_q_values)

            for param in self._online_params:  # optimizer.zero_grad(set_to_none=True)
                param.grad = None
            loss.backward()
            with th.no_grad():
                # In-place gradient clipping by value (not by norm, as SB3's DQN does)
                if self.clip_grad_value is not None:
                    clip_grad_value(self._online_params, self.clip_grad_value)
                self._optimizer_step.step()
                # Soft update of the target network after every gradient step: target <- tau * online + (1 - tau) * target
                soft_update(self._online_params, self._target_params, self.tau)
                copy_buffers(self.batch_norm_stats, self.batch_norm_stats_target)

            self._train_stats += th.stack((loss.detach(), current_q_values.detach().mean()))

        self._train_stats_count += gradient_steps
        self._n_updates += gradient_steps
        self._record_train_stats()

    def _record_train_stats(self) -> None:
        """
        Record ``train/n_updates`` and the running means of loss and Q over the gradient steps since the last
        ``dump_logs``, as SB3's DQN records its statistics at the end of ``train()``: callbacks and the user
        read them from ``logger.name_to_value``. The sums stay on the device during the gradient steps; reading
        them costs one copy of two numbers per call.
        """
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        if self._train_stats_count > 0:
            loss_sum, q_sum = self._train_stats.tolist()
            self.logger.record("train/loss", loss_sum / self._train_stats_count)
            self.logger.record("train/q_values", q_sum / self._train_stats_count)

    def dump_logs(self) -> None:
        """Write log data, with the means of the training statistics since the last dump; then start new means."""
        self.logger.record("rollout/exploration_rate", self.exploration_rate)
        self._record_train_stats()  # again: a callback's own logger.dump() (e.g. EvalCallback's) may have cleared them
        super().dump_logs()
        self._train_stats.zero_()
        self._train_stats_count = 0

    def predict(
        self,
        observation: np.ndarray | dict[str, np.ndarray],
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        """
        Get the policy action from an observation, epsilon-greedy unless ``deterministic``
        (as SB3's ``DQN.predict``), with the current ``exploration_rate``.

        :param observation: the input observation
        :param state: The last states (can be None, used in recurrent policies)
        :param episode_start: The last masks (can be None, used in recurrent policies)
        :param deterministic: Whether or not to return deterministic actions.
        :return: the model's action and the next state (used in recurrent policies)
        """
        action, state = self.policy.predict(observation, state, episode_start, deterministic)
        if not deterministic:
            action = np.array(action, copy=True)
            flat = action.reshape(-1)  # a view: writes go to action, also for a single (0-d) action
            explore = np.random.rand(flat.size) <= self.exploration_rate
            for idx in np.flatnonzero(explore):
                flat[idx] = self.action_space.sample()
        return action, state

    def _excluded_save_params(self) -> list[str]:
        return [
            *super()._excluded_save_params(),
            "q_net",
            "q_net_target",
            "exploration_schedule",
            "_online_params",
            "_target_params",
            "_q_forward",
            "_q_target_forward",
            "_optimizer_step",
            "batch_norm_stats",
            "batch_norm_stats_target",
            "_train_stats",
            "_train_stats_count",
        ]

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        state_dicts = ["policy", "policy.optimizer"]

        return state_dicts, []

    def _setup_learn(
        self,
        total_timesteps: int,
        callback: MaybeCallback = None,
        reset_num_timesteps: bool = True,
        tb_log_name: str = "run",
        progress_bar: bool = False,
    ) -> tuple[int, BaseCallback]:
        """
        SB3's ``_setup_learn``, after checking ``total_timesteps`` (``learn(0)`` is a no-op, negative is an error),
        and checking the first observation for NaN/inf when ``check_finite``.
        """
        check_total_timesteps(total_timesteps)
        total_timesteps, callback = super()._setup_learn(
            total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar
        )
        if self.check_finite and self._last_obs is not None:
            check_finite(self._last_obs, np.zeros(1), np.zeros(0, dtype=bool), [], self.num_timesteps)
        return total_timesteps, callback

    def _store_transition(
        self,
        replay_buffer: ReplayBuffer,
        buffer_action: np.ndarray,
        new_obs: np.ndarray | dict[str, np.ndarray],
        reward: np.ndarray,
        dones: np.ndarray,
        infos: list[dict[str, Any]],
    ) -> None:
        """
        SB3's ``_store_transition``, refusing NaN/inf observations and rewards when ``check_finite``.

        SB3 deep-copies the new observations before putting each terminal observation in place of the reset one.
        When no env is done (and no ``VecNormalize`` keeps originals), nothing is put in place and ``add`` copies
        what it stores, so the copy is skipped: the buffer and ``_last_obs`` end up the same.
        """
        if self.check_finite:
            check_finite(new_obs, reward, dones, infos, self.num_timesteps)
        if self._vec_normalize_env is None and not dones.any():
            self._last_original_obs = self._last_obs
            replay_buffer.add(self._last_obs, new_obs, buffer_action, reward, dones, infos)  # type: ignore[arg-type]
            self._last_obs = new_obs
            return
        super()._store_transition(replay_buffer, buffer_action, new_obs, reward, dones, infos)

    def save(self, path: PathLike, exclude: Iterable[str] | None = None, include: Iterable[str] | None = None) -> None:
        """
        SB3's ``save`` with every attribute written as data (no pickles: see ``sb3_cartdqn.persistence.fields``),
        written atomically: to a temporary file in the same folder, renamed over ``path`` once complete, so that a
        process killed mid-save never leaves a truncated file in place of the previous model.

        :param path: path to the file where the rl agent should be saved (``.zip`` is added if it has no suffix)
        :param exclude: name of parameters that should be excluded in addition to the default ones
        :param include: name of parameters that might be excluded but should be included anyway
        """
        if not isinstance(path, str | pathlib.Path):
            save_model(self, path, exclude, include)
            return
        with atomic_path(zip_path(path)) as temporary:
            save_model(self, temporary, exclude, include)

    def save_replay_buffer(self, path: PathLike) -> None:
        """
        Save the replay buffer as data (an npz archive, whatever the suffix), atomically (temporary file, then rename).

        :param path: where to save the replay buffer (``.pkl`` is added if it has no suffix, as SB3 does)
        """
        assert self.replay_buffer is not None, "The replay buffer is not defined"
        if not isinstance(path, str | pathlib.Path):
            write_replay_buffer(self.replay_buffer, path)  # type: ignore[arg-type]
            return
        final = pathlib.Path(path)
        if final.suffix == "":
            final = final.with_name(final.name + ".pkl")
        with atomic_path(final) as temporary, open(temporary, "wb") as file:
            write_replay_buffer(self.replay_buffer, file)

    def load_replay_buffer(self, path: PathLike, truncate_last_traj: bool = True, trust_code: bool | None = None) -> None:
        """
        SB3's ``load_replay_buffer``, reading data only: a pickled replay buffer (SB3's format) is refused unless
        ``trust_code``. A truncated or foreign file raises ``ModelFileError`` naming it, and leaves the current replay
        buffer in place.

        :param path: the file written by ``save_replay_buffer`` (``.pkl`` may be omitted, as with SB3)
        :param truncate_last_traj: (``HerReplayBuffer`` only) assume the last stored trajectory finished
        :param trust_code: unpickle a pickled replay buffer; ``None`` reads the environment variable
            ``TRUST_REMOTE_CODE``
        """
        name = str(replay_buffer_path(path)) if isinstance(path, str | pathlib.Path) else f"<{type(path).__name__}>"
        buffer = read_replay_buffer(
            replay_buffer_path(path) if isinstance(path, str | pathlib.Path) else path,  # type: ignore[arg-type]
            code_trusted(trust_code),
        )
        check_replay_buffer(name, buffer, self.observation_space, self.action_space, self.n_envs)
        # What SB3's load_replay_buffer does after unpickling
        if not hasattr(buffer, "handle_timeout_termination"):  # SB3 < 2.1.0
            buffer.handle_timeout_termination = False
            buffer.timeouts = np.zeros_like(buffer.dones)
        if isinstance(buffer, HerReplayBuffer):
            assert self.env is not None, "You must pass an environment at load time when using `HerReplayBuffer`"
            buffer.set_env(self.env)
            if truncate_last_traj:
                buffer.truncate_last_trajectory()
        buffer.device = self.device
        self.replay_buffer = buffer

    @classmethod
    def load(  # type: ignore[override]
        cls: type[SelfCartDQN],
        path: PathLike,
        env: GymEnv | None = None,
        device: th.device | str = "auto",
        custom_objects: dict[str, Any] | None = None,
        print_system_info: bool = False,
        force_reset: bool = True,
        trust_code: bool | None = None,
        **kwargs: Any,
    ) -> SelfCartDQN:
        """
        SB3's ``load``, reading data only, after checking the file: a missing, truncated, corrupt or non-CartDQN file
        (e.g. a DQN or PPO model) and an env whose spaces differ from the saved ones raise an error naming the file
        and the fix. A file that carries code (fields SB3 pickled, classes outside the allow-list of
        ``sb3_cartdqn.persistence.codec``) is refused before anything is unpickled unless ``trust_code``.

        :param path: path to the file (or a file-like) where to load the agent from
        :param env: the new environment to run the loaded model on (None: predict only)
        :param device: Device on which the code should run.
        :param custom_objects: Dictionary of objects to replace upon loading (those fields are not read).
        :param print_system_info: Whether to print system info from the saved model
        :param force_reset: Force call to ``reset()`` before training
        :param trust_code: run code stored in the file (unpickle SB3's pickled fields, import classes it names):
            needed for models written by SB3 or earlier sb3-cartdqn versions; ``None`` reads the environment variable
            ``TRUST_REMOTE_CODE``
        :param kwargs: extra arguments to change the model when loading
        :return: new model instance with loaded parameters
        """
        name, content = read_model_file(path)
        data = read_model_data(io.BytesIO(content), custom_objects, code_trusted(trust_code), name=name)
        if env is not None:
            env = cls._wrap_env(env, data.get("verbose", 0))
            check_env_spaces(name, data, env.observation_space, env.action_space)
        try:
            # Every field is given: SB3 unpickles none of them; its tensors load with weights_only=True
            return super().load(io.BytesIO(content), env, device, data, print_system_info, force_reset, **kwargs)
        except pickle.UnpicklingError as error:
            raise tensor_entry_error(name, content, error) from None
