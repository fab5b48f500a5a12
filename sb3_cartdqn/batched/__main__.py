"""
Train several CartDQN seeds in one process, evaluate each greedily and save each as an ordinary CartDQN model.

    python -m sb3_cartdqn.batched --seeds 200-209 --timesteps 50000 --out runs/batched

Each seed is evaluated as ``python -m sb3_cartdqn.main`` evaluates one (``evaluate_policy(deterministic=True)`` on a
fresh env reset with ``seed + 10_000``), all seeds at once (``BatchedCartDQN.evaluate``: the same episodes).
Writes ``seed_<s>.zip`` per seed, ``results.json`` and one TensorBoard run per seed under ``tb/``.
"""

import argparse
import json
import os
import statistics
import time
from typing import Any

import torch as th

from sb3_cartdqn.batched.trainer import BatchedCartDQN


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


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="CartPole-v1", help="Gymnasium env id (Box observations, Discrete actions)")
    parser.add_argument("--seeds", type=parse_seeds, default=parse_seeds("0-9"), help="seeds, e.g. 0-9 or 1,5,7")
    parser.add_argument("--timesteps", type=int, default=50_000, help="env steps per seed")
    parser.add_argument("--eval-episodes", type=int, default=20, help="greedy evaluation episodes per seed")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--device", default="cpu", help="torch device")
    parser.add_argument("--out", default="runs/batched", help="output folder")
    parser.add_argument("--no-progress-bar", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)
    th.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)

    batched = BatchedCartDQN(args.env, args.seeds, device=args.device, tensorboard_log=os.path.join(args.out, "tb"))
    start = time.perf_counter()
    batched.learn(args.timesteps, progress_bar=not args.no_progress_bar)
    train_seconds = time.perf_counter() - start

    # All seeds at once: the same episodes as evaluate_policy on each saved model (tests/test_batched.py)
    returns = batched.evaluate(args.eval_episodes, seed_offset=10_000)
    paths = batched.save_seeds(args.out)
    per_seed = []
    for index, seed in enumerate(args.seeds):
        mean_return, std_return = float(returns[index].mean()), float(returns[index].std())
        per_seed.append(
            {
                "seed": seed,
                "episodes": len(batched.episode_returns[index]),
                "eval_mean_return": mean_return,
                "eval_std_return": std_return,
                "model": str(paths[index]),
            }
        )
        print(f"seed {seed}: {per_seed[-1]['episodes']} episodes, greedy return {mean_return:.1f} +/- {std_return:.1f}")
    means = [row["eval_mean_return"] for row in per_seed]
    results = {
        "env": args.env,
        "timesteps_per_seed": batched.num_timesteps,
        "seeds": args.seeds,
        "train_seconds": round(train_seconds, 1),
        "seed_steps_per_second": round(len(args.seeds) * batched.num_timesteps / train_seconds, 1),
        "eval_episodes": args.eval_episodes,
        "mean_of_seed_means": statistics.mean(means),
        "median_of_seed_means": statistics.median(means),
        "per_seed": per_seed,
    }
    with open(os.path.join(args.out, "results.json"), "w") as file:
        json.dump(results, file, indent=2)
    print(
        f"{len(args.seeds)} seeds x {batched.num_timesteps} steps in {train_seconds:.1f} s "
        f"({results['seed_steps_per_second']} seed-steps/s); greedy return over {args.eval_episodes} episodes: "
        f"mean of seed means {results['mean_of_seed_means']:.1f}, median {results['median_of_seed_means']:.1f}"
    )
    return results


if __name__ == "__main__":
    main()
