"""Where the benchmarks write what they measured."""

import json
import os
import platform
import sys
from typing import Any

import torch as th

from sb3_cartdqn.command_line import make_parser


def command_line(module: str, argv: list[str] | None) -> str:
    """
    :param module: the benchmark's module (``sb3_cartdqn.benchmarks.speed``)
    :param argv: the arguments it was called with (None: ``sys.argv``)
    :return: the command that reproduces the run
    """
    return f"python -m {module} " + " ".join(argv if argv is not None else sys.argv[1:])


def timing_parser(module: str, doc: str | None, examples: list[str], steps: int, warmup: int, repeats: int) -> Any:
    """
    The command line every timing benchmark shares: how many steps are timed, after how many warm-up steps, how many
    interleaved repetitions, on how many torch threads, and where the JSON goes.

    :param module: the benchmark's module (``sb3_cartdqn.benchmarks.speed``)
    :param doc: its docstring, for ``--help``
    :param examples: command lines for ``--help``
    :param steps: default steps timed per run
    :param warmup: default steps before timing
    :param repeats: default interleaved repetitions
    :return: the ``argparse`` parser, for the benchmark's own flags to be added
    """
    parser = make_parser(f"python -m {module}", doc, examples)
    parser.add_argument("--steps", type=int, default=steps, help="env steps (per seed) timed per run")
    parser.add_argument("--warmup", type=int, default=warmup, help="env steps before timing (>= 128)")
    parser.add_argument("--repeats", type=int, default=repeats, help="interleaved repetitions")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    return parser


def print_header(command: str, repeats: int, steps: int, warmup: int) -> None:
    """
    Print the command and what it ran on, before a benchmark's table.

    :param command: the command (:func:`command_line`)
    :param repeats: interleaved repetitions
    :param steps: steps timed per repetition
    :param warmup: steps run before timing
    """
    print(f"$ {command}")
    print(
        f"torch {th.__version__}, {th.get_num_threads()} thread(s), {platform.processor() or platform.machine()}; "
        f"{repeats} interleaved repeats of {steps} steps after {warmup} warm-up steps"
    )


def record(results: dict[str, Any], command: str, out: str | None, **settings: Any) -> dict[str, Any]:
    """
    Add the command, the versions and the machine to a benchmark's results, and write them to ``out`` (if given).

    :param results: what the benchmark measured
    :param command: the command that measured it (:func:`command_line`)
    :param out: the ``--out`` file, or None
    :param settings: the run's settings to record beside them
    :return: ``results``, completed
    """
    results.update(
        command=command,
        torch=th.__version__,
        threads=th.get_num_threads(),
        python=platform.python_version(),
        machine=platform.machine(),
        **settings,
    )
    if out:
        write_json(out, results)
        print(f"Wrote {out}")
    return results


def write_json(path: str, results: dict[str, Any]) -> None:
    """
    Write a benchmark's results as indented JSON, creating the folder if needed.

    :param path: the ``--out`` file
    :param results: what the benchmark measured, with its command and versions
    """
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as file:
        json.dump(results, file, indent=2)
