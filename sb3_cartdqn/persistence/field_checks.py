"""
What the fields of a model zip may make ``CartDQN.load`` do. Stable-Baselines3's ``load`` sets every field of the
``data`` entry as an attribute of the new model (``model.__dict__.update``), builds the env that the ``env`` field
names when no env is given (``gym.make`` imports a module prefix such as ``"somemodule:Env-v0"``), sends TensorBoard
events to the ``tensorboard_log`` field's folder on the next ``learn()``, applies the keys of
``pytorch_variables.pth`` as attribute paths (``recursive_setattr``) and the names of the other ``.pth`` entries as
attribute paths too (``recursive_getattr``, then ``load_state_dict``). Checked here, before SB3 sees the file:

- :func:`saved_field_names`: the only fields applied are the attributes the algorithm itself saves; any other field
  is refused by name unless the caller opts in (a subclass with more attributes wrote it);
- :data:`IGNORED_FIELDS`: ``env`` and ``tensorboard_log`` are read from the file only with the opt-in;
- :func:`check_field_values`: every value has the right type and lies within bounds (``common/checks.py``), so a bad
  file is refused at load, not deep inside ``learn()``, and nothing too big to allocate is allocated;
- :func:`check_tensor_names`: the ``.pth`` entries name only the state dicts and PyTorch variables the algorithm
  saves, whatever the opt-in (no honest file holds others).
"""

import collections
import inspect
import io
import os
import warnings
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.policies import BasePolicy

from sb3_cartdqn.common.checks import (
    MAX_ACTIONS,
    MAX_N_ENVS,
    check_action_space,
    check_buffer_memory,
    check_count,
    check_hyperparameters,
    check_network_size,
    check_options,
    check_space_size,
)
from sb3_cartdqn.persistence.trust import OPT_IN, ModelFileError, UntrustedFileError, shorten

#: What ``BaseAlgorithm`` sets from the env (the spaces, ``n_envs``) and ``_setup_model`` (``lr_schedule``): saved
#: although a model built without env and without set-up lacks them
SETUP_FIELDS = ("observation_space", "action_space", "n_envs", "lr_schedule")
#: Fields read from the file only with the opt-in, and what is used instead
IGNORED_FIELDS = {
    "env": "the env passed to load() (None: predict only), never one built from the file",
    "tensorboard_log": "None (no TensorBoard events), or the tensorboard_log passed to load()",
}
#: The ``.pth`` entries SB3 applies as PyTorch variables rather than as state dicts
VARIABLE_ENTRIES = ("pytorch_variables.pth", "tensors.pth")
#: Counters a model keeps: integers >= 0
_COUNTERS = ("num_timesteps", "_total_timesteps", "_num_timesteps_at_start", "_episode_num", "_n_updates", "verbose")


def saved_field_names(probe: BaseAlgorithm) -> frozenset[str]:
    """
    :param probe: the algorithm built as SB3's ``load`` builds it (no env, no set-up)
    :return: the names of the attributes it saves into a model zip's ``data`` entry
    """
    state_dicts, variables = probe._get_torch_save_params()
    excluded = set(probe._excluded_save_params()).union(name.split(".")[0] for name in state_dicts + variables)
    return frozenset(set(vars(probe)).union(SETUP_FIELDS) - excluded)


def check_field_names(name: str, fields: Mapping[str, Any], saved: frozenset[str], trust_code: bool) -> None:
    """
    :param name: the model file, for the message
    :param fields: its fields (name -> value)
    :param saved: the names the algorithm saves (:func:`saved_field_names`)
    :param trust_code: the caller opted in: every field is applied, as SB3 does
    :raises UntrustedFileError: naming the fields the algorithm does not save, before any is set
    """
    unexpected = [key for key in fields if key not in saved and key not in IGNORED_FIELDS]
    if unexpected and not trust_code:
        raise UntrustedFileError(
            f"CartDQN.load: {name} was not loaded: its field(s) {', '.join(shorten(key) for key in unexpected[:5])}"
            f"{f' (and {len(unexpected) - 5} more)' if len(unexpected) > 5 else ''} are not attributes CartDQN saves, "
            "and load() would set each of them on the model. Nothing was set. If you trust the file (a subclass of "
            f"CartDQN with more attributes wrote it), pass {OPT_IN}."
        )


