"""
Train CartDQN through the RL Zoo on several seeds and evaluate each final greedy policy (not the best checkpoint).

    python examples/zoo_seeds.py --seeds 0 1 2 3 4 5 6 7 8 9 --jobs 2 -- -conf hyperparams/cartdqn_robust.yml

Arguments after ``--`` go to ``python -m sb3_cartdqn.zoo train`` (here: the robust preset's hyperparameter file). Runs are
written under ``--folder`` (RL Zoo's layout: ``FOLDER/cartdqn/ENV_N/``); the per-seed results go to ``results.json``
there. A seed solves the task when the mean return of ``--eval-episodes`` greedy episodes is at least ``--threshold``.

The robust preset's verification (held-out seeds 100-119, at the preset's budget and at twice it; ``summary.md`` gets
a table of the final returns):

    python examples/zoo_seeds.py --preset robust --seeds $(seq 100 119) --budget-factors 1 2 --jobs 2 --folder runs/robust
"""

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from sb3_cartdqn import CartDQN
from sb3_cartdqn.command_line import make_parser
from sb3_cartdqn.common.evaluation import evaluate_greedy, is_solved, solved_threshold, verification_table
from sb3_cartdqn.presets import PRESET_FILES, load_preset


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
    argv = sys.argv[1:] if argv is None else argv
    zoo_args = argv[argv.index("--") + 1 :] if "--" in argv else []
    own_args = argv[: argv.index("--")] if "--" in argv else argv
    parser = make_parser(
        "python examples/zoo_seeds.py",
        __doc__,
        [
            "python examples/zoo_seeds.py --seeds 0 1 2 3 4 5 6 7 8 9 --jobs 2 -- -conf hyperparams/cartdqn_robust.yml",
            "python examples/zoo_seeds.py --preset robust --seeds $(seq 100 119) --budget-factors 1 2 --jobs 2 "
            "--folder runs/robust",
        ],
    )
    parser.add_argument("--env", default="CartPole-v1", help="Gymnasium env id")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)), help="training seeds")
    parser.add_argument("--jobs", type=int, default=1, help="trainings run side by side")
    parser.add_argument("--folder", default="runs/zoo_seeds", help="RL Zoo log folder of the runs")
    parser.add_argument("--eval-episodes", type=int, default=20, help="greedy episodes per final evaluation")
    parser.add_argument(
        "--threshold", type=float, default=None, help="mean return that counts as solved (default: the env's reward_threshold)"
    )
    parser.add_argument(
        "--preset", choices=sorted(PRESET_FILES), default=None, help="train with this preset's file (-conf) and budget"
    )
    parser.add_argument(
        "--budget-factors",
        type=float,
        nargs="+",
        default=None,
        help="with --preset: train each seed at these multiples of the preset's budget (e.g. 1 2)",
    )
    args = parser.parse_args(own_args)
    if args.budget_factors is not None and args.preset is None:
        parser.error("--budget-factors multiplies a preset's budget: add --preset NAME")
    args.threshold = solved_threshold(args.env, args.threshold)
    return args, zoo_args


def train_and_evaluate(seed: int, args: argparse.Namespace, zoo_args: list[str], factor: float | None = None) -> dict:
    """
    Train one seed in its own log folder through the zoo, then evaluate its final model.
    With ``args.preset``, train with its file and ``factor`` times its budget (``-n``).
    """
    folder = Path(args.folder) / ("" if factor is None else f"x{factor:g}") / f"seed_{seed}"
    command = [sys.executable, "-m", "sb3_cartdqn.zoo", "train", "--algo", "cartdqn", "--env", args.env]
    command += ["--seed", str(seed), "-f", str(folder), "--num-threads", "1", "--verbose", "0", "--device", "cpu"]
    budget = None
    if args.preset is not None:
        preset = load_preset(args.preset, args.env)
        budget = round((factor or 1.0) * preset.n_timesteps)
        command += ["-conf", str(preset.path), "-n", str(budget)]
    command += ["--eval-freq", "-1", *zoo_args]
    started = time.time()
    subprocess.run(command, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, stdout=subprocess.DEVNULL)
    seconds = time.time() - started
    run = sorted((folder / "cartdqn").glob(f"{args.env}_*"), key=lambda p: int(p.name.rsplit("_", 1)[1]))[-1]
    model = CartDQN.load(run / f"{args.env}.zip", device="cpu")
    returns = evaluate_greedy(model, args.env, seed, args.eval_episodes)
    config = dict(yaml.load((run / args.env / "config.yml").read_text(), Loader=yaml.UnsafeLoader))
    result = {
        "seed": seed,
        "budget_factor": factor,
        "train_seconds": round(seconds, 1),
        "run": str(run),
        "env_steps": model.num_timesteps,
        "n_timesteps_config": config["n_timesteps"],
        "n_timesteps": budget or int(config["n_timesteps"]),
        "mean_return": float(returns.mean()),
        "std_return": float(returns.std()),
        "solved": is_solved(returns.mean(), args.threshold),
    }
    print(
        f"seed {seed}: {model.num_timesteps} env steps in {seconds:.0f} s, final greedy return {result['mean_return']:.1f} "
        f"+/- {result['std_return']:.1f} over {args.eval_episodes} episodes{' (solved)' if result['solved'] else ''}",
        flush=True,
    )
    return result


def summary_table(results: list[dict], args: argparse.Namespace) -> str:
    """A markdown table: one row per seed, one column per budget, and the seeds solved per budget."""
    return verification_table(results, args.seeds, args.threshold)


def main(argv: list[str] | None = None) -> list[dict]:
    args, zoo_args = parse_args(argv)
    factors: list[float | None] = list(args.budget_factors) if args.budget_factors else [None]
    # Seeds outer, budgets inner: an interrupted run still has every budget on the first seeds
    tasks = [(seed, factor) for seed in args.seeds for factor in factors]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda task: train_and_evaluate(task[0], args, zoo_args, task[1]), tasks))
    for factor in factors:
        budget = [r for r in results if r["budget_factor"] == factor]
        returns = [round(r["mean_return"], 1) for r in budget]
        print(
            f"{'' if factor is None else f'{factor:g}x budget: '}solved (mean >= {args.threshold:g} over "
            f"{args.eval_episodes} greedy episodes): {sum(r['solved'] for r in budget)}/{len(returns)} seeds; "
            f"returns: {returns}"
        )
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    record = {"argv": sys.argv[1:] if argv is None else argv, "preset": args.preset, "zoo_args": zoo_args}
    (folder / "results.json").write_text(json.dumps({**record, "results": results}, indent=2))
    table = summary_table(results, args)
    (folder / "summary.md").write_text(table)
    print(table)
    return results


if __name__ == "__main__":
    main()
