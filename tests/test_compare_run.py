import json
import os

import numpy as np
import pytest

from sb3_cartdqn.compare.algorithms import AlgorithmConfig, cartdqn_tutorial
from sb3_cartdqn.compare.run import RunTask, first_reaching, run_one


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


def test_first_reaching():
    assert first_reaching([10.0, 480.0, 300.0, 500.0], 475.0, [1, 2, 3, 4]) == 2.0
    assert first_reaching([10.0, 20.0], 475.0, [1, 2]) is None
    assert first_reaching([], 475.0, []) is None
