"""
The policy file (``policy.save``) as data: SB3's ``BasePolicy.save`` writes the constructor arguments (spaces,
classes, schedules) with ``th.save``, and ``BasePolicy.load`` reads it with ``weights_only=False``, i.e. unpickles
it. Here the constructor arguments are JSON data (:mod:`sb3_cartdqn.persistence.codec`) beside the weights, so
that ``th.load(weights_only=True)`` reads the whole file; SB3's format loads only with the opt-in.
"""

import json
import pathlib
import pickle

import torch as th
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.utils import ConstantSchedule, get_device

from sb3_cartdqn.persistence.field_checks import check_policy_arguments
from sb3_cartdqn.persistence.fields import decode_fields, encode_fields
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


def load_policy(
    cls: type[BasePolicy], path: str | pathlib.Path, device: th.device | str = "auto", trust_code: bool | None = None
) -> BasePolicy:
    """
    :param cls: the policy class
    :param path: a file :func:`save_policy` wrote, or (with the opt-in) one SB3's ``BasePolicy.save`` wrote
    :param device: where to put the policy
    :param trust_code: unpickle SB3's format; ``None`` reads ``TRUST_REMOTE_CODE``
    :return: the policy
    """
    device = get_device(device)
    trusted = code_trusted(trust_code)
    loader = f"{cls.__name__}.load"
    try:
        saved = th.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as error:
        if not trusted:
            reason = str(error).splitlines()[0]
            raise refuse(loader, str(path), f"it holds objects other than tensors ({reason})") from None
        saved = th.load(path, map_location=device, weights_only=False)  # the caller opted in
    if not isinstance(saved, dict) or "state_dict" not in saved:
        raise ModelFileError(f"{loader}: {path} is not a policy file written by policy.save().")
    if "data_json" in saved:
        data = decode_fields(json.loads(saved["data_json"]), str(path), loader, trust_code=trusted)
    else:
        data = saved["data"]  # SB3's format, unpickled above with the opt-in
    check_policy_arguments(str(path), loader, data, cls)
    model = cls(**data)
    model.load_state_dict(saved["state_dict"])
    model.to(device)
    return model
