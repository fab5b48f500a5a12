"""
RL Zoo's command line with CartDQN registered: ``python -m sb3_cartdqn.zoo SCRIPT [RL Zoo's flags]``.

``SCRIPT`` is one of RL Zoo's own scripts (``train``, ``enjoy``, ``plot_train``, ``plot_from_file``, ``all_plots``);
every flag goes to it unchanged, with four additions:

- ``train --algo cartdqn`` reads ``hyperparams/cartdqn.yml`` (shipped in this package) unless ``-conf`` is given;
- ``train -optimize --trial-seeds S1 S2 S3`` scores each trial on several seeds (``multi_seed.py``): the minimum over
  the seeds of the final greedy return, instead of RL Zoo's single unseeded run (see ``split_trial_seeds``);
- ``enjoy --algo cartdqn`` loads the model with a 1-slot replay buffer, as RL Zoo does for ``dqn``;
- ``plot_train`` takes several algorithms (``-a cartdqn dqn``), draws them on one figure with the algorithm in each
  label, and ``-o FILE`` saves that figure (RL Zoo's ``plot_train`` can only show it).
"""

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from unittest import mock

from sb3_cartdqn.presets import COMPARISON_SEEDS, VERIFICATION_SEEDS
from sb3_cartdqn.zoo.multi_seed import MultiSeedExperimentManager
from sb3_cartdqn.zoo.registration import ALGO_NAME, default_config_path, one_slot_buffer_on_load, register_cartdqn


def with_default_config(argv: Sequence[str]) -> list[str]:
    """
    Add ``--conf-file hyperparams/cartdqn.yml`` (the packaged file) to ``train`` arguments for ``--algo cartdqn``
    when they give no config file: RL Zoo would look for ``cartdqn.yml`` inside its own package.

    :param argv: ``train``'s arguments
    :return: the arguments, with the default config file where needed
    """
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--algo", default="ppo")
    parser.add_argument("-conf", "--conf-file", default=None)
    known, _ = parser.parse_known_args(list(argv))
    argv = list(argv)
    if known.algo == ALGO_NAME and known.conf_file is None:
        argv += ["--conf-file", str(default_config_path())]
    return argv


def _run_rl_zoo(script: Callable[[], object], prog: str, argv: Sequence[str]) -> None:
    """
    Run one of RL Zoo's argparse-driven scripts with ``argv`` as its command line.

    :param script: the RL Zoo function (it parses ``sys.argv``)
    :param prog: program name shown in its help
    :param argv: its arguments
    """
    with mock.patch.object(sys, "argv", [prog, *argv]):
        script()


def split_trial_seeds(argv: Sequence[str]) -> tuple[dict[str, Any] | None, list[str]]:
    """
    Take the multi-seed objective's flags out of ``train``'s arguments and check them:

    - ``--trial-seeds S1 S2 ...``: the seeds each trial trains on; they must not be seeds kept for checking results
      (verification and comparison seeds); needs ``-optimize``;
    - ``--solved-threshold R``: the mean return that counts as solved (default 475, CartPole-v1's);
    - ``--last-evaluations K``: a seed's score is the smallest of its last K evaluations (default 1: the final one).

    With them, ``--num-threads 1`` is added unless a thread count is given (study workers share the cores).

    :param argv: ``train``'s arguments
    :return: ``MultiSeedExperimentManager.configured``'s keyword arguments (``None`` without ``--trial-seeds``) and
        the arguments for RL Zoo
    """
    parser = argparse.ArgumentParser("sb3_cartdqn.zoo train", add_help=False)
    parser.add_argument("--trial-seeds", type=int, nargs="+", default=None)
    parser.add_argument("--solved-threshold", type=float, default=None)
    parser.add_argument("--last-evaluations", type=int, default=None)
    known, rest = parser.parse_known_args(list(argv))
    if known.trial_seeds is None:
        if known.solved_threshold is not None or known.last_evaluations is not None:
            raise SystemExit(
                "--solved-threshold and --last-evaluations belong to the multi-seed objective: add --trial-seeds S1 S2 ..."
            )
        return None, rest
    if not {"-optimize", "--optimize-hyperparameters"} & set(rest):
        raise SystemExit("--trial-seeds scores Optuna trials: add -optimize (and --n-trials, --storage, ...)")
    held_out = sorted(set(known.trial_seeds) & (set(VERIFICATION_SEEDS) | set(COMPARISON_SEEDS)))
    if held_out:
        raise SystemExit(
            f"--trial-seeds {held_out} are held out (verification seeds {VERIFICATION_SEEDS[0]}-{VERIFICATION_SEEDS[-1]}, "
            f"comparison seeds {COMPARISON_SEEDS[0]}-{COMPARISON_SEEDS[-1]}): tune on other seeds, e.g. 1000 1001 1002"
        )
    if not any(arg.startswith("--num-threads") for arg in rest):
        rest += ["--num-threads", "1"]
    settings: dict[str, Any] = {"trial_seeds": tuple(known.trial_seeds)}
    if known.solved_threshold is not None:
        settings["solved_threshold"] = known.solved_threshold
    if known.last_evaluations is not None:
        settings["last_evaluations"] = known.last_evaluations
    return settings, rest


