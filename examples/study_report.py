"""
Report on a multi-seed CartDQN study (``python -m sb3_cartdqn.zoo train -optimize --trial-seeds ...``) and turn its
best trial into an RL Zoo hyperparameter section.

    python examples/study_report.py --storage postgresql+psycopg2://postgres@127.0.0.1:54329/cartdqn_study \\
        --study-name cartdqn-robust --budget 20000 --out docs/study

Writes to ``--out``: ``trials.csv`` (Optuna's trials dataframe), ``importances.json`` (parameter importances of the
complete trials: Optuna's default, PED-ANOVA), ``summary.md`` (study size, wall time, the best trial,
importances, and per value of each categorical option the trials' mean score and how many solved on every seed),
``best.yml`` (the best trial as a ``CartPole-v1`` section: the default hyperparameter file's section, which the
study's trials started from, updated with the trial's converted parameters and the study's budget) and
``history.png``.

For the fast study (``--objective sustained-seconds``, ``scripts/fast_study.sh``) pass ``--sampler fast``: trials are
converted with its search space's converter, the budget is each trial's own (``--budget`` is not needed), and the
summary adds the fastest trials with their per-seed CPU seconds (``fast_study_tables``).
"""

import argparse
import json
from pathlib import Path
from typing import Any

import matplotlib
import optuna
import yaml

from sb3_cartdqn.command_line import make_parser
from sb3_cartdqn.zoo import convert_cartdqn_params, default_config_path
from sb3_cartdqn.zoo.fast_sampler import convert_cartdqn_fast_params
from sb3_cartdqn.zoo.hyperparams_files import read_hyperparams_file

matplotlib.use("Agg")

#: Categorical parameters whose effect the summary tabulates value by value, when the study searched them
OPTIONS = (
    "double_q",
    "n_steps",
    "dueling",
    "lr_schedule",
    "net_width",
    "net_depth",
    "clip_grad_value",
    "train_freq",
    "subsample_steps",
    "buffer_size",
    "batch_size_pow",
    "learning_starts",
    "n_timesteps",
)
#: ``--sampler``: the converter of each search space's trial parameters
CONVERTERS = {"default": convert_cartdqn_params, "fast": convert_cartdqn_fast_params}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = make_parser(
        "python examples/study_report.py",
        __doc__,
        [
            "python examples/study_report.py --storage postgresql+psycopg2://postgres@127.0.0.1:5433/cartdqn_study "
            "--study-name cartdqn-robust --budget 30000 --out docs/study"
        ],
    )
    parser.add_argument("--storage", required=True, help="the study's storage (URL, or a JournalStorage .log file)")
    parser.add_argument("--study-name", required=True)
    parser.add_argument("--budget", type=int, default=None, help="env steps per seed the study trained (-n)")
    parser.add_argument("--sampler", choices=sorted(CONVERTERS), default="default", help="the study's search space")
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--out", default="docs/study", help="output folder")
    return parser.parse_args(argv)


def load_study(storage: str, study_name: str) -> optuna.Study:
    """
    :param storage: a database URL, or a JournalStorage file (ending in ``.log``, as RL Zoo reads them)
    :param study_name: the study
    :return: the study
    """
    if storage.endswith(".log"):
        return optuna.load_study(
            study_name=study_name,
            storage=optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(storage)),
        )
    return optuna.load_study(study_name=study_name, storage=storage)


def best_section(trial: optuna.trial.FrozenTrial, budget: int | None, env_id: str, sampler: str = "default") -> dict[str, Any]:
    """
    :param trial: a trial of the study
    :param budget: the study's env steps per seed (None: the trial's own, its user attribute ``budget``)
    :param env_id: the env section of the default hyperparameter file the trials started from
    :param sampler: the study's search space (a key of ``CONVERTERS``)
    :return: the trial's settings as an RL Zoo hyperparameter section (``policy_kwargs`` as RL Zoo's string)
    """
    section = dict(read_hyperparams_file(default_config_path())[env_id])
    section.update(CONVERTERS[sampler](trial.params))
    if budget is None:
        budget = trial.user_attrs.get("budget", section["n_timesteps"])
    section["n_timesteps"] = budget
    if isinstance(section.get("policy_kwargs"), dict):
        section["policy_kwargs"] = "dict(" + ", ".join(f"{k}={v!r}" for k, v in section["policy_kwargs"].items()) + ")"
    return section


