import math

import numpy as np
import pandas as pd
import pytest

from sb3_cartdqn.compare.report import (
    EVALUATION_COLUMNS,
    RUN_COLUMNS,
    evaluations_frame,
    markdown_table,
    median_to_threshold,
    plot_learning_curves,
    runs_frame,
    summarize,
)


def fake_result(algorithm: str, seed: int, final: float | None, curve: list[float], speed: float = 100.0) -> dict:
    steps = [1000 * (index + 1) for index in range(len(curve))]
    reached = [step for step, value in zip(steps, curve, strict=True) if value >= 475]
    result = {
        "algorithm": algorithm,
        "seed": seed,
        "evaluations": {
            "timesteps": steps,
            "train_seconds": [step / speed for step in steps],
            "mean_return": curve,
            "std_return": [0.0] * len(curve),
        },
        "first_solved_timesteps": reached[0] if reached else None,
        "first_solved_train_seconds": reached[0] / speed if reached else None,
    }
    if final is None:
        result.update(status="crashed", error="Traceback (most recent call last):\n  ...\nRuntimeError: boom\n")
    else:
        result.update(status="ok", error=None, final_mean_return=final, solved=final >= 475, env_steps_per_second=speed)
    return result


RESULTS = [
    fake_result("a", 0, 500.0, [100.0, 480.0, 500.0]),
    fake_result("a", 1, 500.0, [100.0, 200.0, 500.0]),
    fake_result("a", 2, 20.0, [100.0, 200.0, 300.0]),
    fake_result("b", 0, 300.0, [100.0, 490.0, 300.0], speed=50.0),
    fake_result("b", 1, None, [100.0]),
]


def test_median_to_threshold_counts_never_as_infinitely_late():
    assert median_to_threshold(pd.Series([2000.0, 3000.0, None])) == 3000.0
    assert median_to_threshold(pd.Series([2000.0, None, None])) == math.inf
    assert math.isnan(median_to_threshold(pd.Series([], dtype=float)))


def test_summary_statistics():
    runs = runs_frame(RESULTS)
    assert list(runs.columns) == list(RUN_COLUMNS)
    assert runs.loc[4, "error"] == "RuntimeError: boom"
    summary = summarize(runs, ["a", "b"]).set_index("algorithm")
    assert summary.loc["a", "final_mean"] == pytest.approx(np.mean([500, 500, 20]))
    assert summary.loc["a", "final_std"] == pytest.approx(np.std([500, 500, 20]))
    assert summary.loc["a", "seeds_solved"] == 2
    assert summary.loc["a", "median_steps_to_threshold"] == 3000
    assert summary.loc["a", "median_seconds_to_threshold"] == pytest.approx(30.0)
    assert summary.loc["a", "seeds_reaching_threshold"] == 2
    # the crashed seed counts as a run, unsolved, never reaching the threshold
    assert (summary.loc["b", "runs"], summary.loc["b", "crashed"], summary.loc["b", "seeds_solved"]) == (2, 1, 0)
    assert summary.loc["b", "final_mean"] == 300.0
    assert summary.loc["b", "median_steps_to_threshold"] == math.inf
    table = markdown_table(summary.reset_index(), 475)
    assert "| a " in table and "340.0 ± 226.3" in table and "2/3" in table and "3,000 (2/3 reached)" in table
    assert "not reached (1/2 reached)" in table


def test_evaluations_frame_and_figure():
    evaluations = evaluations_frame(RESULTS)
    assert list(evaluations.columns) == list(EVALUATION_COLUMNS)
    assert len(evaluations) == 3 + 3 + 3 + 3 + 1
    figure = plot_learning_curves(evaluations, ["a", "b"], 475, "title")
    steps_axis, seconds_axis = figure.axes
    assert [line.get_label() for line in steps_axis.get_lines()[:2]] == ["a (3 seeds)", "b (2 seeds)"]
    np.testing.assert_allclose(
        steps_axis.get_lines()[0].get_ydata(), [100, np.mean([480, 200, 200]), np.mean([500, 500, 300])]
    )
    # b's crashed seed stops after one evaluation; the mean uses the seeds that have each evaluation
    np.testing.assert_allclose(steps_axis.get_lines()[1].get_ydata(), [100, 490, 300])
    np.testing.assert_allclose(seconds_axis.get_lines()[1].get_xdata(), [np.mean([20, 10]), 40, 60])