def ignored_fields(
    name: str, fields: Mapping[str, Any], env: Any, trust_code: bool, given: Mapping[str, Any]
) -> dict[str, Any]:
    """
    :param name: the model file, for the warning
    :param fields: its fields
    :param env: the (wrapped) env passed to ``load``, or None
    :param trust_code: the caller opted in: the file's ``env`` and ``tensorboard_log`` are used, as SB3 does
    :param given: ``load``'s keyword arguments (a ``tensorboard_log`` there is used, as SB3 does)
    :return: the values to use instead of the file's for :data:`IGNORED_FIELDS` it holds (SB3 sets them too)
    """
    if trust_code:
        return {}
    replaced = {key: value for key, value in (("env", env), ("tensorboard_log", None)) if key in fields}
    # Warned when it matters: the file's env when no env is given, its tensorboard_log when one is (to train)
    for key in replaced:
        if fields[key] is not None and key not in given and (key == "env") == (env is None):
            warnings.warn(
                f"CartDQN.load: {name} holds {key}={shorten(fields[key])}, which is not used: a model file chooses no "
                f"environment to build and no folder to write to. Using {IGNORED_FIELDS[key]}; pass {key}=... to "
                f"load() (or {OPT_IN} for a file you trust)."
            )
    return replaced


def check_field_values(name: str, values: Mapping[str, Any], policy_aliases: Mapping[str, type]) -> None:
    """
    Every field the model is built from, checked with the argument checks of ``common/checks.py``.

    :param name: the model file, for the message
    :param values: the fields as the file gives them: the algorithm's defaults updated with the file's fields (those
        the caller gives, in ``custom_objects`` or as ``load``'s keyword arguments, are the caller's and not checked
        here: RL Zoo loads with ``learning_rate=0.0`` and ``buffer_size=1``)
    :param policy_aliases: the policy names the algorithm knows (``"MlpPolicy"``, ...)
    :raises ModelFileError: naming the file and the first bad value (wrong type, out of range, too big to allocate)
    """
    try:
        _check_values(values, policy_aliases)
    except (ValueError, TypeError, AttributeError, KeyError) as error:
        raise ModelFileError(
            f"CartDQN.load: {name} was not loaded: it holds a bad value ({shorten(error)}). Nothing was built. "
            "The file is corrupt or was crafted; load an earlier checkpoint or save the model again."
        ) from None


def _check_values(values: Mapping[str, Any], policy_aliases: Mapping[str, type]) -> None:
    for key in ("observation_space", "action_space", "policy_class", "policy_kwargs", "train_freq"):
        if key not in values:
            raise KeyError(f"the field {key!r} is missing")
    policy_class = values["policy_class"]
    if not (policy_class in policy_aliases if isinstance(policy_class, str) else _is_subclass(policy_class, BasePolicy)):
        raise ValueError(f"policy_class={shorten(policy_class)} is neither a policy class nor one of {sorted(policy_aliases)}")
    policy_kwargs = values["policy_kwargs"]
    if not isinstance(policy_kwargs, dict):
        raise ValueError(f"policy_kwargs={shorten(policy_kwargs)} is not a dict")
    check_hyperparameters(
        learning_rate=values["learning_rate"],
        train_freq=values["train_freq"],
        gradient_steps=values["gradient_steps"],
        stats_window_size=values["_stats_window_size"],
        learning_starts=values["learning_starts"],
        batch_size=values["batch_size"],
        buffer_size=values["buffer_size"],
        tau=values["tau"],
        gamma=values["gamma"],
        exploration_initial_eps=values["exploration_initial_eps"],
        exploration_final_eps=values["exploration_final_eps"],
        exploration_decay=values["exploration_decay"],
        clip_grad_value=values["clip_grad_value"],
        double_q=values["double_q"],
        n_steps=values["n_steps"],
        saved=True,  # RL Zoo saves models it loaded with learning_rate=0.0 and buffer_size=1
    )
    check_options(dueling=policy_kwargs.get("dueling", False))
    for counter in _COUNTERS:
        check_count(counter, values.get(counter, 0))
    check_count("n_envs", values.get("n_envs", 1), 1, MAX_N_ENVS)
    if values.get("seed") is not None:
        check_count("seed", values["seed"], 0, 2**32 - 1)  # what NumPy's global seed accepts
    for flag in ("optimize_memory_usage", "use_sde"):
        _check_flag(flag, values.get(flag, False))
    replay_buffer_class = values.get("replay_buffer_class")
    if replay_buffer_class is not None and not _is_subclass(replay_buffer_class, ReplayBuffer):
        raise ValueError(f"replay_buffer_class={shorten(replay_buffer_class)} is not a replay buffer class")
    if not isinstance(values.get("replay_buffer_kwargs") or {}, dict):
        raise ValueError(f"replay_buffer_kwargs={shorten(values['replay_buffer_kwargs'])} is not a dict")
    tensorboard_log = values.get("tensorboard_log")
    if tensorboard_log is not None and not isinstance(tensorboard_log, str | os.PathLike):
        raise ValueError(f"tensorboard_log={shorten(tensorboard_log)} is not a folder name")
    check_space_size(values["observation_space"], "observation_space")
    _check_last_observations(values)
    _check_action_space(values["action_space"])
    policy = policy_aliases[policy_class] if isinstance(policy_class, str) else policy_class
    check_network_size(values["observation_space"], int(values["action_space"].n), policy_kwargs, _default_extractor(policy))
    check_buffer_memory(
        values["buffer_size"], values.get("n_envs", 1), values["observation_space"], values.get("optimize_memory_usage", False)
    )


