"""
The state of a run's environments, for checkpoints: the envs of a ``DummyVecEnv`` as data (their data attributes,
wrapper by wrapper) or pickled (``save_env_state="pickle"``), and ``VecNormalize``'s statistics.

An env is not pickled: the env given to ``load_checkpoint`` is built by the user's own code, and only the data
attributes of each of its wrappers (step counters, physics state, random generators, episode statistics) are set
from the checkpoint. Attributes that are not data (the wrapped env, open files, windows, handles into physics
engines) are left as the fresh env has them: an env that keeps its state in such objects resumes bit-identically
only from pickled envs (``save_env_state="pickle"``, loaded with the opt-in).
"""

import inspect
import pathlib
from typing import Any, BinaryIO

import cloudpickle
import gymnasium as gym
import numpy as np
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecNormalize

from sb3_cartdqn.persistence.codec import NotData, class_name, encode
from sb3_cartdqn.persistence.data_file import open_data_file, write_data_file
from sb3_cartdqn.persistence.trust import ModelFileError, shorten

#: What a VecNormalize statistics file holds (its header's ``kind``)
VECNORMALIZE_KIND = "VecNormalize statistics"


def dummy_vec_env(env: VecEnv | None) -> DummyVecEnv | None:
    """
    :param env: a (wrapped) VecEnv
    :return: the ``DummyVecEnv`` under its VecEnv wrappers, or None
    """
    base = env.unwrapped if env is not None else None
    return base if isinstance(base, DummyVecEnv) else None


def _wrapper_chain(env: gym.Env) -> list[Any]:
    chain: list[Any] = [env]
    while isinstance(chain[-1], gym.Wrapper):
        chain.append(chain[-1].env)
    return chain


def _class_names(cls: type) -> list[str]:
    """The names of ``cls`` and its base classes, most derived first."""
    return [class_name(base) for base in cls.__mro__ if base is not object]


def _same_kind(saved: Any, level: Any) -> bool:
    """
    Whether a saved wrapper level can be restored onto ``level``: the same class, or one a subclass of the other
    (importing RL Zoo swaps Gymnasium's ``TimeLimit`` for its ``PatchedTimeLimit`` subclass in every ``gym.make``,
    so a run saved with RL Zoo imported resumes without it, and the other way round).
    """
    if not isinstance(saved, dict):
        return False
    bases = saved.get("bases")
    saved_bases: list[Any] = bases if isinstance(bases, list) else [saved.get("class")]
    live_bases = _class_names(type(level))
    return saved.get("class") in live_bases or live_bases[0] in saved_bases


def _data_attributes(obj: Any) -> dict[str, Any]:
    attributes = {}
    for key, value in vars(obj).items():
        try:
            encode(value)
        except NotData:
            continue
        attributes[key] = value
    return attributes


def capture_envs_data(env: VecEnv | None) -> list[list[dict[str, Any]]] | None:
    """
    :param env: the training VecEnv
    :return: for each env of its ``DummyVecEnv``, each wrapper's class and data attributes, outermost first;
        None when it is not a ``DummyVecEnv``
    """
    base = dummy_vec_env(env)
    if base is None:
        return None
    return [
        [
            {"class": class_name(type(level)), "bases": _class_names(type(level)), "attributes": _data_attributes(level)}
            for level in _wrapper_chain(one)
        ]
        for one in base.envs
    ]


def envs_data_matches(env: VecEnv, saved: Any) -> bool:
    """
    :param env: the (wrapped) VecEnv given to ``load_checkpoint``
    :param saved: what :func:`capture_envs_data` returned, as read back
    :return: whether :func:`restore_envs_data` can restore it: a ``DummyVecEnv`` of as many envs, with the same
        wrappers in the same order (a wrapper may be a subclass of the saved one, or the saved one a subclass of it)
    """
    base = dummy_vec_env(env)
    if base is None or not isinstance(saved, list) or len(saved) != base.num_envs:
        return False
    for one, levels in zip(base.envs, saved, strict=True):
        chain = _wrapper_chain(one)
        if not isinstance(levels, list) or len(levels) != len(chain):
            return False
        if not all(_same_kind(level_saved, level) for level_saved, level in zip(levels, chain, strict=True)):
            return False
    return True


def _drop_first_seeds(base: DummyVecEnv) -> None:
    """The run consumed its seeds at its first reset; ``load()`` set them again (``set_random_seed``): drop them."""
    base._reset_seeds()
    base._reset_options()


def _is_behaviour(obj: Any, key: Any) -> bool:
    """Whether ``key`` names a method, a property or another descriptor of ``obj``'s class (not a data attribute)."""
    if not isinstance(key, str):
        return False
    found = inspect.getattr_static(obj, key, None)
    return callable(found) or hasattr(type(found), "__get__")


