"""
How the comparison times training: wall-clock and process CPU seconds, evaluations excluded from both, recorded at
each evaluation; and the evaluations at each budget multiple during training (``--budget-factors``), excluded too.
"""

import time
from collections.abc import Callable, Sequence
from typing import Any

from stable_baselines3.common.callbacks import EvalCallback

from sb3_cartdqn.common.clock import TrainingClock


class BudgetEvaluations:
    """
    The evaluations at the budget multiples during training: ``on_budget(step)`` once for each of ``steps``, at the
    first env step at or after it, its time excluded from training on the clock.

    :param steps: env steps at which to evaluate
    :param on_budget: the evaluation (called with the step of ``steps``)
    """

    def __init__(self, steps: Sequence[int] = (), on_budget: Callable[[int], None] | None = None) -> None:
        if steps and on_budget is None:
            raise ValueError("budget steps need on_budget, the evaluation to run at them")
        self._steps = sorted(steps)
        self._on_budget = on_budget

    def run_due(self, num_timesteps: int, clock: TrainingClock) -> float:
        """
        :param num_timesteps: the env steps trained so far
        :param clock: the training's clock (the evaluations are excluded from it)
        :return: the wall-clock seconds the evaluations took (0 if none was due)
        """
        if not self._steps or num_timesteps < self._steps[0]:
            return 0.0  # every env step asks; nothing is due on almost all of them
        start = time.perf_counter()
        while self._steps and num_timesteps >= self._steps[0]:
            step = self._steps.pop(0)
            assert self._on_budget is not None
            with clock.excluded():
                self._on_budget(step)
        return time.perf_counter() - start


class TimedEvalCallback(EvalCallback):
    """
    SB3's ``EvalCallback`` that also records, at each evaluation, the wall-clock and the process CPU seconds spent
    training so far (a :class:`~sb3_cartdqn.common.clock.TrainingClock` started with training, evaluations
    excluded), so that algorithms can be compared against training time without the cost of the evaluation protocol
    itself. After each step it runs the ``budgets`` that are due (the final evaluations at the budget multiples),
    excluded as well.

    :param args: the arguments of ``EvalCallback``
    :param budgets: the evaluations at the budget multiples
    :param kwargs: the keyword arguments of ``EvalCallback``
    """

    def __init__(self, *args: Any, budgets: BudgetEvaluations | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clock = TrainingClock()
        self.evaluations_train_seconds: list[float] = []
        self.evaluations_train_cpu_seconds: list[float] = []
        self.budgets = budgets or BudgetEvaluations()

    def _on_training_start(self) -> None:
        self.clock.start()

    @property
    def train_seconds(self) -> float:
        """Wall-clock seconds since training started, evaluations excluded."""
        return self.clock.wall_seconds()

    @property
    def train_cpu_seconds(self) -> float:
        """CPU seconds of this process since training started, evaluations excluded."""
        return self.clock.cpu_seconds()

    @property
    def eval_seconds(self) -> float:
        """Wall-clock seconds spent in evaluations."""
        return self.clock.excluded_wall

    @property
    def eval_cpu_seconds(self) -> float:
        """CPU seconds spent in evaluations."""
        return self.clock.excluded_cpu

    def _on_step(self) -> bool:
        if self.eval_freq > 0 and self.n_calls % self.eval_freq == 0:
            self.evaluations_train_seconds.append(self.train_seconds)
            self.evaluations_train_cpu_seconds.append(self.train_cpu_seconds)
            with self.clock.excluded():
                continue_training = super()._on_step()
        else:
            continue_training = super()._on_step()
        self.budgets.run_due(self.num_timesteps, self.clock)
        return continue_training
