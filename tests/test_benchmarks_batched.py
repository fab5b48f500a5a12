"""The batched benchmark runs end to end at a tiny size; its FLOP count is the one torch counts (speed is not asserted)."""

import itertools
import json

import numpy as np
import torch as th
from torch.utils.flop_counter import FlopCounterMode

from sb3_cartdqn.batched import BatchedCartDQN
from sb3_cartdqn.benchmarks import batched as bench


def test_seed_step_flops_match_torch_count():
    model = BatchedCartDQN("CartPole-v1", [0], learning_starts=1000)
    model.learn(200)
    batch = model.replay.sample(model.rngs, 128)
    with FlopCounterMode(display=False) as counter:
        model.gradient_step(batch)
        with th.no_grad():
            model.q_net(th.zeros(1, 1, 4))  # the forward that picks the action
    assert counter.get_total_flops() == bench.seed_step_flops([4, 128, 128, 2], 128)


def test_batched_bench_tiny(tmp_path):
    out = tmp_path / "bench.json"
    results = bench.main(["--sizes", "1", "2", "--steps", "20", "--warmup", "130", "--repeats", "1", "--out", str(out)])
    saved = json.loads(out.read_text())
    rows = {"cartdqn (one seed)", "sb3-dqn (one seed)", "batched N=1", "batched N=2"}
    assert set(saved["median_seed_steps_per_s"]) == rows == set(saved["times_floor"])
    assert all(v > 0 for v in saved["median_seed_steps_per_s"].values())
    assert saved["matmul_gflops"] > 0 and np.isclose(saved["seed_step_mflop"], 17.46688)
    assert saved["bytes_per_seed"]["N=2"]["batched"] > 10_000 * 4 * 4 * 2  # at least the observations it stores
    assert saved["threads"] == 1 and results["command"].startswith("python -m sb3_cartdqn.benchmarks.batched")


def test_preset_shape_and_flops_per_seed_step():
    """A preset's network, batch and updates per env step set the floor (robust: 256x3 net, 4 updates every 8 steps)."""
    from sb3_cartdqn.presets import load_preset

    layers, batch_size, updates = bench.preset_shape(load_preset("robust").kwargs)
    assert (layers, batch_size, updates) == ([4, 256, 256, 256, 2], 128, 0.5)
    act = 2 * sum(a * b for a, b in itertools.pairwise(layers))
    full = bench.seed_step_flops(layers, batch_size, 1.0)
    assert bench.seed_step_flops(layers, batch_size, 0.5) - act == (full - act) // 2
    assert bench.preset_shape({}) == ([4, 128, 128, 2], 128, 1.0)


def test_batched_bench_with_a_preset(tmp_path):
    results = bench.main(["--preset", "robust", "--sizes", "2", "--steps", "16", "--warmup", "130", "--repeats", "1"])
    assert set(results["median_seed_steps_per_s"]) == {"cartdqn (one seed)", "batched N=2"}
    assert results["settings"].endswith("cartdqn_robust.yml")
