"""
Train several CartDQN seeds in one process, evaluate each greedily and save each as an ordinary CartDQN model.

    python -m sb3_cartdqn.batched --seeds 200-209 --timesteps 50000 --out runs/batched

With a preset (its settings and budget, read from its RL Zoo file), at several multiples of the budget: the robust
preset's verification on the held-out seeds, every seed of a budget trained together in one process:

    python -m sb3_cartdqn.batched --preset robust --seeds 100-119 --budget-factors 1 2 --out runs/robust-batched

Each seed is evaluated as ``python -m sb3_cartdqn.main`` evaluates one (``evaluate_policy(deterministic=True)`` on a
fresh env reset with ``seed + EVAL_SEED_OFFSET``), all seeds at once (``BatchedCartDQN.evaluate``: the same episodes).
Writes ``seed_<s>.zip`` per seed, ``results.json`` and one TensorBoard run per seed under ``tb/`` (in ``x<factor>/``
per budget with ``--budget-factors``), and ``summary.md``: a table of the final returns, one column per budget.

``python -m sb3_cartdqn.batched`` runs :func:`main`; ``python -m sb3_cartdqn.main --seeds ...`` trains with
:func:`train_seeds`.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch as th

from sb3_cartdqn.batched.trainer import BatchedCartDQN
from sb3_cartdqn.command_line import make_parser
from sb3_cartdqn.common.callbacks import plot_seed_durations
from sb3_cartdqn.common.evaluation import EVAL_SEED_OFFSET, is_solved, solved_threshold, verification_table
from sb3_cartdqn.presets import PRESET_FILES, load_preset, read_preset


def parse_seeds(text: str) -> list[int]:
    """
    :param text: ``"0-9"``, ``"1,5,7"`` or a mix (``"0-3,10"``)
    :return: the seeds
    """
    seeds: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        try:
            seeds += list(range(int(first), int(last) + 1)) if last else [int(first)]
        except ValueError:
            raise argparse.ArgumentTypeError(f"--seeds {text!r}: use a range like 0-9, a list like 1,5,7, or both") from None
    return seeds


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """
    :param argv: the command line (default ``sys.argv[1:]``)
    :return: the parsed flags
    """
    parser = make_parser(
        "python -m sb3_cartdqn.batched",
        __doc__,
        [
            "python -m sb3_cartdqn.batched --seeds 200-209 --timesteps 50000 --out runs/batched",
            "python -m sb3_cartdqn.batched --preset robust --seeds 100-119 --budget-factors 1 2 --out runs/robust-batched",
        ],
    )
    parser.add_argument("--env", default="CartPole-v1", help="Gymnasium env id (Box observations, Discrete actions)")
    parser.add_argument("--seeds", type=parse_seeds, default=parse_seeds("0-9"), help="seeds, e.g. 0-9 or 1,5,7")
    parser.add_argument("--timesteps", type=int, default=None, help="env steps per seed (default: the preset's budget)")
    parser.add_argument("--preset", choices=sorted(PRESET_FILES), default="tutorial", help="settings to train with")
    parser.add_argument("--conf", default=None, help="an RL Zoo hyperparameter file to train with instead of --preset")
    parser.add_argument(
        "--budget-factors", type=float, nargs="+", default=None, help="train at these multiples of the budget (e.g. 1 2)"
    )
    parser.add_argument("--eval-episodes", type=int, default=20, help="greedy evaluation episodes per seed")
    parser.add_argument(
        "--threshold", type=float, default=None, help="mean return that counts as solved (default: the env's reward_threshold)"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--device", default="cpu", help="torch device")
    parser.add_argument("--out", default="runs/batched", help="output folder")
    parser.add_argument("--no-progress-bar", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)
    args.threshold = solved_threshold(args.env, args.threshold)
    return args


def train_seeds(
    args: argparse.Namespace, settings: dict[str, Any], timesteps: int, out: str, factor: float | None = None
) -> dict[str, Any]:
    """
    Train every seed together, evaluate each final greedy policy, save each as a CartDQN model.

    :param args: the command line
    :param settings: ``BatchedCartDQN`` keyword arguments (a preset's)
    :param timesteps: env steps per seed
    :param out: folder for the models, TensorBoard runs and ``results.json``
    :param factor: the multiple of the preset's budget (for the records)
    :return: what ``results.json`` holds
    """
    os.makedirs(out, exist_ok=True)
    try:
        batched = BatchedCartDQN(args.env, args.seeds, device=args.device, tensorboard_log=os.path.join(out, "tb"), **settings)
    except TypeError as error:
        raise SystemExit(
            f"preset {args.preset!r}: {error}. The batched trainer takes CartDQN's vector-variant options only: train "
            "this preset one seed per process (examples/zoo_seeds.py --preset ...)."
        ) from None
    start = time.perf_counter()
    batched.learn(timesteps, progress_bar=not args.no_progress_bar)
    train_seconds = time.perf_counter() - start

    # All seeds at once: the same episodes as evaluate_policy on each saved model (tests/test_batched_cli.py)
    returns = batched.evaluate(args.eval_episodes, seed_offset=EVAL_SEED_OFFSET)
    paths = batched.save_seeds(out)
    per_seed = []
    for index, seed in enumerate(args.seeds):
        mean_return, std_return = float(returns[index].mean()), float(returns[index].std())
        per_seed.append(
            {
                "seed": seed,
                "budget_factor": factor,
                "n_timesteps": batched.num_timesteps,
                "episodes": len(batched.episode_returns[index]),
                "eval_mean_return": mean_return,
                "eval_std_return": std_return,
                "solved": is_solved(mean_return, args.threshold),
                "model": str(paths[index]),
            }
        )
        print(f"seed {seed}: {per_seed[-1]['episodes']} episodes, greedy return {mean_return:.1f} +/- {std_return:.1f}")
    durations_plot = os.path.join(out, "durations.png")
    lengths = {seed: batched.episode_lengths[index] for index, seed in enumerate(args.seeds)}
    plot_seed_durations(lengths, title=f"{args.env}, {args.preset} preset, seeds {args.seeds[0]}..{args.seeds[-1]}").savefig(
        durations_plot
    )
    means = [row["eval_mean_return"] for row in per_seed]
    results = {
        "env": args.env,
        "preset": args.preset,
        "budget_factor": factor,
        "timesteps_per_seed": batched.num_timesteps,
        "seeds": args.seeds,
        "train_seconds": round(train_seconds, 1),
        "seed_steps_per_second": round(len(args.seeds) * batched.num_timesteps / train_seconds, 1),
        "eval_episodes": args.eval_episodes,
        "solved": sum(row["solved"] for row in per_seed),
        "mean_of_seed_means": statistics.mean(means),
        "median_of_seed_means": statistics.median(means),
        "per_seed": per_seed,
        "durations_plot": durations_plot,
    }
    with open(os.path.join(out, "results.json"), "w") as file:
        json.dump(results, file, indent=2)
    print(
        f"{len(args.seeds)} seeds x {batched.num_timesteps} steps in {train_seconds:.1f} s "
        f"({results['seed_steps_per_second']} seed-steps/s); greedy return over {args.eval_episodes} episodes: "
        f"mean of seed means {results['mean_of_seed_means']:.1f}, median {results['median_of_seed_means']:.1f}; "
        f"solved (>= {args.threshold:g}) {results['solved']}/{len(args.seeds)}"
    )
    print(f"Saved the models, {durations_plot} and {os.path.join(out, 'results.json')}")
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """
    :param argv: the command line (default ``sys.argv[1:]``)
    :return: ``results.json``'s content (one budget), or ``{"budgets": [...], "wall_seconds": ...}`` with
        ``--budget-factors``
    """
    args = parse_args(argv)
    th.set_num_threads(args.threads)
    preset = load_preset(args.preset, args.env) if args.conf is None else read_preset(Path(args.conf), args.env, args.conf)
    args.preset = preset.name
    if preset.policy != "MlpPolicy":
        raise SystemExit(f"preset {args.preset!r} uses {preset.policy}: the batched trainer trains MlpPolicy only.")
    budget = args.timesteps if args.timesteps is not None else preset.n_timesteps
    if args.budget_factors is None:
        return train_seeds(args, preset.kwargs, budget, args.out)
    started = time.perf_counter()
    budgets = [
        train_seeds(args, preset.kwargs, round(factor * budget), os.path.join(args.out, f"x{factor:g}"), factor)
        for factor in args.budget_factors
    ]
    wall_seconds = time.perf_counter() - started
    rows = [{**row, "mean_return": row["eval_mean_return"]} for results in budgets for row in results["per_seed"]]
    table = verification_table(rows, args.seeds, args.threshold)
    summary = {
        "argv": sys.argv[1:] if argv is None else argv,
        "preset": args.preset,
        "wall_seconds": round(wall_seconds, 1),
        "budgets": budgets,
    }
    with open(os.path.join(args.out, "results.json"), "w") as file:
        json.dump(summary, file, indent=2)
    with open(os.path.join(args.out, "summary.md"), "w") as file:
        file.write(table)
    print(table)
    print(f"{len(args.budget_factors)} budgets x {len(args.seeds)} seeds in {wall_seconds:.0f} s, one process")
    return summary