def train(argv: Sequence[str]) -> None:
    """
    RL Zoo's ``train`` (training, ``-optimize``, ``--storage``/``--study-name``/``--trial-id``) with CartDQN registered;
    ``--trial-seeds`` makes ``-optimize`` score each trial on those seeds (``MultiSeedExperimentManager``).

    :param argv: RL Zoo ``train`` arguments, and optionally the multi-seed objective's (see ``split_trial_seeds``)
    """
    import rl_zoo3.train
    from rl_zoo3.train import train as zoo_train

    register_cartdqn()
    settings, argv = split_trial_seeds(argv)
    if settings is None:
        _run_rl_zoo(zoo_train, "sb3_cartdqn.zoo train", with_default_config(argv))
        return
    with mock.patch.object(rl_zoo3.train, "ExperimentManager", MultiSeedExperimentManager.configured(**settings)):
        _run_rl_zoo(zoo_train, "sb3_cartdqn.zoo train", with_default_config(argv))


def enjoy(argv: Sequence[str]) -> None:
    """
    RL Zoo's ``enjoy`` with CartDQN registered; a ``cartdqn`` model loads with a 1-slot replay buffer.

    :param argv: RL Zoo ``enjoy`` arguments
    """
    from rl_zoo3.enjoy import enjoy as zoo_enjoy

    with one_slot_buffer_on_load():
        _run_rl_zoo(zoo_enjoy, "sb3_cartdqn.zoo enjoy", argv)


def plot_train(argv: Sequence[str]) -> None:
    """
    RL Zoo's ``plot_train`` for one or several algorithms on one figure, optionally saved with ``-o FILE``.

    :param argv: RL Zoo ``plot_train`` arguments; ``-a`` may name several algorithms, ``-o/--output`` saves the figure
    """
    import matplotlib.pyplot as plt
    from rl_zoo3.plots.plot_train import plot_train as zoo_plot_train

    parser = argparse.ArgumentParser("sb3_cartdqn.zoo plot_train", add_help=False)
    parser.add_argument("-a", "--algo", nargs="+", default=[])
    parser.add_argument("-o", "--output", default=None)
    known, rest = parser.parse_known_args(list(argv))
    if not known.algo or "-h" in rest or "--help" in rest:
        _run_rl_zoo(zoo_plot_train, "sb3_cartdqn.zoo plot_train", list(argv))
        return
    # RL Zoo's plot_train draws on a figure named after the y-axis: each call adds its curves to the same one
    labelled: set[object] = set()
    with mock.patch.object(plt, "show", lambda *args, **kwargs: None):
        for algo in known.algo:
            _run_rl_zoo(zoo_plot_train, "sb3_cartdqn.zoo plot_train", ["-a", algo, *rest])
            axes = plt.gca()
            for line in axes.get_lines():
                if line not in labelled:
                    line.set_label(f"{algo} {line.get_label()}")
                    labelled.add(line)
            axes.legend()
    figure = plt.gcf()
    if known.output is not None:
        Path(known.output).parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(known.output, dpi=120)
        print(f"Saved {known.output}")
    else:
        plt.show()


def plot_from_file(argv: Sequence[str]) -> None:
    """
    RL Zoo's ``plot_from_file`` (draws what ``all_plots -o`` wrote), unchanged.

    :param argv: RL Zoo ``plot_from_file`` arguments
    """
    from rl_zoo3.plots.plot_from_file import plot_from_file as zoo_plot_from_file

    _run_rl_zoo(zoo_plot_from_file, "sb3_cartdqn.zoo plot_from_file", argv)


def all_plots(argv: Sequence[str]) -> None:
    """
    RL Zoo's ``all_plots`` (evaluation curves of several algorithms from ``evaluations.npz``), unchanged.

    :param argv: RL Zoo ``all_plots`` arguments
    """
    from rl_zoo3.plots.all_plots import all_plots as zoo_all_plots

    _run_rl_zoo(zoo_all_plots, "sb3_cartdqn.zoo all_plots", argv)


SCRIPTS: dict[str, Callable[[Sequence[str]], None]] = {
    "train": train,
    "enjoy": enjoy,
    "plot_train": plot_train,
    "plot_from_file": plot_from_file,
    "all_plots": all_plots,
}


def main(argv: Sequence[str] | None = None) -> None:
    """
    Entry point of ``python -m sb3_cartdqn.zoo``.

    :param argv: ``SCRIPT [flags]``; ``None`` reads the command line
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in SCRIPTS:
        given = repr(argv[0]) if argv else "nothing"
        raise SystemExit(
            f"usage: python -m sb3_cartdqn.zoo {{{','.join(SCRIPTS)}}} [RL Zoo flags]; got {given}. "
            "Example: python -m sb3_cartdqn.zoo train --algo cartdqn --env CartPole-v1"
        )
    SCRIPTS[argv[0]](argv[1:])
