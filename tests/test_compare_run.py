import json
import os

import numpy as np
import pytest

from sb3_cartdqn.compare.algorithms import AlgorithmConfig, cartdqn_tutorial
from sb3_cartdqn.compare.run import RunTask, run_one


def make_task(config: AlgorithmConfig, run_dir: str, **kwargs) -> RunTask:
    settings = dict(
        env_id="CartPole-v1",
        seed=3,
        timesteps=300,
        eval_freq=100,
        eval_episodes=2,
        final_eval_episodes=3,
        solved_threshold=475.0,
        run_dir=run_dir,
    )
    settings.update(kwargs)
    return RunTask(algorithm=config, **settings)


def batched_task(config, seeds, run_dirs, **kwargs):
    """The runs of ``make_task`` for each seed, as one batched row."""
    from sb3_cartdqn.compare.run import BatchedRunTask

    return BatchedRunTask(
        tuple(make_task(config, run_dir, seed=seed, **kwargs) for seed, run_dir in zip(seeds, run_dirs, strict=True))
    )


def test_run_one_evaluates_on_schedule_and_writes_its_files(tmp_path):
    result = run_one(make_task(cartdqn_tutorial(), str(tmp_path / "run"), solved_threshold=5.0))
    assert result["status"] == "ok" and result["error"] is None
    curve = result["evaluations"]
    assert curve["timesteps"] == [100, 200, 300]
    assert np.all(np.diff(curve["train_seconds"]) > 0)
    assert result["train_seconds"] + result["eval_seconds"] == pytest.approx(result["learn_seconds"], rel=0.05)
    assert len(result["final_returns"]) == 3
    assert result["final_mean_return"] == pytest.approx(np.mean(result["final_returns"]))
    # every CartPole episode returns at least 8, so a threshold of 5 is reached at the first evaluation
    assert result["solved"] is True
    assert result["first_solved_timesteps"] == 100
    assert result["first_solved_train_seconds"] == curve["train_seconds"][0]
    with np.load(tmp_path / "run" / "evaluations.npz") as evaluations:
        assert evaluations["timesteps"].tolist() == [100, 200, 300]
        assert evaluations["results"].shape == (3, 2)
    assert os.path.isfile(tmp_path / "run" / "0.monitor.csv")
    with open(tmp_path / "run" / "result.json") as file:
        assert json.load(file)["final_returns"] == result["final_returns"]


def test_run_one_reports_a_crash_with_its_traceback(tmp_path):
    config = AlgorithmConfig(name="broken", algo_class=cartdqn_tutorial().algo_class, policy="MlpPolicy", kwargs={"tau": 2.0})
    result = run_one(make_task(config, str(tmp_path / "run")))
    assert result["status"] == "crashed"
    assert "Traceback" in result["error"] and "tau" in result["error"]
    assert result["evaluations"]["timesteps"] == [] and result["first_solved_timesteps"] is None
    with open(tmp_path / "run" / "result.json") as file:
        assert json.load(file)["status"] == "crashed"


def test_run_batched_gives_each_seed_run_ones_result(tmp_path):
    """A batched row: one result per seed, with run_one's fields; the final evaluation is run_one's protocol."""
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy

    from sb3_cartdqn import CartDQN
    from sb3_cartdqn.common.evaluation import COMPARISON_FINAL_EVAL_SEED_OFFSET as FINAL_EVAL_SEED_OFFSET
    from sb3_cartdqn.compare.run import run_batched

    run_dirs = (str(tmp_path / "a"), str(tmp_path / "b"))
    task = batched_task(cartdqn_tutorial(), (3, 4), run_dirs, solved_threshold=5.0, save_model=True)
    results = run_batched(task)
    assert [result["seed"] for result in results] == [3, 4]
    for result, run_dir in zip(results, run_dirs, strict=True):
        assert result["status"] == "ok" and result["batched_seeds"] == 2
        assert result["evaluations"]["timesteps"] == [100, 200, 300]
        assert np.all(np.diff(result["evaluations"]["train_seconds"]) > 0)
        assert result["first_solved_timesteps"] == 100 and result["solved"] is True
        model = CartDQN.load(os.path.join(run_dir, "model.zip"))
        env = make_vec_env("CartPole-v1", n_envs=1, seed=result["seed"] + FINAL_EVAL_SEED_OFFSET)
        returns, _ = evaluate_policy(model, env, n_eval_episodes=3, deterministic=True, return_episode_rewards=True)
        assert result["final_returns"] == [float(r) for r in returns]
        with open(os.path.join(run_dir, "result.json")) as file:
            assert json.load(file)["final_returns"] == result["final_returns"]
    # The seconds are the batch's: both seeds had trained for the same time at each evaluation
    assert results[0]["evaluations"]["train_seconds"] == results[1]["evaluations"]["train_seconds"]


