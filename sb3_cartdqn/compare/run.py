"""
One run of the comparison: train one algorithm on one seed with the common evaluation protocol, and evaluate its
policy at each budget multiple (``budget_factors``: the last one after training, the others during it). Meant to
execute in a worker process; a crash is returned as a result, never raised.
"""

import json
import os
import time
import traceback
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

from sb3_cartdqn.batched.trainer import BatchedCartDQN
from sb3_cartdqn.common.evaluation import COMPARISON_EVAL_SEED_OFFSET, COMPARISON_FINAL_EVAL_SEED_OFFSET, is_solved
from sb3_cartdqn.compare.algorithms import AlgorithmConfig
from sb3_cartdqn.compare.budgets import budget_record, budget_steps, conclude, empty_curve
from sb3_cartdqn.compare.timing import BudgetEvaluations, TimedEvalCallback


@dataclass(frozen=True)
class RunTask:
    """
    Everything one run needs (picklable, sent to a worker process).

    :param algorithm: the algorithm to train
    :param env_id: the Gymnasium env id
    :param seed: the seed of the model and the training env (evaluation envs use fixed offsets of it)
    :param timesteps: training budget in env steps (the run trains ``timesteps * max(budget_factors)``)
    :param eval_freq: evaluate every ``eval_freq`` env steps (counted over all training envs)
    :param eval_episodes: greedy episodes per evaluation during training
    :param final_eval_episodes: greedy episodes of the final evaluation of the last policy
    :param solved_threshold: mean return at which the task counts as solved
    :param run_dir: the run's folder (``evaluations.npz``, monitor log, ``result.json``)
    :param device: torch device
    :param save_model: also save the final model in ``run_dir``
    :param budget_factors: the budget multiples at which the policy gets the final evaluation, ascending
    """

    algorithm: AlgorithmConfig
    env_id: str
    seed: int
    timesteps: int
    eval_freq: int
    eval_episodes: int
    final_eval_episodes: int
    solved_threshold: float
    run_dir: str
    device: str = "cpu"
    save_model: bool = False
    budget_factors: tuple[float, ...] = (1.0,)


@dataclass(frozen=True)
class BatchedRunTask:
    """
    The runs of one CartDQN row on every seed, trained together in one process by ``BatchedCartDQN``
    (picklable, sent to a worker process).

    :param runs: one :class:`RunTask` per seed, alike but for ``seed`` and ``run_dir``
    """

    runs: tuple[RunTask, ...]

    def __post_init__(self) -> None:
        if not self.runs:
            raise ValueError("BatchedRunTask needs at least one run")
        first = self.runs[0]
        for run in self.runs[1:]:
            if replace(run, seed=first.seed, run_dir=first.run_dir) != first:
                raise ValueError(
                    f"BatchedRunTask: the runs of seeds {first.seed} and {run.seed} differ in more than seed and run_dir"
                )

    @property
    def settings(self) -> RunTask:
        """What every run shares: the algorithm, env, budget and evaluation protocol (the first run)."""
        return self.runs[0]

    @property
    def algorithm(self) -> AlgorithmConfig:
        return self.settings.algorithm

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(run.seed for run in self.runs)


def final_evaluation(
    model: Any, env_id: str, seed: int, n_episodes: int, threshold: float, env_kwargs: dict[str, Any] | None = None
) -> dict[str, Any]:
    """
    The final evaluation of a run's policy: ``n_episodes`` greedy episodes on a fresh env seeded
    ``seed + COMPARISON_FINAL_EVAL_SEED_OFFSET`` (the same episodes at every budget multiple).

    :param model: the trained model
    :param env_id: the env id
    :param seed: the run's seed
    :param n_episodes: greedy episodes of the final evaluation
    :param threshold: the mean return that counts as solved
    :param env_kwargs: keyword arguments of ``gym.make``
    :return: ``final_mean_return``, ``final_std_return``, ``final_returns`` and ``solved``
    """
    final_env = make_vec_env(env_id, n_envs=1, seed=seed + COMPARISON_FINAL_EVAL_SEED_OFFSET, env_kwargs=env_kwargs)
    returns, _ = evaluate_policy(model, final_env, n_eval_episodes=n_episodes, deterministic=True, return_episode_rewards=True)
    final_returns = np.asarray(returns, dtype=np.float64)
    return dict(
        final_mean_return=float(final_returns.mean()),
        final_std_return=float(final_returns.std()),
        final_returns=final_returns.tolist(),
        solved=is_solved(final_returns.mean(), threshold),
    )


