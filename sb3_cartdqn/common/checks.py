"""Argument checks that fail fast, before any environment step, with messages that name the fix."""

import itertools
import math
from typing import Any

import numpy as np
from gymnasium import spaces

from sb3_cartdqn.common.defaults import TUTORIAL
from sb3_cartdqn.persistence.trust import shorten

#: The most elements one observation or action may have (a Box's or MultiBinary's shape product, a Discrete
#: observation's one-hot size): 2**26, a 4K RGB frame is 2**24.6
MAX_SPACE_ELEMENTS = 2**26
#: The most actions a ``Discrete`` action space may offer (one Q-value each)
MAX_ACTIONS = 2**20
#: The widest hidden layer ``net_arch`` may ask for, and the most layers
MAX_LAYER_WIDTH = 2**16
MAX_LAYERS = 64
#: The most parameters one Q-network's layers after the features extractor may have (2**28: 1 GiB of float32)
MAX_NETWORK_PARAMETERS = 2**28
#: The most envs a model may step at once
MAX_N_ENVS = 2**16
#: The most bytes a replay buffer's observations may take (2**40: 1 TiB; more fails to allocate on any machine)
MAX_BUFFER_BYTES = 2**40
#: Flattened features of a CNN features extractor when its ``features_dim`` is not given (NatureCNN's default)
_CNN_FEATURES = 512


def _fail(name: str, value: Any, allowed: str) -> None:
    raise ValueError(f"CartDQN: invalid {name}={shorten(value)}: {allowed}.")


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


def check_hyperparameters(
    *,
    learning_rate: Any = TUTORIAL.learning_rate,
    train_freq: Any = TUTORIAL.train_freq,
    gradient_steps: int = TUTORIAL.gradient_steps,
    stats_window_size: int = 100,
    learning_starts: int,
    batch_size: int,
    buffer_size: int,
    tau: float,
    gamma: float,
    exploration_initial_eps: float,
    exploration_final_eps: float,
    exploration_decay: float,
    clip_grad_value: float | None,
    double_q: bool = TUTORIAL.double_q,
    n_steps: int = TUTORIAL.n_steps,
    saved: bool = False,
) -> None:
    """
    Raise ``ValueError`` naming the parameter and its allowed values if any hyperparameter is out of range.

    :param learning_rate: a float > 0, or a schedule (callable of the progress remaining)
    :param train_freq: env steps between updates (>= 1), or ``(n >= 1, "step" | "episode")``
    :param gradient_steps: gradient steps per update (>= 1), or -1 for as many as env steps collected
    :param stats_window_size: episodes averaged in the logs (>= 1)
    :param learning_starts: transitions in the buffer before the first gradient step (>= 0)
    :param batch_size: minibatch size (>= 1, <= buffer_size)
    :param buffer_size: replay capacity (>= 1)
    :param tau: soft update coefficient, in (0, 1]
    :param gamma: discount factor, in [0, 1]
    :param exploration_initial_eps: epsilon at step 0, in [0, 1]
    :param exploration_final_eps: asymptotic epsilon, in [0, 1] and <= exploration_initial_eps
    :param exploration_decay: decay constant in env steps (> 0)
    :param clip_grad_value: gradient value clip (> 0), or None for no clipping
    :param double_q: whether to use the Double DQN target (a bool)
    :param n_steps: steps summed in the n-step return (an integer >= 1)
    :param saved: the values of a saved model, which may also hold what RL Zoo gives the models it loads to
        evaluate and may save again (``push_to_hub``): ``learning_rate=0.0``, ``buffer_size=1`` below ``batch_size``
    """
    numeric = isinstance(learning_rate, int | float) and not isinstance(learning_rate, bool)
    if not callable(learning_rate) and not (
        numeric and (0 <= learning_rate if saved else 0 < learning_rate) and learning_rate < math.inf
    ):
        _fail(
            "learning_rate",
            learning_rate,
            "it must be a finite number > 0 or a schedule, e.g. lambda progress: 1e-4 * progress "
            f"(tutorial: {TUTORIAL.learning_rate:g})",
        )
    check_train_freq(train_freq)
    if not _is_int(gradient_steps) or (gradient_steps < 1 and gradient_steps != -1):
        _fail(
            "gradient_steps",
            gradient_steps,
            "it must be an integer >= 1, or -1 for as many gradient steps as env steps collected "
            f"(tutorial: {TUTORIAL.gradient_steps})",
        )
    if not _is_int(stats_window_size) or stats_window_size < 1:
        _fail("stats_window_size", stats_window_size, "the logging window must be an integer >= 1 episodes (default 100)")
    if not _is_int(buffer_size) or buffer_size < 1:
        _fail(
            "buffer_size",
            buffer_size,
            f"the replay buffer capacity must be an integer >= 1 (tutorial: {TUTORIAL.buffer_size:_})",
        )
    if not _is_int(batch_size) or batch_size < 1:
        _fail("batch_size", batch_size, f"the minibatch size must be an integer >= 1 (tutorial: {TUTORIAL.batch_size})")
    if not saved and batch_size > buffer_size:
        _fail("batch_size", batch_size, f"it must not exceed buffer_size={buffer_size}; lower batch_size or raise buffer_size")
    if not _is_int(learning_starts) or learning_starts < 0:
        _fail(
            "learning_starts", learning_starts, f"it must be an integer >= 0 (tutorial: {TUTORIAL.learning_starts}, one batch)"
        )
    if not _is_real(tau) or not 0.0 < tau <= 1.0:
        _fail("tau", tau, f"the soft update coefficient must lie in (0, 1]; 1 is a hard copy (tutorial: {TUTORIAL.tau})")
    if not _is_real(gamma) or not 0.0 <= gamma <= 1.0:
        _fail("gamma", gamma, f"the discount factor must lie in [0, 1] (tutorial: {TUTORIAL.gamma})")
    for name, eps in (("exploration_initial_eps", exploration_initial_eps), ("exploration_final_eps", exploration_final_eps)):
        if not _is_real(eps) or not 0.0 <= eps <= 1.0:
            _fail(
                name,
                eps,
                "a probability must lie in [0, 1] "
                f"(tutorial: initial {TUTORIAL.exploration_initial_eps}, final {TUTORIAL.exploration_final_eps})",
            )
    if exploration_initial_eps < exploration_final_eps:
        _fail(
            "exploration_initial_eps",
            exploration_initial_eps,
            f"it must be >= exploration_final_eps={exploration_final_eps} (epsilon decays from initial to final)",
        )
    if not _is_real(exploration_decay) or not exploration_decay > 0:
        _fail(
            "exploration_decay",
            exploration_decay,
            f"the decay constant must be > 0 env steps (tutorial: {TUTORIAL.exploration_decay:g})",
        )
    if clip_grad_value is not None and (not _is_real(clip_grad_value) or not clip_grad_value > 0):
        _fail(
            "clip_grad_value",
            clip_grad_value,
            f"the gradient value clip must be > 0, or None to disable (tutorial: {TUTORIAL.clip_grad_value:g})",
        )
    check_options(double_q=double_q, n_steps=n_steps)


