"""Running ``python -m sb3_cartdqn.zoo`` in a subprocess for the zoo tests."""

import os
import subprocess
import sys
from pathlib import Path

#: Flags that keep test runs small and quiet
QUICK = ["--num-threads", "1", "--verbose", "0", "--device", "cpu"]


#: ``-optimize`` flags for a 2-trial study that finishes in seconds (random sampler, no pruning, tiny trials)
QUICK_OPTIMIZE = [
    "--n-trials", "2", "-n", "300", "--n-evaluations", "1", "--eval-episodes", "2",
    "--sampler", "random", "--pruner", "none", "--no-optim-plots", "-params", "learning_starts:64",
]  # fmt: skip


def zoo_env() -> dict[str, str]:
    """The environment of a zoo subprocess: no display, no GUI backend, one thread."""
    return {**os.environ, "SDL_VIDEODRIVER": "dummy", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}


def start_zoo(args: list[str], cwd: Path) -> subprocess.Popen:
    """Start ``python -m sb3_cartdqn.zoo ARGS`` in ``cwd``; stdout and stderr go to a pipe."""
    return subprocess.Popen(
        [sys.executable, "-m", "sb3_cartdqn.zoo", *args],
        cwd=cwd,
        env=zoo_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish_zoo(process: subprocess.Popen, timeout: float = 300) -> str:
    """Wait for a zoo subprocess; fail with its output unless it exits with 0. Return its output."""
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, f"{' '.join(map(str, process.args))} exited with {process.returncode}:\n{output}"
    return output


def run_zoo(args: list[str], cwd: Path, timeout: float = 300) -> str:
    """Run ``python -m sb3_cartdqn.zoo ARGS`` in ``cwd`` and return its output; fail with it on a non-zero exit."""
    return finish_zoo(start_zoo(args, cwd), timeout)
