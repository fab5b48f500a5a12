"""
Long-run memory benchmark (not a test): train the vector (state-observation) CartDQN on CartPole-v1 for many
environment steps and report the process's resident memory as it goes, to show that memory stays flat and that
the replay buffer never grows past its capacity.

    python -m sb3_cartdqn.benchmarks.memory --steps 1000000 --out runs/bench_memory.json
    python -m sb3_cartdqn.benchmarks.memory --steps 2000 --report-every 500   # tiny mode (seconds)

Memory is read from ``/proc/self/status`` (Linux): ``VmRSS`` (resident now) and ``VmHWM`` (peak resident so far).
At every report the replay buffer's fill level and the bytes held by its arrays are checked against its capacity;
the run stops with an error the moment either grows.
"""

import argparse
import time
from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.callbacks import BaseCallback

from sb3_cartdqn import CartDQN
from sb3_cartdqn.benchmarks.output import write_json
from sb3_cartdqn.command_line import make_parser
from sb3_cartdqn.common.defaults import TUTORIAL


def read_memory_kib(status_path: str = "/proc/self/status") -> dict[str, int]:
    """
    Resident memory of this process, from ``/proc/self/status``.

    :param status_path: the status file to read (``/proc/<pid>/status``)
    :return: ``{"rss_kib": VmRSS, "peak_rss_kib": VmHWM}`` in KiB
    """
    fields = {"VmRSS:": "rss_kib", "VmHWM:": "peak_rss_kib"}
    found: dict[str, int] = {}
    with open(status_path) as file:
        for line in file:
            parts = line.split()
            if parts and parts[0] in fields:
                found[fields[parts[0]]] = int(parts[1])  # the kernel writes "VmRSS:   12345 kB"
    missing = set(fields.values()) - set(found)
    if missing:
        raise RuntimeError(f"{status_path} has no {sorted(missing)} lines: this benchmark needs Linux /proc.")
    return found


def buffer_nbytes(buffer: ReplayBuffer) -> int:
    """
    :param buffer: a replay buffer
    :return: bytes held by the numpy arrays and torch tensors among its attributes (its storage)
    """
    total = 0
    for value in vars(buffer).values():
        if isinstance(value, np.ndarray):
            total += value.nbytes
        elif isinstance(value, th.Tensor):
            total += value.element_size() * value.nelement()
        elif isinstance(value, dict):  # dict observations
            total += sum(v.nbytes for v in value.values() if isinstance(v, np.ndarray))
    return total