def _default_extractor(policy_class: type) -> type | None:
    """The features extractor ``policy_class`` builds when its arguments name none."""
    parameter = inspect.signature(policy_class).parameters.get("features_extractor_class")
    return parameter.default if parameter is not None and isinstance(parameter.default, type) else None


def _check_action_space(action_space: Any) -> None:
    check_action_space(action_space)
    check_count("action_space.n", int(action_space.n), 1, MAX_ACTIONS)


def _check_last_observations(values: Mapping[str, Any]) -> None:
    """What ``learn(..., reset_num_timesteps=False)`` continues from: one observation per env, or None."""
    n_envs, space = values.get("n_envs", 1), values["observation_space"]
    for key in ("_last_obs", "_last_original_obs"):
        value = values.get(key)
        if value is None:
            continue
        arrays = value if isinstance(value, dict) else {"": value}
        subspaces = space.spaces if isinstance(space, spaces.Dict) else {"": space}
        for sub, array in arrays.items():
            expected = (n_envs, *(subspaces[sub].shape or ())) if sub in subspaces else None
            if not isinstance(array, np.ndarray) or array.shape != expected:
                raise ValueError(f"{key}{f'[{sub!r}]' if sub else ''}={shorten(array)} is not one observation per env")
    starts = values.get("_last_episode_starts")
    if starts is not None and (not isinstance(starts, np.ndarray) or starts.shape != (n_envs,)):
        raise ValueError(f"_last_episode_starts={shorten(starts)} is not one flag per env")
    for key in ("ep_info_buffer", "ep_success_buffer"):
        if values.get(key) is not None and not isinstance(values[key], collections.deque):
            raise ValueError(f"{key}={shorten(values[key])} is not a deque")


def _is_subclass(value: Any, base: type) -> bool:
    return isinstance(value, type) and issubclass(value, base)


def _check_flag(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"{name}={shorten(value)} is not True or False")


def check_tensor_names(name: str, content: bytes, state_dicts: list[str], variables: list[str]) -> None:
    """
    SB3 applies each ``.pth`` entry's name (less ``.pth``) as an attribute path and each key of
    ``pytorch_variables.pth`` as one (``recursive_setattr(model, key + ".data", value)``: a key such as
    ``_train_stats.__class__`` would set ``data`` on every tensor's class). Only the names the algorithm saves pass,
    whatever the opt-in.

    :param name: the model file, for the message
    :param content: the model zip's bytes
    :param state_dicts: the state dicts the algorithm saves (``_get_torch_save_params``: ``policy``, ...)
    :param variables: the PyTorch variables it saves
    :raises ModelFileError: naming the entry or key the algorithm does not save, before anything is set
    """
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        entries = [entry for entry in archive.namelist() if os.path.splitext(entry)[1] == ".pth"]
        variables_stored = {entry: archive.read(entry) for entry in entries if entry in VARIABLE_ENTRIES}
    unexpected = [
        f"its entry {shorten(entry)}"
        for entry in entries
        if entry not in VARIABLE_ENTRIES and entry[: -len(".pth")] not in state_dicts
    ]
    for entry, stored in variables_stored.items():
        loaded = th.load(io.BytesIO(stored), map_location="cpu", weights_only=True)
        keys = list(loaded) if isinstance(loaded, dict) else [f"<a {type(loaded).__name__}>"]
        unexpected += [f"{entry}[{shorten(key)}]" for key in keys if key not in variables]
    if unexpected:
        raise ModelFileError(
            f"CartDQN.load: {name} was not loaded: {', '.join(unexpected[:5])} "
            f"{'is' if len(unexpected) == 1 else 'are'} not among the state dicts {state_dicts} and PyTorch variables "
            f"{variables} CartDQN saves, and load() would apply each name as an attribute path of the model. Nothing "
            "was set. No honest file holds them (trust_code=True does not change this)."
        )


