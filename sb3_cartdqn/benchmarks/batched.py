"""
Seed-steps per second of BatchedCartDQN for several N, beside single-seed CartDQN and stock SB3 DQN (set up as
close to the tutorial as SB3 allows, as in ``sb3_cartdqn.benchmarks.speed``), measured side by side.

    python -m sb3_cartdqn.benchmarks.batched --sizes 1 4 10 32 --steps 400 --repeats 3 --out results/batched_bench.json

A seed-step is one env step of one seed, with its share of gradient steps (the tutorial's settings: one batch-128
update per env step, learning already started; ``--preset NAME`` or ``--conf FILE`` times a preset's settings
instead, e.g. ``gradient_steps=4`` every ``train_freq=8`` env steps: half an update per seed-step). Rows run
interleaved (order rotated each repeat) so that machine noise hits all alike; the table gives medians. The same run
measures this machine's fp32 matmul rate (a 128x128x128 ``torch.mm``) and gives each row's time per seed-step as a
multiple of the arithmetic floor: the FLOPs of one seed-step (forward of the online and target networks on the batch,
the backward, a batch-1 forward to act) at that rate.
Memory per seed is what each seed's tensors hold (replay storage, online and target weights, optimizer state).
"""

import functools
import itertools
import pathlib
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch as th

from sb3_cartdqn.batched.trainer import BatchedCartDQN
from sb3_cartdqn.benchmarks.memory import buffer_nbytes
from sb3_cartdqn.benchmarks.output import command_line, print_header, record, timing_parser
from sb3_cartdqn.benchmarks.speed import ENV_ID, bench_cartdqn, bench_sb3_dqn
from sb3_cartdqn.common.defaults import TUTORIAL
from sb3_cartdqn.presets import PRESET_FILES, load_preset, read_preset


