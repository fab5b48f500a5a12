"""The multi-seed objective of ``python -m sb3_cartdqn.zoo train -optimize --trial-seeds ...`` (zoo/multi_seed.py)."""

import optuna
import pytest
from zoo_helpers import QUICK, run_zoo

from sb3_cartdqn.zoo.cli import split_trial_seeds
from sb3_cartdqn.zoo.multi_seed import TIE_BREAK_WEIGHT, MultiSeedExperimentManager

BUDGET = 400
EVALUATIONS = 2


def test_split_trial_seeds():
    settings, rest = split_trial_seeds(["--algo", "cartdqn", "-optimize", "--trial-seeds", "1000", "1001"])
    assert settings == {"trial_seeds": (1000, 1001)}
    # Study workers run one torch thread unless told otherwise
    assert rest == ["--algo", "cartdqn", "-optimize", "--num-threads", "1"]
    argv = ["-optimize", "--trial-seeds", "2000", "--solved-threshold", "200", "--last-evaluations", "2"]
    settings, rest = split_trial_seeds([*argv, "--num-threads", "2"])
    assert settings == {"trial_seeds": (2000,), "solved_threshold": 200.0, "last_evaluations": 2}
    assert rest == ["-optimize", "--num-threads", "2"]
    assert split_trial_seeds(["--algo", "cartdqn"]) == (None, ["--algo", "cartdqn"])
    settings, _ = split_trial_seeds(["-optimize", "--trial-seeds", "1000", "--batch-seeds"])
    assert settings == {"trial_seeds": (1000,), "batch_seeds": True}


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--trial-seeds", "1000"], "add -optimize"),
        (["-optimize", "--trial-seeds", "1000", "105"], r"\[105\] are held out"),
        (["-optimize", "--trial-seeds", "3", "1000"], r"\[3\] are held out"),
        (["--solved-threshold", "400"], "add --trial-seeds"),
        (["--last-evaluations", "2"], "add --trial-seeds"),
        (["--batch-seeds"], "add --trial-seeds"),
    ],
)
def test_split_trial_seeds_refuses(argv, message):
    with pytest.raises(SystemExit, match=message):
        split_trial_seeds(argv)


def test_configured_checks_seeds():
    manager = MultiSeedExperimentManager.configured((1000, 1001), 300.0, 2)
    assert issubclass(manager, MultiSeedExperimentManager)
    assert (manager.trial_seeds, manager.solved_threshold, manager.last_evaluations) == ((1000, 1001), 300.0, 2)
    # The base class keeps its own settings
    assert (MultiSeedExperimentManager.trial_seeds, MultiSeedExperimentManager.last_evaluations) == ((), 1)
    with pytest.raises(ValueError, match="distinct"):
        MultiSeedExperimentManager.configured((1000, 1000))
    with pytest.raises(ValueError, match="at least 1"):
        MultiSeedExperimentManager.configured((1000,), last_evaluations=0)


def _optimize(tmp_path, storage, n_trials, threshold, last_evaluations, extra=()):
    args = ["train", "--algo", "cartdqn", "--env", "CartPole-v1", *QUICK, "-optimize", "--storage", storage]
    args += ["--study-name", "s", "--n-trials", str(n_trials), "-n", str(BUDGET), "--n-evaluations", str(EVALUATIONS)]
    args += ["--eval-episodes", "2", "--sampler", "random", "--pruner", "none", "--no-optim-plots"]
    args += ["-params", "learning_starts:64", "--trial-seeds", "1000", "1001", "--solved-threshold", str(threshold)]
    args += ["--last-evaluations", str(last_evaluations), *extra]
    return run_zoo(args, tmp_path)


def test_study_scores_every_seed_then_stops_at_a_failed_seed(tmp_path):
    storage = str(tmp_path / "study.log")

    def load() -> optuna.Study:
        return optuna.load_study(
            study_name="s", storage=optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(storage))
        )

    # Threshold 0: every seed counts as solved at its first evaluation, so each trial trains both seeds.
    # A seed's score: the smaller of its 2 evaluations (the last one after the full budget)
    _optimize(tmp_path, storage, n_trials=2, threshold=0, last_evaluations=2)
    trials = load().trials
    assert [t.state for t in trials] == [optuna.trial.TrialState.COMPLETE] * 2
    for trial in trials:
        finals, scores = trial.user_attrs["final_returns"], trial.user_attrs["seed_scores"]
        assert set(finals) == set(scores) == {"1000", "1001"} and all(mean > 0 for mean in finals.values())
        assert all(scores[seed] <= finals[seed] for seed in scores)
        assert trial.user_attrs["solve_steps"] == {"1000": BUDGET // EVALUATIONS, "1001": BUDGET // EVALUATIONS}
        assert trial.user_attrs["seeds_solved"] == 2 and not trial.user_attrs["value_is_upper_bound"]
        assert trial.value == pytest.approx(min(scores.values()) - TIE_BREAK_WEIGHT / EVALUATIONS)
        # Every evaluation of both seeds is reported for the pruner: seed 1000's as they are, then seed 1001's bounded
        # by seed 1000's score
        steps = trial.intermediate_values
        assert sorted(steps) == [0, 1, 2, 3]
        assert steps[1] == finals["1000"] and scores["1000"] == min(steps[0], steps[1])
        assert steps[3] == min(scores["1000"], finals["1001"]) and steps[2] <= scores["1000"]

    # Trial 0's settings again, at CartPole's threshold: seed 1000 trains as before (the seed fixes the run),
    # fails to reach 475 in 400 steps, and the trial stops there with an upper bound of the minimum
    first = trials[0]
    study = load()
    study.enqueue_trial(first.params)
    _optimize(tmp_path, storage, n_trials=1, threshold=475, last_evaluations=1)
    again = load().trials[-1]
    assert again.params == first.params
    assert again.user_attrs["final_returns"] == {"1000": first.user_attrs["final_returns"]["1000"]}
    assert again.user_attrs["value_is_upper_bound"] and again.user_attrs["seeds_solved"] == 0
    assert again.value == pytest.approx(first.user_attrs["final_returns"]["1000"] - TIE_BREAK_WEIGHT)
    assert sorted(again.intermediate_values) == [0, 1]


def test_batched_trials_train_the_seeds_together(tmp_path):
    storage = str(tmp_path / "study.log")
    _optimize(tmp_path, storage, n_trials=1, threshold=0, last_evaluations=2, extra=["--batch-seeds"])
    journal = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(storage))
    (trial,) = optuna.load_study(study_name="s", storage=journal).trials
    assert trial.state == optuna.trial.TrialState.COMPLETE and trial.user_attrs["batched"]
    finals, scores = trial.user_attrs["final_returns"], trial.user_attrs["seed_scores"]
    assert set(finals) == set(scores) == {"1000", "1001"} and all(scores[s] <= finals[s] for s in scores)
    assert trial.user_attrs["solve_steps"] == {"1000": BUDGET // EVALUATIONS, "1001": BUDGET // EVALUATIONS}
    assert not trial.user_attrs["value_is_upper_bound"]
    assert trial.value == pytest.approx(min(scores.values()) - TIE_BREAK_WEIGHT / EVALUATIONS)
    # One report per evaluation of the batch: the minimum over seeds; the last one is after the full budget
    steps = trial.intermediate_values
    assert sorted(steps) == [0, 1] and steps[1] == min(finals.values())