def restore_envs_data(env: VecEnv, saved: list[list[dict[str, Any]]], name: str) -> None:
    """
    Set the data attributes :func:`capture_envs_data` saved onto the envs of ``env``'s ``DummyVecEnv`` (only the data
    attributes its wrappers have: a name the file gives that is a method or a property is refused, one holding an
    object is left as it is), once :func:`envs_data_matches` said they match.

    :param env: the (wrapped) ``DummyVecEnv`` given to ``load_checkpoint``
    :param saved: what :func:`capture_envs_data` returned, as read back
    :param name: the checkpoint, for messages
    :raises ModelFileError: if ``saved`` is malformed
    """
    base = dummy_vec_env(env)
    assert base is not None and envs_data_matches(env, saved)
    updates = []
    for one, levels in zip(base.envs, saved, strict=True):
        for level, state in zip(_wrapper_chain(one), levels, strict=True):
            attributes = state.get("attributes")
            if not isinstance(attributes, dict):
                raise ModelFileError(f"load_checkpoint: {name} holds a malformed env state.")
            own = _data_attributes(level)
            # A name that is a method or a property of the wrapper (SB3's recursive attribute writes, round 2 of #20)
            # is refused, before anything is set; one holding an object (its inner env) is left as it is
            refused = [key for key in attributes if key not in vars(level) and _is_behaviour(level, key)]
            if refused:
                raise ModelFileError(
                    f"load_checkpoint: {name} was not loaded: its env state sets {', '.join(shorten(k) for k in refused[:5])} "
                    f"on a {type(level).__name__}, which are methods or properties, not data attributes (only those "
                    "are saved). Nothing was set. The file is corrupt or was crafted."
                )
            settable = {key for key in attributes if key in own or (key not in vars(level) and hasattr(level, key))}
            updates.append((level, {key: value for key, value in attributes.items() if key in settable}))
    for level, values in updates:
        for key, value in values.items():
            setattr(level, key, value)
    _drop_first_seeds(base)


def capture_env_state(env: VecEnv | None) -> bytes | None:
    """
    :param env: the training VecEnv
    :return: its envs pickled (wrappers, physics state, RNGs, episode counters), or None when it is not a
        ``DummyVecEnv`` or its envs cannot be pickled (an open file or window, a subprocess)
    """
    base = dummy_vec_env(env)
    if base is None:
        return None
    try:
        return cloudpickle.dumps(base.envs)
    except Exception:
        return None


def restore_env_state(env: VecEnv, envs: list[Any]) -> None:
    """
    :param env: the (wrapped) ``DummyVecEnv`` given to ``load_checkpoint``
    :param envs: the envs :func:`capture_env_state` pickled: they replace those of ``env``'s ``DummyVecEnv``
    """
    base = dummy_vec_env(env)
    if base is None or len(envs) != base.num_envs:
        raise ValueError("restore_env_state: the env must be a DummyVecEnv with as many envs as at the checkpoint")
    base.envs = envs
    _drop_first_seeds(base)


def _rms_data(rms: RunningMeanStd | dict[str, RunningMeanStd]) -> Any:
    if isinstance(rms, dict):
        return {key: _rms_data(value) for key, value in rms.items()}
    return {"mean": rms.mean, "var": rms.var, "count": rms.count}


def _rms(data: Any) -> RunningMeanStd | dict[str, RunningMeanStd]:
    if isinstance(data, dict) and "mean" not in data:
        return {str(key): _rms(value) for key, value in data.items()}  # type: ignore[misc]
    rms = RunningMeanStd(shape=np.shape(data["mean"]))
    rms.mean, rms.var, rms.count = np.asarray(data["mean"], np.float64), np.asarray(data["var"], np.float64), data["count"]
    if rms.mean.shape != rms.var.shape or not isinstance(rms.count, float | int):
        raise ValueError("running statistics of inconsistent shapes")
    return rms


def write_vecnormalize(vec_normalize: VecNormalize, file: BinaryIO) -> None:
    """
    Write ``VecNormalize``'s statistics and settings (what ``VecNormalize.save`` pickles) as data.

    :param vec_normalize: the wrapper
    :param file: an open binary file
    """
    settings = ("clip_obs", "clip_reward", "gamma", "epsilon", "norm_obs", "norm_reward", "norm_obs_keys", "training")
    value = {key: getattr(vec_normalize, key) for key in settings}
    write_data_file(
        file,
        VECNORMALIZE_KIND,
        {**value, "obs_rms": _rms_data(vec_normalize.obs_rms), "ret_rms": _rms_data(vec_normalize.ret_rms)},
    )


def read_vecnormalize_statistics(
    path: str | pathlib.Path, trust_code: bool = False
) -> tuple[RunningMeanStd | dict[str, RunningMeanStd], RunningMeanStd]:
    """
    :param path: a file :func:`write_vecnormalize` wrote, or (with ``trust_code``) one ``VecNormalize.save`` pickled
    :param trust_code: unpickle a pickled ``VecNormalize``
    :return: the observation and return statistics (``obs_rms``, ``ret_rms``)
    :raises UntrustedFileError: if the file is a pickle and ``trust_code`` is False
    :raises ModelFileError: if it is unreadable
    """
    loaded = open_data_file(
        path, VECNORMALIZE_KIND, "load_checkpoint", trust_code, "save the checkpoint again or use an earlier one."
    )
    if isinstance(loaded, VecNormalize):  # unpickled: the caller opted in
        return loaded.obs_rms, loaded.ret_rms
    try:
        return _rms(loaded["obs_rms"]), _rms(loaded["ret_rms"])  # type: ignore[return-value]
    except (KeyError, TypeError, ValueError) as error:
        raise ModelFileError(f"load_checkpoint: {path} holds malformed VecNormalize statistics ({shorten(error)}).") from error
