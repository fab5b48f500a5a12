"""
The main job: train CartDQN with the tutorial's settings on CartPole-v1, evaluate the final greedy policy,
and save the model and the tutorial's episode-durations plot.

    python -m sb3_cartdqn.main --timesteps 50000 --seed 0 --out runs/tutorial

``--preset robust`` trains with the robust preset's settings and budget instead (``sb3_cartdqn.presets``);
``--seeds 0-9`` trains those seeds in one process as one batched computation (``python -m sb3_cartdqn.batched``)
and prints each seed's result and the summary.
"""

import argparse
import json
import os
import time

import torch as th

from sb3_cartdqn import CartDQN, PlotDurationsCallback
from sb3_cartdqn.batched.cli import parse_seeds, train_seeds
from sb3_cartdqn.command_line import make_parser
from sb3_cartdqn.common.evaluation import evaluate_greedy, solved_threshold
from sb3_cartdqn.presets import PRESET_FILES, load_preset


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = make_parser(
        "python -m sb3_cartdqn.main",
        __doc__,
        ["python -m sb3_cartdqn.main --timesteps 50000 --seed 0", "python -m sb3_cartdqn.main --preset robust --seeds 0-9"],
    )
    parser.add_argument("--env", default="CartPole-v1", help="Gymnasium env id")
    parser.add_argument("--preset", choices=sorted(PRESET_FILES), default="tutorial", help="settings to train with")
    parser.add_argument("--timesteps", type=int, default=None, help="environment steps (default: the preset's budget)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (training and evaluation)")
    parser.add_argument("--seeds", type=parse_seeds, default=None, help="train these seeds together in one process (e.g. 0-9)")
    parser.add_argument("--eval-episodes", type=int, default=20, help="greedy episodes in the final evaluation")
    parser.add_argument("--out", default=None, help="folder for the model, plot and results (default: runs/<preset>)")
    parser.add_argument("--device", default="cpu", help="torch device (the tutorial's tiny MLP runs fastest on CPU)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 is fastest for this network)")
    parser.add_argument("--no-progress-bar", action="store_true", help="hide the progress bar")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    th.set_num_threads(args.threads)
    preset = load_preset(args.preset, args.env)
    timesteps = args.timesteps if args.timesteps is not None else preset.n_timesteps
    if args.out is None:
        args.out = os.path.join("runs", args.preset + ("-seeds" if args.seeds is not None else ""))
    if args.seeds is not None:
        args.threshold = solved_threshold(args.env)
        return train_seeds(args, preset.kwargs, timesteps, args.out)
    os.makedirs(args.out, exist_ok=True)

    model = CartDQN(
        preset.policy,
        args.env,
        seed=args.seed,
        device=args.device,
        tensorboard_log=os.path.join(args.out, "tb"),
        **preset.kwargs,
    )
    durations = PlotDurationsCallback(save_path=os.path.join(args.out, "durations.png"))
    start = time.perf_counter()
    model.learn(timesteps, callback=durations, progress_bar=not args.no_progress_bar)
    train_seconds = time.perf_counter() - start
    model.save(os.path.join(args.out, "cartdqn_model"))

    returns = evaluate_greedy(model, args.env, args.seed, args.eval_episodes)
    mean_return, std_return = float(returns.mean()), float(returns.std())

    results = {
        "env": args.env,
        "preset": args.preset,
        "timesteps": model.num_timesteps,
        "seed": args.seed,
        "episodes": len(durations.episode_durations),
        "train_seconds": round(train_seconds, 1),
        "env_steps_per_second": round(model.num_timesteps / train_seconds, 1),
        "eval_episodes": args.eval_episodes,
        "eval_mean_return": float(mean_return),
        "eval_std_return": float(std_return),
        "model": os.path.join(args.out, "cartdqn_model.zip"),
        "durations_plot": os.path.join(args.out, "durations.png"),
    }
    with open(os.path.join(args.out, "results.json"), "w") as file:
        json.dump(results, file, indent=2)
    print(
        f"CartDQN ({args.preset}) on {args.env}: {model.num_timesteps} steps, {len(durations.episode_durations)} episodes "
        f"in {train_seconds:.1f} s ({results['env_steps_per_second']} steps/s); "
        f"greedy return over {args.eval_episodes} episodes: {mean_return:.1f} +/- {std_return:.1f}"
    )
    print(f"Saved {results['model']}, {results['durations_plot']} and {os.path.join(args.out, 'results.json')}")
    return results


if __name__ == "__main__":
    main()
