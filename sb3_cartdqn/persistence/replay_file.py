"""
The replay buffer file: every attribute of an SB3 replay buffer (the transitions, ``pos``, ``full``, the spaces,
...) in a data-only npz file (:mod:`sb3_cartdqn.persistence.data_file`), restored exactly as unpickling would restore
them, so that training resumes on the same transitions; :func:`check_replay_buffer` checks it fits the model.
"""

import pathlib
import warnings
from typing import Any, BinaryIO

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.save_util import save_to_pkl

from sb3_cartdqn.persistence.codec import NotData
from sb3_cartdqn.persistence.data_file import open_data_file, write_data_file
from sb3_cartdqn.persistence.trust import ModelFileError, shorten

#: What a replay buffer file holds (its header's ``kind``)
KIND = "replay buffer"
_UNREADABLE = (
    "it is truncated (e.g. a save that was killed mid-write), corrupt, or another kind of file. Load the replay "
    "buffer of an earlier checkpoint."
)


def write_replay_buffer(buffer: ReplayBuffer, file: BinaryIO) -> None:
    """
    Write a replay buffer as data; one that holds objects that are not data (``HerReplayBuffer`` keeps its env) is
    pickled as SB3 does, with a warning that loading it will need the opt-in.

    :param buffer: the replay buffer
    :param file: an open binary file
    """
    attributes = {**vars(buffer), "device": str(buffer.device)}
    try:
        write_data_file(file, KIND, {"class": type(buffer), "attributes": attributes})
    except NotData as error:
        warnings.warn(
            f"save_replay_buffer: a {type(buffer).__name__} holds {error}, which cannot be written as data: it is "
            "pickled (Stable-Baselines3's format), and loading it will need trust_code=True."
        )
        file.seek(0)
        file.truncate()
        save_to_pkl(file, buffer)  # type: ignore[arg-type]


def replay_buffer_path(path: str | pathlib.Path) -> pathlib.Path:
    """
    :param path: as given to ``load_replay_buffer``
    :return: ``path``, or ``path.pkl`` when only that exists (as SB3 does)
    """
    path = pathlib.Path(path)
    with_suffix = path.with_name(path.name + ".pkl")
    return with_suffix if not path.exists() and with_suffix.exists() else path


def read_replay_buffer(path: str | pathlib.Path | BinaryIO, trust_code: bool = False) -> Any:
    """
    :param path: a file written by :func:`write_replay_buffer` (or, with ``trust_code``, a pickled SB3 replay buffer)
    :param trust_code: unpickle a pickled replay buffer
    :return: the replay buffer, its ``device`` as saved (what a pickle held, unchecked: see ``check_replay_buffer``)
    :raises UntrustedFileError: if the file is a pickle and ``trust_code`` is False
    :raises ModelFileError: if it is not a readable replay buffer
    """
    name = str(path) if isinstance(path, str | pathlib.Path) else f"<{type(path).__name__}>"
    loaded = open_data_file(path, KIND, "load_replay_buffer", trust_code, _UNREADABLE)
    if not isinstance(loaded, dict):
        return loaded  # unpickled (the caller opted in)
    cls, attributes = loaded.get("class"), loaded.get("attributes")
    if not (isinstance(cls, type) and issubclass(cls, ReplayBuffer) and isinstance(attributes, dict)):
        raise ModelFileError(f"load_replay_buffer: {name} does not hold a replay buffer ({shorten(cls)}).")
    buffer = cls.__new__(cls)  # as unpickling does: the attributes, without allocating a second buffer
    buffer.__dict__.update(attributes)
    leading = (attributes.get("buffer_size"), attributes.get("n_envs"))
    for key in ("observations", "next_observations", "actions", "rewards", "dones", "timeouts"):
        arrays = attributes.get(key)
        for array in arrays.values() if isinstance(arrays, dict) else [arrays]:
            if array is not None and (not isinstance(array, np.ndarray) or array.shape[:2] != leading):
                raise ModelFileError(
                    f"load_replay_buffer: {name} is inconsistent: its {key} are not an array of "
                    f"(buffer_size, n_envs) = {leading} rows. {_UNREADABLE}"
                )
    return buffer


def check_replay_buffer(
    name: str, buffer: Any, observation_space: spaces.Space, action_space: spaces.Space, n_envs: int
) -> None:
    """
    :param name: the replay buffer file, for the message
    :param buffer: what it held
    :param observation_space: the model's observation space
    :param action_space: the model's action space
    :param n_envs: the number of envs the model steps
    :raises ModelFileError: if it is not a replay buffer for this model's spaces
    """
    if not isinstance(buffer, ReplayBuffer):
        raise ModelFileError(
            f"load_replay_buffer: {name} holds a {type(buffer).__name__}, not a replay buffer. "
            "Pass the .pkl written by model.save_replay_buffer() (or a checkpoint's replay_buffer.pkl)."
        )
    for kind, expected in (("observation", observation_space), ("action", action_space)):
        stored = getattr(buffer, f"{kind}_space")
        if stored != expected:
            raise ModelFileError(
                f"load_replay_buffer: {name} stores transitions with {kind} space {stored}, but this model has "
                f"{expected}: load the replay buffer saved together with this model."
            )
    if buffer.n_envs != n_envs:
        raise ModelFileError(
            f"load_replay_buffer: {name} was filled by {buffer.n_envs} envs, but this model steps {n_envs}: "
            f"its transitions are stored per env. Resume with an env of {buffer.n_envs} envs "
            f"(e.g. make_vec_env(..., n_envs={buffer.n_envs}))."
        )