def check_buffer_fields(name: str, buffer: ReplayBuffer, probe: ReplayBuffer, trust_code: bool) -> None:
    """
    A replay buffer file's attributes are set on the buffer read (as unpickling would): only those a buffer of its
    class has are allowed, and its arrays must have the dtype and shape its spaces give.

    :param name: the replay buffer file, for the message
    :param buffer: what it held (its spaces already checked against the model's)
    :param probe: a buffer of the same class, spaces and number of envs, of capacity 1
    :param trust_code: the caller opted in: other attributes are kept, as unpickling keeps them
    :raises ModelFileError: naming the attribute that does not fit
    """
    unexpected = [key for key in vars(buffer) if key not in vars(probe) and key != "timeouts"]
    if unexpected and not trust_code:
        raise UntrustedFileError(
            f"load_replay_buffer: {name} was not loaded: its attribute(s) {', '.join(shorten(key) for key in unexpected[:5])} "
            f"are not attributes a {type(buffer).__name__} has, and loading would set each of them. If you trust the "
            f"file, pass {OPT_IN}."
        )
    for key in ("obs_shape", "action_dim"):
        if key in vars(probe) and vars(buffer).get(key) != vars(probe)[key]:
            raise ModelFileError(
                f"load_replay_buffer: {name} was not loaded: its {key}={shorten(vars(buffer).get(key))} does not fit its "
                f"spaces ({shorten(vars(probe)[key])}): the file is corrupt or was crafted."
            )
    for key, expected in vars(probe).items():
        stored = vars(buffer).get(key)
        pairs = (
            [(f"{key}[{sub!r}]", stored.get(sub), array) for sub, array in expected.items()]
            if isinstance(expected, dict) and isinstance(stored, dict)
            else [(key, stored, expected)]
        )
        for label, array, wanted in pairs:
            if (
                isinstance(wanted, np.ndarray)
                and isinstance(array, np.ndarray)
                and (array.dtype != wanted.dtype or array.shape[2:] != wanted.shape[2:])
            ):
                raise ModelFileError(
                    f"load_replay_buffer: {name} was not loaded: its {label} are {array.dtype} of shape "
                    f"{shorten(array.shape)}, but its spaces give {wanted.dtype} of shape (buffer_size, n_envs, "
                    f"{', '.join(str(n) for n in wanted.shape[2:])}): the file is corrupt or was crafted."
                )


def check_policy_arguments(name: str, loader: str, arguments: Mapping[str, Any], policy_class: type) -> None:
    """
    A policy file's constructor arguments, before the policy is built from them: only the class's own arguments, the
    spaces within bounds, a ``net_arch`` that fits in memory.

    :param name: the policy file, for the message
    :param loader: the function loading, for the message
    :param arguments: the decoded constructor arguments
    :param policy_class: the class they are given to
    :raises ModelFileError: naming the file and the first argument that does not fit
    """
    accepted = inspect.signature(policy_class).parameters
    unexpected = [key for key in arguments if key not in accepted or key == "self"]
    try:
        if unexpected:
            raise ValueError(
                f"{', '.join(shorten(key) for key in unexpected[:5])} are not arguments of {policy_class.__name__}"
            )
        for key in ("observation_space", "action_space"):
            if key not in arguments:
                raise KeyError(f"the argument {key!r} is missing")
        check_space_size(arguments["observation_space"], "observation_space")
        _check_action_space(arguments["action_space"])
        check_network_size(
            arguments["observation_space"], int(arguments["action_space"].n), dict(arguments), _default_extractor(policy_class)
        )
    except (ValueError, KeyError) as error:
        raise ModelFileError(
            f"{loader}: {name} was not loaded: it holds a bad value ({shorten(error)}). Nothing was built. The file is "
            "corrupt or was crafted; save the policy again."
        ) from None
