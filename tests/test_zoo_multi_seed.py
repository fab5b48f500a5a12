"""The multi-seed objective of ``python -m sb3_cartdqn.zoo train -optimize --trial-seeds ...`` (zoo/multi_seed.py)."""

import optuna
import pytest
from zoo_helpers import QUICK, run_zoo

from sb3_cartdqn.zoo.cli import split_trial_seeds
from sb3_cartdqn.zoo.multi_seed import TIE_BREAK_WEIGHT, MultiSeedExperimentManager

BUDGET = 400
EVALUATIONS = 2


def test_split_trial_seeds():
    seeds, threshold, rest = split_trial_seeds(["--algo", "cartdqn", "-optimize", "--trial-seeds", "1000", "1001"])
    assert seeds == (1000, 1001) and threshold == 475.0
    # Study workers run one torch thread unless told otherwise
    assert rest == ["--algo", "cartdqn", "-optimize", "--num-threads", "1"]
    argv = ["-optimize", "--trial-seeds", "2000", "--solved-threshold", "200", "--num-threads", "2"]
    seeds, threshold, rest = split_trial_seeds(argv)
    assert (seeds, threshold, rest) == ((2000,), 200.0, ["-optimize", "--num-threads", "2"])
    assert split_trial_seeds(["--algo", "cartdqn"]) == (None, 475.0, ["--algo", "cartdqn"])


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--trial-seeds", "1000"], "add -optimize"),
        (["-optimize", "--trial-seeds", "1000", "105"], r"\[105\] are held out"),
        (["-optimize", "--trial-seeds", "3", "1000"], r"\[3\] are held out"),
        (["--solved-threshold", "400"], "add --trial-seeds"),
    ],
)
def test_split_trial_seeds_refuses(argv, message):
    with pytest.raises(SystemExit, match=message):
        split_trial_seeds(argv)


def test_configured_checks_seeds():
    manager = MultiSeedExperimentManager.configured((1000, 1001), 300.0)
    assert issubclass(manager, MultiSeedExperimentManager)
    assert (manager.trial_seeds, manager.solved_threshold) == ((1000, 1001), 300.0)
    # The base class keeps its own settings
    assert MultiSeedExperimentManager.trial_seeds == ()
    with pytest.raises(ValueError, match="distinct"):
        MultiSeedExperimentManager.configured((1000, 1000))


def _optimize(tmp_path, storage, n_trials, threshold):
    args = ["train", "--algo", "cartdqn", "--env", "CartPole-v1", *QUICK, "-optimize", "--storage", storage]
    args += ["--study-name", "s", "--n-trials", str(n_trials), "-n", str(BUDGET), "--n-evaluations", str(EVALUATIONS)]
    args += ["--eval-episodes", "2", "--sampler", "random", "--pruner", "none", "--no-optim-plots"]
    args += ["-params", "learning_starts:64", "--trial-seeds", "1000", "1001", "--solved-threshold", str(threshold)]
    return run_zoo(args, tmp_path)


def test_study_scores_every_seed_then_stops_at_a_failed_seed(tmp_path):
    storage = str(tmp_path / "study.log")

    def load() -> optuna.Study:
        return optuna.load_study(
            study_name="s", storage=optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(storage))
        )

    # Threshold 0: every seed counts as solved at its first evaluation, so each trial trains both seeds
    _optimize(tmp_path, storage, n_trials=2, threshold=0)
    trials = load().trials
    assert [t.state for t in trials] == [optuna.trial.TrialState.COMPLETE] * 2
    for trial in trials:
        finals = trial.user_attrs["final_returns"]
        assert set(finals) == {"1000", "1001"} and all(mean > 0 for mean in finals.values())
        assert trial.user_attrs["solve_steps"] == {"1000": BUDGET // EVALUATIONS, "1001": BUDGET // EVALUATIONS}
        assert trial.user_attrs["seeds_solved"] == 2 and not trial.user_attrs["value_is_upper_bound"]
        assert trial.value == pytest.approx(min(finals.values()) - TIE_BREAK_WEIGHT / EVALUATIONS)
        # Every evaluation of both seeds is reported for the pruner: seed 1000 as it is, then bounded by its final
        steps = trial.intermediate_values
        assert sorted(steps) == [0, 1, 2, 3]
        assert steps[1] == finals["1000"] and steps[3] == min(finals.values())
        assert steps[2] <= finals["1000"]

    # Trial 0's settings again, at CartPole's threshold: seed 1000 trains as before (the seed fixes the run),
    # fails to reach 475 in 400 steps, and the trial stops there with an upper bound of the minimum
    first = trials[0]
    study = load()
    study.enqueue_trial(first.params)
    _optimize(tmp_path, storage, n_trials=1, threshold=475)
    again = load().trials[-1]
    assert again.params == first.params
    assert again.user_attrs["final_returns"] == {"1000": first.user_attrs["final_returns"]["1000"]}
    assert again.user_attrs["value_is_upper_bound"] and again.user_attrs["seeds_solved"] == 0
    assert again.value == pytest.approx(first.user_attrs["final_returns"]["1000"] - TIE_BREAK_WEIGHT)
    assert sorted(again.intermediate_values) == [0, 1]
