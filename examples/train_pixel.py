"""
Train CartDQN on CartPole from pixels: the older PyTorch tutorial's screen difference (``CartPoleScreenDiff-v1``,
3 x 40 x 90) through its batch-norm CNN (``CnnPolicy``).

    python examples/train_pixel.py --steps 50000 --out runs/pixel

Writes to ``--out``: ``best_model.zip`` and ``evaluations.npz`` (EvalCallback), ``checkpoints/`` (CheckpointCallback),
``tb/`` (TensorBoard), ``durations.png`` (the tutorial's plot), ``final_model.zip`` and ``results.json``.
Defaults are CartDQN's (the vector tutorial's); ``--batch-size 32`` trains about 3x faster per step on a CPU.
"""

import argparse
import json
import os
import time

import torch as th
from stable_baselines3.common.callbacks import CheckpointCallback, EvalCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

from sb3_cartdqn import CartDQN, PlotDurationsCallback
from sb3_cartdqn.command_line import make_parser
from sb3_cartdqn.common.defaults import TUTORIAL
from sb3_cartdqn.common.evaluation import EVAL_SEED_OFFSET
from sb3_cartdqn.envs import SCREEN_DIFF_GRAY_ID, SCREEN_DIFF_ID


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = make_parser(
        "python examples/train_pixel.py", __doc__, ["python examples/train_pixel.py --steps 50000 --out runs/pixel"]
    )
    parser.add_argument("--steps", type=int, default=50_000, help="environment steps to train for")
    parser.add_argument("--out", default="runs/pixel", help="folder for models, logs and plots")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--grayscale", action="store_true", help=f"train on {SCREEN_DIFF_GRAY_ID} (1 x 40 x 90)")
    parser.add_argument("--batch-size", type=int, default=TUTORIAL.batch_size, help="minibatch size (the tutorial's)")
    parser.add_argument("--buffer-size", type=int, default=TUTORIAL.buffer_size, help="replay buffer size (the tutorial's)")
    parser.add_argument("--train-freq", type=int, default=TUTORIAL.train_freq, help="env steps per gradient step")
    parser.add_argument("--learning-rate", type=float, default=TUTORIAL.learning_rate, help="AdamW learning rate")
    parser.add_argument("--exploration-decay", type=float, default=TUTORIAL.exploration_decay, help="epsilon decay, env steps")
    parser.add_argument("--eval-freq", type=int, default=5_000, help="evaluate the greedy policy every N env steps")
    parser.add_argument("--eval-episodes", type=int, default=5, help="episodes per evaluation")
    parser.add_argument("--checkpoint-freq", type=int, default=10_000, help="save a checkpoint every N env steps")
    parser.add_argument("--final-eval-episodes", type=int, default=20, help="episodes of the final evaluation")
    parser.add_argument("--device", default="cpu", help="torch device")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--progress-bar", action="store_true", help="show a progress bar")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    th.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    env_id = SCREEN_DIFF_GRAY_ID if args.grayscale else SCREEN_DIFF_ID

    model = CartDQN(
        "CnnPolicy",
        env_id,
        learning_rate=args.learning_rate,
        buffer_size=args.buffer_size,
        learning_starts=args.batch_size,
        batch_size=args.batch_size,
        train_freq=args.train_freq,
        exploration_decay=args.exploration_decay,
        tensorboard_log=os.path.join(args.out, "tb"),
        seed=args.seed,
        device=args.device,
        verbose=1,
    )
    eval_env = make_vec_env(env_id, n_envs=1, seed=args.seed + EVAL_SEED_OFFSET)
    callbacks = [
        EvalCallback(
            eval_env,
            n_eval_episodes=args.eval_episodes,
            eval_freq=args.eval_freq,
            best_model_save_path=args.out,
            log_path=args.out,
        ),
        CheckpointCallback(args.checkpoint_freq, os.path.join(args.out, "checkpoints"), name_prefix="cartdqn_pixel"),
        PlotDurationsCallback(save_path=os.path.join(args.out, "durations.png"), verbose=1),
    ]
    start = time.perf_counter()
    model.learn(args.steps, callback=callbacks, log_interval=20, progress_bar=args.progress_bar)
    train_seconds = time.perf_counter() - start
    model.save(os.path.join(args.out, "final_model"))

    durations = callbacks[2].episode_durations  # type: ignore[attr-defined]
    last_100 = durations[-100:]
    mean_return, std_return = evaluate_policy(model, eval_env, n_eval_episodes=args.final_eval_episodes)
    results = {
        "env_id": env_id,
        "steps": model.num_timesteps,
        "episodes": len(durations),
        "train_seconds": round(train_seconds, 1),
        "steps_per_second": round(model.num_timesteps / train_seconds, 1),
        "mean_training_episode_length_last_100": round(sum(last_100) / max(len(last_100), 1), 1),
        "best_training_episode_length": max(durations, default=0),
        "best_mean_eval_episode_length": float(callbacks[0].best_mean_reward),  # type: ignore[attr-defined]
        "final_greedy_eval_mean_length": round(float(mean_return), 1),
        "final_greedy_eval_std_length": round(float(std_return), 1),
        "args": vars(args),
    }
    with open(os.path.join(args.out, "results.json"), "w") as file:
        json.dump(results, file, indent=2)
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
