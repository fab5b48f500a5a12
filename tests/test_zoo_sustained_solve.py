"""The "time to a sustained solve" objective (zoo/sustained_solve.py) and its search space (zoo/fast_sampler.py)."""

import importlib.util
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import optuna
import pandas as pd
import pytest
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv
from zoo_helpers import QUICK, run_zoo

from sb3_cartdqn import CartDQN
from sb3_cartdqn.zoo.cli import split_trial_seeds
from sb3_cartdqn.zoo.fast_sampler import BUDGETS, FAST_BUFFER_SIZE, sample_cartdqn_fast_params
from sb3_cartdqn.zoo.objectives import objective_manager
from sb3_cartdqn.zoo.sustained_solve import (
    FAILURE_SECONDS,
    FELL_OFF,
    RUNNING,
    SHORTFALL_SECONDS,
    SUSTAINED,
    UNSOLVED,
    ProgressReporter,
    SustainedSolveCallback,
    SustainedSolveExperimentManager,
    failure_shortfall,
    seed_status,
    solve_index,
    sustained_score,
)

ROOT = Path(__file__).resolve().parent.parent


def test_seed_status():
    budget, threshold = 1000, 475.0
    assert seed_status([], threshold, budget) == RUNNING
    assert seed_status([(500, 100.0)], threshold, budget) == RUNNING
    assert seed_status([(500, 100.0), (1000, 474.9)], threshold, budget) == UNSOLVED
    # Solved at the budget: still running until twice the budget, then sustained
    assert seed_status([(500, 100.0), (1000, 475.0), (1500, 500.0)], threshold, budget) == RUNNING
    assert seed_status([(500, 480.0), (1000, 500.0), (1500, 475.0), (2000, 500.0)], threshold, budget) == SUSTAINED
    # Any later evaluation below the threshold: fell off, even if it solves again after
    assert seed_status([(500, 480.0), (1000, 300.0)], threshold, budget) == FELL_OFF
    assert seed_status([(500, 480.0), (1000, 300.0), (1500, 500.0), (2000, 500.0)], threshold, budget) == FELL_OFF
    # Dips before the first solve do not count
    assert seed_status([(500, 480.0 - 200), (1000, 480.0), (1500, 476.0), (2000, 500.0)], threshold, budget) == SUSTAINED


def test_settled_rule():
    budget, threshold = 1000, 475.0
    # A dip before the budget moves the solve to the start of the run that holds through the budget
    history = [(500, 480.0), (1000, 300.0), (1500, 480.0), (2000, 500.0), (2500, 490.0)]
    assert solve_index(history, threshold, 1500, settled=False) == 0
    assert solve_index(history, threshold, 1500, settled=True) == 2
    assert solve_index(history[:2], threshold, 1500, settled=True) is None  # not at the budget yet
    assert seed_status(history[:4], threshold, 1500, settled=False) == FELL_OFF
    assert seed_status(history[:4], threshold, 1500, settled=True) == RUNNING
    # Below the threshold at the budget: unsolved, whatever came before
    assert seed_status([(500, 500.0), (1000, 474.0)], threshold, budget, settled=True) == UNSOLVED
    # After the budget, any dip fails
    assert seed_status([(500, 500.0), (1000, 480.0), (1500, 400.0)], threshold, budget, settled=True) == FELL_OFF
    held = [(500, 100.0), (1000, 480.0), (1500, 500.0), (2000, 480.0)]
    assert seed_status(held, threshold, budget, settled=True) == SUSTAINED
    # Shortfall of a fall: share of B..2B held
    fell = [(500, 500.0), (1000, 480.0), (1500, 400.0)]
    assert failure_shortfall(fell, threshold, budget, settled=True) == pytest.approx(0.25)


