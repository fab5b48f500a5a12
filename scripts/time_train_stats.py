"""
Per-step cost of recording the training statistics in the logger after every ``train()`` call (issue #13).

    OMP_NUM_THREADS=1 python scripts/time_train_stats.py --steps 2000 --repeats 7

Two CartDQN models at the tutorial's settings (one gradient step per env step) run side by side in this one
process, interleaved and rotated each repeat, on one torch thread:

- ``per-train``: CartDQN as it is: ``train/n_updates``, ``train/loss`` and ``train/q_values`` recorded at the end
  of every ``train()`` call (as SB3's DQN does).
- ``dump-only``: the same code with the per-call recording turned into an empty method call, the statistics
  recorded at ``dump_logs()`` only (CartDQN before #13). The empty call costs it ~0.1 us a step, so the
  difference below slightly understates the cost.

Prints the median microseconds per env step of each, the median of the per-repeat differences, and the cost of
one ``_record_train_stats()`` call timed on its own.
"""

import statistics
import time
import timeit

import torch as th

from sb3_cartdqn import CartDQN
from sb3_cartdqn.command_line import make_parser


class DumpOnlyStats(CartDQN):
    """CartDQN recording its training statistics at log dumps only, as before #13."""

    def _record_train_stats(self) -> None:
        pass

    def dump_logs(self) -> None:
        CartDQN._record_train_stats(self)
        super().dump_logs()


def main() -> None:
    parser = make_parser("python scripts/time_train_stats.py", __doc__, ["python scripts/time_train_stats.py"])
    parser.add_argument("--steps", type=int, default=2000, help="env steps timed per variant and repeat")
    parser.add_argument("--repeats", type=int, default=7, help="interleaved repeats")
    parser.add_argument("--warmup", type=int, default=500, help="env steps before timing (learning starts at 128)")
    args = parser.parse_args()
    th.set_num_threads(1)

    models = {
        "per-train": CartDQN("MlpPolicy", "CartPole-v1", seed=0, device="cpu"),
        "dump-only": DumpOnlyStats("MlpPolicy", "CartPole-v1", seed=0, device="cpu"),
    }
    for model in models.values():
        model.learn(args.warmup)
    times: dict[str, list[float]] = {name: [] for name in models}
    order = list(models)
    for _ in range(args.repeats):
        for name in order:
            start = time.perf_counter()
            models[name].learn(args.steps, reset_num_timesteps=False)
            times[name].append((time.perf_counter() - start) / args.steps * 1e6)
        order.reverse()
    differences = [new - old for new, old in zip(times["per-train"], times["dump-only"], strict=True)]
    for name, values in times.items():
        repeats = ", ".join(f"{v:.1f}" for v in values)
        print(f"{name:10s} median {statistics.median(values):7.1f} us/step  (repeats: {repeats})")
    print(f"per-train minus dump-only: median {statistics.median(differences):+.1f} us/step")

    model = models["per-train"]
    model._train_stats_count = max(model._train_stats_count, 1)  # the full path: n_updates, loss and Q
    calls = 100_000
    seconds = timeit.timeit(model._record_train_stats, number=calls)
    print(f"one _record_train_stats() call: {seconds / calls * 1e6:.2f} us")


if __name__ == "__main__":
    main()
