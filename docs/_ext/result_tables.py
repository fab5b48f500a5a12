"""
Tables of the documentation rendered from the committed result files at build time, so that no number is retyped.

Each ``render_*`` function reads one result file (written by a benchmark or a study command) and returns a Markdown
table; :func:`write_tables` writes them to ``docs/_generated/<name>.md``, which pages take in with MyST's ``{include}``.
Result files that are Markdown already (``compare/summary.md``, ``study/summary.md``, ``robust/summary.md``) are
included as they are.
"""

from __future__ import annotations

import functools
import json
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent.parent


def _load(relative: str) -> dict[str, Any]:
    return json.loads((DOCS / relative).read_text())


def _table(header: list[str], rows: list[list[str]], right: set[int] | None = None) -> str:
    right = right or set()
    align = ["---:" if index in right else "---" for index in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _int(value: float) -> str:
    return f"{value:,.0f}".replace(",", "\u202f")


# Modules that were renamed after a result file was written: the file keeps the command as it was run
RENAMED = {
    "sb3_cartdqn.bench ": "sb3_cartdqn.benchmarks.speed ",
    "sb3_cartdqn.batched.bench ": "sb3_cartdqn.benchmarks.batched ",
}


def reproducing_command(command: str, path: str) -> str:
    """
    The command that writes ``docs/<path>`` with today's module names: a former module name replaced by its current
    one, and an ``--out`` elsewhere (the scratch folder a file was first written to) replaced by ``docs/<path>``.

    :param command: the command the result file records (as it was run)
    :param path: the result file, relative to ``docs/``
    :return: the command to run from the repository root to write that file again
    """
    for old, new in RENAMED.items():
        command = command.replace(old, new)
    words = command.split()
    if "--out" in words:
        words[words.index("--out") + 1] = f"docs/{path}"
    return " ".join(words)


def _command(command: str, path: str) -> str:
    current = reproducing_command(command, path)
    if current == command:
        return f"`{command}`"
    return f"`{current}` (the file records the command as it was run: `{command}`)"


def _source(result: dict[str, Any], path: str) -> str:
    return (
        f"\nFrom `docs/{path}`, written by {_command(result['command'], path)} "
        f"(torch {result.get('torch', '?')}, {result.get('threads', '?')} thread(s)).\n"
    )


SPEED_VARIANTS = {
    "cartdqn": ("CartDQN", "cartdqn"),
    "sb3-dqn": ("stock SB3 DQN, tutorial settings", "sb3-dqn"),
    "tutorial": ("the tutorial's loop", "tutorial"),
    "bare-loop": ("bare loop", "floor"),
    "kernel-floor": ("kernel floor", None),
}

ABLATIONS = {
    "fused-adamw": "fused AMSGrad AdamW (`fused=True`)",
    "direct-adamw": "fused kernel called directly (`common/fast_paths/adamw.py`, `FusedAdamWStep`)",
    "foreach-lerp": "one `_foreach_lerp_` soft update",
    "mode-flags": "flag-based train/eval switch",
    "fast-sampling": "SB3-identical replay sampling (`common/fast_paths/replay_sampling.py`)",
    "mlp-forward": "forward without module dispatch (`common/fast_paths/mlp_forward.py`, `MlpForward`)",
    "direct-clip": "foreach clipping (`common/fast_paths/clipping.py`)",
    "no-copy-store": "no deep copy of the new observation when no episode ends",
}


def render_speed_variants() -> str:
    after, before = _load("bench/bench.json"), _load("bench/bench_before.json")
    medians = after["median_steps_per_s"]
    rows = []
    for key, (label, before_key) in SPEED_VARIANTS.items():
        before_value = before["median_steps_per_s"].get(before_key) if before_key else None
        rows.append(
            [
                label,
                "—" if before_value is None else _int(before_value),
                _int(medians[key]),
                f"{medians['kernel-floor'] / medians[key]:.2f}×",
            ]
        )
    table = _table(["variant", "before: steps/s", "after: steps/s", "after: time / kernel floor"], rows, {1, 2, 3})
    paired = (
        "\nEach ratio is one of the medians above over another. Paired within each repeat instead (a variant against "
        "the kernel floor of the same repeat, median over the repeats), CartDQN's time is "
        f"{after['median_ratios']['cartdqn time / kernel floor']:.2f}× the floor.\n"
    )
    speedup = (
        f"\nCartDQN / stock SB3 DQN (ratio of the median steps/s above): "
        f"{before['median_steps_per_s']['cartdqn'] / before['median_steps_per_s']['sb3-dqn']:.2f}× before, "
        f"{after['median_steps_per_s']['cartdqn'] / after['median_steps_per_s']['sb3-dqn']:.2f}× after.\n"
    )
    before_source = (
        f"\nBefore: `docs/bench/bench_before.json`, written by the previous version of the package with "
        f"{_command(before['command'], 'bench/bench_before.json')}.\n"
    )
    return table + paired + speedup + _source(after, "bench/bench.json") + before_source


def ablation_ratio(result: dict[str, Any], key: str) -> float:
    """
    What one change buys: median steps/s of the full build over median steps/s of the build with that change undone,
    both from the same run (above 1: the change makes CartDQN faster).

    :param result: a speed benchmark's result (``docs/bench/bench.json``)
    :param key: the change (a key of :data:`ABLATIONS`)
    :return: the ratio of the two medians the table prints
    """
    medians = result["median_steps_per_s"]
    return medians["cartdqn"] / medians[f"cartdqn-without-{key}"]


def render_speed_ablations() -> str:
    result = _load("bench/bench.json")
    medians, samples = result["median_steps_per_s"], result["samples"]
    rows = []
    for key, label in ABLATIONS.items():
        name = f"cartdqn-without-{key}"
        if name not in medians:
            continue
        ratio = ablation_ratio(result, key)
        low, high = min(samples[name]), max(samples[name])
        verdict = "slower without it" if ratio > 1 else "within noise: not slower without it"
        rows.append([label, _int(medians[name]), f"{_int(low)}–{_int(high)}", f"{ratio:.2f}×", verdict])
    header = ["change", "undone: median steps/s", "undone: range of the repeats", "full / undone", "in this run"]
    full = (
        f"\nFull build (every change in place), same run: median {_int(medians['cartdqn'])} steps/s, repeats "
        f"{_int(min(samples['cartdqn']))}–{_int(max(samples['cartdqn']))}. The ratio is that median over the row's "
        "median.\n"
    )
    return _table(header, rows, {1, 2, 3}) + full + _source(result, "bench/bench.json")


def render_speed_phases() -> str:
    result = _load("bench/bench.json")
    phases, kernels = result["cartdqn_phases_us_per_step"], result["kernel_floor_us"]
    rows = [[phase, f"{value:.1f}", f"{kernels.get(phase, 0):.1f}"] for phase, value in phases.items()]
    return _table(["phase", "CartDQN µs/step", "kernels µs/step"], rows, {1, 2}) + _source(result, "bench/bench.json")


def render_batched_bench(path: str) -> str:
    result = _load(path)
    rows = [
        [
            name,
            _int(result["median_seed_steps_per_s"][name]),
            _int(result["us_per_seed_step"][name]),
            f"{result['times_floor'][name]:.2f}",
            f"{result['speedup_vs_cartdqn'][name]:.2f}",
        ]
        for name in result["median_seed_steps_per_s"]
    ]
    header = ["row", "seed-steps/s", "µs per seed-step", "× arithmetic floor", "× single-seed CartDQN"]
    table = _table(header, rows, {1, 2, 3, 4})
    floor = (
        f"\nMatmul rate measured in the same run: {result['matmul_gflops']:.0f} GFLOP/s; a seed-step is "
        f"{result['seed_step_mflop']:.1f} MFLOP, so the arithmetic floor is {result['floor_us_per_seed_step']:.0f} µs.\n"
    )
    return table + floor + _memory(result) + _source(result, path)


def _memory(result: dict[str, Any]) -> str:
    """Bytes per seed (replay storage, online and target weights, optimiser state) of a batched bench's run."""
    per_size = result.get("bytes_per_seed")
    if not per_size:
        return ""
    mib = {kind: sorted({sizes[kind] / 2**20 for sizes in per_size.values()}) for kind in ("batched", "cartdqn")}
    batched = " to ".join(f"{value:.2f}" for value in mib["batched"])
    alone = " to ".join(f"{value:.2f}" for value in mib["cartdqn"])
    return (
        f"\nMemory per seed (replay storage, online and target weights, optimiser state): {batched} MiB batched "
        f"(N = {', '.join(key.removeprefix('N=') for key in per_size)}), {alone} MiB for a CartDQN model alone.\n"
    )


def render_batched_heldout() -> str:
    result = _load("batched/heldout_200_209.json")
    rows = []
    for name, run in result.items():
        if not isinstance(run, dict) or "per_seed" not in run:
            continue
        means = [seed["eval_mean_return"] for seed in run["per_seed"]]
        rows.append(
            [
                name.replace("_", " "),
                f"{statistics.mean(means):.1f} ± {statistics.pstdev(means):.1f}",
                f"{statistics.median(means):.1f}",
                " ".join(f"{mean:.0f}" for mean in means),
                f"{sum(mean >= 475 for mean in means)}/{len(means)}",
                f"{run.get('train_seconds', run.get('train_seconds_total', float('nan'))):.0f}",
            ]
        )
    header = ["trainer", "mean ± std of seed means", "median", "final greedy mean per seed (200–209)", "seeds ≥ 475"]
    return _table([*header, "training seconds, 10 seeds"], rows, {1, 2, 4, 5}) + (
        "\nFrom `docs/batched/heldout_200_209.json`; commands: "
        + "; ".join(f"`{command}`" for command in result.get("commands", []))
        + ".\n"
    )


TABLES: dict[str, Callable[[], str]] = {
    "speed_variants": render_speed_variants,
    "speed_ablations": render_speed_ablations,
    "speed_phases": render_speed_phases,
    "batched_bench": functools.partial(render_batched_bench, "batched/bench.json"),
    "batched_bench_2threads": functools.partial(render_batched_bench, "batched/bench_2threads.json"),
    "batched_heldout": render_batched_heldout,
}


def write_tables(out: Path = DOCS / "_generated") -> list[Path]:
    out.mkdir(exist_ok=True)
    written = []
    for name, render in TABLES.items():
        path = out / f"{name}.md"
        text = render()
        if not path.exists() or path.read_text() != text:  # unchanged files keep Sphinx's incremental build
            path.write_text(text)
        written.append(path)
    return written


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", lambda _app: write_tables())
    return {"parallel_read_safe": True, "version": "1"}