def check_options(*, double_q: Any = TUTORIAL.double_q, n_steps: Any = TUTORIAL.n_steps, dueling: Any = False) -> None:
    """
    Raise ``ValueError`` if an option beyond the tutorial has a value of the wrong kind.

    :param double_q: whether to use the Double DQN target: ``True`` or ``False``
    :param n_steps: steps summed in the n-step return: an integer >= 1 (1: the tutorial's one-step target)
    :param dueling: whether the Q-network has a dueling head: ``True`` or ``False``
    """
    for name, flag in (("double_q", double_q), ("policy_kwargs['dueling']", dueling)):
        if not isinstance(flag, bool | np.bool_):
            _fail(name, flag, "it must be True or False (default False, the tutorial's network and target)")
    if not _is_int(n_steps) or n_steps < 1:
        _fail("n_steps", n_steps, "it must be an integer >= 1, e.g. 3 for 3-step returns (default 1, the tutorial's target)")


def check_n_step_buffer(n_steps: int, replay_buffer_class: type | None, optimize_memory_usage: bool) -> None:
    """
    n-step returns come from SB3's ``NStepReplayBuffer``, which CartDQN selects only when no ``replay_buffer_class``
    is given, and which has no memory-optimised variant.

    :param n_steps: steps summed in the n-step return
    :param replay_buffer_class: the replay buffer class chosen, if any
    :param optimize_memory_usage: whether the memory-optimised replay buffer was asked for
    """
    if n_steps == 1:
        return
    if optimize_memory_usage:
        _fail(
            "n_steps",
            n_steps,
            "SB3's n-step replay buffer has no memory-optimised variant: pass optimize_memory_usage=False, or n_steps=1",
        )
    if replay_buffer_class is not None:
        _fail(
            "n_steps",
            n_steps,
            f"n-step returns need SB3's NStepReplayBuffer, but replay_buffer_class={replay_buffer_class.__name__} was "
            "given: leave replay_buffer_class unset, or pass n_steps=1 and configure your buffer "
            "(e.g. replay_buffer_kwargs=dict(n_steps=..., gamma=...) for a NStepReplayBuffer subclass)",
        )


