"""
One run of the comparison: train one algorithm on one seed with the common evaluation protocol, then evaluate
the last policy. Meant to execute in a worker process; a crash is returned as a result, never raised.
"""

import json
import os
import time
import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common.callbacks import EvalCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

from sb3_cartdqn.batched.trainer import BatchedCartDQN
from sb3_cartdqn.common.evaluation import (
    COMPARISON_EVAL_SEED_OFFSET,
    COMPARISON_FINAL_EVAL_SEED_OFFSET,
    first_reaching,
    is_solved,
)
from sb3_cartdqn.compare.algorithms import AlgorithmConfig


class TimedEvalCallback(EvalCallback):
    """
    SB3's ``EvalCallback`` that also records, at each evaluation, the wall-clock seconds spent training so far
    (time since training started, minus the time spent in evaluations), so that algorithms can be compared against
    training time without the cost of the evaluation protocol itself.

    Takes the arguments of ``EvalCallback``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.evaluations_train_seconds: list[float] = []
        self.eval_seconds = 0.0
        self._start = 0.0

    def _on_training_start(self) -> None:
        self._start = time.perf_counter()

    @property
    def train_seconds(self) -> float:
        """Seconds since training started, evaluations excluded."""
        return time.perf_counter() - self._start - self.eval_seconds

    def _on_step(self) -> bool:
        if not (self.eval_freq > 0 and self.n_calls % self.eval_freq == 0):
            return super()._on_step()
        self.evaluations_train_seconds.append(self.train_seconds)
        start = time.perf_counter()
        continue_training = super()._on_step()
        self.eval_seconds += time.perf_counter() - start
        return continue_training


@dataclass(frozen=True)
class RunTask:
    """
    Everything one run needs (picklable, sent to a worker process).

    :param algorithm: the algorithm to train
    :param env_id: the Gymnasium env id
    :param seed: the seed of the model and the training env (evaluation envs use fixed offsets of it)
    :param timesteps: training budget in env steps
    :param eval_freq: evaluate every ``eval_freq`` env steps (counted over all training envs)
    :param eval_episodes: greedy episodes per evaluation during training
    :param final_eval_episodes: greedy episodes of the final evaluation of the last policy
    :param solved_threshold: mean return at which the task counts as solved
    :param run_dir: the run's folder (``evaluations.npz``, monitor log, ``result.json``)
    :param device: torch device
    :param save_model: also save the final model in ``run_dir``
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


@dataclass(frozen=True)
class BatchedRunTask:
    """
    The runs of one CartDQN row on every seed, trained together in one process by ``BatchedCartDQN``
    (picklable, sent to a worker process).

    :param algorithm: the CartDQN row (MlpPolicy, one training env)
    :param seeds: the seeds, one run each
    :param run_dirs: one run folder per seed
    :param kwargs: the rest of :class:`RunTask`'s fields (the same for every seed)
    """

    algorithm: AlgorithmConfig
    seeds: tuple[int, ...]
    run_dirs: tuple[str, ...]
    env_id: str
    timesteps: int
    eval_freq: int
    eval_episodes: int
    final_eval_episodes: int
    solved_threshold: float
    device: str = "cpu"
    save_model: bool = False


def first_solved(curve: dict[str, list[float]], threshold: float) -> dict[str, float | None]:
    """
    :param curve: a run's evaluations (:func:`evaluation_curve`)
    :param threshold: the solved threshold
    :return: the env steps and the training seconds at the first evaluation that reached it (None if none did)
    """
    return {
        "first_solved_timesteps": first_reaching(curve["mean_return"], threshold, curve["timesteps"]),
        "first_solved_train_seconds": first_reaching(curve["mean_return"], threshold, curve["train_seconds"]),
    }


