"""
The CartDQN model file (SB3's model zip): :func:`save_model` writes it with every attribute as data (see
:mod:`sb3_cartdqn.persistence.fields`); :func:`read_model_file` and :func:`read_model_data` check a file before SB3
loads it, and the ``check_*`` functions and :func:`tensor_entry_error` name the file and what is wrong with it.
"""

import io
import pathlib
import sys
import zipfile
from collections.abc import Iterable
from typing import Any

from gymnasium import spaces
from stable_baselines3.common import base_class as sb3_base_class
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.save_util import recursive_getattr

from sb3_cartdqn.persistence.archive import ZipEntries
from sb3_cartdqn.persistence.fields import decode_fields, encode_fields
from sb3_cartdqn.persistence.limits import DATA_ENTRY_BYTES, SMALL_ENTRY_BYTES, parse_json
from sb3_cartdqn.persistence.torch_archive import PICKLE_HEAD_BYTES, check_torch_archive, declared_archive_bytes
from sb3_cartdqn.persistence.trust import ModelFileError, shorten

#: Entries every SB3 model zip holds (``save_to_zip_file``); CartDQN stores its network and optimizer as state dicts.
MODEL_ENTRIES = ("data", "policy.pth", "policy.optimizer.pth")
#: The ``.pth`` entries a CartDQN model zip may hold (SB3 loads every ``.pth`` entry; any other is refused)
TENSOR_ENTRIES = ("policy.pth", "policy.optimizer.pth", "pytorch_variables.pth")
#: The entry SB3 prints with ``print_system_info=True``
SYSTEM_INFO = "system_info.txt"
#: Attributes only a CartDQN model saves: their absence means another algorithm wrote the file.
CARTDQN_KEYS = ("exploration_decay", "exploration_initial_eps", "clip_grad_value")
#: Where the algorithms of the SB3 ecosystem keep their policies, to name the class that can load a foreign file.
_KNOWN_POLICY_MODULES = {
    "stable_baselines3.dqn.policies": ("stable_baselines3.DQN",),
    "stable_baselines3.common.policies": ("stable_baselines3.PPO", "stable_baselines3.A2C"),
    "stable_baselines3.sac.policies": ("stable_baselines3.SAC",),
    "stable_baselines3.td3.policies": ("stable_baselines3.TD3", "stable_baselines3.DDPG"),
    "sb3_contrib.qrdqn.policies": ("sb3_contrib.QRDQN",),
    "sb3_contrib.common.recurrent.policies": ("sb3_contrib.RecurrentPPO",),
    "sb3_contrib.common.maskable.policies": ("sb3_contrib.MaskablePPO",),
    "sb3_contrib.tqc.policies": ("sb3_contrib.TQC",),
    "sb3_contrib.crossq.policies": ("sb3_contrib.CrossQ",),
}


def zip_path(path: str | pathlib.Path) -> pathlib.Path:
    """
    :param path: a model path as given to ``save``
    :return: the file SB3 writes: ``path`` with ``.zip`` appended when it has no suffix
    """
    path = pathlib.Path(path)
    return path.with_name(path.name + ".zip") if path.suffix == "" else path


def save_model(
    model: BaseAlgorithm,
    path: str | pathlib.Path | io.BufferedIOBase,
    exclude: Iterable[str] | None = None,
    include: Iterable[str] | None = None,
) -> None:
    """
    SB3's ``BaseAlgorithm.save`` (same attributes, same zip entries, same ``save_to_zip_file``), with the attributes
    written as data.

    :param model: the model
    :param path: the file (``.zip`` is added if it has no suffix) or a file-like
    :param exclude: names of attributes to leave out, besides the default ones
    :param include: names of attributes to keep even if excluded by default
    """
    data = model.__dict__.copy()
    excluded = set(exclude or []).union(model._excluded_save_params())
    if include is not None:
        excluded = excluded.difference(include)
    state_dicts_names, torch_variable_names = model._get_torch_save_params()
    excluded.update(name.split(".")[0] for name in state_dicts_names + torch_variable_names)
    for name in excluded:
        data.pop(name, None)
    pytorch_variables = {name: recursive_getattr(model, name) for name in torch_variable_names}
    sb3_base_class.save_to_zip_file(
        path,
        data=encode_fields(data, f"{type(model).__name__}.save"),
        params=model.get_parameters(),
        pytorch_variables=pytorch_variables,
    )


def _describe(path: Any) -> str:
    return str(path) if isinstance(path, str | pathlib.Path) else f"<{type(path).__name__}>"


