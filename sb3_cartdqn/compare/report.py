"""
Aggregate the runs of a comparison: per-run tables (CSV, one row per run and budget multiple), the per-algorithm
markdown table of each budget multiple and the learning curves.
"""

import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pytablewriter import MarkdownTableWriter

RUN_COLUMNS = (
    "algorithm",
    "seed",
    "budget_factor",
    "budget_timesteps",
    "status",
    "timesteps",
    "final_mean_return",
    "final_std_return",
    "solved",
    "stays_solved",
    "still_solved",
    "first_solved_timesteps",
    "first_solved_train_seconds",
    "first_solved_train_cpu_seconds",
    "train_seconds",
    "train_cpu_seconds",
    "eval_seconds",
    "eval_cpu_seconds",
    "learn_seconds",
    "env_steps_per_second",
    "batched_seeds",
    "error",
)
EVALUATION_COLUMNS = (
    "algorithm",
    "seed",
    "trained_to_factor",
    "timesteps",
    "train_seconds",
    "train_cpu_seconds",
    "mean_return",
    "std_return",
)
SUMMARY_COLUMNS = (
    "algorithm",
    "budget_factor",
    "budget_timesteps",
    "runs",
    "crashed",
    "final_mean",
    "final_std",
    "seeds_solved",
    "median_steps_to_threshold",
    "median_seconds_to_threshold",
    "median_cpu_seconds_to_threshold",
    "seeds_reaching_threshold",
    "seeds_staying_solved",
    "seeds_still_solved",
    "env_steps_per_second",
    "ran_as",
)


def last_line(error: str | None) -> str | None:
    """:return: the last line of a traceback (the exception), None for None"""
    return error.strip().splitlines()[-1] if error else error