def _numeric_first(text: str) -> tuple[int, float, str]:
    """Sort key of parameter values written with ``repr``: numbers by value, then the others (``None``, names)."""
    try:
        return 0, float(text), ""
    except ValueError:
        return 1, 0.0, text


def option_effects(trials: list[optuna.trial.FrozenTrial], n_seeds: int) -> dict[str, list[dict[str, Any]]]:
    """
    :param trials: complete trials
    :param n_seeds: seeds per trial
    :return: for each searched categorical option, per value: trials, mean and best score, trials solved on every seed
    """
    effects = {}
    for name in OPTIONS:
        values = sorted({repr(t.params[name]) for t in trials if name in t.params}, key=_numeric_first)
        if not values:
            continue
        rows = []
        for value in values:
            group = [t for t in trials if repr(t.params.get(name)) == value]
            scores = [float(t.value) for t in group if t.value is not None]
            rows.append(
                {
                    "value": value,
                    "trials": len(group),
                    "mean_score": sum(scores) / len(scores),
                    "best_score": max(scores),
                    "all_seeds_solved": sum(t.user_attrs.get("seeds_solved", 0) == n_seeds for t in group),
                }
            )
        effects[name] = rows
    return effects


def active_minutes(trials: list[optuna.trial.FrozenTrial], gap_minutes: float = 10.0) -> tuple[float, int]:
    """
    :param trials: the study's trials
    :param gap_minutes: a pause longer than this between trials separates two runs of the workers (e.g. days apart)
    :return: the summed wall time of the runs (each from its first trial's start to its last trial's end), in
        minutes, and the number of runs
    """
    spans = sorted((t.datetime_start, t.datetime_complete) for t in trials if t.datetime_start and t.datetime_complete)
    runs: list[list[Any]] = []
    for start, end in spans:
        if runs and (start - runs[-1][1]).total_seconds() <= gap_minutes * 60:
            runs[-1][1] = max(runs[-1][1], end)
        else:
            runs.append([start, end])
    return sum((end - start).total_seconds() for start, end in runs) / 60, len(runs)


def _failure(attrs: dict[str, Any], seed: str) -> str:
    """:return: how a seed of a sustained-seconds trial failed, from the trial's user attributes"""
    status = attrs["seed_status"][seed]
    if status == "fell_off":
        return f"fell_off at {attrs['trained_steps'][seed]} (475 at {attrs['solve_steps'][seed]})"
    best = attrs.get("best_returns", {}).get(seed)
    return status if best is None else f"{status} (best {best:g})"


