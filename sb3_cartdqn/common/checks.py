"""Argument checks that fail fast, before any environment step, with messages that name the fix."""

from typing import Any

from gymnasium import spaces


def _fail(name: str, value: Any, allowed: str) -> None:
    raise ValueError(f"CartDQN: invalid {name}={value!r}: {allowed}.")


def check_hyperparameters(
    *,
    learning_starts: int,
    batch_size: int,
    buffer_size: int,
    tau: float,
    gamma: float,
    exploration_initial_eps: float,
    exploration_final_eps: float,
    exploration_decay: float,
    clip_grad_value: float | None,
) -> None:
    """
    Raise ``ValueError`` naming the parameter and its allowed values if any hyperparameter is out of range.

    :param learning_starts: transitions in the buffer before the first gradient step (>= 0)
    :param batch_size: minibatch size (>= 1, <= buffer_size)
    :param buffer_size: replay capacity (>= 1)
    :param tau: soft update coefficient, in (0, 1]
    :param gamma: discount factor, in [0, 1]
    :param exploration_initial_eps: epsilon at step 0, in [0, 1]
    :param exploration_final_eps: asymptotic epsilon, in [0, 1] and <= exploration_initial_eps
    :param exploration_decay: decay constant in env steps (> 0)
    :param clip_grad_value: gradient value clip (> 0), or None for no clipping
    """
    if not isinstance(buffer_size, int) or buffer_size < 1:
        _fail("buffer_size", buffer_size, "the replay buffer capacity must be an integer >= 1 (tutorial: 10_000)")
    if not isinstance(batch_size, int) or batch_size < 1:
        _fail("batch_size", batch_size, "the minibatch size must be an integer >= 1 (tutorial: 128)")
    if batch_size > buffer_size:
        _fail("batch_size", batch_size, f"it must not exceed buffer_size={buffer_size}; lower batch_size or raise buffer_size")
    if not isinstance(learning_starts, int) or learning_starts < 0:
        _fail("learning_starts", learning_starts, "it must be an integer >= 0 (tutorial: 128, one batch)")
    if not 0.0 < tau <= 1.0:
        _fail("tau", tau, "the soft update coefficient must lie in (0, 1]; 1 is a hard copy (tutorial: 0.005)")
    if not 0.0 <= gamma <= 1.0:
        _fail("gamma", gamma, "the discount factor must lie in [0, 1] (tutorial: 0.99)")
    for name, eps in (("exploration_initial_eps", exploration_initial_eps), ("exploration_final_eps", exploration_final_eps)):
        if not 0.0 <= eps <= 1.0:
            _fail(name, eps, "a probability must lie in [0, 1] (tutorial: initial 0.9, final 0.05)")
    if exploration_initial_eps < exploration_final_eps:
        _fail(
            "exploration_initial_eps",
            exploration_initial_eps,
            f"it must be >= exploration_final_eps={exploration_final_eps} (epsilon decays from initial to final)",
        )
    if not exploration_decay > 0:
        _fail("exploration_decay", exploration_decay, "the decay constant must be > 0 env steps (tutorial: 1000)")
    if clip_grad_value is not None and not clip_grad_value > 0:
        _fail("clip_grad_value", clip_grad_value, "the gradient value clip must be > 0, or None to disable (tutorial: 100)")


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