def runs_frame(results: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """
    :param results: run results (see ``run_one``)
    :return: one row per run and budget multiple (a result's ``budgets``; a result without them is one row at
        ``budget_factor`` 1), columns ``RUN_COLUMNS`` (the last line of a crash's traceback in ``error``)
    """
    rows = []
    for result in results:
        for record in result.get("budgets") or [{"budget_factor": 1.0}]:
            merged = {**result, **record}
            row = {column: merged.get(column) for column in RUN_COLUMNS}
            row["error"] = last_line(row["error"])
            rows.append(row)
    return pd.DataFrame(rows, columns=list(RUN_COLUMNS))


def evaluations_frame(results: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """
    :param results: run results
    :return: one row per evaluation of each run, columns ``EVALUATION_COLUMNS`` (``trained_to_factor``: the budget
        multiple the run trained to, which tells the trainings of ``--separate-trainings`` apart)
    """
    frames = [
        pd.DataFrame(
            {
                "algorithm": result["algorithm"],
                "seed": result["seed"],
                "trained_to_factor": result.get("trained_to_factor", 1.0),
                **result["evaluations"],
            }
        )
        for result in results
        if result["evaluations"]["timesteps"]
    ]
    if not frames:
        return pd.DataFrame(columns=list(EVALUATION_COLUMNS))
    return pd.concat(frames, ignore_index=True).reindex(columns=list(EVALUATION_COLUMNS))


def median_to_threshold(values: pd.Series) -> float:
    """
    Median over all seeds of the position of the first evaluation at or above the threshold, counting seeds that
    never reached it as infinitely late (so the median is infinite when half of the seeds or more never reached it).

    :param values: one value per seed, NaN/None for seeds that never reached the threshold
    :return: the median (``inf`` if not reached by enough seeds, NaN if there are no seeds)
    """
    array = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    if len(array) == 0:
        return float("nan")
    return float(np.median(np.where(np.isnan(array), np.inf, array)))


def summarize(runs: pd.DataFrame, algorithms: Sequence[str]) -> pd.DataFrame:
    """
    Per-algorithm summary of the runs at each budget multiple. Crashed runs count in ``runs`` and ``crashed`` and as
    unsolved seeds; the final return statistics are over the runs that finished.

    :param runs: the frame of :func:`runs_frame`
    :param algorithms: the algorithms, in table order
    :return: one row per budget multiple and algorithm, columns ``SUMMARY_COLUMNS``
    """
    return pd.DataFrame(
        [
            _summary_row(name, factor, runs[(runs["algorithm"] == name) & (runs["budget_factor"] == factor)])
            for factor in sorted(runs["budget_factor"].unique())
            for name in algorithms
        ],
        columns=list(SUMMARY_COLUMNS),
    )


def _summary_row(name: str, factor: float, group: pd.DataFrame) -> dict[str, Any]:
    """The summary of one algorithm's runs (``group``) at one budget multiple."""
    finished = group[group["status"] == "ok"]
    final = finished["final_mean_return"].to_numpy(dtype=np.float64)
    batch_sizes = pd.to_numeric(group["batched_seeds"], errors="coerce").dropna()
    ran_as = f"{int(batch_sizes.max())} seeds in one process (batched)" if len(batch_sizes) else "one seed per process"
    budgets = pd.to_numeric(group["budget_timesteps"], errors="coerce").dropna()
    return {
        "algorithm": name,
        "budget_factor": factor,
        "budget_timesteps": int(budgets.max()) if len(budgets) else None,
        "ran_as": ran_as,
        "runs": len(group),
        "crashed": int((group["status"] != "ok").sum()),
        "final_mean": float(np.mean(final)) if len(final) else float("nan"),
        "final_std": float(np.std(final)) if len(final) else float("nan"),
        "seeds_solved": int(finished["solved"].astype(bool).sum()),
        "median_steps_to_threshold": median_to_threshold(group["first_solved_timesteps"]),
        "median_seconds_to_threshold": median_to_threshold(group["first_solved_train_seconds"]),
        "median_cpu_seconds_to_threshold": median_to_threshold(group["first_solved_train_cpu_seconds"]),
        "seeds_reaching_threshold": int(group["first_solved_timesteps"].notna().sum()),
        "seeds_staying_solved": _count_true(finished["stays_solved"]),
        "seeds_still_solved": _count_true(finished["still_solved"]),
        "env_steps_per_second": float(np.mean(finished["env_steps_per_second"].to_numpy(dtype=np.float64)))
        if len(finished)
        else float("nan"),
    }


def _count_true(values: pd.Series) -> int:
    """:return: how many of ``values`` are true (None, NaN: false)"""
    return sum(bool(value == 1) for value in values)


def _number(value: float, digits: int = 0) -> str:
    if np.isnan(value):
        return "n/a"
    if np.isinf(value):
        return "not reached"
    return f"{value:,.{digits}f}"


def markdown_table(summary: pd.DataFrame, threshold: float) -> str:
    """
    :param summary: the frame of :func:`summarize` at one budget multiple
    :param threshold: the solved threshold (for the headers)
    :return: the summary as a markdown table
    """
    headers = [
        "algorithm",
        "budget (env steps)",
        "final greedy return, mean ± std over seeds",
        f"seeds solved (final mean ≥ {threshold:g})",
        f"stays solved (every eval after the first ≥ {threshold:g} stays ≥ {threshold:g})",
        "still solved (solved and stays solved)",
        f"median env steps to first eval ≥ {threshold:g}",
        f"median training seconds (wall-clock) to first eval ≥ {threshold:g}",
        f"median training CPU seconds to first eval ≥ {threshold:g}",
        "env steps/s",
        "crashed runs",
        "ran as (batched: seconds, wall-clock and CPU, and steps/s are the whole batch's)",
    ]
    rows = []
    for row in summary.itertuples(index=False):
        finished = row.runs - row.crashed
        rows.append(
            [
                row.algorithm,
                _number(float("nan") if row.budget_timesteps is None else float(row.budget_timesteps)),
                f"{_number(row.final_mean, 1)} ± {_number(row.final_std, 1)}",
                f"{row.seeds_solved}/{row.runs}",
                f"{row.seeds_staying_solved}/{row.runs}",
                f"{row.seeds_still_solved}/{row.runs}",
                f"{_number(row.median_steps_to_threshold)} ({row.seeds_reaching_threshold}/{row.runs} reached)",
                f"{_number(row.median_seconds_to_threshold, 1)}",
                f"{_number(row.median_cpu_seconds_to_threshold, 1)}",
                _number(row.env_steps_per_second),
                f"{row.crashed}" if finished or not row.runs else f"{row.crashed} (all)",
                row.ran_as,
            ]
        )
    writer = MarkdownTableWriter(headers=headers, value_matrix=rows, margin=1)
    return writer.dumps()


def _stack(curves: Sequence[Sequence[float]]) -> np.ndarray:
    """Stack curves of different lengths (a crashed run stops early) into a NaN-padded (runs, evaluations) array."""
    length = max(len(curve) for curve in curves)
    array = np.full((len(curves), length), np.nan)
    for index, curve in enumerate(curves):
        array[index, : len(curve)] = curve
    return array


def plot_learning_curves(evaluations: pd.DataFrame, algorithms: Sequence[str], threshold: float, title: str = "") -> Figure:
    """
    Mean evaluation return across seeds (line) and its standard deviation (band), against env steps (left) and
    against training wall-clock seconds (right, the mean across seeds of the time at each evaluation).

    :param evaluations: the frame of :func:`evaluations_frame`
    :param algorithms: the algorithms, in legend order
    :param threshold: the solved threshold (dashed line)
    :param title: figure title
    :return: the figure
    """
    fig = Figure(figsize=(13, 5), dpi=100)
    ax_steps, ax_seconds = fig.subplots(1, 2, sharey=True)
    for name in algorithms:
        group = evaluations[evaluations["algorithm"] == name]
        if group.empty:
            continue
        seeds = [seed_group for _, seed_group in group.groupby("seed")]
        returns = _stack([seed_group["mean_return"].to_numpy() for seed_group in seeds])
        steps = _stack([seed_group["timesteps"].to_numpy() for seed_group in seeds])
        seconds = _stack([seed_group["train_seconds"].to_numpy() for seed_group in seeds])
        mean, std = np.nanmean(returns, axis=0), np.nanstd(returns, axis=0)
        label = f"{name} ({len(seeds)} seeds)"
        for ax, x in ((ax_steps, np.nanmean(steps, axis=0)), (ax_seconds, np.nanmean(seconds, axis=0))):
            (line,) = ax.plot(x, mean, label=label, linewidth=1.8)
            ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.15)
    for ax, xlabel in ((ax_steps, "env steps"), (ax_seconds, "training wall-clock seconds (evaluations excluded)")):
        ax.axhline(threshold, color="gray", linestyle="--", linewidth=1)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    ax_steps.set_ylabel("greedy evaluation return (mean ± std over seeds)")
    ax_steps.legend(loc="upper left", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def budget_heading(factor: float, meta: dict[str, Any]) -> str:
    """
    :param factor: a budget multiple
    :param meta: the invocation's record (``timesteps``, ``row_budgets``, ``separate_trainings``)
    :return: the heading of that multiple's table
    """
    name = {1.0: "At the budget", 2.0: "At twice the budget"}.get(factor, f"At {factor:g}x the budget")
    if meta.get("separate_trainings"):
        name += ", a training of its own"
    if meta.get("row_budgets"):
        return f"{name} ({factor:g}x each row's budget)"
    return f"{name} ({factor:g}x {meta['timesteps']:,} = {round(factor * meta['timesteps']):,} env steps)"


def write_report(out: str, results: Sequence[dict[str, Any]], meta: dict[str, Any]) -> dict[str, str]:
    """
    Write ``runs.csv``, ``evaluations.csv``, ``summary.md``, ``learning_curves.png`` and ``results.json`` in ``out``.

    :param out: the invocation's folder
    :param results: all run results (crashed ones included)
    :param meta: the invocation's record (command, versions, settings, ``algorithms`` in order, ``solved_threshold``,
        ``timesteps``, ``row_budgets``)
    :return: ``{kind: path}`` of the written files, and the markdown tables (one per budget multiple, each under its
        heading) under ``table``
    """
    algorithms = [record["name"] for record in meta["algorithms"]]
    threshold = float(meta["solved_threshold"])
    runs = runs_frame(results)
    evaluations = evaluations_frame(results)
    summary = summarize(runs, algorithms)
    table = "\n".join(
        f"## {budget_heading(factor, meta)}\n\n{markdown_table(summary[summary['budget_factor'] == factor], threshold)}"
        for factor in summary["budget_factor"].unique()
    )
    paths = {
        "runs": os.path.join(out, "runs.csv"),
        "evaluations": os.path.join(out, "evaluations.csv"),
        "summary": os.path.join(out, "summary.md"),
        "figure": os.path.join(out, "learning_curves.png"),
        "results": os.path.join(out, "results.json"),
    }
    runs.to_csv(paths["runs"], index=False)
    evaluations.to_csv(paths["evaluations"], index=False)
    budget = "each row's budget" if meta.get("row_budgets") else f"{meta['timesteps']:,} env steps"
    title = f"{meta['env_id']}: {meta['seeds']} seeds x {budget}"
    longest = evaluations[evaluations["trained_to_factor"] == evaluations["trained_to_factor"].max()]  # one curve per seed
    plot_learning_curves(longest, algorithms, threshold, title).savefig(paths["figure"])
    lines = [f"# {title}", "", table, ""]
    crashed = [result for result in results if result["status"] != "ok"]
    for name, reason in meta.get("skipped", {}).items():
        lines.append(f"- skipped `{name}`: {reason}")
    for result in crashed:
        lines.append(f"- crashed `{result['algorithm']}` seed {result['seed']}: {last_line(result['error'])}")
    lines += ["", f"Command: `{meta['command']}`", ""]
    with open(paths["summary"], "w") as file:
        file.write("\n".join(lines))
    with open(paths["results"], "w") as file:
        summary_records = json.loads(summary.to_json(orient="records"))  # inf and NaN become null
        json.dump({**meta, "summary": summary_records, "runs": list(results)}, file, indent=1)
    return {**paths, "table": table}
