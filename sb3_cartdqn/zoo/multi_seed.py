"""
A multi-seed objective for RL Zoo's hyperparameter optimisation (``train -optimize --trial-seeds S1 S2 S3``).

RL Zoo's own objective trains each trial once, unseeded, and returns its last evaluation: it rewards settings that
were lucky once. ``MultiSeedExperimentManager.objective`` trains the sampled settings on every trial seed and returns
a robustness score: the minimum over seeds of the final greedy mean return, minus a tie-break term that is smaller
than any difference in returns, so that among trials solving on every seed the one solving earliest wins.
"""

import copy
import time
from typing import Any

import numpy as np
import optuna
import torch as th
from rl_zoo3.callbacks import TrialEvalCallback
from rl_zoo3.exp_manager import ExperimentManager
from rl_zoo3.hyperparams_opt import HYPERPARAMS_SAMPLER
from rl_zoo3.utils import ALGOS, get_callback_list
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecEnv

from sb3_cartdqn.batched.trainer import BatchedCartDQN
from sb3_cartdqn.common.evaluation import EVAL_SEED_OFFSET, first_reaching, is_solved, solved_threshold

#: Weight of the tie-break term: below 0.1, the smallest difference of two means of integer returns over 10 episodes
TIE_BREAK_WEIGHT = 0.05


class SeedEvalCallback(TrialEvalCallback):
    """
    RL Zoo's ``TrialEvalCallback`` for one seed of a multi-seed trial: it reports to Optuna, at step
    ``step_offset + evaluation index``, the smaller of this evaluation's mean return and ``bound`` (the smallest score
    of the seeds already trained), and keeps every evaluation's ``(env steps, mean return)``.

    :param eval_env: the evaluation env
    :param trial: the Optuna trial
    :param step_offset: the report step of this seed's first evaluation
    :param bound: the smallest score of the trial's earlier seeds (``inf`` for the first seed)
    :param n_eval_episodes: greedy episodes per evaluation
    :param eval_freq: env steps between evaluations
    """

    def __init__(
        self, eval_env: VecEnv, trial: optuna.Trial, step_offset: int, bound: float, n_eval_episodes: int, eval_freq: int
    ) -> None:
        super().__init__(eval_env, trial, n_eval_episodes=n_eval_episodes, eval_freq=eval_freq, deterministic=True)
        self.step_offset = step_offset
        self.bound = bound
        self.history: list[tuple[int, float]] = []

    def _on_step(self) -> bool:
        if not (self.eval_freq > 0 and self.n_calls % self.eval_freq == 0):
            return True
        # EvalCallback's evaluation, then RL Zoo's report and pruning, with the step and value of this seed
        continue_training = super(TrialEvalCallback, self)._on_step()
        self.history.append((self.num_timesteps, float(self.last_mean_reward)))
        self.trial.report(min(self.bound, float(self.last_mean_reward)), self.step_offset + self.eval_idx)
        self.eval_idx += 1
        if self.trial.should_prune():
            self.is_pruned = True
            return False
        return continue_training