def test_run_batched_reports_a_crash_for_every_seed(tmp_path):
    from sb3_cartdqn.compare.run import run_batched

    config = AlgorithmConfig(name="broken", algo_class=cartdqn_tutorial().algo_class, policy="MlpPolicy", kwargs={"tau": 2.0})
    task = batched_task(
        config, (1, 2), (str(tmp_path / "a"), str(tmp_path / "b")), timesteps=200, eval_episodes=1, final_eval_episodes=1
    )
    results = run_batched(task)
    assert [result["status"] for result in results] == ["crashed", "crashed"]
    assert "tau" in results[0]["error"] and results[1]["first_solved_timesteps"] is None


def assert_cpu_seconds_are_positive_and_at_most_wall(result: dict) -> None:
    """One torch thread: the training CPU seconds are positive and at most the training wall seconds, everywhere."""
    curve = result["evaluations"]
    assert len(curve["train_cpu_seconds"]) == len(curve["train_seconds"]) > 0
    for cpu, wall in [
        *zip(curve["train_cpu_seconds"], curve["train_seconds"], strict=True),
        (result["train_cpu_seconds"], result["train_seconds"]),
    ]:
        assert 0 < cpu <= wall + 0.01
    assert np.all(np.diff(curve["train_cpu_seconds"]) > 0)
    assert 0 <= result["eval_cpu_seconds"] <= result["eval_seconds"] + 0.01
    assert result["first_solved_train_cpu_seconds"] == curve["train_cpu_seconds"][0]


def test_run_one_evaluates_at_each_budget_multiple_and_measures_cpu_seconds(tmp_path):
    result = run_one(make_task(cartdqn_tutorial(), str(tmp_path / "run"), solved_threshold=5.0, budget_factors=(1.0, 2.0)))
    assert result["status"] == "ok", result["error"]
    assert result["timesteps"] == 600 and result["evaluations"]["timesteps"] == [100, 200, 300, 400, 500, 600]
    at_budget, at_twice = result["budgets"]
    assert (at_budget["budget_factor"], at_budget["budget_timesteps"], at_budget["timesteps"]) == (1.0, 300, 300)
    assert (at_twice["budget_factor"], at_twice["budget_timesteps"], at_twice["timesteps"]) == (2.0, 600, 600)
    for record in result["budgets"]:
        assert len(record["final_returns"]) == 3 and record["solved"] is True
        assert record["stays_solved"] is True and record["still_solved"] is True  # every episode returns > 5
    assert result["final_returns"] == at_budget["final_returns"]  # the top level is the first multiple's
    # the evaluations at 1x (during training) and the others are excluded from the training seconds
    assert result["train_seconds"] + result["eval_seconds"] == pytest.approx(result["learn_seconds"], rel=0.05)
    assert_cpu_seconds_are_positive_and_at_most_wall(result)


def test_run_batched_evaluates_at_each_budget_multiple_and_measures_cpu_seconds(tmp_path):
    from sb3_cartdqn.compare.run import run_batched

    run_dirs = (str(tmp_path / "a"), str(tmp_path / "b"))
    task = batched_task(cartdqn_tutorial(), (3, 4), run_dirs, solved_threshold=5.0, budget_factors=(1.0, 2.0))
    results = run_batched(task)
    for result in results:
        assert result["status"] == "ok", result["error"]
        assert [(r["budget_timesteps"], r["timesteps"]) for r in result["budgets"]] == [(300, 300), (600, 600)]
        assert all(len(r["final_returns"]) == 3 and r["still_solved"] for r in result["budgets"])
        assert_cpu_seconds_are_positive_and_at_most_wall(result)
    # the batch's seconds, wall-clock and CPU: the same for both seeds
    assert results[0]["evaluations"]["train_cpu_seconds"] == results[1]["evaluations"]["train_cpu_seconds"]
    assert results[0]["train_seconds"] + results[0]["eval_seconds"] == pytest.approx(results[0]["learn_seconds"], rel=0.05)


def test_batched_task_runs_differ_only_in_seed_and_run_dir(tmp_path):
    from sb3_cartdqn.compare.run import BatchedRunTask

    task = batched_task(cartdqn_tutorial(), (3, 4), ("a", "b"))
    assert task.seeds == (3, 4) and task.settings.timesteps == 300
    runs = (make_task(cartdqn_tutorial(), "a", seed=3), make_task(cartdqn_tutorial(), "b", seed=4, timesteps=400))
    with pytest.raises(ValueError, match="differ in more than seed and run_dir"):
        BatchedRunTask(runs)
    with pytest.raises(ValueError, match="at least one run"):
        BatchedRunTask(())