def fast_study_tables(trials: list[optuna.trial.FrozenTrial], top: int = 15) -> list[str]:
    """
    :param trials: the study's trials
    :param top: how many of the best complete trials to list
    :return: Markdown lines for a study scored by the time to a sustained solve (``--objective sustained-seconds``):
        the best complete trials with each seed's outcome and CPU seconds, and how many trials ended each way
    """
    scored = [t for t in trials if "sustained_seconds" in t.user_attrs]
    if not scored:
        return []
    complete = sorted(
        (t for t in scored if t.state == optuna.trial.TrialState.COMPLETE and t.value is not None),
        key=lambda t: -float(t.value),  # type: ignore[arg-type]
    )
    lines = [
        f"## The {min(top, len(complete))} best complete trials",
        "",
        "Score: -(1000 x failed seeds + 500 x mean shortfall of the failed seeds + the slowest seed's CPU seconds "
        "to a sustained solve) (`sb3_cartdqn/zoo/sustained_solve.py`). Per seed: CPU seconds of training to the "
        "first greedy evaluation >= 475 (evaluations excluded) and its env steps, or how it failed (`fell_off at "
        "N (475 at M)`: first >= 475 at M env steps, below it at N, before twice the budget; `unsolved (best R)`: "
        "no evaluation >= 475 by the budget).",
        "",
        "| trial | score | budget | seeds: seconds (steps) | net | train_freq / gradient_steps | batch | n_steps "
        "| double_q | lr | wall s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for t in complete[:top]:
        attrs, params = t.user_attrs, t.params
        seeds = ", ".join(
            f"{seed}: {seconds:.2f} s ({attrs['solve_steps'][seed]})"
            if seconds is not None
            else f"{seed}: {_failure(attrs, seed)}"
            for seed, seconds in attrs["sustained_seconds"].items()
        )
        net = "x".join([str(params.get("net_width"))] * int(params.get("net_depth", 2)))
        lines.append(
            f"| {t.number} | {float(t.value):.2f} | {attrs.get('budget')} | {seeds} | {net} "  # type: ignore[arg-type]
            f"| {params.get('train_freq')} / {attrs.get('gradient_steps')} | {attrs.get('batch_size')} "
            f"| {params.get('n_steps')} | {params.get('double_q')} | {attrs.get('learning_rate')} "
            f"| {attrs.get('wall_seconds')} |"
        )
    solved_all = sum(t.user_attrs.get("seeds_failed", 1) == 0 for t in complete)
    lines += ["", f"Complete trials with every seed sustained: {solved_all} of {len(complete)}.", ""]
    return lines


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    study = load_study(args.storage, args.study_name)
    study.trials_dataframe().to_csv(out / "trials.csv", index=False)
    complete = study.get_trials(states=[optuna.trial.TrialState.COMPLETE])
    states = {state.name: len(study.get_trials(states=[state])) for state in optuna.trial.TrialState}
    wall_minutes, n_runs = active_minutes(study.trials)
    restored = sum("restored_from" in t.user_attrs for t in study.trials)
    n_seeds = max(len(t.user_attrs.get("final_returns", {})) for t in complete)
    # PED-ANOVA (Optuna's default evaluator; fANOVA would need scikit-learn)
    try:
        importances = optuna.importance.get_param_importances(study)
    except (RuntimeError, ValueError) as error:  # too few complete trials yet
        print(f"No parameter importances: {error}")
        importances = {}
    (out / "importances.json").write_text(json.dumps(importances, indent=2))
    effects = option_effects(complete, n_seeds)
    best = study.best_trial
    section = best_section(best, args.budget, args.env, args.sampler)
    (out / "best.yml").write_text(yaml.safe_dump({args.env: section}, sort_keys=False))
    optuna.visualization.matplotlib.plot_optimization_history(study).figure.savefig(out / "history.png", dpi=110)

    lines = [
        f"# Study `{args.study_name}`",
        "",
        f"{len(study.trials)} trials ({', '.join(f'{n} {s.lower()}' for s, n in states.items() if n)}), "
        + (f"{args.budget:,} env steps per seed" if args.budget else "each trial's own budget")
        + f", {n_seeds} seeds per trial, wall time {wall_minutes:.1f} min "
        f"(first start to last finish of each of its {n_runs} run(s) of workers"
        + (f"; {restored} trials restored from a report by scripts/restore_study.py" if restored else "")
        + "). Trials solved on every seed: "
        f"{sum(t.user_attrs.get('seeds_solved', 0) == n_seeds for t in complete)}.",
        "",
        f"Best: trial {best.number}, score {best.value:.4f}, final returns {best.user_attrs.get('final_returns')}, "
        f"first evaluation >= threshold at {best.user_attrs.get('solve_steps')} env steps.",
        "",
        "```yaml",
        yaml.safe_dump({args.env: section}, sort_keys=False).rstrip(),
        "```",
        "",
        *fast_study_tables(study.trials),
        "## Parameter importances (complete trials)",
        "",
        "| parameter | importance (PED-ANOVA) |",
        "| --- | --- |",
    ]
    for name, value in importances.items():
        lines.append(f"| {name} | {value:.3f} |")
    lines += ["", "## Options, value by value (complete trials)", ""]
    for name, rows in effects.items():
        lines += [f"`{name}`:", "", "| value | trials | mean score | best score | solved on every seed |"]
        lines.append("| --- | --- | --- | --- | --- |")
        for row in rows:
            lines.append(
                f"| {row['value']} | {row['trials']} | {row['mean_score']:.1f} | {row['best_score']:.2f} "
                f"| {row['all_seeds_solved']} |"
            )
        lines.append("")
    (out / "summary.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return {"best": best, "section": section, "importances": importances, "effects": effects, "states": states}


if __name__ == "__main__":
    main()