def test_sustained_score_orders_failures_then_shortfall_then_seconds():
    all_solved_slow = sustained_score([900.0, 2.0, 3.0])
    all_solved_fast = sustained_score([1.0, 2.0, 3.0])
    one_failed_close = sustained_score([None, 10.0, 0.1], [0.1])
    one_failed_fast = sustained_score([None, 0.1, 0.1], [0.9])
    one_failed_slow = sustained_score([None, 10.0, 0.1], [0.9])
    two_failed = sustained_score([None, None, 0.1], [0.0, 0.0])
    all_failed = sustained_score([None, None, None], [1.0, 1.0, 1.0])
    # The slowest seed counts
    assert all_solved_fast == -3.0
    assert all_solved_fast > all_solved_slow > one_failed_close > one_failed_fast > one_failed_slow > two_failed
    assert two_failed > all_failed == -3 * FAILURE_SECONDS - SHORTFALL_SECONDS
    # However slow the successes and however far the failures, one more failure always costs more
    assert sustained_score([5_000.0, 1.0]) > sustained_score([None, 0.0], [0.0])
    assert sustained_score([None, 5_000.0], [1.0]) > sustained_score([None, None], [0.0, 0.0])
    # Without shortfalls, each failed seed counts as never close
    assert sustained_score([None, 2.0]) == sustained_score([None, 2.0], [1.0])


def test_failure_shortfall():
    budget, threshold = 1000, 400.0
    # Never solved: 1 - 0.5 * best return by the budget / threshold (later evaluations do not count)
    assert failure_shortfall([(500, 0.0), (1000, 100.0), (1500, 450.0)], threshold, budget) == pytest.approx(0.875)
    assert failure_shortfall([], threshold, budget) == 1.0
    # Fell off: 0.5 * (1 - share of the steps from the solve (500) to twice the budget that it held)
    assert failure_shortfall([(500, 400.0), (1000, 450.0), (1500, 20.0)], threshold, budget) == pytest.approx(1 / 6)
    assert failure_shortfall([(500, 400.0), (1000, 20.0)], threshold, budget) == pytest.approx(1 / 3)
    assert 0 < failure_shortfall([(1000, 400.0), (1500, 20.0)], threshold, budget) < 0.5


