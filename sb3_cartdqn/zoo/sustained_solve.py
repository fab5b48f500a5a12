"""
The "time to a sustained solve" objective of RL Zoo's hyperparameter optimisation
(``python -m sb3_cartdqn.zoo train -optimize --trial-seeds S1 S2 S3 --objective sustained-seconds``, or
``--objective settled-seconds``).

Each trial samples its settings and its budget ``B`` (:mod:`sb3_cartdqn.zoo.fast_sampler`) and trains CartDQN
itself, one seed after the other, each seed in this process on one torch thread. Every ``EVAL_FREQ`` env steps the
greedy policy plays ``--eval-episodes`` episodes on an evaluation env seeded apart from training. A seed

- **succeeds** when it is solved by ``B`` env steps and every later evaluation up to ``2 B`` env steps stays at or
  above the env's reward threshold; its time is the process CPU seconds of training up to the
  solve (``time.process_time``; the evaluations, and the reports to Optuna, are not counted);
- **fails** when it is not solved by ``B`` (training stops at ``B``) or a later evaluation falls below the threshold
  (training stops there).

The solve is one of two rules (:func:`solve_index`):

- ``--objective sustained-seconds`` (``settled=False``): the first evaluation at or above the threshold. The
  seconds are those the comparison's headline counts (to the first evaluation at the threshold), and any later
  dip fails the seed.
- ``--objective settled-seconds`` (``settled=True``): the first of the unbroken run of evaluations at or above the
  threshold that includes the evaluation at ``B``: dips before ``B`` do not fail the seed (they move its solve
  later); from ``B`` to ``2 B`` it must hold, as the held-out verification checks it (solved at ``B`` and at
  ``2 B``). The first rule's study (``cartdqn-fast``) showed why: 61 of its first 71 falls came at or before ``B``,
  most one evaluation after a first solve (a greedy policy touching the threshold once, often at 500-1 000 env steps, before it
  has learned), so that no trial of its first 100 held on all three seeds.

The trial's score, maximised, is

    -(FAILURE_SECONDS * failed seeds + SHORTFALL_SECONDS * mean shortfall of the failed seeds
      + max over succeeded seeds of their seconds (capped at SHORTFALL_SECONDS - 1))

so any trial with a failed seed ranks below every trial that succeeds on all seeds, fewer failed seeds rank higher,
then (among trials with failures) failed seeds that came closer, then fewer seconds. A failed seed's shortfall, in
[0, 1], says how far it was from a sustained solve: ``1 - 0.5 * best return by B / threshold`` (0.5 to 1) when it
never solved, ``0.5 * (1 - share of the steps from its solve (settled: from B) to 2 B that it held)`` (0 to 0.5) when
it fell off. It gives the sampler a slope to climb while no trial succeeds yet (random settings rarely do). The
seconds are the slowest seed's, not the mean: the preset is to solve on *every* seed (50 held-out seeds are its
check), so a setting that is fast on two seeds and slow on the third is worse than one a little slower on all three.

Pruning: RL Zoo's median pruner compares a trial's best intermediate value with the median of complete trials' at
the same step, so the reported values have to grow as a learning curve does. Each evaluation up to a seed's solve
(settled: up to ``B``) reports, at step ``int(trial clock / CLOCK_BUCKET_SECONDS)`` (the trial clock: the CPU seconds
of the seeds trained so far, each counted up to its last reported evaluation), the trial's progress: the sum over its
seeds so far of the best (settled: the latest) greedy mean return, capped at the threshold. A trial is thus pruned
when, after as many CPU seconds of training, it has made less progress than the median complete trial. Steps
between two evaluations are filled with the earlier progress, so every trial has a value at every bucket it passed.

To stop a running study cleanly, create the file named by ``$CARTDQN_STUDY_STOP_FILE`` (``STOP_FILE_ENV_VAR``):
each worker finishes its current trial, then returns.

CartDQN, not the batched trainer (``--batch-seeds`` is refused with this objective): the score is the seconds one
CartDQN process needs, which is what users and the comparison run. In ``BatchedCartDQN`` the seeds share every
forward and backward pass, so a seed's seconds would be a share of a joint computation whose cost relative to one
CartDQN depends on the network (about 2x cheaper per seed at 128-128, about 1.1x at the robust 256x3), which would
bias the search towards the networks the batched trainer speeds up most.
"""

