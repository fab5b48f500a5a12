"""The speed benchmark runs end to end at a tiny size (speed itself is never asserted: that lives in the benchmark)."""

import json

from sb3_cartdqn.benchmarks import speed as bench


def test_bench_tiny(tmp_path):
    out = tmp_path / "bench.json"
    results = bench.main(["--steps", "60", "--warmup", "130", "--repeats", "2", "--ablation", "--out", str(out)])
    saved = json.loads(out.read_text())
    assert set(saved["median_steps_per_s"]) == {
        "cartdqn",
        "sb3-dqn",
        "tutorial",
        "bare-loop",
        "kernel-floor",
        *(f"cartdqn-without-{change}" for change in bench.ABLATIONS),
    }
    assert all(v > 0 for v in saved["median_steps_per_s"].values())
    assert {"cartdqn / sb3-dqn", "cartdqn / tutorial", "cartdqn / bare-loop", "cartdqn / kernel-floor"} <= set(
        saved["median_ratios"]
    )
    assert {"cartdqn time / kernel floor", "sb3-dqn time / kernel floor"} <= set(saved["median_ratios"])
    phases = saved["cartdqn_phases_us_per_step"]
    assert set(phases) == {*bench.PHASES, "total"}
    assert abs(sum(v for k, v in phases.items() if k != "total") - phases["total"]) < 1e-6 * phases["total"] + 1e-3
    kernels = saved["kernel_floor_us"]
    assert set(kernels) == {"env step", "act", "forward/backward", "optimizer", "clip", "target update", "total"}
    assert all(v > 0 for v in kernels.values())
    assert abs(sum(v for k, v in kernels.items() if k != "total") - kernels["total"]) < 1e-6 * kernels["total"]
    assert saved["threads"] == 1
    assert results["command"].startswith("python -m sb3_cartdqn.benchmarks.speed")