def check_n_step_spaces(n_steps: int, observation_space: spaces.Space) -> None:
    """
    SB3's n-step replay buffer stores array observations only (SB3 2.9 has no Dict variant).

    :param n_steps: steps summed in the n-step return
    :param observation_space: the env's observation space
    """
    if n_steps > 1 and isinstance(observation_space, spaces.Dict):
        _fail(
            "n_steps",
            n_steps,
            f"SB3's n-step replay buffer does not support Dict observations ({observation_space}): use n_steps=1, "
            "or flatten the observation with gymnasium.wrappers.FlattenObservation and use MlpPolicy",
        )


def check_action_space(action_space: spaces.Space) -> None:
    """
    CartDQN picks one of ``n`` actions: only ``Discrete`` action spaces are supported.

    :param action_space: the environment's action space
    """
    if not isinstance(action_space, spaces.Discrete):
        hint = ""
        if isinstance(action_space, spaces.Box):
            hint = " For continuous actions use SAC, TD3 or CrossQ, or discretise the actions with a wrapper."
        elif isinstance(action_space, spaces.MultiDiscrete | spaces.MultiBinary):
            hint = " Flatten the action space into one Discrete space with a wrapper, or use PPO/A2C."
        raise ValueError(
            f"CartDQN: unsupported action space {action_space}: only gymnasium.spaces.Discrete is supported.{hint}"
        )


def check_train_freq(train_freq: Any) -> None:
    """
    :param train_freq: ``n`` env steps, or ``(n, "step" | "episode")``, with ``n >= 1``
    """
    if isinstance(train_freq, tuple | list):
        unit = getattr(train_freq[1], "value", None) if len(train_freq) == 2 else None  # TrainFreq's unit
        unit = train_freq[1] if len(train_freq) == 2 and unit is None else unit
        valid = len(train_freq) == 2 and _is_int(train_freq[0]) and train_freq[0] >= 1 and unit in ("step", "episode")
    else:
        valid = _is_int(train_freq) and train_freq >= 1
    if not valid:
        _fail(
            "train_freq",
            train_freq,
            'it must be an integer >= 1 (env steps) or a tuple like (1, "step") or (2, "episode") '
            f"(tutorial: {TUTORIAL.train_freq})",
        )


def check_total_timesteps(
    total_timesteps: Any,
    learner: str = "CartDQN",
    resume: str = "model.learn(total - model.num_timesteps, reset_num_timesteps=False)",
) -> None:
    """
    ``learn(0)`` is a no-op (useful when resuming a run that already finished); negative or non-numeric counts are errors.

    :param total_timesteps: the argument given to ``learn``
    :param learner: the class whose ``learn`` got it (for the message)
    :param resume: how that class continues a run (for the message)
    """
    if not _is_real(total_timesteps) or not 0 <= total_timesteps < math.inf:
        raise ValueError(
            f"{learner}.learn: invalid total_timesteps={total_timesteps!r}: it must be a number of env steps >= 0. "
            f"To continue a run, pass the steps still to do, e.g. {resume}."
        )


def _first_non_finite(values: Any) -> tuple[str, int] | None:
    """Where ``values`` (an array, or a dict of arrays, with the env index first) holds a NaN or an infinity."""
    items = values.items() if isinstance(values, dict) else (("", values),)
    for key, array in items:
        array = np.asarray(array)
        if array.dtype.kind in "fc" and not np.isfinite(array).all():
            bad = np.flatnonzero(~np.isfinite(array.reshape(len(array), -1)).all(axis=1)) if array.ndim else [0]
            return key, int(bad[0])
    return None


def _sum_is_finite(values: Any) -> bool:
    if isinstance(values, dict):
        return all(_sum_is_finite(value) for value in values.values())
    return values.dtype.kind not in "fc" or math.isfinite(values.sum())