import copy
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
import torch as th
from rl_zoo3.exp_manager import ExperimentManager
from rl_zoo3.utils import ALGOS, get_callback_list
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import EvalCallback
from stable_baselines3.common.vec_env import VecEnv

from sb3_cartdqn.common.clock import TrainingClock
from sb3_cartdqn.common.evaluation import EVAL_SEED_OFFSET, first_solved_index, solved_threshold
from sb3_cartdqn.zoo.fast_sampler import sample_cartdqn_fast_params

#: Env steps between two evaluations of the greedy policy
EVAL_FREQ = 500
#: Score of one failed seed, in seconds: more than the shortfall and the seconds together can count
FAILURE_SECONDS = 1_000.0
#: Score of the failed seeds' mean shortfall (0 to 1), in seconds; the seconds to a solve count up to one less
SHORTFALL_SECONDS = 500.0
#: Width in CPU seconds of one pruning step (see the module documentation)
CLOCK_BUCKET_SECONDS = 0.5

#: Environment variable naming a file whose existence asks every worker to stop after its current trial
STOP_FILE_ENV_VAR = "CARTDQN_STUDY_STOP_FILE"

#: A seed's state after an evaluation: still training, or one of the three outcomes
RUNNING, SUSTAINED, FELL_OFF, UNSOLVED = "running", "sustained", "fell_off", "unsolved"


def solve_index(history: Sequence[tuple[int, float]], threshold: float, budget: int, settled: bool = False) -> int | None:
    """
    :param history: the seed's evaluations so far, ``(env steps, greedy mean return)``, in order
    :param threshold: the mean return that counts as solved
    :param budget: the trial's budget ``B``
    :param settled: which evaluation the solve is. False (rule ``first``): the first one at or above the threshold
        at or before ``B``. True (rule ``settled``): the first of the unbroken run of evaluations at or above the
        threshold that includes the evaluation at ``B``
    :return: the index in ``history`` of the solve, None if there is none (yet)
    """
    if not settled:  # the evaluations up to B are a prefix of the history
        return first_solved_index([mean for steps, mean in history if steps <= budget], threshold)
    at_budget = next((i for i, (steps, _) in enumerate(history) if steps >= budget), None)
    if at_budget is None or history[at_budget][1] < threshold:
        return None
    start = at_budget
    while start > 0 and history[start - 1][1] >= threshold:
        start -= 1
    return start


def seed_status(history: Sequence[tuple[int, float]], threshold: float, budget: int, settled: bool = False) -> str:
    """
    :param history: the seed's evaluations so far, ``(env steps, greedy mean return)``, in order
    :param threshold: the mean return that counts as solved
    :param budget: the trial's budget ``B``: the solve must come at or before ``B`` env steps, and last to ``2 B``
    :param settled: the rule of :func:`solve_index` (False: from the first evaluation at or above the threshold;
        True: the evaluations from ``B`` on must hold, earlier dips do not count)
    :return: ``SUSTAINED`` (solved by ``B``, every later evaluation at or above the threshold, evaluated at ``2 B``),
        ``FELL_OFF`` (solved by ``B``, a later evaluation below the threshold), ``UNSOLVED`` (evaluated at ``B`` or
        later without a solve by ``B``) or ``RUNNING`` (none of these is certain yet)
    """
    solved = solve_index(history, threshold, budget, settled)
    if solved is None:
        return UNSOLVED if history and history[-1][0] >= budget else RUNNING
    if any(mean < threshold for _, mean in history[solved + 1 :]):
        return FELL_OFF
    return SUSTAINED if history[-1][0] >= 2 * budget else RUNNING


def failure_shortfall(history: Sequence[tuple[int, float]], threshold: float, budget: int, settled: bool = False) -> float:
    """
    :param history: a failed seed's evaluations ``(env steps, greedy mean return)``
    :param threshold: the mean return that counts as solved
    :param budget: the trial's budget ``B``
    :param settled: the rule of :func:`solve_index`
    :return: how far the seed was from a sustained solve, in [0, 1]: ``0.5 * (1 - share of the steps from its solve
        to 2 B that it held)`` when it fell off (the settled rule: of the steps from ``B`` to ``2 B``),
        ``1 - 0.5 * (best return by B) / threshold`` when it never solved
    """
    solved = solve_index(history, threshold, budget, settled)
    if solved is None:
        best = max((mean for steps, mean in history if steps <= budget), default=0.0)
        return 1.0 - 0.5 * min(max(best, 0.0), threshold) / threshold
    held_from = budget if settled else history[solved][0]
    fell = next((steps for steps, mean in history[solved + 1 :] if mean < threshold), 2 * budget)
    return 0.5 * (1.0 - (fell - held_from) / (2 * budget - held_from))


