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

from sb3_cartdqn.compare.algorithms import AlgorithmConfig

# Seed offsets of the evaluation envs, so that they never replay the training env's episodes
EVAL_SEED_OFFSET = 1_000
FINAL_EVAL_SEED_OFFSET = 2_000


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


def first_reaching(values: list[float], threshold: float, at: list[float]) -> float | None:
    """
    :param values: evaluation means, in order
    :param threshold: the level to reach
    :param at: the position (env steps, seconds) of each evaluation
    :return: the position of the first evaluation with ``value >= threshold``, or None if none reached it
    """
    reached = np.flatnonzero(np.asarray(values, dtype=np.float64) >= threshold)
    return float(at[reached[0]]) if len(reached) else None


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
        eval_env = make_vec_env(task.env_id, n_envs=1, seed=task.seed + EVAL_SEED_OFFSET, env_kwargs=config.env_kwargs)
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

        final_env = make_vec_env(task.env_id, n_envs=1, seed=task.seed + FINAL_EVAL_SEED_OFFSET, env_kwargs=config.env_kwargs)
        returns, _ = evaluate_policy(
            model, final_env, n_eval_episodes=task.final_eval_episodes, deterministic=True, return_episode_rewards=True
        )
        final_returns = np.asarray(returns, dtype=np.float64)
        result.update(
            status="ok",
            error=None,
            timesteps=int(model.num_timesteps),
            learn_seconds=learn_seconds,
            train_seconds=train_seconds,
            eval_seconds=eval_callback.eval_seconds,
            env_steps_per_second=model.num_timesteps / train_seconds,
            final_mean_return=float(final_returns.mean()),
            final_std_return=float(final_returns.std()),
            final_returns=final_returns.tolist(),
            solved=bool(final_returns.mean() >= task.solved_threshold),
        )
    except Exception:
        result.update(status="crashed", error=traceback.format_exc(), learn_seconds=time.perf_counter() - learn_start)
    result["evaluations"] = evaluation_curve(eval_callback)
    curve = result["evaluations"]
    result["first_solved_timesteps"] = first_reaching(curve["mean_return"], task.solved_threshold, curve["timesteps"])
    result["first_solved_train_seconds"] = first_reaching(curve["mean_return"], task.solved_threshold, curve["train_seconds"])
    with open(os.path.join(task.run_dir, "result.json"), "w") as file:
        json.dump(result, file, indent=2)
    return result


def evaluation_curve(callback: TimedEvalCallback | None) -> dict[str, list[float]]:
    """
    :param callback: the run's evaluation callback (None if the run crashed before creating it)
    :return: env steps, training seconds, mean and std of the return at each evaluation
    """
    if callback is None:
        return {"timesteps": [], "train_seconds": [], "mean_return": [], "std_return": []}
    returns = [np.asarray(episode_returns, dtype=np.float64) for episode_returns in callback.evaluations_results]
    count = len(returns)  # an evaluation interrupted by a crash has a time but no returns
    return {
        "timesteps": [int(step) for step in callback.evaluations_timesteps[:count]],
        "train_seconds": callback.evaluations_train_seconds[:count],
        "mean_return": [float(values.mean()) for values in returns],
        "std_return": [float(values.std()) for values in returns],
    }
