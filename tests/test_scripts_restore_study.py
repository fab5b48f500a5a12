"""scripts/restore_study.py: a study re-created from its committed trials.csv has the same trials, and can grow."""

import importlib.util
from pathlib import Path

import optuna
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
CSV = ROOT / "docs" / "study" / "trials.csv"


def _script():
    spec = importlib.util.spec_from_file_location("restore_study", ROOT / "scripts" / "restore_study.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_restore_the_committed_study(tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    study = _script().restore(str(CSV), storage, "restored")
    table = pd.read_csv(CSV)
    assert len(study.trials) == len(table)
    assert [t.state.name for t in study.trials] == list(table.sort_values("number")["state"])
    best = table[table.state == "COMPLETE"].sort_values(["value", "number"], ascending=[False, True]).iloc[0]
    assert study.best_value == pytest.approx(best["value"])
    assert study.best_trial.params["n_steps"] == best["params_n_steps"]
    assert study.best_trial.params["double_q"] == bool(best["params_double_q"])
    # the sampler continues from the restored trials with the same distributions
    trial = study.ask()
    from sb3_cartdqn.zoo import sample_cartdqn_params

    sample_cartdqn_params(trial, n_actions=2, n_envs=1, additional_args={})
    study.tell(trial, 1.0)
    assert len(study.trials) == len(table) + 1
    with pytest.raises(SystemExit, match="already has"):
        _script().restore(str(CSV), storage, "restored")


def test_restore_needs_an_empty_study(tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    optuna.create_study(study_name="busy", storage=storage).add_trial(optuna.trial.create_trial(value=0.0))
    with pytest.raises(SystemExit, match="restore into an empty study"):
        _script().restore(str(CSV), storage, "busy")
