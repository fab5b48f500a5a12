"""
Compare CartDQN with stock SB3 DQN and sb3-contrib QR-DQN on the same env and seeds, in parallel worker processes.

    python -m sb3_cartdqn.compare --seeds 5 --timesteps 50000 --jobs 2 --out results/compare-<stamp>

Writes in --out: runs.csv (one row per run and budget multiple), evaluations.csv (one row per evaluation), summary.md
(one table per budget multiple), learning_curves.png, results.json (everything: settings, versions, curves, tracebacks
of crashed runs) and runs/<algorithm>/<env>_<seed>/ (EvalCallback's evaluations.npz, the Monitor log, result.json),
laid out like RL Zoo's logs so that rl_zoo3.plots can read them too.
"""

import argparse
import multiprocessing
import os
import platform
import shlex
import sys
import time
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from importlib.metadata import version
from typing import Any

import torch as th
from tqdm.auto import tqdm

from sb3_cartdqn.cartdqn.cartdqn import CartDQN
from sb3_cartdqn.command_line import make_parser
from sb3_cartdqn.common.evaluation import COMPARISON_EVAL_SEED_OFFSET, COMPARISON_FINAL_EVAL_SEED_OFFSET, solved_threshold
from sb3_cartdqn.compare.algorithms import ALGORITHM_NAMES, AlgorithmConfig, build_algorithms
from sb3_cartdqn.compare.budgets import budget_steps, conclude, empty_curve
from sb3_cartdqn.compare.report import write_report
from sb3_cartdqn.compare.run import BatchedRunTask, RunTask, run_batched, run_one

