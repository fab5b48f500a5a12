"""
RL Zoo's command line with CartDQN registered: ``python -m sb3_cartdqn.zoo SCRIPT [RL Zoo's flags]``.

``SCRIPT`` is one of RL Zoo's own scripts (``train``, ``enjoy``, ``plot_train``, ``plot_from_file``, ``all_plots``);
every flag goes to it unchanged, with three additions:

- ``train --algo cartdqn`` reads ``hyperparams/cartdqn.yml`` (shipped in this package) unless ``-conf`` is given;
- ``enjoy --algo cartdqn`` loads the model with a 1-slot replay buffer, as RL Zoo does for ``dqn``; ``enjoy`` checks
  the run folder first and evaluates or unpickles nothing from it unless ``--trust-code`` is given;
- ``plot_train`` takes several algorithms (``-a cartdqn dqn``), draws them on one figure with the algorithm in each
  label, and ``-o FILE`` saves that figure (RL Zoo's ``plot_train`` can only show it).
"""

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from unittest import mock

from sb3_cartdqn.zoo.registration import ALGO_NAME, default_config_path, one_slot_buffer_on_load, register_cartdqn
from sb3_cartdqn.zoo.run_config import checked_rl_zoo_enjoy


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


def train(argv: Sequence[str]) -> None:
    """
    RL Zoo's ``train`` (training, ``-optimize``, ``--storage``/``--study-name``/``--trial-id``) with CartDQN registered.

    :param argv: RL Zoo ``train`` arguments
    """
    from rl_zoo3.train import train as zoo_train

    register_cartdqn()
    _run_rl_zoo(zoo_train, "sb3_cartdqn.zoo train", with_default_config(argv))


def enjoy(argv: Sequence[str]) -> None:
    """
    RL Zoo's ``enjoy`` with CartDQN registered; a ``cartdqn`` model loads with a 1-slot replay buffer. The run folder
    is checked first (``sb3_cartdqn.zoo.run_config``): nothing in it is evaluated or unpickled unless ``--trust-code``
    (or ``TRUST_REMOTE_CODE=True``).

    :param argv: RL Zoo ``enjoy`` arguments, and ``--trust-code``
    """
    from rl_zoo3.enjoy import enjoy as zoo_enjoy

    trust_code = True if "--trust-code" in argv else None
    with one_slot_buffer_on_load(), checked_rl_zoo_enjoy(trust_code):
        _run_rl_zoo(zoo_enjoy, "sb3_cartdqn.zoo enjoy", [arg for arg in argv if arg != "--trust-code"])


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