class MultiSeedExperimentManager(ExperimentManager):
    """
    RL Zoo's ``ExperimentManager`` whose ``objective`` trains each trial's hyperparameters on every seed of
    ``trial_seeds`` (each its own seeded model, env and evaluation env) and returns the trial's robustness score:

        min over seeds of the seed's score
        - TIE_BREAK_WEIGHT * mean over seeds of (env steps to the first evaluation >= ``solved_threshold``) / budget

    where a seed's score is the smallest greedy mean return (``--eval-episodes`` episodes) of its last
    ``last_evaluations`` evaluations, the last one after ``-n`` env steps (with 1: the final return; with more: the
    final return, and solved for that long before), and a seed that never reaches the threshold counts the full budget.
    The trial stops at the first seed whose score is below ``solved_threshold``: its value is then an upper bound
    (later seeds could only lower the minimum), recorded as the user attribute ``value_is_upper_bound``.
    Every evaluation is reported to Optuna (``-n`` / ``--n-evaluations`` env steps apart, numbered on across seeds),
    so RL Zoo's pruners work as usual.

    With ``batch_seeds``, the trial's seeds train together in one process (``BatchedCartDQN``, when the settings are
    ones it takes; else one after the other as above): no seed is skipped, and each evaluation reports the minimum
    over seeds (see ``_train_batched``). The user attribute ``batched`` says which way a trial ran.

    Use ``configured`` to bind the seeds: RL Zoo's ``train`` builds the manager from its own arguments only.
    """

    #: Seeds each trial trains on
    trial_seeds: tuple[int, ...] = ()
    #: Mean return at or above which a seed counts as solved (None: the env's registered ``reward_threshold``)
    solved_threshold: float | None = None
    #: A seed's score is the smallest of its last ``last_evaluations`` evaluations
    last_evaluations: int = 1
    #: Train a trial's seeds together in one process (``BatchedCartDQN``) instead of one after the other
    batch_seeds: bool = False

    @classmethod
    def configured(
        cls,
        trial_seeds: tuple[int, ...],
        solved_threshold: float | None = None,
        last_evaluations: int = 1,
        batch_seeds: bool = False,
    ) -> type["MultiSeedExperimentManager"]:
        """
        :param trial_seeds: seeds each trial trains on (at least one, no repeats)
        :param solved_threshold: mean return that counts as solved (None: the env's registered ``reward_threshold``)
        :param last_evaluations: how many of a seed's last evaluations its score is the minimum of (at least 1)
        :param batch_seeds: train each trial's seeds together in one process (see ``_train_batched``)
        :return: a subclass with these settings, to stand in for ``rl_zoo3.train.ExperimentManager``
        """
        if len(trial_seeds) == 0 or len(set(trial_seeds)) != len(trial_seeds):
            raise ValueError(f"trial seeds must be one or more distinct integers, got {list(trial_seeds)}")
        if last_evaluations < 1:
            raise ValueError(f"last_evaluations must be at least 1 (1: the final evaluation), got {last_evaluations}")
        attributes = {
            "trial_seeds": tuple(trial_seeds),
            "solved_threshold": None if solved_threshold is None else float(solved_threshold),
            "last_evaluations": int(last_evaluations),
            "batch_seeds": bool(batch_seeds),
        }
        return type(cls.__name__, (cls,), attributes)

    def _train_seed(
        self, trial: optuna.Trial, kwargs: dict[str, Any], seed: int, index: int, bound: float
    ) -> tuple[list[float], int, bool]:
        """
        Train and evaluate the trial's hyperparameters on one seed.

        :return: the last ``last_evaluations`` greedy mean returns (the last one after the full budget), the env steps
            to the first evaluation at or above the threshold (the budget if none), and whether the pruner stopped
            the trial
        """
        env = self.create_envs(self.n_envs, no_log=True)
        eval_env = self.create_envs(n_envs=self.n_eval_envs, eval_env=True)
        model: BaseAlgorithm = ALGOS[self.algo](
            env=env, tensorboard_log=None, seed=seed, verbose=0, device=self.device, **copy.deepcopy(kwargs)
        )
        eval_env.seed(seed + EVAL_SEED_OFFSET)
        eval_freq = max(int(self.n_timesteps / self.n_evaluations) // self.n_envs, 1)
        eval_callback = SeedEvalCallback(
            eval_env, trial, index * self.n_evaluations, bound, n_eval_episodes=self.n_eval_episodes, eval_freq=eval_freq
        )
        callbacks = [*get_callback_list({"callback": self.specified_callbacks}), eval_callback]
        try:
            model.learn(self.n_timesteps, callback=callbacks)
            if eval_callback.is_pruned:
                return [float(eval_callback.last_mean_reward)], self.n_timesteps, True
            if not eval_callback.history or eval_callback.history[-1][0] != model.num_timesteps:
                mean_return, _ = evaluate_policy(model, eval_env, n_eval_episodes=self.n_eval_episodes, deterministic=True)
                eval_callback.history.append((model.num_timesteps, float(mean_return)))  # type: ignore[arg-type]
        except (AssertionError, ValueError) as error:
            # As RL Zoo's objective: settings that produce NaNs or invalid values are pruned
            print(f"Trial {trial.number}, seed {seed}: {error}")
            raise optuna.exceptions.TrialPruned() from error
        finally:
            env.close()
            eval_env.close()
        last = [mean for _, mean in eval_callback.history[-self.last_evaluations :]]
        return last, self._steps_to_threshold(eval_callback.history), False

    def _threshold(self) -> float:
        """:return: the mean return that counts as solved (``solved_threshold``, else the env's)"""
        return solved_threshold(self.env_name.gym_id, self.solved_threshold)

    def _steps_to_threshold(self, history: list[tuple[int, float]]) -> int:
        """
        :param history: a seed's evaluations, ``(env steps, mean return)``
        :return: the env steps of its first evaluation at or above the threshold, the budget if none
        """
        steps = first_reaching([mean for _, mean in history], self._threshold(), [step for step, _ in history])
        return self.n_timesteps if steps is None else int(steps)

    def _batched_trainer(self, kwargs: dict[str, Any]) -> BatchedCartDQN | None:
        """
        :param kwargs: the trial's hyperparameters
        :return: the trial's seeds as one ``BatchedCartDQN``, or None (with the reason printed) when the settings are
            not ones it trains (another algorithm or policy, several envs, env wrappers, callbacks, options it lacks)
        """
        settings = copy.deepcopy(kwargs)
        policy = settings.pop("policy", "MlpPolicy")
        reasons = [
            f"{name} ({value!r})"
            for name, value in (
                ("algo", self.algo if self.algo != "cartdqn" else None),
                ("policy", policy if policy != "MlpPolicy" else None),
                ("n_envs", self.n_envs if self.n_envs != 1 else None),
                ("env_wrapper", self.env_wrapper),
                ("normalize", self.normalize or None),
                ("frame_stack", self.frame_stack),
                ("vec_env_wrapper", self.vec_env_wrapper),
                ("callback", self.specified_callbacks or None),
            )
            if value is not None
        ]
        if not reasons:
            try:
                return BatchedCartDQN(
                    self.env_name.gym_id, self.trial_seeds, device=self.device, env_kwargs=self.env_kwargs or None, **settings
                )
            except (TypeError, ValueError) as error:
                reasons.append(str(error))
        print(f"Seeds trained one after the other: the batched trainer does not take {', '.join(reasons)}")
        return None

    def _train_batched(self, trial: optuna.Trial, batched: BatchedCartDQN) -> dict[int, tuple[list[float], int]]:
        """
        Train every trial seed together. Each seed's evaluations are ``--eval-episodes`` greedy episodes on an env
        reset with ``seed + EVAL_SEED_OFFSET``, every ``-n / --n-evaluations`` env steps and after the last step;
        after each, the minimum over seeds of the means is reported to Optuna (the objective's running value: no
        seed can be skipped here, they train together) and the pruner may stop the trial.

        :return: for each seed, its last ``last_evaluations`` mean returns and the env steps to its first evaluation
            at or above the threshold (the budget if none)
        :raises optuna.exceptions.TrialPruned: when the pruner stops the trial, or training fails
        """
        eval_freq = max(int(self.n_timesteps / self.n_evaluations), 1)
        pruned = []

        def report(num_timesteps: int, returns: np.ndarray) -> bool:
            trial.report(float(returns.mean(axis=1).min()), len(batched.evaluations) - 1)
            if trial.should_prune():
                pruned.append(num_timesteps)
                return False
            return True

        try:
            batched.learn(
                self.n_timesteps,
                eval_freq=eval_freq,
                n_eval_episodes=self.n_eval_episodes,
                eval_seed_offset=EVAL_SEED_OFFSET,
                eval_callback=report,
            )
            if pruned:
                raise optuna.exceptions.TrialPruned()
            if not batched.evaluations or batched.evaluations[-1][0] != batched.num_timesteps:
                batched.record_evaluation(self.n_eval_episodes, EVAL_SEED_OFFSET)
        except (AssertionError, ValueError) as error:
            print(f"Trial {trial.number}: {error}")
            raise optuna.exceptions.TrialPruned() from error
        outcome = {}
        for index, seed in enumerate(batched.seeds):
            history = [(steps, float(returns[index].mean())) for steps, returns in batched.evaluations]
            last = [mean for _, mean in history[-self.last_evaluations :]]
            outcome[seed] = (last, self._steps_to_threshold(history))
        return outcome

    def objective(self, trial: optuna.Trial) -> float:
        """
        Sample hyperparameters with the algorithm's RL Zoo sampler, train them on each trial seed, return the score.

        :param trial: the Optuna trial
        :return: the robustness score (see the class documentation)
        """
        th.set_num_threads(1)
        kwargs = self._hyperparams.copy()
        additional_args = {"using_her_replay_buffer": False, "her_kwargs": {}}
        kwargs.update(HYPERPARAMS_SAMPLER[self.algo](trial, self.n_actions, self.n_envs, additional_args))
        finals: dict[str, float] = {}
        scores: dict[str, float] = {}
        solve_steps: dict[str, int] = {}
        started = time.time()
        batched = self._batched_trainer(kwargs) if self.batch_seeds else None
        trial.set_user_attr("batched", batched is not None)
        if batched is not None:
            for seed, (last, steps) in self._train_batched(trial, batched).items():
                finals[str(seed)], scores[str(seed)], solve_steps[str(seed)] = last[-1], min(last), steps
        for index, seed in enumerate(self.trial_seeds if batched is None else ()):
            last, steps, pruned = self._train_seed(trial, kwargs, seed, index, min(scores.values(), default=np.inf))
            if pruned:
                trial.set_user_attr("pruned_on_seed", seed)
                raise optuna.exceptions.TrialPruned()
            finals[str(seed)], scores[str(seed)], solve_steps[str(seed)] = last[-1], min(last), steps
            if not is_solved(scores[str(seed)], self._threshold()):
                break
        value = min(scores.values()) - TIE_BREAK_WEIGHT * float(np.mean(list(solve_steps.values()))) / self.n_timesteps
        trial.set_user_attr("final_returns", finals)
        trial.set_user_attr("seed_scores", scores)
        trial.set_user_attr("solve_steps", solve_steps)
        trial.set_user_attr("seeds_solved", sum(is_solved(score, self._threshold()) for score in scores.values()))
        trial.set_user_attr("value_is_upper_bound", len(scores) < len(self.trial_seeds))
        trial.set_user_attr("wall_seconds", round(time.time() - started, 1))
        return value
