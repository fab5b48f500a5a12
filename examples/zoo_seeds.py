"""
Train CartDQN through the RL Zoo on several seeds and evaluate each final greedy policy (not the best checkpoint).

    python examples/zoo_seeds.py --seeds 0 1 2 3 4 5 6 7 8 9 --jobs 2 -- -conf hyperparams/cartdqn_tuned.yml

Arguments after ``--`` go to ``python -m sb3_cartdqn.zoo train`` (here: the tuned hyperparameter file). Runs are
written under ``--folder`` (RL Zoo's layout: ``FOLDER/cartdqn/ENV_N/``); the per-seed results go to ``results.json``
there. A seed solves the task when the mean return of ``--eval-episodes`` greedy episodes is at least ``--threshold``.
"""

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import gymnasium as gym
import numpy as np
import yaml
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor

from sb3_cartdqn import CartDQN


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
    argv = sys.argv[1:] if argv is None else argv
    zoo_args = argv[argv.index("--") + 1 :] if "--" in argv else []
    own_args = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="CartPole-v1", help="Gymnasium env id")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)), help="training seeds")
    parser.add_argument("--jobs", type=int, default=1, help="trainings run side by side")
    parser.add_argument("--folder", default="runs/zoo_seeds", help="RL Zoo log folder of the runs")
    parser.add_argument("--eval-episodes", type=int, default=20, help="greedy episodes per final evaluation")
    parser.add_argument("--threshold", type=float, default=475.0, help="mean return that counts as solved")
    return parser.parse_args(own_args), zoo_args


def train_and_evaluate(seed: int, args: argparse.Namespace, zoo_args: list[str]) -> dict:
    """Train one seed in its own log folder through the zoo, then evaluate its final model."""
    folder = Path(args.folder) / f"seed_{seed}"
    command = [sys.executable, "-m", "sb3_cartdqn.zoo", "train", "--algo", "cartdqn", "--env", args.env]
    command += ["--seed", str(seed), "-f", str(folder), "--num-threads", "1", "--verbose", "0", "--device", "cpu"]
    command += ["--eval-freq", "-1", *zoo_args]
    subprocess.run(command, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, stdout=subprocess.DEVNULL)
    run = sorted((folder / "cartdqn").glob(f"{args.env}_*"), key=lambda p: int(p.name.rsplit("_", 1)[1]))[-1]
    model = CartDQN.load(run / f"{args.env}.zip", device="cpu")
    env = Monitor(gym.make(args.env))
    env.reset(seed=10_000 + seed)
    returns, _ = evaluate_policy(
        model, env, n_eval_episodes=args.eval_episodes, deterministic=True, return_episode_rewards=True
    )
    config = dict(yaml.load((run / args.env / "config.yml").read_text(), Loader=yaml.UnsafeLoader))
    result = {
        "seed": seed,
        "run": str(run),
        "env_steps": model.num_timesteps,
        "n_timesteps_config": config["n_timesteps"],
        "mean_return": float(np.mean(returns)),
        "std_return": float(np.std(returns)),
        "solved": bool(np.mean(returns) >= args.threshold),
    }
    print(
        f"seed {seed}: {model.num_timesteps} env steps, final greedy return {result['mean_return']:.1f} "
        f"+/- {result['std_return']:.1f} over {args.eval_episodes} episodes{' (solved)' if result['solved'] else ''}",
        flush=True,
    )
    return result


def main(argv: list[str] | None = None) -> list[dict]:
    args, zoo_args = parse_args(argv)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda seed: train_and_evaluate(seed, args, zoo_args), args.seeds))
    solved = sum(r["solved"] for r in results)
    print(
        f"solved (mean >= {args.threshold:g} over {args.eval_episodes} greedy episodes): {solved}/{len(results)} seeds; "
        f"returns: {[round(r['mean_return'], 1) for r in results]}"
    )
    Path(args.folder).mkdir(parents=True, exist_ok=True)
    (Path(args.folder) / "results.json").write_text(json.dumps({"zoo_args": zoo_args, "results": results}, indent=2))
    return results


if __name__ == "__main__":
    main()
