"""examples/study_report.py: a study's trials, importances, option effects, and its best trial as a preset file."""

import json

import optuna
import pandas as pd
import pytest
import yaml
from test_examples_pixel import load_example

from sb3_cartdqn import CartDQN
from sb3_cartdqn.presets import read_preset
from sb3_cartdqn.zoo import sample_cartdqn_params


def test_report_of_a_synthetic_study(tmp_path):
    storage = str(tmp_path / "study.log")
    study = optuna.create_study(
        study_name="s",
        storage=optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(storage)),
        sampler=optuna.samplers.RandomSampler(seed=0),
        direction="maximize",
    )

    # A stand-in for the multi-seed objective: the score grows with the learning rate, half the trials solve
    def objective(trial: optuna.Trial) -> float:
        kwargs = sample_cartdqn_params(trial, n_actions=2, n_envs=1, additional_args={})
        solved = trial.number % 2 == 0
        trial.set_user_attr("final_returns", {"1000": 500.0, "1001": 500.0 if solved else 100.0})
        trial.set_user_attr("seeds_solved", 2 if solved else 1)
        return (500.0 if solved else 100.0) + trial.params["learning_rate"] - 0.05 * kwargs["tau"]

    study.optimize(objective, n_trials=12)
    zoo_report = load_example("study_report")
    out = tmp_path / "report"
    report = zoo_report.main(["--storage", storage, "--study-name", "s", "--budget", "20000", "--out", str(out)])

    assert len(pd.read_csv(out / "trials.csv")) == 12
    importances = json.loads((out / "importances.json").read_text())
    assert set(importances) == set(study.trials[0].params) and sum(importances.values()) == pytest.approx(1.0)
    best = study.best_trial
    assert report["best"].number == best.number
    # The best trial as a hyperparameter file: the default file's section updated with the trial, at the budget
    section = yaml.safe_load((out / "best.yml").read_text())["CartPole-v1"]
    assert section["n_timesteps"] == 20000 and section["learning_starts"] == 128
    preset = read_preset(out / "best.yml")
    model = CartDQN(preset.policy, "CartPole-v1", device="cpu", **preset.kwargs)
    assert model.tau == best.params["tau"] and model.buffer_size == best.params["buffer_size"]
    width = best.params["net_width"]
    assert preset.kwargs["policy_kwargs"]["net_arch"] == [width] * best.params.get("net_depth", 2)
    # Value by value: lr_schedule splits the 12 trials; 6 solved on every seed
    rows = report["effects"]["lr_schedule"]
    assert sum(row["trials"] for row in rows) == 12 and sum(row["all_seeds_solved"] for row in rows) == 6
    summary = (out / "summary.md").read_text()
    assert "12 trials (12 complete)" in summary and "Trials solved on every seed: 6" in summary
    assert (out / "history.png").stat().st_size > 1000


def test_wall_time_counts_each_run_of_the_workers():
    import datetime as dt

    report = load_example("study_report")
    day = dt.datetime(2026, 11, 24, 23, 0)

    def trial(start_minute: float, minutes: float) -> optuna.trial.FrozenTrial:
        frozen = optuna.trial.create_trial(value=1.0)
        frozen.datetime_start = day + dt.timedelta(minutes=start_minute)
        frozen.datetime_complete = frozen.datetime_start + dt.timedelta(minutes=minutes)
        return frozen

    # two overlapping workers for 30 min, then, six days later, a second run of 20 min
    trials = [trial(0, 20), trial(1, 29), trial(6 * 24 * 60, 12), trial(6 * 24 * 60 + 12.5, 7.5)]
    minutes, runs = report.active_minutes(trials)
    assert runs == 2
    assert minutes == pytest.approx(30 + 20)
