"""
The search space of the "fastest sustained solve" study (``--objective sustained-seconds``): cheap networks,
updates per env step, and the training budget itself, in RL Zoo's sampler form.

Its parameters are named as those of :func:`sb3_cartdqn.zoo.hyperparams_opt.sample_cartdqn_params` where they mean
the same, so that :func:`~sb3_cartdqn.zoo.hyperparams_opt.convert_cartdqn_params` turns a trial's values into CartDQN
arguments; the parameters only this space has (``learning_starts``, ``n_timesteps``) pass through it unchanged.
"""

from typing import Any

import optuna
from rl_zoo3.utils import linear_schedule

from sb3_cartdqn.zoo.hyperparams_opt import SUBSAMPLE_STEPS, TRAIN_FREQS, convert_cartdqn_params

#: Hidden layer widths (the tutorial's is 128); every layer of a network has the same width
FAST_NET_WIDTHS = (32, 64, 128, 256)
#: Numbers of hidden layers: [w] or [w, w] (the tutorial's 128-128 is width 128, depth 2)
FAST_NET_DEPTHS = (1, 2)
#: Gradient value clips (the tutorial's is 100; the robust preset's 1)
FAST_CLIP_GRAD_VALUES = (1.0, 10.0, 100.0)
#: Env steps of random-ish acting before the first gradient step (the tutorial's is 128, one batch)
LEARNING_STARTS = (128, 250, 500, 1000)
#: Training budgets in env steps (multiples of the 500-step evaluation period); a seed must solve within it and stay
#: solved up to twice it
BUDGETS = (5_000, 7_500, 10_000, 15_000, 20_000, 30_000)
#: Replay capacity, fixed: larger than twice the largest budget, so nothing is ever dropped (as the robust preset)
FAST_BUFFER_SIZE = 100_000


def convert_cartdqn_fast_params(sampled_params: dict[str, Any]) -> dict[str, Any]:
    """
    Turn the values Optuna stores for a trial of this space (``trial.params``) into CartDQN keyword arguments.

    :param sampled_params: the trial's parameters, named as ``sample_cartdqn_fast_params`` suggests them
    :return: ``convert_cartdqn_params``'s keyword arguments with the fixed replay capacity (``FAST_BUFFER_SIZE``),
        and ``n_timesteps`` (the budget) when the trial searched it
    """
    hyperparams = convert_cartdqn_params(sampled_params)
    hyperparams["buffer_size"] = FAST_BUFFER_SIZE
    return hyperparams


def sample_cartdqn_fast_params(
    trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict[str, Any]
) -> dict[str, Any]:
    """
    Sample CartDQN hyperparameters for a fast sustained solve: network width and depth (32 to 256 units, one or two
    layers), env steps between updates and gradient steps per update, batch size (16 to 256), n-step returns (1 to
    5), Double DQN, learning rate and whether it decays linearly, tau, gamma, gradient clip, the epsilon schedule
    (start, end, decay), ``learning_starts`` and the budget ``n_timesteps``. The replay buffer holds every
    transition (``FAST_BUFFER_SIZE``); no dueling head.

    :param trial: the Optuna trial to sample with
    :param n_actions: number of actions (unused)
    :param n_envs: number of parallel envs (unused)
    :param additional_args: RL Zoo's extra arguments; ``n_timesteps``, when there and not None, is the budget, which
        is then not searched (``-params n_timesteps:N``)
    :return: CartDQN keyword arguments plus ``n_timesteps`` (the trial's budget, which the objective takes out);
        a linear learning rate is the schedule itself
    """
    sampled = {
        "net_width": trial.suggest_categorical("net_width", FAST_NET_WIDTHS),
        "net_depth": trial.suggest_categorical("net_depth", FAST_NET_DEPTHS),
        "train_freq": trial.suggest_categorical("train_freq", TRAIN_FREQS),
        "subsample_steps": trial.suggest_categorical("subsample_steps", SUBSAMPLE_STEPS),
        "batch_size_pow": trial.suggest_int("batch_size_pow", 4, 8),
        "n_steps": trial.suggest_int("n_steps", 1, 5),
        "double_q": trial.suggest_categorical("double_q", (False, True)),
        "learning_rate": trial.suggest_float("learning_rate", 1e-4, 5e-3, log=True),
        "lr_schedule": trial.suggest_categorical("lr_schedule", ("constant", "linear")),
        "tau": trial.suggest_float("tau", 0.005, 1.0, log=True),
        "one_minus_gamma": trial.suggest_float("one_minus_gamma", 0.002, 0.05, log=True),
        "clip_grad_value": trial.suggest_categorical("clip_grad_value", FAST_CLIP_GRAD_VALUES),
        "exploration_initial_eps": trial.suggest_float("exploration_initial_eps", 0.5, 1.0),
        "exploration_final_eps": trial.suggest_float("exploration_final_eps", 0.0, 0.1),
        "exploration_decay": trial.suggest_float("exploration_decay", 100.0, 5_000.0, log=True),
        "learning_starts": trial.suggest_categorical("learning_starts", LEARNING_STARTS),
    }
    fixed_budget = additional_args.get("n_timesteps")
    if fixed_budget is None:
        sampled["n_timesteps"] = trial.suggest_categorical("n_timesteps", BUDGETS)
    hyperparams = convert_cartdqn_fast_params(sampled)
    if fixed_budget is not None:
        hyperparams["n_timesteps"] = int(fixed_budget)
    for name in ("gamma", "batch_size", "learning_rate", "gradient_steps"):
        trial.set_user_attr(name, hyperparams[name])
    if isinstance(hyperparams["learning_rate"], str):
        hyperparams["learning_rate"] = linear_schedule(hyperparams["learning_rate"].removeprefix("lin_"))
    return hyperparams
