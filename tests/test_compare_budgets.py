"""The rules of the budget multiples (stays solved, still solved) on synthetic evaluation histories, and the clock."""

import time

import pytest

from sb3_cartdqn.common.evaluation import stays_solved, still_solved
from sb3_cartdqn.compare.budgets import budget_record, budget_steps, conclude, empty_curve, measured_at_budget
from sb3_cartdqn.compare.timing import BudgetEvaluations, TrainingClock


@pytest.mark.parametrize(
    "history, expected",
    [
        ([100.0, 475.0, 500.0, 480.0], True),  # reached at the second evaluation and never below after
        ([100.0, 480.0, 474.9, 500.0], False),  # fell below once after the first 475, even if it came back
        ([100.0, 200.0, 300.0], False),  # never reached: does not stay solved
        ([], False),
        ([500.0], True),
        ([10.0, 300.0, 10.0, 475.0], True),  # what happens before the first 475 does not count
    ],
)
def test_stays_solved(history, expected):
    assert stays_solved(history, 475.0) is expected


def test_still_solved_needs_the_final_evaluation_and_staying_solved():
    assert still_solved(500.0, [100.0, 480.0, 500.0], 475.0) is True
    assert still_solved(470.0, [100.0, 480.0, 500.0], 475.0) is False  # the final evaluation fails
    assert still_solved(500.0, [100.0, 480.0, 200.0, 500.0], 475.0) is False  # fell off in between
    assert still_solved(500.0, [100.0, 200.0], 475.0) is False  # solved at the end, never during training
    assert still_solved(None, [480.0, 500.0], 475.0) is False  # no final evaluation (crashed before)


def curve(steps: list[int], means: list[float]) -> dict[str, list[float]]:
    return {
        "timesteps": steps,
        "train_seconds": [step / 100 for step in steps],
        "train_cpu_seconds": [step / 200 for step in steps],
        "mean_return": means,
        "std_return": [0.0] * len(steps),
    }


FINAL = {"final_mean_return": 500.0, "final_std_return": 0.0, "final_returns": [500.0], "solved": True}


def test_each_budget_reads_the_evaluations_up_to_its_step():
    history = curve([100, 200, 300, 400, 500, 600], [10.0, 480.0, 500.0, 300.0, 500.0, 500.0])
    at_budget = measured_at_budget(budget_record(1.0, 300, 300, FINAL), history, 475.0)
    assert at_budget["first_solved_timesteps"] == 200
    assert at_budget["first_solved_train_seconds"] == 2.0 and at_budget["first_solved_train_cpu_seconds"] == 1.0
    assert at_budget["stays_solved"] is True and at_budget["still_solved"] is True
    at_twice = measured_at_budget(budget_record(2.0, 600, 600, FINAL), history, 475.0)
    assert at_twice["first_solved_timesteps"] == 200
    assert at_twice["stays_solved"] is False and at_twice["still_solved"] is False  # 300 at step 400
    # first reached after the budget: not reached at 1x, reached at 2x
    late = curve([100, 200, 300, 400], [10.0, 20.0, 30.0, 490.0])
    assert measured_at_budget(budget_record(1.0, 200, 200, FINAL), late, 475.0)["first_solved_timesteps"] is None
    assert measured_at_budget(budget_record(2.0, 400, 400, FINAL), late, 475.0)["first_solved_timesteps"] == 400


def test_conclude_keeps_the_runs_status_and_fills_the_budgets_not_reached():
    result = {"algorithm": "a", "seed": 0, "status": "crashed", "error": "Traceback\nRuntimeError: boom\n", "timesteps": 7}
    records = {1.0: budget_record(1.0, 300, 300, FINAL)}
    conclude(result, curve([100, 200, 300], [500.0, 500.0, 500.0]), records, (1.0, 2.0), budget_steps(300, (1, 2)), 475.0)
    at_budget, at_twice = result["budgets"]
    assert (at_budget["status"], at_budget["still_solved"]) == ("ok", True)
    assert (at_twice["status"], at_twice["budget_timesteps"], at_twice["solved"]) == ("crashed", 600, False)
    assert at_twice["still_solved"] is False and "boom" in at_twice["error"]
    # the first multiple's fields at the top level, the run's own status, error and steps kept
    assert result["status"] == "crashed" and result["timesteps"] == 7 and "boom" in result["error"]
    assert result["final_mean_return"] == 500.0 and result["budget_factor"] == 1.0
    assert result["trained_to_factor"] == 2.0


def test_a_run_that_never_started_has_every_budget_unsolved():
    result = conclude({"status": "crashed", "error": "x"}, empty_curve(), {}, (1.0, 2.0), [100, 200], 475.0)
    assert [record["first_solved_timesteps"] for record in result["budgets"]] == [None, None]
    assert result["first_solved_train_cpu_seconds"] is None and result["solved"] is False


def test_budget_steps_round():
    assert budget_steps(30_000, (1.0, 2.0)) == [30_000, 60_000]
    assert budget_steps(1_001, (0.5, 1.5)) == [500, 1_502]


def test_clock_excludes_evaluations_from_wall_and_cpu():
    clock = TrainingClock()
    end = time.process_time() + 0.05
    while time.process_time() < end:  # training: CPU-bound
        pass
    with clock.excluded():  # an evaluation: idle wall time, then some CPU
        time.sleep(0.2)
    wall, cpu = clock.wall_seconds(), clock.cpu_seconds()
    assert clock.excluded_wall >= 0.2 and clock.excluded_cpu < clock.excluded_wall
    assert 0.05 <= cpu <= wall + 1e-3  # one thread: the CPU seconds of the training part are at most its wall seconds
    assert wall < 0.2  # the sleep is not training


def test_budget_evaluations_run_once_each_at_the_first_step_at_or_after_them():
    calls: list[tuple[int, int]] = []
    clock = TrainingClock()
    budgets = BudgetEvaluations([300, 600], lambda step: calls.append((step, now)))
    for now in (256, 512, 768, 1024):  # a row that collects 256 steps per rollout
        budgets.run_due(now, clock)
    assert calls == [(300, 512), (600, 768)]
    with pytest.raises(ValueError, match="on_budget"):
        BudgetEvaluations([300])