def check_finite(
    observations: Any, rewards: np.ndarray, dones: np.ndarray, infos: list[dict[str, Any]], num_timesteps: int
) -> None:
    """
    Raise before a NaN or infinite observation or reward reaches the replay buffer (where it would turn every
    Q-value into NaN a few gradient steps later). Costs about 5 microseconds per env step (two sums); integer
    (e.g. uint8 pixel) observations are skipped.

    :param observations: the observations the env returned (a batch, env index first)
    :param rewards: the rewards it returned
    :param dones: the done flags (the terminal observations of finished episodes are checked too)
    :param infos: the infos it returned
    :param num_timesteps: the step count, for the message
    """
    if _sum_is_finite(observations) and _sum_is_finite(rewards) and not dones.any():
        return  # the per-step fast path: one reduction per array (a sum is finite iff every term is, barring overflow)
    problems = []
    bad_reward = _first_non_finite(rewards)
    if bad_reward is not None:
        problems.append(f"reward {rewards[bad_reward[1]]} from env {bad_reward[1]}")
    bad_obs = _first_non_finite(observations)
    if bad_obs is not None:
        problems.append(f"observation{f'[{bad_obs[0]!r}]' if bad_obs[0] else ''} from env {bad_obs[1]}")
    for idx in np.flatnonzero(dones):
        terminal = infos[idx].get("terminal_observation")
        bad_terminal = (
            None
            if terminal is None
            else _first_non_finite(
                {k: v[None] for k, v in terminal.items()} if isinstance(terminal, dict) else np.asarray(terminal)[None]
            )
        )
        if bad_terminal is not None:
            problems.append(f"terminal observation from env {idx}")
    if problems:
        raise ValueError(
            f"CartDQN: the env returned a NaN or infinite value at step {num_timesteps}: {'; '.join(problems)}. "
            "Stored in the replay buffer it would make every Q-value NaN. Fix the env, clip or rescale its output "
            "(VecNormalize, gymnasium.wrappers.ClipReward), or find the step that produces it with "
            "stable_baselines3.common.vec_env.VecCheckNan(env, raise_exception=True). "
            "CartDQN(..., check_finite=False) turns this check off."
        )


def check_count(name: str, value: Any, minimum: int = 0, maximum: int | None = None) -> None:
    """
    :param name: the parameter, for the message
    :param value: an integer count (steps, episodes, envs, ...)
    :param minimum: the least value allowed
    :param maximum: the most value allowed, if any
    """
    if not _is_int(value) or value < minimum or (maximum is not None and value > maximum):
        bounds = f">= {minimum}" if maximum is None else f"between {minimum} and {maximum:_}"
        _fail(name, value, f"it must be an integer {bounds}")


def _space_elements(space: spaces.Space, name: str) -> int:
    """The elements of one (flattened, one-hot) value of ``space``, each dimension checked before multiplying."""
    if isinstance(space, spaces.Dict | spaces.Tuple):
        return sum(_space_elements(sub, name) for sub in _subspaces(space))
    if isinstance(space, spaces.Discrete):
        check_count(f"{name}.n", int(space.n), 1, MAX_SPACE_ELEMENTS)
        return int(space.n)
    if not isinstance(space, spaces.Box | spaces.MultiBinary | spaces.MultiDiscrete) or space.shape is None:
        _fail(name, space, "CartDQN loads Box, Discrete, MultiDiscrete, MultiBinary, Dict and Tuple spaces")
    for size in space.shape:  # type: ignore[union-attr]
        check_count(f"{name}.shape", size, 1, MAX_SPACE_ELEMENTS)
    elements = math.prod([int(size) for size in space.shape])  # type: ignore[union-attr, misc]
    if isinstance(space, spaces.MultiDiscrete) and elements <= MAX_SPACE_ELEMENTS:
        if space.nvec.min() < 1:
            _fail(f"{name}.nvec", space.nvec, "every entry must be >= 1")
        return int(min(float(np.sum(space.nvec, dtype=np.float64)), MAX_SPACE_ELEMENTS + 1))  # one-hot
    return elements


def _subspaces(space: spaces.Dict | spaces.Tuple) -> list[spaces.Space]:
    return list(space.spaces.values()) if isinstance(space, spaces.Dict) else list(space.spaces)


def check_space_size(space: Any, name: str) -> int:
    """
    A space whose values are too big to allocate (``Discrete(10**12)``, a Box of shape ``(10**9,)``) or empty (a
    shape with a 0) is refused before anything is allocated for it.

    :param space: an observation or action space
    :param name: which one, for the message
    :return: the elements of one of its values, flattened (a ``Discrete`` one-hot)
    """
    if not isinstance(space, spaces.Space):
        _fail(name, space, "it must be a gymnasium space")
    elements = _space_elements(space, name)
    if elements > MAX_SPACE_ELEMENTS:
        _fail(name, space, f"one value would have {elements:_} elements, more than {MAX_SPACE_ELEMENTS:_}")
    return elements


