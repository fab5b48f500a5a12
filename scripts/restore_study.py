"""Re-create an Optuna study from the trials table that ``examples/study_report.py`` committed (``trials.csv``).

For when the study's database is gone but its report is not: every trial comes back with its parameters (with the
distributions CartDQN's sampler uses), state, objective value, user attributes and times, so that more trials can be
added to the same study (``scripts/robust_study.sh`` with the same STUDY and a larger TRIALS) and TPE learns from the
old ones. What the table does not hold is lost: the intermediate values that the pruner compares against (new trials
are pruned against new trials only) and the step at which a pruned trial stopped (its last reported value is kept as
the user attribute ``restored_pruned_value``; TPE ranks such trials below every complete one).

    python scripts/restore_study.py docs/study/trials.csv --storage postgresql+psycopg2://postgres@127.0.0.1:5433/db \
        --study-name cartdqn-robust

The fast study (``scripts/fast_study.sh``) searched another space: add ``--sampler fast``.
"""

from __future__ import annotations

import ast
import math
from typing import Any

import optuna
import pandas as pd

from sb3_cartdqn.command_line import make_parser
from sb3_cartdqn.zoo.fast_sampler import sample_cartdqn_fast_params
from sb3_cartdqn.zoo.hyperparams_opt import sample_cartdqn_params

#: ``--sampler``: the search space the study's trials were sampled from (``fast``: ``scripts/fast_study.sh``'s)
SAMPLERS = {"default": sample_cartdqn_params, "fast": sample_cartdqn_fast_params}


def sampler_distributions(sampler: str = "default") -> dict[str, optuna.distributions.BaseDistribution]:
    """The distributions of every parameter the sampler suggests (all are unconditional)."""
    study = optuna.create_study(direction="maximize")
    trial = study.ask()
    SAMPLERS[sampler](trial, n_actions=2, n_envs=1, additional_args={})
    return dict(trial.distributions)


def _attr(value: Any) -> Any:
    """A user attribute back from its CSV text (dicts, numbers and booleans were written with their repr)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str):
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
    return value.item() if hasattr(value, "item") else value


def restore(csv_path: str, storage: str, study_name: str, sampler: str = "default") -> optuna.Study:
    table = pd.read_csv(csv_path)
    # A parameter the study fixed (e.g. the fast study's budget, with -params n_timesteps:N) is not in the table
    distributions = {
        name: distribution
        for name, distribution in sampler_distributions(sampler).items()
        if f"params_{name}" in table.columns
    }
    study = optuna.create_study(study_name=study_name, storage=storage, direction="maximize", load_if_exists=True)
    if study.trials:
        raise SystemExit(f"study {study_name!r} already has {len(study.trials)} trials: restore into an empty study")
    # A report written while workers ran lists their unfinished trials: they are not restored (they would stay RUNNING)
    table = table[~table["state"].isin(["RUNNING", "WAITING"])]
    for _, row in table.sort_values("number").iterrows():
        params = {}
        for name, distribution in distributions.items():
            value = _attr(row[f"params_{name}"])
            if isinstance(distribution, optuna.distributions.CategoricalDistribution):
                # pandas reads every categorical as a number or string; take the choice it equals
                value = next(choice for choice in distribution.choices if choice == value or str(choice) == str(value))
            elif isinstance(distribution, optuna.distributions.IntDistribution):
                value = int(value)
            params[name] = value
        state = optuna.trial.TrialState[row["state"]]
        columns = [column for column in table.columns if column.startswith("user_attrs_")]
        attrs = {column.removeprefix("user_attrs_"): _attr(row[column]) for column in columns}
        user_attrs = {name: value for name, value in attrs.items() if value is not None}
        user_attrs["restored_from"] = f"{csv_path} trial {int(row['number'])}"
        if state == optuna.trial.TrialState.PRUNED and not math.isnan(row["value"]):
            user_attrs["restored_pruned_value"] = float(row["value"])
        trial = optuna.trial.create_trial(
            state=state,
            value=float(row["value"]) if state == optuna.trial.TrialState.COMPLETE else None,
            params=params,
            distributions=distributions,
            user_attrs=user_attrs,
        )
        trial.datetime_start = pd.Timestamp(row["datetime_start"]).to_pydatetime()
        if isinstance(row["datetime_complete"], str):
            trial.datetime_complete = pd.Timestamp(row["datetime_complete"]).to_pydatetime()
        study.add_trial(trial)
    return study


def main() -> None:
    parser = make_parser(
        "python scripts/restore_study.py",
        __doc__,
        [
            "python scripts/restore_study.py docs/study/trials.csv "
            "--storage postgresql+psycopg2://postgres@127.0.0.1:5433/cartdqn_study --study-name cartdqn-robust"
        ],
    )
    parser.add_argument("csv", help="trials.csv written by examples/study_report.py")
    parser.add_argument("--storage", required=True, help="database URL of an empty or new study")
    parser.add_argument("--study-name", required=True)
    parser.add_argument("--sampler", choices=sorted(SAMPLERS), default="default", help="the study's search space")
    args = parser.parse_args()
    study = restore(args.csv, args.storage, args.study_name, args.sampler)
    states = pd.Series([trial.state.name for trial in study.trials]).value_counts().to_dict()
    print(f"restored {len(study.trials)} trials into {args.study_name!r} on {args.storage}: {states}")
    print(f"best: trial {study.best_trial.number}, value {study.best_value}")


if __name__ == "__main__":
    main()