def finished_run(timesteps: int, timings: dict[str, float]) -> dict[str, Any]:
    """
    :param timesteps: the env steps the model trained
    :param timings: ``learn_seconds``, ``train_seconds`` and ``train_cpu_seconds`` (evaluations excluded),
        ``eval_seconds`` and ``eval_cpu_seconds``
    :return: the run-level fields of a finished run: status, steps, timings, env steps per training second
    """
    return dict(
        status="ok",
        error=None,
        timesteps=int(timesteps),
        **timings,
        env_steps_per_second=timesteps / timings["train_seconds"],
    )


def _write_result(result: dict[str, Any]) -> None:
    os.makedirs(result["run_dir"], exist_ok=True)
    with open(os.path.join(result["run_dir"], "result.json"), "w") as file:
        json.dump(result, file, indent=2)


def run_one(task: RunTask) -> dict[str, Any]:
    """
    Train for ``timesteps * max(budget_factors)`` env steps, evaluate at each budget multiple (the last one after
    training, as a single budget always was; the others at the first env step at or after it, during training, before
    that step's gradient steps), and write ``result.json`` in the run folder.

    :param task: the run
    :return: the result: status (``ok`` or ``crashed`` with its traceback), evaluation curve, timings, one record per
        budget multiple in ``budgets`` (final evaluation, first evaluation at or above the threshold, stayed solved,
        still solved) and the first multiple's fields at the top level
    """
    th.set_num_threads(1)
    os.makedirs(task.run_dir, exist_ok=True)
    config = task.algorithm
    steps = budget_steps(task.timesteps, task.budget_factors)
    result: dict[str, Any] = {"algorithm": config.name, "seed": task.seed, "env_id": task.env_id, "run_dir": task.run_dir}
    records: dict[float, dict[str, Any]] = {}
    eval_callback: TimedEvalCallback | None = None
    learn_start = time.perf_counter()
    try:
        env = make_vec_env(
            task.env_id, n_envs=config.n_envs, seed=task.seed, monitor_dir=task.run_dir, env_kwargs=config.env_kwargs
        )
        eval_env = make_vec_env(
            task.env_id, n_envs=1, seed=task.seed + COMPARISON_EVAL_SEED_OFFSET, env_kwargs=config.env_kwargs
        )
        model = config.algo_class(config.policy, env, seed=task.seed, device=task.device, verbose=0, **config.kwargs)  # type: ignore[call-arg]

        def evaluate_at(factor: float, step: int) -> None:
            final = final_evaluation(
                model, task.env_id, task.seed, task.final_eval_episodes, task.solved_threshold, config.env_kwargs
            )
            records[factor] = budget_record(factor, step, int(model.num_timesteps), final)

        factor_at = dict(zip(steps, task.budget_factors, strict=True))
        eval_callback = TimedEvalCallback(
            eval_env,
            n_eval_episodes=task.eval_episodes,
            eval_freq=max(task.eval_freq // config.n_envs, 1),
            log_path=task.run_dir,
            deterministic=True,
            verbose=0,
            budgets=BudgetEvaluations(steps[:-1], lambda step: evaluate_at(factor_at[step], step)),
        )
        learn_start = time.perf_counter()
        model.learn(steps[-1], callback=eval_callback)
        learn_seconds = time.perf_counter() - learn_start
        timings = dict(
            learn_seconds=learn_seconds,
            train_seconds=eval_callback.train_seconds,
            train_cpu_seconds=eval_callback.train_cpu_seconds,
            eval_seconds=eval_callback.eval_seconds,
            eval_cpu_seconds=eval_callback.eval_cpu_seconds,
        )
        if task.save_model:
            model.save(os.path.join(task.run_dir, "model"))
        evaluate_at(task.budget_factors[-1], steps[-1])
        result.update(finished_run(model.num_timesteps, timings))
    except Exception:
        result.update(status="crashed", error=traceback.format_exc(), learn_seconds=time.perf_counter() - learn_start)
    conclude(result, evaluation_curve(eval_callback), records, task.budget_factors, steps, task.solved_threshold)
    _write_result(result)
    return result


def run_batched(task: BatchedRunTask) -> list[dict[str, Any]]:
    """
    Train the row's seeds together, then evaluate each seed's policy as :func:`run_one` does (the seed exported
    as a CartDQN model, ``evaluate_policy`` on the same final-evaluation env), at each budget multiple. The evaluations
    during training are ``BatchedCartDQN``'s, every ``eval_freq`` steps, of all seeds at once: each on a fresh env
    reset with ``seed + COMPARISON_EVAL_SEED_OFFSET`` (``run_one``'s ``EvalCallback`` keeps one such env going from
    evaluation to evaluation). The seconds, wall-clock and CPU, are the batch's: a seed's seconds to the threshold are
    the time all the seeds together had trained by then (evaluations excluded).

    :param task: the row's runs
    :return: one result per seed, in the order of ``task.seeds`` (``batched_seeds`` holds the batch size); a crash
        is returned for every seed, never raised
    """
    th.set_num_threads(1)
    config, run = task.algorithm, task.settings
    steps = budget_steps(run.timesteps, run.budget_factors)
    results: list[dict[str, Any]] = [
        {
            "algorithm": config.name,
            "seed": seed_run.seed,
            "env_id": run.env_id,
            "run_dir": seed_run.run_dir,
            "batched_seeds": len(task.runs),
        }
        for seed_run in task.runs
    ]
    records: list[dict[float, dict[str, Any]]] = [{} for _ in task.seeds]
    curves: list[dict[str, list[float]]] = [empty_curve() for _ in task.seeds]
    learn_start = time.perf_counter()
    try:
        if config.n_envs != 1 or config.policy != "MlpPolicy" or config.env_kwargs:
            raise ValueError(f"{config.name}: the batched trainer runs MlpPolicy rows with one env and no env_kwargs")
        batched = BatchedCartDQN(run.env_id, task.seeds, device=run.device, **config.kwargs)

        def evaluate_at(factor: float, step: int) -> None:
            for index, seed in enumerate(task.seeds):
                model = batched.to_cartdqn(index)
                if run.save_model and factor == run.budget_factors[-1]:
                    model.save(os.path.join(results[index]["run_dir"], "model"))
                final = final_evaluation(model, run.env_id, seed, run.final_eval_episodes, run.solved_threshold)
                records[index][factor] = budget_record(factor, step, batched.num_timesteps, final)

        factor_at = dict(zip(steps, run.budget_factors, strict=True))
        budgets = BudgetEvaluations(steps[:-1], lambda step: evaluate_at(factor_at[step], step))
        learn_start = time.perf_counter()
        batched.learn(
            steps[-1],
            eval_freq=run.eval_freq,
            n_eval_episodes=run.eval_episodes,
            eval_seed_offset=COMPARISON_EVAL_SEED_OFFSET,
            after_env_step=lambda step: budgets.run_due(step, batched.clock),
        )
        learn_seconds = time.perf_counter() - learn_start
        clock = batched.clock
        timings = dict(
            learn_seconds=learn_seconds,
            train_seconds=clock.wall_seconds(),
            train_cpu_seconds=clock.cpu_seconds(),
            eval_seconds=clock.excluded_wall,
            eval_cpu_seconds=clock.excluded_cpu,
        )
        for index, result in enumerate(results):
            os.makedirs(result["run_dir"], exist_ok=True)
            returns = [seed_returns[index] for _, seed_returns in batched.evaluations]
            curves[index] = {
                "timesteps": [int(step) for step, _ in batched.evaluations],
                "train_seconds": list(batched.evaluations_train_seconds),
                "train_cpu_seconds": list(batched.evaluations_train_cpu_seconds),
                "mean_return": [float(values.mean()) for values in returns],
                "std_return": [float(values.std()) for values in returns],
            }
        evaluate_at(run.budget_factors[-1], steps[-1])
        for result in results:
            result.update(finished_run(batched.num_timesteps, timings))
    except Exception:
        error = traceback.format_exc()
        for result in results:
            if result.get("status") != "ok":
                result.update(status="crashed", error=error, learn_seconds=time.perf_counter() - learn_start)
    for result, curve, seed_records in zip(results, curves, records, strict=True):
        conclude(result, curve, seed_records, run.budget_factors, steps, run.solved_threshold)
        _write_result(result)
    return results


def evaluation_curve(callback: TimedEvalCallback | None) -> dict[str, list[float]]:
    """
    :param callback: the run's evaluation callback (None if the run crashed before creating it)
    :return: env steps, training wall-clock and CPU seconds, mean and std of the return at each evaluation
    """
    if callback is None:
        return empty_curve()
    returns = [np.asarray(episode_returns, dtype=np.float64) for episode_returns in callback.evaluations_results]
    count = len(returns)  # an evaluation interrupted by a crash has a time but no returns
    return {
        "timesteps": [int(step) for step in callback.evaluations_timesteps[:count]],
        "train_seconds": callback.evaluations_train_seconds[:count],
        "train_cpu_seconds": callback.evaluations_train_cpu_seconds[:count],
        "mean_return": [float(values.mean()) for values in returns],
        "std_return": [float(values.std()) for values in returns],
    }