def sustained_score(seconds: Sequence[float | None], shortfalls: Sequence[float] = ()) -> float:
    """
    :param seconds: per seed, the CPU seconds to its sustained solve, or None for a failed seed
    :param shortfalls: the failed seeds' shortfalls (:func:`failure_shortfall`; none: 1 each)
    :return: the trial's score (maximised, see the module documentation): ``-(FAILURE_SECONDS * failed seeds +
        SHORTFALL_SECONDS * mean shortfall + the slowest seed's seconds)``, the seconds capped below
        ``SHORTFALL_SECONDS`` so that one more failure always costs more
    """
    failed = sum(value is None for value in seconds)
    shortfall = float(np.mean(shortfalls)) if len(shortfalls) else float(failed > 0)
    slowest = max((value for value in seconds if value is not None), default=0.0)
    return -(FAILURE_SECONDS * failed + SHORTFALL_SECONDS * shortfall + min(slowest, SHORTFALL_SECONDS - 1.0))


class SustainedSolveCallback(EvalCallback):
    """
    SB3's ``EvalCallback`` (greedy, every ``eval_freq`` calls) that keeps a CPU clock of training without the
    evaluations, tracks the seed's status (:func:`seed_status`) and stops training as soon as it is certain.

    :param eval_env: the evaluation env
    :param threshold: the mean return that counts as solved
    :param budget: the trial's budget ``B`` in env steps
    :param n_eval_episodes: greedy episodes per evaluation
    :param eval_freq: env steps between evaluations (one training env)
    :param on_evaluation: called after each evaluation before the solve (and at the solve) with the env steps, the
        mean return and the training CPU seconds so far; returns False to stop training (pruned). Its own time is
        not counted either.
    :param clock: the CPU clock of its :class:`~sb3_cartdqn.common.clock.TrainingClock` (``time.process_time``;
        tests may pass another)
    """

    def __init__(
        self,
        eval_env: VecEnv,
        threshold: float,
        budget: int,
        n_eval_episodes: int,
        eval_freq: int = EVAL_FREQ,
        on_evaluation: Callable[[int, float, float], bool] | None = None,
        clock: Callable[[], float] = time.process_time,
        settled: bool = False,
    ) -> None:
        super().__init__(eval_env, n_eval_episodes=n_eval_episodes, eval_freq=eval_freq, deterministic=True, verbose=0)
        self.threshold = threshold
        self.budget = budget
        self.on_evaluation = on_evaluation
        self.clock = TrainingClock(cpu_clock=clock)
        self.settled = settled
        self.history: list[tuple[int, float]] = []
        #: Training CPU seconds up to each evaluation of ``history``
        self.history_seconds: list[float] = []
        self.status = RUNNING
        #: Training CPU seconds up to the last evaluation
        self.train_seconds = 0.0
        self.stopped_by_caller = False

    @property
    def eval_seconds(self) -> float:
        """CPU seconds spent in evaluations and reports"""
        return self.clock.excluded_cpu

    @property
    def _solve(self) -> int | None:
        return solve_index(self.history, self.threshold, self.budget, self.settled)

    @property
    def solve_seconds(self) -> float | None:
        """Training CPU seconds up to the solve (:func:`solve_index`; None without one)"""
        index = self._solve
        return None if index is None else self.history_seconds[index]

    @property
    def solve_steps(self) -> int | None:
        """Env steps of the solve (None without one)"""
        index = self._solve
        return None if index is None else self.history[index][0]

    @property
    def first_solve(self) -> tuple[int, float] | None:
        """Env steps and training CPU seconds of the first evaluation at or above the threshold (any rule)"""
        if not self.history:
            return None
        index = solve_index(self.history, self.threshold, max(steps for steps, _ in self.history), settled=False)
        return None if index is None else (self.history[index][0], self.history_seconds[index])

    def _clock_running(self) -> bool:
        """Whether the last evaluation counts on the trial clock: up to the solve (first rule), to ``B`` (settled)"""
        if self.settled:
            return self.history[-1][0] <= self.budget
        return solve_index(self.history[:-1], self.threshold, self.budget) is None

    def _on_training_start(self) -> None:
        self.clock.start()

    def _on_step(self) -> bool:
        if not (self.eval_freq > 0 and self.n_calls % self.eval_freq == 0):
            return True
        self.train_seconds = self.clock.cpu_seconds()
        with self.clock.excluded():
            continue_training = super()._on_step()
            mean = float(self.last_mean_reward)
            self.history.append((self.num_timesteps, mean))
            self.history_seconds.append(self.train_seconds)
            self.status = seed_status(self.history, self.threshold, self.budget, self.settled)
            if self._clock_running() and self.on_evaluation is not None:
                if not self.on_evaluation(self.num_timesteps, mean, self.train_seconds):
                    self.stopped_by_caller = True
        return continue_training and self.status == RUNNING and not self.stopped_by_caller