def read_model_file(path: str | pathlib.Path | io.BufferedIOBase) -> tuple[str, bytes]:
    """
    Read a model file once, so that the checks and the load see the same bytes.

    :param path: the model file (``.zip`` may be omitted, as with SB3) or a file-like (read whole when seekable, as
        ``zipfile`` reads it for SB3, whatever its position)
    :return: its name for messages, and its content
    :raises ModelFileError: if there is no such file
    """
    if not isinstance(path, str | pathlib.Path):
        if path.seekable():
            path.seek(0)
        return _describe(path), path.read()
    candidate = pathlib.Path(path)
    if not candidate.exists() and zip_path(candidate).exists():
        candidate = zip_path(candidate)  # SB3 also tries "<path>.zip"
    if not candidate.is_file():
        raise ModelFileError(
            f"CartDQN.load: no model file at {candidate}"
            + (f" (nor {zip_path(candidate)})" if zip_path(candidate) != candidate else "")
            + ": check the path, or find the newest complete checkpoint with "
            "sb3_cartdqn.persistence.checkpoints.latest_checkpoint(folder)."
        )
    return str(candidate), candidate.read_bytes()


def read_model_data(
    path: str | pathlib.Path | io.BufferedIOBase,
    custom_objects: dict[str, Any] | None = None,
    trust_code: bool = False,
    name: str | None = None,
) -> dict[str, Any]:
    """
    Check that ``path`` is a complete, uncorrupted model zip written by CartDQN and return its saved attributes,
    decoded without running code from the file (see :mod:`sb3_cartdqn.persistence.fields`).
    A file-like ``path`` is read and rewound.

    :param path: the model file (``.zip`` may be omitted, as with SB3)
    :param custom_objects: objects to use instead of the stored ones (as ``CartDQN.load``'s argument)
    :param trust_code: unpickle fields SB3 pickled and import classes outside the allow-list
    :param name: the file's name for messages (default: ``path``)
    :return: the saved attributes (``observation_space``, ``action_space``, ``num_timesteps``, ...)
    :raises ModelFileError: naming the file and what is wrong with it
    :raises UntrustedFileError: if a field carries code and ``trust_code`` is False
    """
    start = path.tell() if isinstance(path, io.IOBase) and path.seekable() else None
    try:
        described, content = read_model_file(path)
    finally:
        if start is not None:
            path.seek(start)  # type: ignore[union-attr]
    name = name or described
    try:
        archive = ZipEntries(io.BytesIO(content), name, "CartDQN.load")
        missing = [entry for entry in MODEL_ENTRIES if entry not in archive]
        if missing and min((info.header_offset for info in archive.entries.values()), default=0) > 0:
            # The zip directory found is not at the start of the file: a truncated model whose end now falls
            # inside an embedded archive (the .pth entries are zips themselves)
            raise zipfile.BadZipFile("its own zip directory is missing")
        if missing:
            raise ModelFileError(
                f"CartDQN.load: {name} is a zip file but not a Stable-Baselines3 model: it has no {missing} "
                f"(it holds {shorten(sorted(archive.names())[:6])}). Pass the .zip written by model.save(); replay "
                "buffers (.pkl) load with model.load_replay_buffer()."
            )
        data = archive.read("data", DATA_ENTRY_BYTES, "a model's data entry").tobytes()
        fields = parse_json(data, name, "data", "CartDQN.load")
    except zipfile.BadZipFile as error:
        raise ModelFileError(
            f"CartDQN.load: {name} is not a complete model zip ({shorten(error)}): it is truncated (e.g. a save that was "
            "killed mid-write), corrupt, or not a model file at all. Load an earlier checkpoint "
            "(sb3_cartdqn.persistence.checkpoints.latest_checkpoint skips incomplete ones) or save the model again."
        ) from error
    except (ValueError, UnicodeDecodeError) as error:
        if isinstance(error, ModelFileError):
            raise
        raise ModelFileError(
            f"CartDQN.load: {name} has an unreadable 'data' entry ({shorten(error)}): the file is corrupt."
        ) from error
    if isinstance(fields, dict):
        check_saved_by_cartdqn(name, fields)
    check_model_entries(archive)
    return decode_fields(fields, name, "CartDQN.load", custom_objects, trust_code)