def matmul_gflops(size: int = 128, calls: int = 2000) -> float:
    """
    :param size: the square matrices' size
    :param calls: calls timed (after a tenth as many warm-up calls)
    :return: fp32 ``torch.mm`` GFLOP/s on this machine, at the current thread count
    """
    a, b = th.randn(size, size), th.randn(size, size)
    for _ in range(calls // 10):
        th.mm(a, b)
    start = time.perf_counter()
    for _ in range(calls):
        th.mm(a, b)
    return 2 * size**3 * calls / (time.perf_counter() - start) / 1e9


def seed_step_flops(layer_sizes: list[int], batch_size: int = 128, updates_per_step: float = 1.0) -> int:
    """
    :param layer_sizes: the MLP's widths, input to output (the tutorial's CartPole network: ``[4, 128, 128, 2]``)
    :param batch_size: transitions per gradient step
    :param updates_per_step: gradient steps per env step (``gradient_steps / train_freq``)
    :return: FLOPs of one seed-step: online and target forward on the batch, the backward (weight gradients of
        every layer, input gradients of all but the first), times the updates per step, and a batch-1 forward to act
    """
    products = [n_in * n_out for n_in, n_out in itertools.pairwise(layer_sizes)]
    forward = 2 * batch_size * sum(products)
    backward = 2 * batch_size * (sum(products) + sum(products[1:]))
    return round(updates_per_step * (2 * forward + backward)) + 2 * sum(products)


def preset_shape(settings: dict[str, Any]) -> tuple[list[int], int, float]:
    """
    :param settings: CartDQN keyword arguments ({} for the tutorial's)
    :return: the CartPole MLP's layer sizes, the batch size and the gradient steps per env step they give
    """
    net_arch = (settings.get("policy_kwargs") or {}).get("net_arch", list(TUTORIAL.net_arch))
    train_freq = settings.get("train_freq", TUTORIAL.train_freq)
    frequency = train_freq if isinstance(train_freq, int) else train_freq[0]
    updates = settings.get("gradient_steps", TUTORIAL.gradient_steps) / frequency
    return [4, *net_arch, 2], settings.get("batch_size", TUTORIAL.batch_size), updates


def bench_cartdqn_settings(settings: dict[str, Any], steps: int, warmup: int, seed: int = 0) -> float:
    """
    :param settings: CartDQN keyword arguments (a preset's)
    :param steps: env steps to time
    :param warmup: env steps run first
    :param seed: random seed
    :return: env steps per second during learning of one CartDQN with those settings
    """
    from sb3_cartdqn import CartDQN

    model = CartDQN("MlpPolicy", ENV_ID, seed=seed, device="cpu", **settings)
    model.learn(warmup)
    start = time.perf_counter()
    model.learn(steps, reset_num_timesteps=False)
    return steps / (time.perf_counter() - start)


def bench_batched(n_seeds: int, steps: int, warmup: int, seed: int = 0, settings: dict[str, Any] | None = None) -> float:
    """
    :param n_seeds: seeds trained together
    :param steps: env steps (per seed) to time
    :param warmup: env steps run first (learning starts after 128)
    :param seed: first seed
    :param settings: ``BatchedCartDQN`` keyword arguments (a preset's; default: the tutorial's)
    :return: seed-steps per second during learning
    """
    model = BatchedCartDQN(ENV_ID, [seed * 1000 + index for index in range(n_seeds)], **(settings or {}))
    model.learn(warmup)
    start = time.perf_counter()
    model.learn(steps)
    return n_seeds * steps / (time.perf_counter() - start)


def bytes_per_seed(n_seeds: int) -> dict[str, int]:
    """
    :param n_seeds: seeds trained together
    :return: bytes of tensors per seed after a gradient step, for ``batched`` and for one ``cartdqn`` model
    """
    from sb3_cartdqn import CartDQN

    batched = BatchedCartDQN(ENV_ID, list(range(n_seeds)), learning_starts=1, batch_size=1)
    batched.learn(1)
    single = CartDQN("MlpPolicy", ENV_ID, learning_starts=1, batch_size=1, device="cpu")
    single.learn(1)
    tensors = [*single.policy.parameters()]
    tensors += [v for state in single.policy.optimizer.state.values() for v in state.values() if v.dim() > 0]
    assert single.replay_buffer is not None
    single_bytes = buffer_nbytes(single.replay_buffer) + sum(t.element_size() * t.nelement() for t in tensors)
    return {"batched": batched.nbytes_per_seed(), "cartdqn": single_bytes}


def run(sizes: list[int], steps: int, warmup: int, repeats: int, settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """
    :param sizes: the N to run
    :param steps: env steps timed per run
    :param warmup: env steps before timing
    :param repeats: interleaved repetitions
    :param settings: a preset's CartDQN keyword arguments for the CartDQN and batched rows (None: the tutorial's,
        with stock SB3 DQN set up alike beside them)
    :return: per-row samples and medians (seed-steps/s), the matmul rate, the floor and the ratios
    """
    rows: dict[str, Callable[[int], float]] = {}
    if settings is None:
        rows["cartdqn (one seed)"] = functools.partial(bench_cartdqn, steps, warmup)
        rows["sb3-dqn (one seed)"] = functools.partial(bench_sb3_dqn, steps, warmup)
    else:
        rows["cartdqn (one seed)"] = functools.partial(bench_cartdqn_settings, settings, steps, warmup)
    for n_seeds in sizes:
        rows[f"batched N={n_seeds}"] = functools.partial(bench_batched, n_seeds, steps, warmup, settings=settings)
    names = list(rows)
    samples: dict[str, list[float]] = {name: [] for name in names}
    rates = []
    for rep in range(repeats):
        rates.append(matmul_gflops())
        for name in names[rep % len(names) :] + names[: rep % len(names)]:
            samples[name].append(rows[name](rep))
    gflops = statistics.median(rates)
    layer_sizes, batch_size, updates_per_step = preset_shape(settings or {})
    flops = seed_step_flops(layer_sizes, batch_size, updates_per_step)
    floor_us = flops / (gflops * 1e9) * 1e6
    medians = {name: statistics.median(values) for name, values in samples.items()}
    single = samples[names[0]]
    return {
        "samples": samples,
        "median_seed_steps_per_s": medians,
        "speedup_vs_cartdqn": {
            name: statistics.median(a / b for a, b in zip(values, single, strict=True)) for name, values in samples.items()
        },
        "matmul_gflops": gflops,
        "seed_step_mflop": flops / 1e6,
        "floor_us_per_seed_step": floor_us,
        "us_per_seed_step": {name: 1e6 / median for name, median in medians.items()},
        "times_floor": {name: 1e6 / median / floor_us for name, median in medians.items()},
        "bytes_per_seed": {f"N={n}": bytes_per_seed(n) for n in sizes},
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = timing_parser(
        "sb3_cartdqn.benchmarks.batched",
        __doc__,
        [
            "python -m sb3_cartdqn.benchmarks.batched --sizes 1 4 10 32 --steps 400 --repeats 3 "
            "--out results/batched_bench.json",
            "python -m sb3_cartdqn.benchmarks.batched --preset robust --sizes 1 10",
        ],
        steps=400,
        warmup=200,
        repeats=3,
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 10, 32], help="numbers of seeds trained together")
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--preset", choices=sorted(PRESET_FILES), default=None, help="time a preset's settings")
    choice.add_argument("--conf", default=None, help="time the CartPole-v1 settings of this RL Zoo hyperparameter file")
    args = parser.parse_args(argv)
    if args.warmup < 128:
        parser.error("--warmup must be >= 128 so that learning has started before timing")
    th.set_num_threads(args.threads)
    np.random.seed(0)
    preset = None
    if args.preset is not None:
        preset = load_preset(args.preset, ENV_ID)
    elif args.conf is not None:
        preset = read_preset(pathlib.Path(args.conf), ENV_ID)
    results = run(args.sizes, args.steps, args.warmup, args.repeats, None if preset is None else preset.kwargs)
    results["settings"] = "tutorial" if preset is None else str(preset.path)
    command = command_line("sb3_cartdqn.benchmarks.batched", argv)
    print_header(command, args.repeats, args.steps, args.warmup)
    print(
        f"settings: {results['settings']}; matmul rate {results['matmul_gflops']:.0f} GFLOP/s (128x128x128 fp32); "
        "one seed-step is "
        f"{results['seed_step_mflop']:.1f} MFLOP, so the arithmetic floor is {results['floor_us_per_seed_step']:.0f} µs"
    )
    print(f"{'row':<22}{'seed-steps/s':>14}{'µs/seed-step':>14}{'x floor':>9}{'x cartdqn':>11}   samples")
    for name, median in results["median_seed_steps_per_s"].items():
        values = ", ".join(f"{v:.0f}" for v in results["samples"][name])
        print(
            f"{name:<22}{median:>14.0f}{results['us_per_seed_step'][name]:>14.0f}{results['times_floor'][name]:>9.2f}"
            f"{results['speedup_vs_cartdqn'][name]:>11.2f}   [{values}]"
        )
    print("tensor memory per seed (replay storage, online + target weights, optimizer state):")
    for size, row in results["bytes_per_seed"].items():
        print(f"  {size:<6} batched {row['batched'] / 2**20:.2f} MiB, CartDQN alone {row['cartdqn'] / 2**20:.2f} MiB")
    return record(results, command, args.out)


if __name__ == "__main__":
    main()
