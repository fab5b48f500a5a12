"""
The policy file (``policy.save``) as data: SB3's ``BasePolicy.save`` writes the constructor arguments (spaces,
classes, schedules) with ``th.save``, and ``BasePolicy.load`` reads it with ``weights_only=False``, i.e. unpickles
it. Here the constructor arguments are JSON data (:mod:`sb3_cartdqn.persistence.codec`) beside the weights, so
that ``th.load(weights_only=True)`` reads the whole file; SB3's format loads only with the opt-in.
"""

import io
import json
import pathlib
import pickle

import torch as th
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.utils import ConstantSchedule, get_device

from sb3_cartdqn.persistence.field_checks import check_policy_arguments
from sb3_cartdqn.persistence.fields import decode_fields, encode_fields
from sb3_cartdqn.persistence.limits import DATA_ENTRY_BYTES, parse_json
from sb3_cartdqn.persistence.torch_archive import check_torch_archive
from sb3_cartdqn.persistence.trust import ModelFileError, code_trusted, refuse


def save_policy(policy: BasePolicy, path: str | pathlib.Path) -> None:
    """
    :param policy: the policy
    :param path: the file
    """
    # SB3 stores BasePolicy._dummy_schedule (a function returning 0.0): the same schedule, as data
    parameters = {**policy._get_constructor_parameters(), "lr_schedule": ConstantSchedule(0.0)}
    data = encode_fields(parameters, f"{type(policy).__name__}.save")
    th.save({"state_dict": policy.state_dict(), "data_json": json.dumps(data)}, path)


def read_policy_file(path: str | pathlib.Path | io.BufferedIOBase, loader: str) -> tuple[str, bytes]:
    """
    :param path: a policy file, or a file-like (read whole from its start)
    :param loader: the function loading, for messages
    :return: its name for messages, and its content, checked as a PyTorch archive
        (:func:`~sb3_cartdqn.persistence.torch_archive.check_torch_archive`)
    :raises ModelFileError: if there is no such file, or it is empty, truncated or not a PyTorch archive
    """
    if not isinstance(path, str | pathlib.Path):
        if path.seekable():
            path.seek(0)
        name, content = f"<{type(path).__name__}>", path.read()
    else:
        name = str(path)
        if not pathlib.Path(path).is_file():
            raise ModelFileError(
                f"{loader}: no policy file at {path}"
                + (" (it is a folder)" if pathlib.Path(path).is_dir() else "")
                + ": check the path (a policy is saved with model.policy.save(path))."
            )
        content = pathlib.Path(path).read_bytes()
    if not content:
        raise ModelFileError(f"{loader}: {name} is empty: it was not written completely. Save the policy again.")
    try:
        check_torch_archive(content, name, loader)
    except ModelFileError as error:
        raise ModelFileError(
            f"{error} It is not a complete policy file: save the policy again with model.policy.save(path)."
        ) from None
    return name, content


def load_policy(
    cls: type[BasePolicy],
    path: str | pathlib.Path | io.BufferedIOBase,
    device: th.device | str = "auto",
    trust_code: bool | None = None,
) -> BasePolicy:
    """
    :param cls: the policy class
    :param path: a file :func:`save_policy` wrote, or (with the opt-in) one SB3's ``BasePolicy.save`` wrote; or a
        file-like
    :param device: where to put the policy
    :param trust_code: unpickle SB3's format; ``None`` reads ``TRUST_REMOTE_CODE``
    :return: the policy
    :raises UntrustedFileError: if the file holds objects other than tensors and ``trust_code`` is False
    :raises ModelFileError: if the file is missing, empty, truncated or not a policy file
    """
    device = get_device(device)
    trusted = code_trusted(trust_code)
    loader = f"{cls.__name__}.load"
    name, content = read_policy_file(path, loader)
    try:
        try:
            saved = th.load(io.BytesIO(content), map_location=device, weights_only=True)
        except pickle.UnpicklingError as error:
            if not trusted:
                reason = str(error).splitlines()[0]
                raise refuse(loader, name, f"it holds objects other than tensors ({reason})") from None
            saved = th.load(io.BytesIO(content), map_location=device, weights_only=False)  # the caller opted in
    except (RuntimeError, EOFError, ValueError) as error:
        if isinstance(error, ModelFileError):
            raise
        reason = str(error).splitlines()[0][:300] if str(error) else type(error).__name__
        raise ModelFileError(f"{loader}: {name} is not a readable policy file ({reason}): it is corrupt.") from error
    if not isinstance(saved, dict) or "state_dict" not in saved:
        raise ModelFileError(f"{loader}: {name} is not a policy file written by policy.save().")
    if "data_json" in saved:
        if not isinstance(saved["data_json"], str) or len(saved["data_json"]) > DATA_ENTRY_BYTES:
            raise ModelFileError(
                f"{loader}: {name} holds constructor arguments that are not a JSON text of at most {DATA_ENTRY_BYTES} bytes."
            )
        try:
            fields = parse_json(saved["data_json"].encode(), name, "data_json", loader)
        except ValueError as error:
            if isinstance(error, ModelFileError):
                raise
            raise ModelFileError(f"{loader}: {name} has unreadable constructor arguments ({error}).") from error
        data = decode_fields(fields, name, loader, trust_code=trusted)
    else:
        data = saved["data"]  # SB3's format, unpickled above with the opt-in
    check_policy_arguments(str(path), loader, data, cls)
    model = cls(**data)
    model.load_state_dict(saved["state_dict"])
    model.to(device)
    return model