PACKAGES = ("sb3-cartdqn", "stable-baselines3", "sb3-contrib", "rl-zoo3", "gymnasium", "torch", "numpy")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = make_parser(
        "python -m sb3_cartdqn.compare",
        __doc__,
        [
            "python -m sb3_cartdqn.compare --seeds 10 --timesteps 50000 --jobs 2",
            "python -m sb3_cartdqn.compare --algos cartdqn-robust dqn-zoo-nstep3 --seeds 3 --timesteps 20000 "
            "--out results/quick",
            "python -m sb3_cartdqn.compare --seeds 10 --timesteps 50000 --row-budgets --budget-factors 1 2 "
            "--separate-trainings --eval-freq 500 --jobs 2 --out docs/compare",
        ],
    )
    parser.add_argument("--env", default="CartPole-v1", help="Gymnasium env id")
    parser.add_argument(
        "--algos",
        nargs="+",
        default=list(ALGORITHM_NAMES),
        choices=ALGORITHM_NAMES,
        metavar="ALGO",
        help=f"rows to train, one or more of: {', '.join(ALGORITHM_NAMES)} (default: all of them)",
    )
    parser.add_argument("--seeds", type=int, default=10, help="number of seeds per algorithm")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds are first-seed, first-seed + 1, ...")
    parser.add_argument(
        "--timesteps",
        type=int,
        default=50_000,
        help="the budget of every row in env steps (with --row-budgets: of the rows without a hyperparameter file)",
    )
    parser.add_argument(
        "--budget-factors",
        type=float,
        nargs="+",
        default=[1.0],
        metavar="FACTOR",
        help="train each run to the largest of these multiples of its budget, with the final evaluation at each of "
        "them during the same training and one table per multiple (e.g. 1 2: at the budget and at twice it)",
    )
    parser.add_argument(
        "--separate-trainings",
        action="store_true",
        help="train each budget multiple of --budget-factors separately, its schedules (RL Zoo's exploration_fraction, "
        "lin_ learning rates) over its own length, instead of one training to the largest multiple (1.5x the time for 1 2)",
    )
    parser.add_argument(
        "--row-budgets",
        action="store_true",
        help="each row's budget is its hyperparameter file's n_timesteps (cartdqn-robust, cartdqn-fast, dqn-zoo, "
        "dqn-zoo-nstep3, qrdqn-zoo); the others keep --timesteps",
    )
    parser.add_argument(
        "--eval-freq",
        type=int,
        default=2_500,
        help="evaluate every this many env steps (500 for the headline run: the first evaluation at the threshold is "
        "then known to 500 steps)",
    )
    parser.add_argument("--eval-episodes", type=int, default=10, help="greedy episodes per evaluation during training")
    parser.add_argument("--final-eval-episodes", type=int, default=20, help="greedy episodes of the final evaluation")
    parser.add_argument(
        "--solved-threshold",
        type=float,
        default=None,
        help="return counted as solved (default: the env's reward_threshold)",
    )
    parser.add_argument("--jobs", type=int, default=2, help="parallel worker processes (one torch thread each)")
    parser.add_argument("--out", default=None, help="output folder (default: results/compare-<date>-<time>)")
    parser.add_argument(
        "--hyperparams-dir",
        default=None,
        help="folder with cartdqn.yml / cartdqn_robust.yml / cartdqn_fast.yml (default: the package's hyperparams/)",
    )
    parser.add_argument("--robust-config", default=None, help="YAML file with CartDQN's robust preset")
    parser.add_argument("--robust-key", default=None, help="entry of --robust-config to use (default: the env id)")
    parser.add_argument(
        "--batched",
        action="store_true",
        help="train each CartDQN row's seeds together in one process (BatchedCartDQN); the table says which rows did",
    )
    parser.add_argument("--device", default="cpu", help="torch device of every run")
    parser.add_argument("--save-models", action="store_true", help="save each run's final model in its folder")
    parser.add_argument("--no-progress-bar", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)
    for name in ("seeds", "timesteps", "eval_freq", "eval_episodes", "final_eval_episodes", "jobs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if min(args.budget_factors) <= 0:
        parser.error(f"--budget-factors must be positive, got {args.budget_factors}")
    args.budget_factors = sorted(set(args.budget_factors))
    if args.out is None:
        args.out = os.path.join("results", time.strftime("compare-%Y%m%d-%H%M%S"))
    return args


def _init_worker() -> None:
    """Each worker: one torch thread, no screen."""
    th.set_num_threads(1)
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


Task = RunTask | BatchedRunTask


def _crash(task: Task, error: BaseException) -> list[dict[str, Any]]:
    """The results of a task whose worker process failed (the runs themselves could not report)."""
    runs, extra = ((task,), {}) if isinstance(task, RunTask) else (task.runs, {"batched_seeds": len(task.runs)})
    settings = runs[0]
    steps = budget_steps(settings.timesteps, settings.budget_factors)
    return [
        conclude(
            {
                "algorithm": task.algorithm.name,
                "seed": run.seed,
                "env_id": run.env_id,
                "run_dir": run.run_dir,
                **extra,
                "status": "crashed",
                "error": f"worker process failed: {error!r}",
            },
            empty_curve(),
            {},
            settings.budget_factors,
            steps,
            settings.solved_threshold,
        )
        for run in runs
    ]


def run_task(task: Task) -> list[dict[str, Any]]:
    """
    :param task: one run, or a batched row's runs
    :return: their results
    """
    return [run_one(task)] if isinstance(task, RunTask) else run_batched(task)


def run_all(tasks: list[Task], jobs: int, progress_bar: bool = True) -> list[dict[str, Any]]:
    """
    Run every task in ``jobs`` spawned worker processes, with a progress bar over all runs.

    :param tasks: the runs (a batched task holds a row's runs on every seed)
    :param jobs: worker processes
    :param progress_bar: show the progress bar
    :return: the results, in the order of ``tasks`` (a batched task's in the order of its seeds; crashed runs
        included)
    """
    results: dict[int, list[dict[str, Any]]] = {}
    context = multiprocessing.get_context("spawn")
    total = sum(1 if isinstance(task, RunTask) else len(task.runs) for task in tasks)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init_worker) as executor:
        futures: dict[Future, int] = {executor.submit(run_task, task): index for index, task in enumerate(tasks)}
        with tqdm(total=total, desc="runs", unit="run", disable=not progress_bar) as bar:
            for future in as_completed(futures):
                index = futures[future]
                try:
                    task_results = future.result()
                except Exception as error:  # the worker died (killed, out of memory, unpicklable task)
                    task_results = _crash(tasks[index], error)
                results[index] = task_results
                for result in task_results:
                    final = result.get("final_mean_return")
                    outcome = f"{final:.1f}" if result["status"] == "ok" else "CRASHED"
                    bar.set_postfix_str(f"{result['algorithm']} seed {result['seed']}: {outcome}")
                    bar.update()
    return [result for index in range(len(tasks)) for result in results[index]]


def row_budget(config: AlgorithmConfig, args: argparse.Namespace) -> int:
    """
    :param config: a row
    :param args: the command line
    :return: the row's budget: its hyperparameter file's ``n_timesteps`` with ``--row-budgets`` (when it has one),
        else ``--timesteps``
    """
    return config.zoo_n_timesteps if args.row_budgets and config.zoo_n_timesteps else args.timesteps


def trainings(args: argparse.Namespace) -> list[tuple[float, ...]]:
    """
    :param args: the command line
    :return: the budget multiples of each training of a run: all of ``--budget-factors`` in one training, or with
        ``--separate-trainings`` one training per multiple
    """
    factors = tuple(args.budget_factors)
    return [(factor,) for factor in factors] if args.separate_trainings else [factors]


