"""
The evaluation rules every command follows, written once: which seed an evaluation env gets, what mean return
counts as solved, when a run first reached it, whether it stayed solved after, how one trained model is evaluated,
and the table of a preset's verification.
"""

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor

#: A run with seed ``s`` is evaluated on an env seeded ``s + EVAL_SEED_OFFSET``, so that its episodes differ from
#: training's: the final evaluation of ``python -m sb3_cartdqn.main`` and ``python -m sb3_cartdqn.batched``
#: (:func:`evaluate_greedy`, ``BatchedCartDQN.evaluate``), ``BatchedCartDQN.learn``'s evaluations and those of the
#: multi-seed Optuna objective (``zoo/multi_seed.py``)
EVAL_SEED_OFFSET = 10_000
#: The comparison (``python -m sb3_cartdqn.compare``) evaluates during training on an env seeded
#: ``s + COMPARISON_EVAL_SEED_OFFSET`` ...
COMPARISON_EVAL_SEED_OFFSET = 1_000
#: ... and the last policy on another one, seeded ``s + COMPARISON_FINAL_EVAL_SEED_OFFSET``
COMPARISON_FINAL_EVAL_SEED_OFFSET = 2_000


def solved_threshold(env_id: str, threshold: float | None = None) -> float:
    """
    The mean return at or above which a run counts as solved: ``threshold`` when one is given, else the env's
    registered ``reward_threshold`` (``gym.spec(env_id).reward_threshold``: 475 for CartPole-v1 and the pixel ids).
    Fallback: an env that registers no ``reward_threshold`` has no default, and a ``ValueError`` asks for one.

    :param env_id: the Gymnasium env id
    :param threshold: the threshold the user chose, if any
    :return: the threshold
    """
    if threshold is not None:
        return float(threshold)
    registered = gym.spec(env_id).reward_threshold
    if registered is None:
        raise ValueError(
            f"{env_id} registers no reward_threshold: pass the solved threshold (--solved-threshold, or --threshold)"
        )
    return float(registered)


def is_solved(mean_return: float, threshold: float) -> bool:
    """
    :param mean_return: the mean return of an evaluation's greedy episodes
    :param threshold: the solved threshold (:func:`solved_threshold`)
    :return: whether that evaluation counts as solved (at or above the threshold)
    """
    return bool(mean_return >= threshold)


def first_solved_index(values: Sequence[float], threshold: float) -> int | None:
    """
    :param values: evaluation means, in order
    :param threshold: the level to reach
    :return: the index of the first evaluation that :func:`is_solved` at ``threshold``, or None if none reached it
    """
    reached = np.flatnonzero(np.asarray(values, dtype=np.float64) >= threshold)
    return int(reached[0]) if len(reached) else None


def first_reaching(values: Sequence[float], threshold: float, at: Sequence[float]) -> float | None:
    """
    :param values: evaluation means, in order
    :param threshold: the level to reach
    :param at: the position (env steps, seconds) of each evaluation
    :return: the position of the first evaluation that :func:`is_solved` at ``threshold``, or None if none reached it
    """
    first = first_solved_index(values, threshold)
    return None if first is None else float(at[first])


def stays_solved(values: Sequence[float], threshold: float) -> bool:
    """
    "Stays solved": some evaluation reached the threshold and every later one stayed at or above it
    (:func:`is_solved` at each), so a run that never reached it does not stay solved.

    :param values: evaluation means, in order (those up to the step the question is asked at)
    :param threshold: the solved threshold
    :return: whether the run stayed solved from its first evaluation at the threshold on
    """
    first = first_solved_index(values, threshold)
    return first is not None and bool(np.all(np.asarray(values[first:], dtype=np.float64) >= threshold))


def still_solved(final_mean_return: float | None, values: Sequence[float], threshold: float) -> bool:
    """
    "Still solved" at a budget: the final greedy evaluation there :func:`is_solved` and the evaluations during training
    up to it :func:`stays_solved`.

    :param final_mean_return: the mean return of the final evaluation at that budget (None: there was none)
    :param values: the evaluation means during training, in order, up to that budget
    :param threshold: the solved threshold
    :return: whether both hold
    """
    return final_mean_return is not None and is_solved(final_mean_return, threshold) and stays_solved(values, threshold)


def evaluate_greedy(model: BaseAlgorithm, env_id: str, seed: int, n_eval_episodes: int) -> np.ndarray:
    """
    The final evaluation of one trained model: ``evaluate_policy(deterministic=True)`` on a fresh env whose first
    reset is seeded ``seed + EVAL_SEED_OFFSET`` (``evaluate_policy``'s own first reset continues its random stream).
    ``BatchedCartDQN.evaluate`` plays the same episodes for all its seeds at once.

    :param model: the trained model
    :param env_id: the Gymnasium env id
    :param seed: the run's seed
    :param n_eval_episodes: greedy episodes
    :return: the return of each episode
    """
    env = Monitor(gym.make(env_id))
    env.reset(seed=seed + EVAL_SEED_OFFSET)
    returns, _ = evaluate_policy(model, env, n_eval_episodes=n_eval_episodes, deterministic=True, return_episode_rewards=True)
    env.close()
    return np.asarray(returns, dtype=np.float64)


def verification_table(results: list[dict[str, Any]], seeds: Sequence[int], threshold: float) -> str:
    """
    A markdown table of a preset's verification: one row per seed, one column per budget (the final greedy mean
    return, ✓ when solved), and the number of seeds solved per budget.

    :param results: one dict per (seed, budget) with ``seed``, ``budget_factor`` (None for the preset's budget),
        ``n_timesteps``, ``mean_return`` and ``solved``
    :param seeds: the seeds, in the table's order
    :param threshold: the mean return that counts as solved
    :return: the table
    """
    budgets = sorted({(r["budget_factor"], r["n_timesteps"]) for r in results}, key=lambda b: b[0] or 1.0)
    by_key = {(r["seed"], r["budget_factor"]): r for r in results}
    header = [f"{steps:,} steps" + ("" if factor is None else f" ({factor:g}x)") for factor, steps in budgets]
    lines = ["| seed | " + " | ".join(header) + " |", "| --- |" + " --- |" * len(budgets)]
    for seed in seeds:
        cells = []
        for factor, _ in budgets:
            result = by_key[(seed, factor)]
            cells.append(f"{result['mean_return']:.1f}{' ✓' if result['solved'] else ''}")
        lines.append(f"| {seed} | " + " | ".join(cells) + " |")
    solved = [sum(by_key[(seed, factor)]["solved"] for seed in seeds) for factor, _ in budgets]
    lines.append(f"| solved (≥ {threshold:g}) | " + " | ".join(f"**{n}/{len(seeds)}**" for n in solved) + " |")
    return "\n".join(lines) + "\n"
