"""
Files an RL Zoo script reads because its command line names them (or looks next to them), checked before it runs.

- ``plot_from_file -i FILE`` and ``--merge FILE ...``: RL Zoo reads them with ``pickle.load`` (``all_plots -o``
  writes them with ``pickle.dump``), so they are refused without the opt-in (:func:`plot_pickles_checked`);
- ``train``: RL Zoo's ``ExperimentManager`` loads ``DIR/<env id>/vecnormalize.pkl`` with ``VecNormalize.load`` (a
  pickle) where ``DIR`` is the folder of ``-i/--trained-agent`` (the working directory when no agent is given), and,
  with ``-i MODEL.zip``, the model with SB3's ``load`` and ``DIR/replay_buffer.pkl`` with its ``load_replay_buffer``
  (:func:`trained_agent_checked`). CartDQN's ``load`` and ``load_replay_buffer`` read data only; other algorithms'
  model zips are checked as ``enjoy`` checks them, and their replay buffer pickles are refused.

The opt-in (``--trust-code``, or ``TRUST_REMOTE_CODE=True``) lets each through. Nothing is unpickled by the checks.
``all_plots`` reads ``evaluations.npz`` with NumPy's ``np.load`` (no pickles) and ``plot_train`` reads Monitor CSV
files: they need no check.
"""

import argparse
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from huggingface_sb3 import EnvironmentName

from sb3_cartdqn.persistence.trust import code_trusted, refuse
from sb3_cartdqn.zoo.registration import ALGO_NAME
from sb3_cartdqn.zoo.run_folder_checks import check_model_zip


def plot_input_files(argv: Sequence[str]) -> list[Path]:
    """
    :param argv: ``plot_from_file``'s arguments
    :return: the files it will unpickle: ``-i`` (``.pkl`` appended unless given, as RL Zoo does) and ``--merge``'s
    """
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("-i", "--input", default=None)
    parser.add_argument("--merge", nargs="+", default=[])
    known, _ = parser.parse_known_args(list(argv))
    files = [] if known.input is None else [known.input if known.input.endswith(".pkl") else known.input + ".pkl"]
    return [Path(name) for name in [*files, *known.merge]]


@contextmanager
def plot_pickles_checked(argv: Sequence[str]) -> Iterator[None]:
    """
    Refuse, before RL Zoo's ``plot_from_file`` runs, every file it would unpickle, unless the caller opted in.

    :param argv: ``plot_from_file``'s arguments
    """
    if not code_trusted(None):
        for path in plot_input_files(argv):
            if path.is_file():
                raise refuse(
                    "sb3_cartdqn.zoo plot_from_file",
                    str(path),
                    "plot_from_file reads it with pickle.load (all_plots -o writes such pickles)",
                )
    yield


def trained_agent_files(argv: Sequence[str]) -> tuple[str, Path, Path | None]:
    """
    :param argv: ``train``'s arguments
    :return: the algorithm, and the files RL Zoo's ``train`` unpickles or loads where they exist: the
        ``vecnormalize.pkl`` it looks for, and the ``-i`` model zip (``None`` without ``-i MODEL.zip``), next to which
        it looks for ``replay_buffer.pkl``
    """
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--algo", default="ppo")
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("-i", "--trained-agent", default="")
    known, _ = parser.parse_known_args(list(argv))
    folder = os.path.dirname(known.trained_agent)
    vecnormalize = Path(folder, EnvironmentName(known.env), "vecnormalize.pkl")
    continues = known.trained_agent.endswith(".zip") and os.path.isfile(known.trained_agent)  # as ExperimentManager
    return known.algo, vecnormalize, Path(known.trained_agent) if continues else None


@contextmanager
def trained_agent_checked(argv: Sequence[str]) -> Iterator[None]:
    """
    Refuse, before RL Zoo's ``train`` runs, the pickles it would load (see :func:`trained_agent_files`), unless the
    caller opted in.

    :param argv: ``train``'s arguments
    """
    if not code_trusted(None):
        algo, vecnormalize, model = trained_agent_files(argv)
        if vecnormalize.is_file():
            where = "next to --trained-agent" if model is not None else "in the working directory (no --trained-agent)"
            raise refuse(
                "sb3_cartdqn.zoo train",
                str(vecnormalize),
                f"RL Zoo's train loads it with VecNormalize.load, which unpickles it, because it is {where}",
            )
        if model is not None and algo != ALGO_NAME:
            check_model_zip(model)
            replay_buffer = model.parent / "replay_buffer.pkl"
            if replay_buffer.is_file():
                raise refuse(
                    "sb3_cartdqn.zoo train",
                    str(replay_buffer),
                    f"RL Zoo's train loads it with {algo}'s load_replay_buffer, which unpickles it",
                )
    yield
