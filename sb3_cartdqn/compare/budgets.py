"""
A run's results at each budget multiple (``--budget-factors``): the final greedy evaluation there and what the
evaluations during training up to it say (first evaluation at the threshold, stayed solved, still solved).
"""

from collections.abc import Sequence
from typing import Any

from sb3_cartdqn.common.evaluation import first_reaching, stays_solved, still_solved

#: Fields of a result that describe the whole run, not one budget (a budget's record never overrides them)
RUN_LEVEL_KEYS = ("status", "error", "timesteps")


def budget_steps(timesteps: int, factors: Sequence[float]) -> list[int]:
    """
    :param timesteps: the row's budget
    :param factors: the budget multiples
    :return: the env steps of each multiple (rounded)
    """
    return [round(timesteps * factor) for factor in factors]


def empty_curve() -> dict[str, list[float]]:
    """:return: the evaluation curve of a run that made no evaluation"""
    return {"timesteps": [], "train_seconds": [], "train_cpu_seconds": [], "mean_return": [], "std_return": []}


def first_solved(curve: dict[str, list[float]], threshold: float) -> dict[str, float | None]:
    """
    :param curve: a run's evaluations (``timesteps``, ``train_seconds``, ``train_cpu_seconds``, ``mean_return``)
    :param threshold: the solved threshold
    :return: the env steps, the training wall-clock seconds and the training CPU seconds at the first evaluation that
        reached it (None if none did)
    """
    means = curve["mean_return"]
    return {
        "first_solved_timesteps": first_reaching(means, threshold, curve["timesteps"]),
        "first_solved_train_seconds": first_reaching(means, threshold, curve["train_seconds"]),
        "first_solved_train_cpu_seconds": first_reaching(means, threshold, curve["train_cpu_seconds"]),
    }


def budget_record(factor: float, steps: int, timesteps: int, final: dict[str, Any]) -> dict[str, Any]:
    """
    :param factor: the budget multiple
    :param steps: its env steps (:func:`budget_steps`)
    :param timesteps: the env steps the model had trained when it was evaluated (a row that collects several steps
        per rollout may pass ``steps``)
    :param final: the final evaluation's fields (``final_mean_return``, ``final_std_return``, ``final_returns``,
        ``solved``)
    :return: the budget's record
    """
    return {"budget_factor": factor, "budget_timesteps": steps, "status": "ok", "error": None, "timesteps": timesteps, **final}


def _missing_record(factor: float, steps: int, status: str, error: str | None) -> dict[str, Any]:
    """The record of a budget the run did not reach (it crashed before)."""
    return {
        "budget_factor": factor,
        "budget_timesteps": steps,
        "status": status,
        "error": error,
        "timesteps": None,
        "final_mean_return": None,
        "final_std_return": None,
        "final_returns": None,
        "solved": False,
    }


def measured_at_budget(record: dict[str, Any], curve: dict[str, list[float]], threshold: float) -> dict[str, Any]:
    """
    :param record: a budget's record
    :param curve: the run's evaluations during training
    :param threshold: the solved threshold
    :return: the record with what the evaluations up to its step say: :func:`first_solved`, ``stays_solved`` and
        ``still_solved`` (:mod:`sb3_cartdqn.common.evaluation`)
    """
    limit = record["budget_timesteps"] if record["timesteps"] is None else record["timesteps"]
    count = sum(1 for step in curve["timesteps"] if step <= limit)
    upto = {key: values[:count] for key, values in curve.items()}
    return {
        **record,
        **first_solved(upto, threshold),
        "stays_solved": stays_solved(upto["mean_return"], threshold),
        "still_solved": still_solved(record["final_mean_return"], upto["mean_return"], threshold),
    }


def conclude(
    result: dict[str, Any],
    curve: dict[str, list[float]],
    records: dict[float, dict[str, Any]],
    factors: Sequence[float],
    steps: Sequence[int],
    threshold: float,
) -> dict[str, Any]:
    """
    Complete a run's result: its curve, the multiple it trains to (``trained_to_factor``), one record per budget
    multiple in ``budgets`` (a multiple the run did not reach
    carries the run's status and error), and the first multiple's fields at the top level (``final_mean_return``,
    ``solved``, ``first_solved_*``...; the run's own ``status``, ``error`` and ``timesteps`` are kept).

    :param result: the run's result, with ``status`` (and ``error``)
    :param curve: the run's evaluations during training
    :param records: ``{factor: budget_record(...)}`` of the multiples the run reached
    :param factors: every budget multiple, in order
    :param steps: their env steps
    :param threshold: the solved threshold
    :return: ``result``, completed
    """
    result["evaluations"] = curve
    result["trained_to_factor"] = factors[-1]
    result["budgets"] = [
        measured_at_budget(
            records.get(factor) or _missing_record(factor, step, result["status"], result.get("error")), curve, threshold
        )
        for factor, step in zip(factors, steps, strict=True)
    ]
    result.update({key: value for key, value in result["budgets"][0].items() if key not in RUN_LEVEL_KEYS})
    return result