def build_tasks(
    configs: list[AlgorithmConfig],
    seeds: list[int],
    args: argparse.Namespace,
    threshold: float,
    factors: tuple[float, ...] | None = None,
) -> list[Task]:
    """
    :param configs: the rows
    :param seeds: the seeds of every row
    :param args: the command line
    :param threshold: the solved threshold
    :param factors: the budget multiples of these tasks' training (default: ``--budget-factors``); with
        ``--separate-trainings`` each run folder is named for its multiple (``<env>_<seed>_x2``)
    :return: one task per run (seeds outer, rows inner: an interrupted comparison still has every row on the first
        seeds); with ``--batched``, one task per CartDQN row first, holding all its seeds
    """
    factors = tuple(args.budget_factors) if factors is None else factors
    suffix = f"_x{factors[-1]:g}" if args.separate_trainings else ""
    common = dict(
        env_id=args.env,
        eval_freq=args.eval_freq,
        eval_episodes=args.eval_episodes,
        final_eval_episodes=args.final_eval_episodes,
        solved_threshold=threshold,
        device=args.device,
        save_model=args.save_models,
        budget_factors=factors,
    )

    def run_dir(config: AlgorithmConfig, seed: int) -> str:
        return os.path.join(args.out, "runs", config.name, f"{args.env}_{seed}{suffix}")

    def one_run(config: AlgorithmConfig, seed: int) -> RunTask:
        return RunTask(
            algorithm=config, seed=seed, run_dir=run_dir(config, seed), timesteps=row_budget(config, args), **common
        )  # type: ignore[arg-type]

    batched = [config for config in configs if args.batched and config.algo_class is CartDQN]
    tasks: list[Task] = [BatchedRunTask(tuple(one_run(config, seed) for seed in seeds)) for config in batched]
    tasks += [one_run(config, seed) for seed in seeds for config in configs if config not in batched]
    return tasks


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    threshold = solved_threshold(args.env, args.solved_threshold)
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    tasks: list[Task] = []
    for factors in trainings(args):
        # a training runs to its largest budget multiple (dqn-tutorial-like's linear epsilon is a fraction of that)
        configs, skipped = build_algorithms(
            args.algos,
            args.env,
            round(args.timesteps * factors[-1]),
            args.hyperparams_dir,
            args.robust_config,
            args.robust_key,
        )
        tasks += build_tasks(configs, seeds, args, threshold, factors)
    for name, reason in skipped.items():
        print(f"Skipping {name}: {reason}")
    if not configs:
        raise SystemExit("Nothing to run: every requested algorithm was skipped")
    os.makedirs(args.out, exist_ok=True)
    count = len(trainings(args))
    shape = f"{len(configs)} algorithms x {len(seeds)} seeds" + (f" x {count} trainings" if count > 1 else "")
    print(f"{len(configs) * len(seeds) * count} runs ({shape}) in {args.jobs} worker processes -> {args.out}")
    start = time.perf_counter()
    results = run_all(tasks, args.jobs, progress_bar=not args.no_progress_bar)
    wall_seconds = time.perf_counter() - start
    meta = {
        "command": "python -m sb3_cartdqn.compare " + shlex.join(sys.argv[1:] if argv is None else argv),
        "env_id": args.env,
        "seeds": len(seeds),
        "seed_list": seeds,
        "timesteps": args.timesteps,
        "budget_factors": args.budget_factors,
        "separate_trainings": args.separate_trainings,
        "row_budgets": {config.name: row_budget(config, args) for config in configs} if args.row_budgets else None,
        "eval_freq": args.eval_freq,
        "eval_episodes": args.eval_episodes,
        "final_eval_episodes": args.final_eval_episodes,
        "eval_seed_offset": COMPARISON_EVAL_SEED_OFFSET,
        "final_eval_seed_offset": COMPARISON_FINAL_EVAL_SEED_OFFSET,
        "solved_threshold": threshold,
        "jobs": args.jobs,
        "batched_rows": list(dict.fromkeys(task.algorithm.name for task in tasks if isinstance(task, BatchedRunTask))),
        "torch_threads_per_worker": 1,
        "device": args.device,
        "wall_seconds": wall_seconds,
        "machine": {"platform": platform.platform(), "processor": platform.machine(), "cpu_count": os.cpu_count()},
        "versions": {"python": platform.python_version(), **{package: version(package) for package in PACKAGES}},
        "algorithms": [config.record() for config in configs],
        "skipped": skipped,
    }
    paths = write_report(args.out, results, meta)
    print()
    print(paths["table"])
    crashed = [result for result in results if result["status"] != "ok"]
    for result in crashed:
        print(f"CRASHED {result['algorithm']} seed {result['seed']} (traceback in results.json):")
        print(result["error"])
    print(
        f"{len(results)} runs ({len(crashed)} crashed) in {wall_seconds / 60:.1f} min; wrote",
        ", ".join(paths[kind] for kind in ("summary", "figure", "runs", "evaluations", "results")),
    )
    return {"results": results, "paths": paths, "meta": meta}
