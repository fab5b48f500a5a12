"""Optuna search space of CartDQN's own hyperparameters, in RL Zoo's sampler/converter form."""

from typing import Any

import optuna
from rl_zoo3.utils import linear_schedule

#: Hidden layer widths the sampler chooses from (two layers, as the tutorial's 4-128-128-2 network)
NET_WIDTHS = (64, 128, 256)
#: Replay capacities the sampler chooses from (the tutorial's is 10 000)
BUFFER_SIZES = (5_000, 10_000, 50_000, 100_000)
#: Gradient value clips the sampler chooses from (the tutorial's is 100; None: no clipping)
CLIP_GRAD_VALUES = (1.0, 10.0, 100.0, None)
#: Numbers of hidden layers the sampler chooses from (the tutorial's is 2)
NET_DEPTHS = (1, 2, 3)
#: Env steps between updates the sampler chooses from (the tutorial's is 1)
TRAIN_FREQS = (1, 2, 4, 8)
#: ``gradient_steps = max(train_freq // subsample_steps, 1)``, as RL Zoo's DQN sampler: from one gradient step per
#: env step (subsample 1) down to one per 8 env steps
SUBSAMPLE_STEPS = (1, 2, 4, 8)
#: n-step returns the sampler chooses from (1: the tutorial's one-step target)
N_STEPS = (1, 5)


def convert_cartdqn_params(sampled_params: dict[str, Any]) -> dict[str, Any]:
    """
    Turn the values Optuna stores for a trial (``trial.params``) into CartDQN keyword arguments.
    RL Zoo calls it to reload a trial (``--storage ... --study-name ... --trial-id N``).

    Trials of studies run before a parameter was searched lack it; the converter then leaves the CartDQN default
    (the tutorial's) in place: two hidden layers, ``train_freq=1``, ``gradient_steps=1``, no Double DQN, one-step
    targets, no dueling head.

    :param sampled_params: the trial's parameters, named as ``sample_cartdqn_params`` suggests them
    :return: CartDQN keyword arguments (``gamma``, ``batch_size``, ``policy_kwargs``, ...), as a hyperparameter file
        writes them: a linearly decaying learning rate is RL Zoo's string ``"lin_<initial value>"``
    """
    hyperparams = dict(sampled_params)
    if hyperparams.pop("lr_schedule", "constant") == "linear":
        hyperparams["learning_rate"] = f"lin_{hyperparams['learning_rate']!r}"
    hyperparams["gamma"] = 1.0 - hyperparams.pop("one_minus_gamma")
    hyperparams["batch_size"] = 2 ** hyperparams.pop("batch_size_pow")
    if "subsample_steps" in hyperparams:
        hyperparams["gradient_steps"] = max(hyperparams.get("train_freq", 1) // hyperparams.pop("subsample_steps"), 1)
    width = hyperparams.pop("net_width")
    policy_kwargs: dict[str, Any] = {"net_arch": [width] * hyperparams.pop("net_depth", 2)}
    if "dueling" in hyperparams:
        policy_kwargs["dueling"] = hyperparams.pop("dueling")
    hyperparams["policy_kwargs"] = policy_kwargs
    return hyperparams


def sample_cartdqn_params(trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict[str, Any]) -> dict[str, Any]:
    """
    Sample CartDQN hyperparameters: exploration decay and epsilon range, tau, learning rate and whether it decays
    linearly to 0 (it steadies the final policy), batch size, buffer size, network width and depth, gradient clip
    value, gamma, training frequency and gradient steps per update, and the options beyond the tutorial: Double DQN,
    n-step returns (1 to 5 steps) and the dueling head.

    :param trial: the Optuna trial to sample with
    :param n_actions: number of actions (unused: discrete actions need no action noise)
    :param n_envs: number of parallel envs (unused)
    :param additional_args: RL Zoo's extra arguments (unused: CartDQN does not support HER)
    :return: CartDQN keyword arguments, as ``convert_cartdqn_params`` makes them from ``trial.params``, except that
        a ``"lin_<value>"`` learning rate is the schedule itself (RL Zoo passes sampled values to the model as they are)
    """
    sampled = {
        "one_minus_gamma": trial.suggest_float("one_minus_gamma", 0.001, 0.05, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 1e-5, 3e-3, log=True),
        "lr_schedule": trial.suggest_categorical("lr_schedule", ("constant", "linear")),
        "batch_size_pow": trial.suggest_int("batch_size_pow", 5, 8),
        "buffer_size": trial.suggest_categorical("buffer_size", BUFFER_SIZES),
        "tau": trial.suggest_float("tau", 0.001, 1.0, log=True),
        "exploration_initial_eps": trial.suggest_float("exploration_initial_eps", 0.5, 1.0),
        "exploration_final_eps": trial.suggest_float("exploration_final_eps", 0.0, 0.1),
        "exploration_decay": trial.suggest_float("exploration_decay", 100.0, 20_000.0, log=True),
        "clip_grad_value": trial.suggest_categorical("clip_grad_value", CLIP_GRAD_VALUES),
        "net_width": trial.suggest_categorical("net_width", NET_WIDTHS),
        "net_depth": trial.suggest_categorical("net_depth", NET_DEPTHS),
        "train_freq": trial.suggest_categorical("train_freq", TRAIN_FREQS),
        "subsample_steps": trial.suggest_categorical("subsample_steps", SUBSAMPLE_STEPS),
        "double_q": trial.suggest_categorical("double_q", (False, True)),
        "n_steps": trial.suggest_int("n_steps", *N_STEPS),
        "dueling": trial.suggest_categorical("dueling", (False, True)),
    }
    hyperparams = convert_cartdqn_params(sampled)
    for name in ("gamma", "batch_size", "learning_rate", "gradient_steps"):
        trial.set_user_attr(name, hyperparams[name])
    if isinstance(hyperparams["learning_rate"], str):
        hyperparams["learning_rate"] = linear_schedule(hyperparams["learning_rate"].removeprefix("lin_"))
    return hyperparams