class MemoryReportCallback(BaseCallback):
    """
    Record memory and replay-buffer figures every ``report_every`` env steps (and at the last step).

    :param report_every: report period in env steps
    :param verbose: 1 prints each report
    """

    def __init__(self, report_every: int, verbose: int = 0) -> None:
        super().__init__(verbose)
        self.report_every = report_every
        self.reports: list[dict[str, Any]] = []
        self._next_report = report_every
        self._start = 0.0
        self._capacity_bytes = 0

    def _on_training_start(self) -> None:
        self._start = time.perf_counter()
        self._capacity_bytes = buffer_nbytes(self._buffer())
        self.reports.append(self._report())

    def _on_step(self) -> bool:
        if self.num_timesteps >= self._next_report:
            self._next_report += self.report_every
            self.reports.append(self._report())
        return True

    def _on_training_end(self) -> None:
        if self.reports[-1]["timesteps"] != self.num_timesteps:
            self.reports.append(self._report())

    def _buffer(self) -> ReplayBuffer:
        buffer = getattr(self.model, "replay_buffer", None)
        assert isinstance(buffer, ReplayBuffer), "MemoryReportCallback needs an off-policy model with a replay buffer"
        return buffer

    def _report(self) -> dict[str, Any]:
        buffer = self._buffer()
        size, nbytes = buffer.size(), buffer_nbytes(buffer)
        if size > buffer.buffer_size or nbytes != self._capacity_bytes:
            raise RuntimeError(
                f"replay buffer grew past its capacity: {size} transitions / {nbytes} bytes "
                f"(capacity {buffer.buffer_size} / {self._capacity_bytes} bytes)"
            )
        report = {
            "timesteps": self.num_timesteps,
            "seconds": round(time.perf_counter() - self._start, 1),
            **read_memory_kib(),
            "buffer_size": size,
            "buffer_capacity": buffer.buffer_size,
            "buffer_bytes": nbytes,
            "episodes": self.model._episode_num,
        }
        if self.verbose >= 1:
            print(
                f"{report['timesteps']:>9} steps {report['seconds']:>8.1f} s  RSS {report['rss_kib'] / 1024:7.1f} MiB  "
                f"peak {report['peak_rss_kib'] / 1024:7.1f} MiB  buffer {size}/{buffer.buffer_size}",
                flush=True,
            )
        return report


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = make_parser(
        "python -m sb3_cartdqn.benchmarks.memory",
        __doc__,
        [
            "python -m sb3_cartdqn.benchmarks.memory --steps 1000000 --out runs/bench_memory.json",
            "python -m sb3_cartdqn.benchmarks.memory --steps 2000 --report-every 500",
        ],
    )
    parser.add_argument("--steps", type=int, default=1_000_000, help="environment steps to train for")
    parser.add_argument("--report-every", type=int, default=100_000, help="report memory every N env steps")
    parser.add_argument("--buffer-size", type=int, default=TUTORIAL.buffer_size, help="replay capacity (the tutorial's)")
    parser.add_argument("--n-envs", type=int, default=1, help="parallel CartPole envs (DummyVecEnv)")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--out", default=None, help="write the reports as JSON to this file")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.report_every < 1:
        parser.error(f"--steps ({args.steps}) and --report-every ({args.report_every}) must be >= 1")
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    th.set_num_threads(1)
    from stable_baselines3.common.env_util import make_vec_env

    env = make_vec_env("CartPole-v1", n_envs=args.n_envs, seed=args.seed)
    model = CartDQN("MlpPolicy", env, buffer_size=args.buffer_size, batch_size=min(128, args.buffer_size), seed=args.seed)
    callback = MemoryReportCallback(args.report_every, verbose=0 if args.quiet else 1)
    model.learn(args.steps, callback=callback)
    reports = callback.reports
    by_step = {r["timesteps"]: r for r in reports}
    first_report = reports[1] if len(reports) > 1 else reports[0]
    summary = {
        "steps": model.num_timesteps,
        "n_envs": args.n_envs,
        "buffer_capacity": args.buffer_size,
        "seconds": reports[-1]["seconds"],
        "steps_per_second": round(model.num_timesteps / max(reports[-1]["seconds"], 1e-9), 1),
        "first_report_steps": first_report["timesteps"],
        "peak_rss_mib_at_first_report": round(first_report["peak_rss_kib"] / 1024, 1),
        "peak_rss_mib_at_end": round(reports[-1]["peak_rss_kib"] / 1024, 1),
        "rss_mib_at_first_report": round(first_report["rss_kib"] / 1024, 1),
        "rss_mib_at_end": round(reports[-1]["rss_kib"] / 1024, 1),
        "max_buffer_size": max(r["buffer_size"] for r in reports),
        "buffer_bytes": sorted({r["buffer_bytes"] for r in reports}),
        "reports": reports,
    }
    if 100_000 in by_step:
        summary["peak_rss_mib_at_100k"] = round(by_step[100_000]["peak_rss_kib"] / 1024, 1)
    print(
        f"{summary['steps']} steps in {summary['seconds']} s ({summary['steps_per_second']} steps/s): "
        f"peak RSS {summary['peak_rss_mib_at_first_report']} MiB at {first_report['timesteps']} steps, "
        f"{summary['peak_rss_mib_at_end']} MiB at {summary['steps']} steps; "
        f"replay buffer at most {summary['max_buffer_size']}/{args.buffer_size} transitions, "
        f"{summary['buffer_bytes']} bytes"
    )
    if args.out:
        write_json(args.out, summary)
    return summary


if __name__ == "__main__":
    main()
