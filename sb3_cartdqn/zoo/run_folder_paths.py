"""Which run folder an RL Zoo script will read or write, worked out from its flags as RL Zoo does."""

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from huggingface_sb3 import EnvironmentName
from rl_zoo3.utils import get_latest_run_id


def parse_run_flags(argv: Sequence[str], folder: str | None = None, algo: str | None = None) -> argparse.Namespace:
    """
    Read the flags that locate a run (``-f``, ``--algo``, ``--env``, ``--exp-id``, ``-o``) from an RL Zoo script's
    arguments; the others are ignored.

    :param argv: the script's arguments
    :param folder: the script's default log folder (``-f``)
    :param algo: the script's default algorithm (``--algo``)
    :return: ``folder``, ``algo``, ``env``, ``exp_id`` and ``output_folder`` (``None`` where not given)
    """
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("-f", "--folder", default=folder)
    parser.add_argument("--algo", default=algo)
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--exp-id", type=int, default=0)
    parser.add_argument("-o", "--output-folder", default=None)
    known, _ = parser.parse_known_args(list(argv))
    return known


def run_folder(flags: argparse.Namespace, new: bool = False) -> Path:
    """
    The folder of the run ``flags`` name, as RL Zoo's scripts compute it: ``FOLDER/ALGO/ENV_ID`` for ``--exp-id ID``,
    ``FOLDER/ALGO`` for a negative id, and for ``--exp-id 0`` the latest run (or, with ``new``, the one after it,
    where ``load_from_hub`` saves a download).

    :param flags: as :func:`parse_run_flags` returns them
    :param new: for ``--exp-id 0``, the next run id instead of the latest
    :return: the run folder
    """
    env_name, exp_id = EnvironmentName(flags.env), flags.exp_id
    if exp_id == 0:
        exp_id = get_latest_run_id(os.path.join(flags.folder, flags.algo), env_name) + int(new)
    if exp_id > 0:
        return Path(flags.folder, flags.algo, f"{env_name}_{exp_id}")
    return Path(flags.folder, flags.algo)