def two_budget_result(algorithm: str, seed: int, curve: list[float], finals: tuple[float, float]) -> dict:
    """A run evaluated every 1 000 steps, with its final evaluations at 1x and 2x a budget of 2 000 steps."""
    from sb3_cartdqn.compare.budgets import budget_record, conclude

    steps = [1000 * (index + 1) for index in range(len(curve))]
    evaluations = {
        "timesteps": steps,
        "train_seconds": [step / 100 for step in steps],
        "train_cpu_seconds": [step / 250 for step in steps],
        "mean_return": curve,
        "std_return": [0.0] * len(curve),
    }
    records = {
        factor: budget_record(
            factor, 2000 * int(factor), 2000 * int(factor), {"final_mean_return": final, "solved": final >= 475}
        )
        for factor, final in zip((1.0, 2.0), finals, strict=True)
    }
    result = {
        "algorithm": algorithm,
        "seed": seed,
        "status": "ok",
        "error": None,
        "timesteps": 4000,
        "env_steps_per_second": 100.0,
    }
    return conclude(result, evaluations, records, (1.0, 2.0), [2000, 4000], 475.0)


def test_one_table_per_budget_multiple_with_cpu_seconds_and_still_solved(tmp_path):
    from sb3_cartdqn.compare.report import write_report

    results = [
        two_budget_result("a", 0, [480.0, 500.0, 500.0, 500.0], (500.0, 500.0)),  # solved, stays solved
        two_budget_result("a", 1, [100.0, 490.0, 200.0, 500.0], (500.0, 500.0)),  # fell off between 1x and 2x
        two_budget_result("a", 2, [100.0, 200.0, 300.0, 480.0], (300.0, 480.0)),  # first 475 after the budget
    ]
    runs = runs_frame(results)
    assert len(runs) == 6 and sorted(runs["budget_factor"].unique()) == [1.0, 2.0]
    summary = summarize(runs, ["a"]).set_index("budget_factor")
    once, twice = summary.loc[1.0], summary.loc[2.0]
    assert (once["budget_timesteps"], twice["budget_timesteps"]) == (2000, 4000)
    assert (once["seeds_solved"], once["seeds_staying_solved"], once["seeds_still_solved"]) == (2, 2, 2)
    assert (twice["seeds_solved"], twice["seeds_staying_solved"], twice["seeds_still_solved"]) == (3, 2, 2)
    assert (once["seeds_reaching_threshold"], twice["seeds_reaching_threshold"]) == (2, 3)
    assert once["median_steps_to_threshold"] == 2000 and twice["median_steps_to_threshold"] == 2000
    assert once["median_seconds_to_threshold"] == 20.0 and once["median_cpu_seconds_to_threshold"] == 8.0
    assert twice["median_cpu_seconds_to_threshold"] == 8.0

    meta = {"algorithms": [{"name": "a"}], "solved_threshold": 475.0, "env_id": "CartPole-v1", "seeds": 3}
    meta.update(timesteps=2000, command="python -m sb3_cartdqn.compare ...")
    paths = write_report(str(tmp_path), results, meta)
    text = (tmp_path / "summary.md").read_text()
    assert "## At the budget (1x 2,000 = 2,000 env steps)" in text
    assert "## At twice the budget (2x 2,000 = 4,000 env steps)" in text
    assert text.index("At the budget") < text.index("At twice the budget") and paths["table"] in text
    assert "median training CPU seconds to first eval ≥ 475" in text and "still solved" in text
    first, second = text.split("## At twice the budget")
    assert "| 2/3 " in first and "| 3/3 " in second  # seeds solved at each multiple
    assert list(pd.read_csv(tmp_path / "runs.csv").columns) == list(RUN_COLUMNS)
