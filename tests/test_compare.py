"""The comparison command end to end at a tiny budget: every algorithm, 2 seeds, and the files and columns it writes."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from sb3_cartdqn.common.evaluation import first_reaching
from sb3_cartdqn.compare import build_algorithms, main
from sb3_cartdqn.compare.algorithms import ALGORITHM_NAMES, find_fast_file, linear_exploration_fraction
from sb3_cartdqn.compare.report import EVALUATION_COLUMNS, median_to_threshold


def test_compare_tiny_end_to_end(tmp_path):
    out = tmp_path / "cmp"
    argv = ["--seeds", "2", "--timesteps", "1500", "--eval-freq", "500", "--eval-episodes", "2"]
    argv += ["--final-eval-episodes", "2", "--jobs", "2", "--out", str(out), "--no-progress-bar"]
    outcome = main(argv)
    # every row runs, but cartdqn-fast until the study has written its file
    skipped = outcome["meta"]["skipped"]
    assert set(skipped) == (set() if find_fast_file() else {"cartdqn-fast"})
    names = [name for name in ALGORITHM_NAMES if name not in skipped]

    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 2 * len(names)
    assert set(runs["algorithm"]) == set(names)
    assert (runs["status"] == "ok").all(), runs["error"].tolist()
    assert (runs["timesteps"] >= 1500).all()  # dqn-zoo collects 256 steps per rollout, so it may overshoot
    for column in ("final_mean_return", "final_std_return", "solved", "first_solved_timesteps", "env_steps_per_second"):
        assert column in runs.columns
    assert (runs["env_steps_per_second"] > 0).all()
    # CPU seconds beside the wall-clock seconds: positive, and at most the wall seconds (one torch thread per worker)
    assert (runs["train_cpu_seconds"] > 0).all() and (runs["train_cpu_seconds"] <= runs["train_seconds"] + 0.01).all()
    reached = runs.dropna(subset=["first_solved_train_seconds"])
    assert (reached["first_solved_train_cpu_seconds"] <= reached["first_solved_train_seconds"] + 0.01).all()
    assert (runs["budget_factor"] == 1.0).all() and (runs["budget_timesteps"] == 1500).all()

    evaluations = pd.read_csv(out / "evaluations.csv")
    assert list(evaluations.columns) == list(EVALUATION_COLUMNS)
    assert {"timesteps", "train_seconds", "train_cpu_seconds", "mean_return", "std_return"} <= set(evaluations.columns)
    assert (evaluations["train_cpu_seconds"] > 0).all()
    assert (evaluations["train_cpu_seconds"] <= evaluations["train_seconds"] + 0.01).all()
    per_run = evaluations.groupby(["algorithm", "seed"]).size()
    assert (per_run == 3).all()  # evaluations at 500, 1000, 1500 env steps

    summary = (out / "summary.md").read_text()
    for name in names:
        assert f"| {name}" in summary
    assert "seeds solved" in summary and "env steps/s" in summary and "Command: `python -m sb3_cartdqn.compare" in summary
    assert "median training CPU seconds to first eval ≥ 475" in summary and "At twice the budget" not in summary
    assert (out / "learning_curves.png").stat().st_size > 10_000

    results = json.loads((out / "results.json").read_text())
    assert results["versions"]["stable-baselines3"] and results["versions"]["torch"]
    assert [a["name"] for a in results["algorithms"]] == names
    assert "median_cpu_seconds_to_threshold" in results["summary"][0]
    zoo = {a["name"]: a for a in results["algorithms"]}
    assert "rl_zoo3" in zoo["dqn-zoo"]["source"] and zoo["dqn-zoo"]["zoo_n_timesteps"] == 50_000
    assert len(results["runs"]) == len(runs)
    assert outcome["meta"]["seeds"] == 2
    # RL Zoo's layout: EvalCallback's evaluations.npz per run
    assert np.load(out / "runs" / "cartdqn-tutorial" / "CartPole-v1_0" / "evaluations.npz")["results"].shape == (3, 2)


def test_compare_batched_rows_say_so(tmp_path):
    """--batched: CartDQN rows train their seeds together; the table and the runs say which rows ran batched."""
    out = tmp_path / "cmp"
    argv = ["--algos", "cartdqn-tutorial", "dqn-tutorial-like", "--seeds", "2", "--timesteps", "600", "--eval-freq", "300"]
    argv += ["--eval-episodes", "2", "--final-eval-episodes", "2", "--jobs", "2", "--out", str(out), "--no-progress-bar"]
    outcome = main([*argv, "--batched"])
    runs = pd.read_csv(out / "runs.csv")
    assert (runs["status"] == "ok").all(), runs["error"].tolist()
    batched = runs.set_index("algorithm")["batched_seeds"]
    assert (batched["cartdqn-tutorial"] == 2).all() and batched["dqn-tutorial-like"].isna().all()
    summary = (out / "summary.md").read_text()
    assert "2 seeds in one process (batched)" in summary and "one seed per process" in summary
    assert outcome["meta"]["batched_rows"] == ["cartdqn-tutorial"]
    assert len(pd.read_csv(out / "evaluations.csv").query("algorithm == 'cartdqn-tutorial'")) == 4


def test_compare_two_budgets_and_row_budgets(tmp_path):
    """--budget-factors 1 2 --row-budgets: each row trains to twice its own budget, one table per multiple."""
    hyperparams = tmp_path / "hyperparams"
    hyperparams.mkdir()
    fast = {"n_timesteps": 400, "policy": "MlpPolicy", "policy_kwargs": "dict(net_arch=[32, 32])"}
    (hyperparams / "cartdqn_fast.yml").write_text(yaml.safe_dump({"CartPole-v1": fast}))
    out = tmp_path / "cmp"
    argv = ["--algos", "cartdqn-fast", "dqn-tutorial-like", "--seeds", "1", "--timesteps", "300", "--budget-factors", "2", "1"]
    argv += ["--row-budgets", "--hyperparams-dir", str(hyperparams), "--eval-freq", "100", "--eval-episodes", "2"]
    argv += ["--final-eval-episodes", "2", "--jobs", "2", "--batched", "--out", str(out), "--no-progress-bar"]
    outcome = main(argv)
    assert outcome["meta"]["budget_factors"] == [1.0, 2.0]
    assert outcome["meta"]["row_budgets"] == {"cartdqn-fast": 400, "dqn-tutorial-like": 300}
    runs = pd.read_csv(out / "runs.csv").set_index(["algorithm", "budget_factor"])
    assert (runs["status"] == "ok").all(), runs["error"].tolist()
    assert runs["budget_timesteps"].to_dict() == {
        ("cartdqn-fast", 1.0): 400,
        ("cartdqn-fast", 2.0): 800,
        ("dqn-tutorial-like", 1.0): 300,
        ("dqn-tutorial-like", 2.0): 600,
    }
    assert (runs["timesteps"] == runs["budget_timesteps"]).all()  # each final evaluation at its multiple
    for column in ("stays_solved", "still_solved", "first_solved_train_cpu_seconds"):
        assert column in runs.columns
    evaluations = pd.read_csv(out / "evaluations.csv").groupby("algorithm").size().to_dict()
    assert evaluations == {"cartdqn-fast": 8, "dqn-tutorial-like": 6}  # every 100 steps to twice the budget
    summary = (out / "summary.md").read_text()
    assert "1 seeds x each row's budget" in summary
    assert "## At the budget (1x each row's budget)" in summary and "## At twice the budget (2x each row's budget)" in summary
    assert summary.count("| cartdqn-fast") == 2 and summary.count("| dqn-tutorial-like") == 2
    assert "still solved" in summary and "1 seeds in one process (batched)" in summary


def test_compare_separate_trainings(tmp_path):
    """--separate-trainings: each budget multiple is a training of its own, in its own run folder."""
    out = tmp_path / "cmp"
    argv = ["--algos", "cartdqn-tutorial", "dqn-tutorial-like", "--seeds", "1", "--timesteps", "300"]
    argv += ["--budget-factors", "1", "2", "--separate-trainings", "--eval-freq", "100", "--eval-episodes", "2"]
    argv += ["--final-eval-episodes", "2", "--jobs", "2", "--out", str(out), "--no-progress-bar"]
    outcome = main(argv)
    assert outcome["meta"]["separate_trainings"] is True and len(outcome["results"]) == 4
    runs = pd.read_csv(out / "runs.csv")
    assert (runs["status"] == "ok").all(), runs["error"].tolist()
    assert sorted(zip(runs["algorithm"], runs["budget_factor"], runs["timesteps"], strict=True)) == [
        ("cartdqn-tutorial", 1.0, 300),
        ("cartdqn-tutorial", 2.0, 600),
        ("dqn-tutorial-like", 1.0, 300),
        ("dqn-tutorial-like", 2.0, 600),
    ]
    evaluations = pd.read_csv(out / "evaluations.csv").groupby(["algorithm", "trained_to_factor"]).size()
    assert evaluations.to_dict() == {
        ("cartdqn-tutorial", 1.0): 3,
        ("cartdqn-tutorial", 2.0): 6,
        ("dqn-tutorial-like", 1.0): 3,
        ("dqn-tutorial-like", 2.0): 6,
    }
    for factor in ("1", "2"):
        assert (out / "runs" / "cartdqn-tutorial" / f"CartPole-v1_0_x{factor}" / "result.json").is_file()
    summary = (out / "summary.md").read_text()
    assert "## At the budget, a training of its own" in summary and "## At twice the budget, a training of its own" in summary


def test_zoo_settings_come_from_rl_zoo_files():
    configs, skipped = build_algorithms(["dqn-zoo", "qrdqn-zoo", "cartdqn-robust"], "CartPole-v1", 50_000)
    assert not skipped
    by_name = {config.name: config for config in configs}
    dqn = by_name["dqn-zoo"]
    assert dqn.raw_hyperparams is not None and dqn.raw_hyperparams["policy_kwargs"] == "dict(net_arch=[256, 256])"
    assert dqn.kwargs["policy_kwargs"] == dict(net_arch=[256, 256])  # evaluated as RL Zoo does
    assert callable(dqn.kwargs["learning_rate"])  # "lin_..." became RL Zoo's linear schedule
    assert "cartdqn_robust.yml" in by_name["cartdqn-robust"].source


def test_crashed_run_is_reported(tmp_path):
    """An algorithm whose construction fails shows up as a crashed run, not a missing one."""
    from sb3_cartdqn.compare.cli import run_all
    from sb3_cartdqn.compare.run import RunTask

    config = build_algorithms(["cartdqn-tutorial"], "CartPole-v1", 1000)[0][0]
    broken = type(config)(**{**config.__dict__, "kwargs": {"tau": 5.0}})
    task = RunTask(broken, "CartPole-v1", 0, 1000, 500, 1, 1, 475.0, str(tmp_path / "run"))
    (result,) = run_all([task], jobs=1, progress_bar=False)
    assert result["status"] == "crashed" and "invalid tau=5.0" in result["error"]


def test_helpers():
    assert linear_exploration_fraction(50_000) == pytest.approx(0.04)
    assert linear_exploration_fraction(1000) == 1.0
    assert first_reaching([10, 480, 500], 475, [1, 2, 3]) == 2.0
    assert first_reaching([10, 20], 475, [1, 2]) is None
    assert median_to_threshold(pd.Series([100.0, None, 300.0])) == 300.0
    assert median_to_threshold(pd.Series([100.0, None, None])) == np.inf