@dataclass
class SeedOutcome:
    """
    One seed of a trial.

    :param seed: the seed
    :param status: ``SUSTAINED``, ``FELL_OFF``, ``UNSOLVED`` (or ``RUNNING`` when the pruner stopped it)
    :param history: its evaluations ``(env steps, greedy mean return)``
    :param solve_seconds: training CPU seconds to its solve (:func:`solve_index`)
    :param solve_steps: env steps of that evaluation
    :param train_seconds: training CPU seconds in all, to its last evaluation
    :param eval_seconds: CPU seconds of its evaluations
    :param first_solve_steps: env steps of its first evaluation at or above the threshold (any rule; None if none)
    :param first_solve_seconds: training CPU seconds to it
    """

    seed: int
    status: str
    history: list[tuple[int, float]]
    solve_seconds: float | None = None
    solve_steps: int | None = None
    train_seconds: float = 0.0
    eval_seconds: float = 0.0
    first_solve_steps: int | None = None
    first_solve_seconds: float | None = None

    @property
    def seconds(self) -> float | None:
        """CPU seconds to the sustained solve, None when the seed failed"""
        return self.solve_seconds if self.status == SUSTAINED else None


class ProgressReporter:
    """
    Reports a trial's progress to Optuna on the CPU-time steps of the module documentation, and asks the pruner.

    :param trial: the Optuna trial
    :param threshold: the mean return that counts as solved (progress per seed is capped there)
    :param bucket_seconds: CPU seconds per step
    :param use_best: a seed's progress is its best evaluation so far (the first rule); False: its latest one (the
        settled rule, where an early lucky evaluation does not count)
    """

    def __init__(
        self, trial: optuna.Trial, threshold: float, bucket_seconds: float = CLOCK_BUCKET_SECONDS, use_best: bool = True
    ) -> None:
        self.trial = trial
        self.threshold = threshold
        self.bucket_seconds = bucket_seconds
        self.use_best = use_best
        self.clock_before = 0.0
        self.progress_before = 0.0
        self.seed_progress = 0.0
        self.seed_seconds = 0.0
        self.last_step = -1
        self.last_value = 0.0

    def next_seed(self) -> None:
        """The next seed starts: the clock goes on from the last evaluation reported of this one"""
        self.clock_before += self.seed_seconds
        self.progress_before += self.seed_progress
        self.seed_progress = self.seed_seconds = 0.0

    def __call__(self, steps: int, mean: float, train_seconds: float) -> bool:
        """
        :param steps: env steps of the evaluation (unused)
        :param mean: its greedy mean return
        :param train_seconds: the seed's training CPU seconds so far
        :return: False when the pruner stops the trial
        """
        progress = min(mean, self.threshold)
        self.seed_progress = max(self.seed_progress, progress) if self.use_best else progress
        self.seed_seconds = train_seconds
        step = int((self.clock_before + train_seconds) / self.bucket_seconds)
        if step <= self.last_step:
            return True
        for filled in range(self.last_step + 1, step):
            self.trial.report(self.last_value, filled)
        self.last_value = self.progress_before + self.seed_progress
        self.trial.report(self.last_value, step)
        self.last_step = step
        return not self.trial.should_prune()


