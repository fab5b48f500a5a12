from typing import Any, ClassVar, TypeVar

import numpy as np
import torch as th
from stable_baselines3.common.buffers import NStepReplayBuffer, ReplayBuffer
from stable_baselines3.common.noise import ActionNoise
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.common.utils import get_parameters_by_name, obs_as_tensor
from stable_baselines3.dqn.policies import QNetwork

from sb3_cartdqn.cartdqn.policies import CartDQNPolicy, CnnPolicy, MlpPolicy, MultiInputPolicy, check_policy_spaces
from sb3_cartdqn.common.checked_algorithm import CheckedOffPolicyAlgorithm
from sb3_cartdqn.common.checks import check_action_space, check_hyperparameters, check_n_step_buffer, check_n_step_spaces
from sb3_cartdqn.common.defaults import TUTORIAL
from sb3_cartdqn.common.exploration import ExponentialEpsilon, epsilon_greedy
from sb3_cartdqn.common.fast_paths import FastPaths, copy_buffers
from sb3_cartdqn.common.q_learning import chosen_q_values, gradient_step, q_target, td_loss

SelfCartDQN = TypeVar("SelfCartDQN", bound="CartDQN")


class CartDQN(CheckedOffPolicyAlgorithm):
    """
    The PyTorch "Reinforcement Learning (DQN) Tutorial" DQN, as a Stable-Baselines3 algorithm.

    Tutorial: https://pytorch.org/tutorials/intermediate/reinforcement_q_learning.html
    Default hyperparameters are the tutorial's. Where it differs from SB3's ``DQN``:
    exponential epsilon decay in env steps, epsilon-greedy from the first step (no uniform warm-up),
    a soft target update after every gradient step (not before it), gradient clipping by value
    (not by norm), ``AdamW(amsgrad=True)``, and the first gradient step as soon as the buffer
    holds ``learning_starts`` transitions. What every CartDQN needs beyond the tutorial (that learning start, finite
    checks, atomic save and checked load) is in ``CheckedOffPolicyAlgorithm``; faster forms of the torch functions a
    gradient step calls are in ``sb3_cartdqn.common.fast_paths``.

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
        values it) instead of the tutorial's ``max_a' Q_target(s', a')``; see ``sb3_cartdqn.common.q_learning``
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
    fast_paths: FastPaths
    q_net: QNetwork
    q_net_target: QNetwork
    policy: CartDQNPolicy

    def __init__(
        self,
        policy: str | type[CartDQNPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = TUTORIAL.learning_rate,
        buffer_size: int = TUTORIAL.buffer_size,
        learning_starts: int = TUTORIAL.learning_starts,
        batch_size: int = TUTORIAL.batch_size,
        tau: float = TUTORIAL.tau,
        gamma: float = TUTORIAL.gamma,
        train_freq: int | tuple[int, str] = TUTORIAL.train_freq,
        gradient_steps: int = TUTORIAL.gradient_steps,
        replay_buffer_class: type[ReplayBuffer] | None = None,
        replay_buffer_kwargs: dict[str, Any] | None = None,
        optimize_memory_usage: bool = False,
        exploration_initial_eps: float = TUTORIAL.exploration_initial_eps,
        exploration_final_eps: float = TUTORIAL.exploration_final_eps,
        exploration_decay: float = TUTORIAL.exploration_decay,
        double_q: bool = TUTORIAL.double_q,
        n_steps: int = TUTORIAL.n_steps,
        clip_grad_value: float | None = TUTORIAL.clip_grad_value,
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
            check_finite=check_finite,
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
        # The functions a gradient step calls, in their fast forms (the same values as torch's; see FastPaths)
        self.fast_paths = FastPaths.for_policy(self.policy)
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
        actions = epsilon_greedy(
            np.random.rand(n_envs),
            self.exploration_rate,
            lambda: self._greedy_actions(self._last_obs),  # type: ignore[arg-type]
            self._random_actions,
        )
        return actions, actions

    def _random_actions(self, explore: np.ndarray) -> np.ndarray:
        """
        :param explore: the mask of the actors that explore
        :return: one ``action_space.sample()`` for each of them, in order
        """
        return np.array([self.action_space.sample() for _ in range(int(explore.sum()))], dtype=self.action_space.dtype)

    def _greedy_actions(self, observation: np.ndarray | dict[str, np.ndarray]) -> np.ndarray:
        """
        ``argmax_a Q(s, a)`` for a batch of observations, without ``policy.predict``'s shape checks.

        :param observation: a batch of observations, as the VecEnv returns them
        :return: one action per observation
        """
        with th.no_grad():
            if isinstance(observation, np.ndarray) and self.device.type == "cpu":
                return self.fast_paths.q(th.from_numpy(observation)).argmax(dim=1).numpy()
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
        return super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )

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

        paths = self.fast_paths
        for _ in range(gradient_steps):
            replay_data = paths.sample(self.replay_buffer, batch_size, env=self._vec_normalize_env)
            # For n-step replay, discount factor is gamma**n_steps (when no early termination)
            discounts = replay_data.discounts if replay_data.discounts is not None else self.gamma

            # r + (1 - done) * discount * V(s'), V(s') = max_a Q_target(s', a) or its Double DQN form. Truncated
            # transitions (time limit) still bootstrap: the buffer's ``handle_timeout_termination`` clears their done flag.
            target_q_values = q_target(
                replay_data.rewards,
                replay_data.dones,
                discounts,
                replay_data.next_observations,
                paths.q_target,
                paths.q if self.double_q else None,
            )
            # Q(s, a) for the actions taken
            current_q_values = chosen_q_values(paths.q(replay_data.observations), replay_data.actions)
            # Huber loss (the tutorial's nn.SmoothL1Loss)
            loss = td_loss(current_q_values, target_q_values)
            # Backward, clipping by value (not by norm, as SB3's DQN does), AdamW step, then the soft target update
            gradient_step(loss, paths, self.clip_grad_value, self.tau)
            # Copy running stats, see https://github.com/DLR-RM/stable-baselines3/issues/996
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
            action = np.asarray(action)
            flat = np.array(action, copy=True).reshape(-1)
            flat = epsilon_greedy(np.random.rand(flat.size), self.exploration_rate, lambda: flat, self._random_actions)
            action = flat.reshape(action.shape)
        return action, state

    def _excluded_save_params(self) -> list[str]:
        return [
            *super()._excluded_save_params(),
            "q_net",
            "q_net_target",
            "exploration_schedule",
            "fast_paths",
            "batch_norm_stats",
            "batch_norm_stats_target",
            "_train_stats",
            "_train_stats_count",
        ]

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        state_dicts = ["policy", "policy.optimizer"]

        return state_dicts, []
