"""
Compare CartDQN with stock SB3 DQN and sb3-contrib QR-DQN on the same env and seeds, in parallel worker processes.

    python -m sb3_cartdqn.compare --seeds 5 --timesteps 50000 --jobs 2 --out results/compare-<stamp>

Writes in --out: runs.csv (one row per run), evaluations.csv (one row per evaluation), summary.md (the table),
learning_curves.png, results.json (everything: settings, versions, curves, tracebacks of crashed runs) and
runs/<algorithm>/<env>_<seed>/ (EvalCallback's evaluations.npz, the Monitor log, result.json), laid out like
RL Zoo's logs so that rl_zoo3.plots can read them too.
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

import gymnasium as gym
import torch as th
from tqdm.auto import tqdm

from sb3_cartdqn.compare.algorithms import ALGORITHM_NAMES, build_algorithms
from sb3_cartdqn.compare.report import write_report
from sb3_cartdqn.compare.run import EVAL_SEED_OFFSET, FINAL_EVAL_SEED_OFFSET, RunTask, run_one

PACKAGES = ("sb3-cartdqn", "stable-baselines3", "sb3-contrib", "rl-zoo3", "gymnasium", "torch", "numpy")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="CartPole-v1", help="Gymnasium env id")
    parser.add_argument(
        "--algos", nargs="+", default=list(ALGORITHM_NAMES), choices=ALGORITHM_NAMES, help="algorithms to train"
    )
    parser.add_argument("--seeds", type=int, default=5, help="number of seeds per algorithm")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds are first-seed, first-seed + 1, ...")
    parser.add_argument("--timesteps", type=int, default=50_000, help="env steps per run (the same for every algorithm)")
    parser.add_argument("--eval-freq", type=int, default=2_500, help="evaluate every this many env steps")
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
    parser.add_argument("--hyperparams-dir", default=None, help="folder with cartdqn.yml / cartdqn_tuned.yml")
    parser.add_argument("--tuned-config", default=None, help="YAML file with CartDQN's tuned settings")
    parser.add_argument("--tuned-key", default=None, help="entry of --tuned-config to use (default: the env id)")
    parser.add_argument("--device", default="cpu", help="torch device of every run")
    parser.add_argument("--save-models", action="store_true", help="save each run's final model in its folder")
    parser.add_argument("--no-progress-bar", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)
    for name in ("seeds", "timesteps", "eval_freq", "eval_episodes", "final_eval_episodes", "jobs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if args.out is None:
        args.out = os.path.join("results", time.strftime("compare-%Y%m%d-%H%M%S"))
    return args


def solved_threshold(env_id: str, threshold: float | None) -> float:
    """
    :param env_id: the env id
    :param threshold: the user's threshold, if any
    :return: the threshold, else the env's registered ``reward_threshold``
    """
    if threshold is not None:
        return threshold
    registered = gym.spec(env_id).reward_threshold
    if registered is None:
        raise ValueError(f"{env_id} registers no reward_threshold: pass --solved-threshold")
    return float(registered)


def _init_worker() -> None:
    """Each worker: one torch thread, no screen."""
    th.set_num_threads(1)
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


def _crash(task: RunTask, error: BaseException) -> dict[str, Any]:
    """The result of a run whose worker process failed (the run itself could not report)."""
    return {
        "algorithm": task.algorithm.name,
        "seed": task.seed,
        "env_id": task.env_id,
        "run_dir": task.run_dir,
        "status": "crashed",
        "error": f"worker process failed: {error!r}",
        "evaluations": {"timesteps": [], "train_seconds": [], "mean_return": [], "std_return": []},
        "first_solved_timesteps": None,
        "first_solved_train_seconds": None,
    }


def run_all(tasks: list[RunTask], jobs: int, progress_bar: bool = True) -> list[dict[str, Any]]:
    """
    Run every task in ``jobs`` spawned worker processes, with a progress bar over all runs.

    :param tasks: the runs
    :param jobs: worker processes
    :param progress_bar: show the progress bar
    :return: the results, in the order of ``tasks`` (crashed runs included)
    """
    results: dict[int, dict[str, Any]] = {}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init_worker) as executor:
        futures: dict[Future, int] = {executor.submit(run_one, task): index for index, task in enumerate(tasks)}
        with tqdm(total=len(tasks), desc="runs", unit="run", disable=not progress_bar) as bar:
            for future in as_completed(futures):
                index = futures[future]
                try:
                    result = future.result()
                except Exception as error:  # the worker died (killed, out of memory, unpicklable task)
                    result = _crash(tasks[index], error)
                results[index] = result
                final = result.get("final_mean_return")
                outcome = f"{final:.1f}" if result["status"] == "ok" else "CRASHED"
                bar.set_postfix_str(f"{result['algorithm']} seed {result['seed']}: {outcome}")
                bar.update()
    return [results[index] for index in range(len(tasks))]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    threshold = solved_threshold(args.env, args.solved_threshold)
    configs, skipped = build_algorithms(
        args.algos, args.env, args.timesteps, args.hyperparams_dir, args.tuned_config, args.tuned_key
    )
    for name, reason in skipped.items():
        print(f"Skipping {name}: {reason}")
    if not configs:
        raise SystemExit("Nothing to run: every requested algorithm was skipped")
    os.makedirs(args.out, exist_ok=True)
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    # Seeds outer, algorithms inner: an interrupted comparison still has every algorithm on the first seeds
    tasks = [
        RunTask(
            algorithm=config,
            env_id=args.env,
            seed=seed,
            timesteps=args.timesteps,
            eval_freq=args.eval_freq,
            eval_episodes=args.eval_episodes,
            final_eval_episodes=args.final_eval_episodes,
            solved_threshold=threshold,
            run_dir=os.path.join(args.out, "runs", config.name, f"{args.env}_{seed}"),
            device=args.device,
            save_model=args.save_models,
        )
        for seed in seeds
        for config in configs
    ]
    print(f"{len(tasks)} runs ({len(configs)} algorithms x {len(seeds)} seeds) in {args.jobs} worker processes -> {args.out}")
    start = time.perf_counter()
    results = run_all(tasks, args.jobs, progress_bar=not args.no_progress_bar)
    wall_seconds = time.perf_counter() - start
    meta = {
        "command": "python -m sb3_cartdqn.compare " + shlex.join(sys.argv[1:] if argv is None else argv),
        "env_id": args.env,
        "seeds": len(seeds),
        "seed_list": seeds,
        "timesteps": args.timesteps,
        "eval_freq": args.eval_freq,
        "eval_episodes": args.eval_episodes,
        "final_eval_episodes": args.final_eval_episodes,
        "eval_seed_offset": EVAL_SEED_OFFSET,
        "final_eval_seed_offset": FINAL_EVAL_SEED_OFFSET,
        "solved_threshold": threshold,
        "jobs": args.jobs,
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