def finished_run(
    model: Any,
    env_id: str,
    seed: int,
    n_episodes: int,
    threshold: float,
    timings: dict[str, float],
    env_kwargs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """
    The final evaluation of a run's last policy (``n_episodes`` greedy episodes on an env seeded
    ``seed + COMPARISON_FINAL_EVAL_SEED_OFFSET``) and the fields of a finished run.

    :param model: the trained model
    :param env_id: the env id
    :param seed: the run's seed
    :param n_episodes: greedy episodes of the final evaluation
    :param threshold: the mean return that counts as solved
    :param timings: ``learn_seconds``, ``train_seconds`` (evaluations excluded) and ``eval_seconds``
    :param env_kwargs: keyword arguments of ``gym.make``
    :return: the result's fields: status, steps, timings, final returns, solved
    """
    final_env = make_vec_env(env_id, n_envs=1, seed=seed + COMPARISON_FINAL_EVAL_SEED_OFFSET, env_kwargs=env_kwargs)
    returns, _ = evaluate_policy(model, final_env, n_eval_episodes=n_episodes, deterministic=True, return_episode_rewards=True)
    final_returns = np.asarray(returns, dtype=np.float64)
    return dict(
        status="ok",
        error=None,
        timesteps=int(model.num_timesteps),
        **timings,
        env_steps_per_second=model.num_timesteps / timings["train_seconds"],
        final_mean_return=float(final_returns.mean()),
        final_std_return=float(final_returns.std()),
        final_returns=final_returns.tolist(),
        solved=is_solved(final_returns.mean(), threshold),
    )


def run_one(task: RunTask) -> dict[str, Any]:
    """
    Train, evaluate, and write ``result.json`` in the run folder.

    :param task: the run
    :return: the result: status (``ok`` or ``crashed`` with its traceback), evaluation curve, final evaluation,
        timings and the derived "first evaluation at or above the threshold"
    """
    th.set_num_threads(1)
    os.makedirs(task.run_dir, exist_ok=True)
    config = task.algorithm
    result: dict[str, Any] = {"algorithm": config.name, "seed": task.seed, "env_id": task.env_id, "run_dir": task.run_dir}
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
        eval_callback = TimedEvalCallback(
            eval_env,
            n_eval_episodes=task.eval_episodes,
            eval_freq=max(task.eval_freq // config.n_envs, 1),
            log_path=task.run_dir,
            deterministic=True,
            verbose=0,
        )
        learn_start = time.perf_counter()
        model.learn(task.timesteps, callback=eval_callback)
        learn_seconds = time.perf_counter() - learn_start
        train_seconds = eval_callback.train_seconds
        if task.save_model:
            model.save(os.path.join(task.run_dir, "model"))

        timings = dict(learn_seconds=learn_seconds, train_seconds=train_seconds, eval_seconds=eval_callback.eval_seconds)
        final = finished_run(
            model, task.env_id, task.seed, task.final_eval_episodes, task.solved_threshold, timings, config.env_kwargs
        )
        result.update(final)
    except Exception:
        result.update(status="crashed", error=traceback.format_exc(), learn_seconds=time.perf_counter() - learn_start)
    result["evaluations"] = evaluation_curve(eval_callback)
    result.update(first_solved(result["evaluations"], task.solved_threshold))
    with open(os.path.join(task.run_dir, "result.json"), "w") as file:
        json.dump(result, file, indent=2)
    return result


def run_batched(task: BatchedRunTask) -> list[dict[str, Any]]:
    """
    Train the row's seeds together, then evaluate each seed's last policy as :func:`run_one` does (the seed exported
    as a CartDQN model, ``evaluate_policy`` on the same final-evaluation env). The evaluations during training are
    ``BatchedCartDQN``'s, every ``eval_freq`` steps, of all seeds at once: each on a fresh env reset with
    ``seed + COMPARISON_EVAL_SEED_OFFSET`` (``run_one``'s ``EvalCallback`` keeps one such env going from evaluation to
    evaluation). The seconds are the batch's: a seed's seconds to the threshold are the time all the seeds together
    had trained by then (evaluations excluded).

    :param task: the row's runs
    :return: one result per seed, in the order of ``task.seeds`` (``batched_seeds`` holds the batch size); a crash
        is returned for every seed, never raised
    """
    th.set_num_threads(1)
    config = task.algorithm
    results: list[dict[str, Any]] = [
        {"algorithm": config.name, "seed": seed, "env_id": task.env_id, "run_dir": run_dir, "batched_seeds": len(task.seeds)}
        for seed, run_dir in zip(task.seeds, task.run_dirs, strict=True)
    ]
    curves: list[dict[str, list[float]]] = [_empty_curve() for _ in task.seeds]
    learn_start = time.perf_counter()
    try:
        if config.n_envs != 1 or config.policy != "MlpPolicy" or config.env_kwargs:
            raise ValueError(f"{config.name}: the batched trainer runs MlpPolicy rows with one env and no env_kwargs")
        batched = BatchedCartDQN(task.env_id, task.seeds, device=task.device, **config.kwargs)
        learn_start = time.perf_counter()
        batched.learn(
            task.timesteps,
            eval_freq=task.eval_freq,
            n_eval_episodes=task.eval_episodes,
            eval_seed_offset=COMPARISON_EVAL_SEED_OFFSET,
        )
        learn_seconds = time.perf_counter() - learn_start
        train_seconds = learn_seconds - batched.eval_seconds
        for index, (result, seed) in enumerate(zip(results, task.seeds, strict=True)):
            os.makedirs(result["run_dir"], exist_ok=True)
            returns = [seed_returns[index] for _, seed_returns in batched.evaluations]
            curves[index] = {
                "timesteps": [int(step) for step, _ in batched.evaluations],
                "train_seconds": list(batched.evaluations_train_seconds),
                "mean_return": [float(values.mean()) for values in returns],
                "std_return": [float(values.std()) for values in returns],
            }
            model = batched.to_cartdqn(index)
            if task.save_model:
                model.save(os.path.join(result["run_dir"], "model"))
            timings = dict(learn_seconds=learn_seconds, train_seconds=train_seconds, eval_seconds=batched.eval_seconds)
            result.update(finished_run(model, task.env_id, seed, task.final_eval_episodes, task.solved_threshold, timings))
    except Exception:
        error = traceback.format_exc()
        for result in results:
            if result.get("status") != "ok":
                result.update(status="crashed", error=error, learn_seconds=time.perf_counter() - learn_start)
    for result, curve in zip(results, curves, strict=True):
        result["evaluations"] = curve
        result.update(first_solved(curve, task.solved_threshold))
        os.makedirs(result["run_dir"], exist_ok=True)
        with open(os.path.join(result["run_dir"], "result.json"), "w") as file:
            json.dump(result, file, indent=2)
    return results


def _empty_curve() -> dict[str, list[float]]:
    return {"timesteps": [], "train_seconds": [], "mean_return": [], "std_return": []}


def evaluation_curve(callback: TimedEvalCallback | None) -> dict[str, list[float]]:
    """
    :param callback: the run's evaluation callback (None if the run crashed before creating it)
    :return: env steps, training seconds, mean and std of the return at each evaluation
    """
    if callback is None:
        return _empty_curve()
    returns = [np.asarray(episode_returns, dtype=np.float64) for episode_returns in callback.evaluations_results]
    count = len(returns)  # an evaluation interrupted by a crash has a time but no returns
    return {
        "timesteps": [int(step) for step in callback.evaluations_timesteps[:count]],
        "train_seconds": callback.evaluations_train_seconds[:count],
        "mean_return": [float(values.mean()) for values in returns],
        "std_return": [float(values.std()) for values in returns],
    }