def check_network_size(
    observation_space: spaces.Space, n_actions: int, policy_kwargs: Any, default_extractor: type | None = None
) -> None:
    """
    A ``net_arch`` or ``features_dim`` too wide or too deep to allocate (``[10**9]``) is refused before any layer is
    built. The parameters after the features extractor are counted with the flattened observation as the features of
    an MLP (and of ``TutorialCNN`` without ``features_dim``, an upper bound), and the tutorial's ``net_arch`` when none
    is given to an MLP.

    :param observation_space: the observation space (its flattened size feeds the first layer of an MLP)
    :param n_actions: the Q-values the last layer outputs
    :param policy_kwargs: the policy keyword arguments (``net_arch``, ``features_extractor_class``,
        ``features_extractor_kwargs``), or None
    :param default_extractor: the policy's features extractor when ``policy_kwargs`` names none
    """
    from stable_baselines3.common.torch_layers import NatureCNN

    from sb3_cartdqn.common.torch_layers import TutorialCNN

    policy_kwargs = {} if policy_kwargs is None else policy_kwargs
    if not isinstance(policy_kwargs, dict):
        _fail("policy_kwargs", policy_kwargs, "it must be a dict or None")
    net_arch = policy_kwargs.get("net_arch")
    if net_arch is not None and (not isinstance(net_arch, list | tuple) or len(net_arch) > MAX_LAYERS):
        _fail("net_arch", net_arch, f"it must be a list of at most {MAX_LAYERS} layer widths, e.g. [128, 128]")
    for width in net_arch or []:
        check_count("net_arch[i]", width, 1, MAX_LAYER_WIDTH)
    extractor = policy_kwargs.get("features_extractor_class") or default_extractor
    extractor_kwargs = policy_kwargs.get("features_extractor_kwargs") or {}
    if not isinstance(extractor_kwargs, dict):
        _fail("features_extractor_kwargs", extractor_kwargs, "it must be a dict or None")
    cnn = isinstance(extractor, type) and issubclass(extractor, NatureCNN | TutorialCNN)
    features = check_space_size(observation_space, "observation_space")
    if "features_dim" in extractor_kwargs:
        check_count("features_extractor_kwargs['features_dim']", extractor_kwargs["features_dim"], 1, MAX_LAYER_WIDTH)
        features = extractor_kwargs["features_dim"] if cnn else features
    elif cnn and issubclass(extractor, NatureCNN):  # type: ignore[arg-type]
        features = _CNN_FEATURES
    hidden = list(net_arch) if net_arch is not None else ([] if cnn else list(TUTORIAL.net_arch))
    widths = [features, *hidden, n_actions]
    parameters = sum((inputs + 1) * outputs for inputs, outputs in itertools.pairwise(widths))
    if parameters > MAX_NETWORK_PARAMETERS:
        _fail(
            "net_arch",
            net_arch,
            f"with {features:_} input features and {n_actions:_} actions the Q-network would have {parameters:_} "
            f"parameters, more than {MAX_NETWORK_PARAMETERS:_}",
        )


def check_buffer_memory(
    buffer_size: int, n_envs: int, observation_space: spaces.Space, optimize_memory_usage: bool = False
) -> None:
    """
    A replay buffer too big for any machine (``buffer_size=10**15``) is refused before it is allocated.

    :param buffer_size: transitions kept per env
    :param n_envs: envs stepped at once
    :param observation_space: the observation space (its values are stored twice, once with
        ``optimize_memory_usage``)
    :param optimize_memory_usage: whether next observations share the storage of observations
    """
    check_space_size(observation_space, "observation_space")
    stored = sum(
        math.prod(leaf.shape or ()) * (leaf.dtype.itemsize if leaf.dtype else 8) for leaf in _leaves(observation_space)
    )
    observations = buffer_size * n_envs * stored * (1 if optimize_memory_usage else 2)
    if observations > MAX_BUFFER_BYTES:
        _fail(
            "buffer_size",
            buffer_size,
            f"{n_envs} env(s) of {observation_space} would store {observations:_} bytes of observations, more than "
            f"{MAX_BUFFER_BYTES:_}; lower buffer_size",
        )


def _leaves(space: spaces.Space) -> list[spaces.Space]:
    if isinstance(space, spaces.Dict | spaces.Tuple):
        return [leaf for sub in _subspaces(space) for leaf in _leaves(sub)]
    return [space]


def check_replay_position(buffer_size: Any, n_envs: Any, pos: Any, full: Any) -> None:
    """
    :param buffer_size: a replay buffer's capacity per env
    :param n_envs: its number of envs
    :param pos: where the next transition goes: ``0 <= pos < buffer_size``
    :param full: whether it has wrapped around: ``True`` or ``False``
    """
    check_count("buffer_size", buffer_size, 1)
    check_count("n_envs", n_envs, 1, MAX_N_ENVS)
    check_count("pos", pos, 0, buffer_size - 1)
    if not isinstance(full, bool | np.bool_):
        _fail("full", full, "it must be True or False")