class SustainedSolveExperimentManager(ExperimentManager):
    """
    RL Zoo's ``ExperimentManager`` whose ``objective`` is the time to a sustained solve on every seed of
    ``trial_seeds`` (see the module documentation), with the ``cartdqn_fast`` search space.
    Use ``configured`` to bind the seeds: RL Zoo's ``train`` builds the manager from its own arguments only.
    """

    #: Seeds each trial trains on
    trial_seeds: tuple[int, ...] = ()
    #: Mean return that counts as solved; None: the env's reward threshold
    solved_threshold: float | None = None
    #: The rule of the solve (:func:`solve_index`): False: the first evaluation at or above the threshold; True: the
    #: start of the unbroken run of such evaluations through ``B`` (``--objective settled-seconds``)
    settled: bool = False

    @classmethod
    def configured(
        cls, trial_seeds: tuple[int, ...], solved_threshold: float | None = None, settled: bool = False
    ) -> type["SustainedSolveExperimentManager"]:
        """
        :param trial_seeds: seeds each trial trains on (at least one, no repeats)
        :param solved_threshold: mean return that counts as solved (None: the env spec's reward threshold)
        :param settled: the rule of the solve (see ``settled``)
        :return: a subclass with these settings, to stand in for ``rl_zoo3.train.ExperimentManager``
        """
        if len(trial_seeds) == 0 or len(set(trial_seeds)) != len(trial_seeds):
            raise ValueError(f"trial seeds must be one or more distinct integers, got {list(trial_seeds)}")
        attributes = {"trial_seeds": tuple(trial_seeds), "solved_threshold": solved_threshold, "settled": settled}
        return type(cls.__name__, (cls,), attributes)

    def threshold(self) -> float:
        """:return: the mean return that counts as solved (``--solved-threshold``, else the env's registered one)"""
        return solved_threshold(self.env_name.gym_id, self.solved_threshold)

    def train_seed(
        self,
        kwargs: dict[str, Any],
        seed: int,
        budget: int,
        threshold: float,
        on_evaluation: Callable[[int, float, float], bool] | None = None,
    ) -> SeedOutcome:
        """
        Train CartDQN with ``kwargs`` on one seed until its outcome is certain (at most ``2 * budget`` env steps).

        :param kwargs: the model's keyword arguments
        :param seed: the seed of the model and training env (the evaluation env: ``seed + EVAL_SEED_OFFSET``)
        :param budget: the budget ``B``
        :param threshold: the mean return that counts as solved
        :param on_evaluation: see :class:`SustainedSolveCallback`
        :return: the seed's outcome (status ``RUNNING`` when ``on_evaluation`` stopped it)
        """
        env = self.create_envs(self.n_envs, no_log=True)
        eval_env = self.create_envs(n_envs=self.n_eval_envs, eval_env=True)
        try:
            model: BaseAlgorithm = ALGOS[self.algo](
                env=env, tensorboard_log=None, seed=seed, verbose=0, device=self.device, **copy.deepcopy(kwargs)
            )
            eval_env.seed(seed + EVAL_SEED_OFFSET)
            callback = SustainedSolveCallback(
                eval_env,
                threshold,
                budget,
                self.n_eval_episodes,
                max(EVAL_FREQ // self.n_envs, 1),
                on_evaluation,
                settled=self.settled,
            )
            model.learn(2 * budget, callback=[*get_callback_list({"callback": self.specified_callbacks}), callback])
        finally:
            env.close()
            eval_env.close()
        first_solve = callback.first_solve
        return SeedOutcome(
            seed,
            callback.status,
            callback.history,
            callback.solve_seconds,
            callback.solve_steps,
            callback.train_seconds,
            callback.eval_seconds,
            None if first_solve is None else first_solve[0],
            None if first_solve is None else first_solve[1],
        )

    def objective(self, trial: optuna.Trial) -> float:
        """
        Sample settings and a budget, train them on each trial seed, return the score.

        :param trial: the Optuna trial
        :return: the score (see the module documentation)
        """
        th.set_num_threads(1)
        started = time.time()
        kwargs = self._hyperparams.copy()
        # -params n_timesteps:N fixes the budget (the hyperparameter file's n_timesteps does not: it is searched)
        fixed_budget = (self.custom_hyperparams or {}).get("n_timesteps")
        sampled = sample_cartdqn_fast_params(trial, self.n_actions, self.n_envs, {"n_timesteps": fixed_budget})
        kwargs.update(sampled)
        budget = int(kwargs.pop("n_timesteps"))
        threshold = self.threshold()
        reporter = ProgressReporter(trial, threshold, use_best=not self.settled)
        outcomes: list[SeedOutcome] = []
        try:
            for seed in self.trial_seeds:
                outcome = self.train_seed(kwargs, seed, budget, threshold, reporter)
                outcomes.append(outcome)
                self._record(trial, outcomes, budget, started, self._shortfalls(outcomes, threshold, budget))
                if outcome.status == RUNNING:
                    trial.set_user_attr("pruned_on_seed", seed)
                    raise optuna.exceptions.TrialPruned()
                reporter.next_seed()
        except (AssertionError, ValueError) as error:
            # As RL Zoo's objective: settings that produce NaNs or invalid values are pruned
            print(f"Trial {trial.number}: {error}")
            raise optuna.exceptions.TrialPruned() from error
        finally:
            stop_file = os.environ.get(STOP_FILE_ENV_VAR)
            if stop_file and os.path.exists(stop_file):
                # study.optimize returns after this trial: the worker stops with no trial cut short
                print(f"Trial {trial.number}: {stop_file} exists, this worker stops after this trial")
                trial.study.stop()
        return sustained_score([outcome.seconds for outcome in outcomes], self._shortfalls(outcomes, threshold, budget))

    def _shortfalls(self, outcomes: list[SeedOutcome], threshold: float, budget: int) -> list[float]:
        """:return: the failed seeds' shortfalls (``failure_shortfall``)"""
        failed = [o for o in outcomes if o.status in (FELL_OFF, UNSOLVED)]
        return [failure_shortfall(o.history, threshold, budget, self.settled) for o in failed]

    @staticmethod
    def _record(
        trial: optuna.Trial, outcomes: list[SeedOutcome], budget: int, started: float, shortfalls: list[float]
    ) -> None:
        """Store the seeds' outcomes so far as the trial's user attributes (kept for pruned trials too)."""
        by_seed = {str(o.seed): o for o in outcomes}
        seconds = {seed: o.seconds for seed, o in by_seed.items()}
        trial.set_user_attr("budget", budget)
        trial.set_user_attr("seed_status", {seed: o.status for seed, o in by_seed.items()})
        trial.set_user_attr("sustained_seconds", {seed: _round(s) for seed, s in seconds.items()})
        trial.set_user_attr("solve_seconds", {seed: _round(o.solve_seconds) for seed, o in by_seed.items()})
        trial.set_user_attr("solve_steps", {seed: o.solve_steps for seed, o in by_seed.items()})
        trial.set_user_attr("first_solve_steps", {seed: o.first_solve_steps for seed, o in by_seed.items()})
        trial.set_user_attr("first_solve_seconds", {seed: _round(o.first_solve_seconds) for seed, o in by_seed.items()})
        trial.set_user_attr("final_returns", {seed: o.history[-1][1] if o.history else None for seed, o in by_seed.items()})
        trial.set_user_attr("trained_steps", {seed: o.history[-1][0] if o.history else 0 for seed, o in by_seed.items()})
        trial.set_user_attr("seeds_solved", sum(o.status == SUSTAINED for o in outcomes))
        trial.set_user_attr("seeds_failed", sum(o.status in (FELL_OFF, UNSOLVED) for o in outcomes))
        trial.set_user_attr("shortfalls", [round(value, 6) for value in shortfalls])
        best_returns = {seed: max((mean for _, mean in o.history), default=None) for seed, o in by_seed.items()}
        trial.set_user_attr("best_returns", best_returns)
        solved = [s for s in seconds.values() if s is not None]
        trial.set_user_attr("max_seconds", _round(max(solved, default=None)))
        trial.set_user_attr("mean_seconds", _round(float(np.mean(solved)) if solved else None))
        trial.set_user_attr("train_cpu_seconds", round(sum(o.train_seconds for o in outcomes), 2))
        trial.set_user_attr("eval_cpu_seconds", round(sum(o.eval_seconds for o in outcomes), 2))
        trial.set_user_attr("wall_seconds", round(time.time() - started, 1))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