def check_model_entries(archive: ZipEntries) -> None:
    """
    Check every entry of a model zip that SB3's ``load_from_zip_file`` will read (every ``.pth`` entry, and
    ``system_info.txt``) before it reads them: each one CartDQN writes, within its bound, inflating to exactly its
    declared size (the ``.pth`` ones no larger than the storages their pickle declares allow, and stored PyTorch
    archives: :mod:`sb3_cartdqn.persistence.torch_archive`). Entries SB3 does not read are never inflated.

    :param archive: the model zip
    :raises ModelFileError: naming the file, the entry and the limit
    """
    tensors = [entry for entry in archive.names() if pathlib.PurePosixPath(entry).suffix == ".pth"]
    unknown = [entry for entry in tensors if entry not in TENSOR_ENTRIES]
    if unknown:
        raise ModelFileError(
            f"CartDQN.load: {archive.name} was not loaded: its entry {unknown[0][:200]!r} is not one CartDQN writes "
            f"({', '.join(TENSOR_ENTRIES)}), and Stable-Baselines3 would load every .pth entry as parameters."
        )
    # Each .pth entry is bounded by the storages its own pickle declares (read from its first bytes, nothing
    # unpickled); where that cannot be read: policy.pth by the global cap and the compression ratio, its optimizer
    # by 3 tensors per parameter (AMSGrad's), the PyTorch variables (CartDQN saves none) by a small bound
    fallbacks = {"policy.pth": sys.maxsize, "pytorch_variables.pth": SMALL_ENTRY_BYTES}
    for entry in sorted(tensors, key=TENSOR_ENTRIES.index):
        archive.check(entry, sys.maxsize, "a PyTorch archive")  # the global cap and the compression ratio
        declared = declared_archive_bytes(archive.head(entry, PICKLE_HEAD_BYTES))
        if declared is not None:
            limit, what = declared, f"a PyTorch archive whose pickle declares tensors of at most {declared} bytes"
        else:
            policy = archive.entries["policy.pth"].file_size
            limit = fallbacks.get(entry, 4 * policy + SMALL_ENTRY_BYTES)
            what = "the optimizer of a policy of this size" if entry == "policy.optimizer.pth" else entry
        check_torch_archive(archive.read(entry, limit, what), f"{archive.name} (entry {entry!r})", archive.loader)
    if SYSTEM_INFO in archive:
        archive.read(SYSTEM_INFO, SMALL_ENTRY_BYTES, "the system information")


def _policy_module(policy_class: Any) -> tuple[str | None, str]:
    """The module and name of a saved ``policy_class``, read without unpickling or importing it."""
    if isinstance(policy_class, type):
        return policy_class.__module__, policy_class.__qualname__
    if isinstance(policy_class, dict) and isinstance(policy_class.get("name"), str):  # data_codec's class
        module, _, qualname = policy_class["name"].partition(":")
        return module, qualname
    if isinstance(policy_class, dict) and isinstance(policy_class.get("__module__"), str):  # SB3's pickled class
        return policy_class["__module__"], "?"
    return None, "?"


def check_saved_by_cartdqn(name: str, data: dict[str, Any]) -> None:
    """
    :param name: the file, for the message
    :param data: its saved attributes, decoded or as stored
    :raises ModelFileError: if another algorithm saved the file, naming the class that can load it
    """
    missing = [key for key in CARTDQN_KEYS if key not in data]
    if not missing:
        return
    module, qualname = _policy_module(data.get("policy_class"))
    policy_name = shorten(f"{module}.{qualname}" if module else data.get("policy_class"))
    savers = _KNOWN_POLICY_MODULES.get(module or "")
    how = " or ".join(f"{saver}.load()" for saver in savers) if savers else "the load() of the algorithm that saved it"
    raise ModelFileError(
        f"CartDQN.load: {name} was saved by another algorithm (policy {policy_name}; it lacks CartDQN's {missing}). "
        f"Load it with {how}, or train a CartDQN model and save that."
    )


def check_env_spaces(name: str, data: dict[str, Any], observation_space: spaces.Space, action_space: spaces.Space) -> None:
    """
    :param name: the model file, for the message
    :param data: its saved attributes
    :param observation_space: the observation space of the (wrapped) env given to ``load``
    :param action_space: its action space
    :raises ValueError: if the spaces differ from those the model was trained on
    """
    for kind, given in (("observation", observation_space), ("action", action_space)):
        saved = data[f"{kind}_space"]
        if given != saved:
            raise ValueError(
                f"CartDQN.load: {name} was trained with {kind} space {saved}, but the env passed to load() has {given}. "
                "Pass an env built like the training one (same env id and the same wrappers: frame stacking, "
                "pixel or resize wrappers, VecTransposeImage), or load without env to only predict."
            )


def tensor_entry_error(name: str, content: bytes, error: Exception) -> ModelFileError:
    """
    :param name: the model file, for the message
    :param content: its bytes
    :param error: what PyTorch's weights-only loader raised for one of its ``.pth`` entries
    :return: the error naming the entry: tensors always load with ``weights_only=True``, whatever the opt-in
    """
    import torch as th

    failing = "a .pth entry"
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for entry in archive.namelist():
            if entry.endswith(".pth"):
                try:
                    th.load(io.BytesIO(archive.read(entry)), map_location="cpu", weights_only=True)
                except Exception:
                    failing = f"its entry {shorten(entry)}"
                    break
    return ModelFileError(
        f"CartDQN.load: {name} was not loaded: {failing} holds objects other than tensors, which PyTorch's "
        f"weights-only loader refuses ({shorten(str(error).splitlines()[0])}). Nothing was unpickled. Tensors always load "
        "with weights_only=True (trust_code=True does not change this: no file written by sb3-cartdqn or Stable-Baselines3 "
        "needs more)."
    )