class ScriptedEpisodes(gym.Env):
    """An env whose n-th finished episode lasts ``lengths[n]`` steps (one reward each), whatever the actions."""

    observation_space = gym.spaces.Box(-np.inf, np.inf, (4,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, lengths, burn_seconds=0.0):
        self.lengths, self.burn_seconds = list(lengths), burn_seconds
        self.finished, self.t = 0, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(4, np.float32), {}

    def step(self, action):
        end = time.process_time() + self.burn_seconds
        while time.process_time() < end:
            pass
        self.t += 1
        done = self.t >= self.lengths[min(self.finished, len(self.lengths) - 1)]
        self.finished += done
        return np.zeros(4, np.float32), 1.0, done, False, {}


def _train(eval_lengths, threshold, budget, burn_seconds=0.0, n_eval_episodes=2, settled=False):
    model = CartDQN("MlpPolicy", "CartPole-v1", learning_starts=100, seed=0, policy_kwargs={"net_arch": [16]})
    eval_env = DummyVecEnv([lambda: Monitor(ScriptedEpisodes(eval_lengths, burn_seconds))])
    callback = SustainedSolveCallback(eval_env, threshold, budget, n_eval_episodes=n_eval_episodes, settled=settled)
    model.learn(2 * budget, callback=callback)
    return model, callback


def test_callback_stops_when_the_outcome_is_certain():
    # Two episodes per evaluation. Solved at 500 (returns 10), then 3 < 5 at 1000: fell off, training stops there
    model, callback = _train([10, 10, 3, 3, 10], threshold=5.0, budget=1000)
    assert callback.status == FELL_OFF and model.num_timesteps == 1000
    assert callback.history == [(500, 10.0), (1000, 3.0)]
    assert callback.solve_steps == 500 and callback.solve_seconds is not None
    # Never solved: stops at the budget, not at twice it
    model, callback = _train([3], threshold=5.0, budget=1000)
    assert callback.status == UNSOLVED and model.num_timesteps == 1000 and callback.solve_seconds is None
    # Solved at 500 and held: trains to twice the budget
    model, callback = _train([10], threshold=5.0, budget=500)
    assert callback.status == SUSTAINED and model.num_timesteps == 1000
    assert [steps for steps, _ in callback.history] == [500, 1000]
    # The settled rule: the dip at 1000 (before the budget 1500) does not fail; solved from 1500 on
    model, callback = _train([10, 10, 3, 3, 10], threshold=5.0, budget=1500, settled=True)
    assert callback.status == SUSTAINED and model.num_timesteps == 3000
    assert callback.solve_steps == 1500 and callback.first_solve[0] == 500
    assert callback.solve_seconds == callback.history_seconds[2] > callback.first_solve[1]


def test_cpu_seconds_exclude_evaluations():
    # Each evaluation step burns 20 ms of CPU: about 2 x 2 x 10 x 20 ms = 0.8 s in the two evaluations (large beside
    # the CPU-time noise of a loaded machine, which the last comparison must stay clear of)
    start = time.process_time()
    _, callback = _train([10], threshold=5.0, budget=500, burn_seconds=0.02)
    total = time.process_time() - start
    assert callback.eval_seconds >= 2 * 2 * 10 * 0.02
    # The clock at the last evaluation: everything else the process did in learn(), evaluations taken out
    assert 0 < callback.train_seconds < total - callback.eval_seconds + 0.01
    assert callback.solve_seconds is not None and callback.solve_seconds <= callback.train_seconds
    # ... and it does not grow with the evaluations' cost
    _, cheap = _train([10], threshold=5.0, budget=500)
    assert callback.train_seconds < cheap.train_seconds + callback.eval_seconds / 2


def test_progress_reporter_fills_every_cpu_second_step():
    study = optuna.create_study(direction="maximize")
    trial = study.ask()
    reporter = ProgressReporter(trial, threshold=475.0, bucket_seconds=0.5)
    assert reporter(500, 100.0, 0.2)  # step 0
    assert reporter(1000, 50.0, 0.4)  # still step 0: not reported again
    assert reporter(1500, 600.0, 1.6)  # step 3, capped at the threshold; steps 1 and 2 keep the earlier progress
    reporter.next_seed()
    assert reporter(500, 200.0, 0.5)  # second seed: clock 2.1 s (step 4), progress 475 + 200
    frozen = study.trials[0]
    assert frozen.intermediate_values == {0: 100.0, 1: 100.0, 2: 100.0, 3: 475.0, 4: 675.0}
    # The settled rule counts a seed's latest evaluation, not its best (an early lucky 475 does not count)
    trial = study.ask()
    reporter = ProgressReporter(trial, threshold=475.0, bucket_seconds=0.5, use_best=False)
    reporter(500, 480.0, 0.2)
    reporter(1000, 30.0, 0.6)
    reporter.next_seed()
    reporter(500, 50.0, 0.5)
    assert study.trials[1].intermediate_values == {0: 475.0, 1: 30.0, 2: 80.0}


def test_sampler_space_and_fixed_budget():
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    architectures = set()
    for _ in range(40):
        trial = study.ask()
        kwargs = sample_cartdqn_fast_params(trial, 2, 1, {})
        assert kwargs["n_timesteps"] in BUDGETS and kwargs["buffer_size"] == FAST_BUFFER_SIZE
        assert 1 <= kwargs["gradient_steps"] <= kwargs["train_freq"]
        architectures.add(tuple(kwargs["policy_kwargs"]["net_arch"]))
        study.tell(trial, 0.0)
    assert {(128, 128), (64, 64), (32, 32), (64,), (128,), (256, 256)} <= architectures
    trial = study.ask()
    kwargs = sample_cartdqn_fast_params(trial, 2, 1, {"n_timesteps": 1500})
    assert kwargs["n_timesteps"] == 1500 and "n_timesteps" not in trial.params


def test_objective_flags():
    settings, _ = split_trial_seeds(["-optimize", "--trial-seeds", "2000", "--objective", "sustained-seconds"])
    assert settings == {"trial_seeds": (2000,), "objective": "sustained-seconds"}
    manager = objective_manager(settings)
    assert issubclass(manager, SustainedSolveExperimentManager) and manager.trial_seeds == (2000,)
    with pytest.raises(SystemExit, match="does not take --batch-seeds"):
        objective_manager({**settings, "batch_seeds": True})
    with pytest.raises(SystemExit, match="add --trial-seeds"):
        split_trial_seeds(["-optimize", "--objective", "sustained-seconds"])
    # The fast study's verification seeds are held out
    with pytest.raises(SystemExit, match=r"\[3049\] are held out"):
        split_trial_seeds(["-optimize", "--trial-seeds", "2000", "3049"])
    # and so are the fast preset's
    with pytest.raises(SystemExit, match=r"\[4000\] are held out"):
        split_trial_seeds(["-optimize", "--trial-seeds", "2000", "4000"])


def _load(name, folder):
    spec = importlib.util.spec_from_file_location(name, ROOT / folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("objective", ["sustained-seconds", "settled-seconds"])
def test_tiny_study_end_to_end(tmp_path, objective):
    storage = str(tmp_path / "study.log")
    args = ["train", "--algo", "cartdqn", "--env", "CartPole-v1", *QUICK, "-optimize", "--storage", storage]
    args += ["--study-name", "s", "--n-trials", "2", "--eval-episodes", "2", "--sampler", "random"]
    args += ["--pruner", "median", "--no-optim-plots", "-params", "n_timesteps:500"]
    args += ["--trial-seeds", "2000", "2001", "--objective", objective]
    run_zoo(args, tmp_path)
    study = optuna.load_study(
        study_name="s", storage=optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(storage))
    )
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE] * 2
    for trial in study.trials:
        attrs = trial.user_attrs
        assert "n_timesteps" not in trial.params and attrs["budget"] == 500
        assert set(attrs["seed_status"]) == {"2000", "2001"}
        assert set(attrs["seed_status"].values()) <= {SUSTAINED, FELL_OFF, UNSOLVED}
        for seed, status in attrs["seed_status"].items():
            # evaluated every 500 steps, never past twice the budget; stopped at the budget when unsolved
            assert attrs["trained_steps"][seed] == {UNSOLVED: 500, SUSTAINED: 1000}.get(status, 1000)
            assert (attrs["sustained_seconds"][seed] is None) == (status != SUSTAINED)
        expected = sustained_score(list(attrs["sustained_seconds"].values()), attrs["shortfalls"])
        assert trial.value == pytest.approx(expected, abs=1e-2)
        assert len(attrs["shortfalls"]) == attrs["seeds_failed"] and set(attrs["best_returns"]) == {"2000", "2001"}
        assert set(attrs["first_solve_steps"]) == {"2000", "2001"}
        assert attrs["train_cpu_seconds"] > 0 and attrs["eval_cpu_seconds"] >= 0
        # progress reported on the CPU-time steps
        assert trial.intermediate_values and min(trial.intermediate_values) == 0

    # The report and the restore handle the study
    out = tmp_path / "report"
    _load("study_report", "examples").main(["--storage", storage, "--study-name", "s", "--sampler", "fast", "--out", str(out)])
    summary = (out / "summary.md").read_text()
    assert "best complete trials" in summary and "each trial's own budget" in summary
    assert "n_timesteps: 500\n" in (out / "best.yml").read_text()
    restored = _load("restore_study", "scripts").restore(
        str(out / "trials.csv"), f"sqlite:///{tmp_path / 'r.db'}", "r", sampler="fast"
    )
    assert [t.value for t in restored.trials] == pytest.approx([t.value for t in study.trials])
    assert len(pd.read_csv(out / "trials.csv")) == 2
