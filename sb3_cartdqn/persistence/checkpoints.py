"""
Crash-safe checkpoints and exact resume for CartDQN.

A checkpoint is one folder, ``<save_path>/<name_prefix>_<num_timesteps>_steps/``, holding

- ``model.zip``: the model (``model.save``): weights, target network, optimizer state (AMSGrad's maximum second
  moments included), ``num_timesteps``, epsilon, the last observation and episode statistics;
- ``replay_buffer.npz``: the replay buffer (contents, ``pos``, ``full``);
- ``state.npz``: the random number generators (Python, NumPy, torch, the action space's), the environments
  (the data attributes of a ``DummyVecEnv``'s envs, wrapper by wrapper: see :mod:`sb3_cartdqn.persistence.env_state`) and
  ``VecNormalize``'s running returns;
- ``vecnormalize.npz``: the ``VecNormalize`` statistics, when the env is normalised;
- ``envs.pkl``: only with ``save_env_state="pickle"``: the envs themselves, pickled, for envs that keep their state
  outside data attributes (loading it needs the opt-in, ``trust_code=True``).

Every file but ``envs.pkl`` is data (the ``.npz`` files are read by :mod:`sb3_cartdqn.persistence.data_file`), and
:func:`load_checkpoint` runs no code from a checkpoint unless the caller opts in (``trust_code=True`` or
``TRUST_REMOTE_CODE=True``): no field of ``state.npz`` is unpickled without it, whatever its name; checkpoints
written by earlier versions (``*.pkl`` files) load with the opt-in.

The folder is written under a hidden temporary name and renamed into place once every file is on disk
(:func:`sb3_cartdqn.persistence.atomic.atomic_folder`, which ``BatchedCartDQN.save_checkpoint`` uses too), so a
process killed mid-checkpoint leaves the previous checkpoints intact and never a partial one under a checkpoint
name. Both name their folders by :func:`checkpoint_name`: ``<name_prefix>_<num_timesteps>_steps``
(``BatchedCartDQN``'s prefix is ``batched``; :func:`list_batched_checkpoints` also reads the ``steps_<n>`` folders
earlier versions of it wrote). Checkpoints are taken at a point where the state is consistent: after the step's
transition is stored and its gradient step done (SB3's ``CheckpointCallback`` saves inside ``on_step``, before the
transition is stored).

Resuming with :func:`load_checkpoint` and ``learn(remaining, reset_num_timesteps=False)`` then continues the run
exactly: with a ``DummyVecEnv`` of envs whose state is data (the classic-control envs, SB3's ``Monitor``,
Gymnasium's wrappers) the resumed run is bit-identical to the run that was never interrupted (same machine, CPU).
Otherwise the envs cannot be restored: the resumed run starts new episodes (as SB3 does), and everything else is
restored.
"""

import pathlib
import pickle
import random
import re
import shutil
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import CheckpointCallback
from stable_baselines3.common.type_aliases import GymEnv

from sb3_cartdqn.cartdqn.cartdqn import CartDQN
from sb3_cartdqn.persistence.atomic import atomic_folder, remove_temporaries
from sb3_cartdqn.persistence.data_file import open_data_file, write_data_file
from sb3_cartdqn.persistence.env_state import (
    capture_env_state,
    capture_envs_data,
    dummy_vec_env,
    envs_data_matches,
    read_vecnormalize_statistics,
    restore_env_state,
    restore_envs_data,
    write_vecnormalize,
)
from sb3_cartdqn.persistence.trust import ModelFileError, code_trusted, refuse

MODEL_FILE = "model.zip"
REPLAY_BUFFER_FILE = "replay_buffer.npz"
STATE_FILE = "state.npz"
VECNORMALIZE_FILE = "vecnormalize.npz"
#: Written only with ``save_env_state="pickle"``; loaded only with the opt-in
ENVS_FILE = "envs.pkl"
#: The pickles earlier versions wrote in place of the data files (loaded only with the opt-in)
LEGACY_FILES = {REPLAY_BUFFER_FILE: "replay_buffer.pkl", STATE_FILE: "state.pkl", VECNORMALIZE_FILE: "vecnormalize.pkl"}
#: What ``state.npz`` holds (its header's ``kind``)
STATE_KIND = "CartDQN checkpoint state"
#: Version of the checkpoint state's layout (1: ``state.pkl``, pickled)
STATE_FORMAT = 2
#: The name prefix of ``BatchedCartDQN``'s checkpoint folders
BATCHED_PREFIX = "batched"
#: How earlier versions of ``BatchedCartDQN.save_checkpoint`` named their folders (``steps_<num_timesteps>``)
LEGACY_BATCHED_NAME = re.compile(r"^steps_(\d+)$")


def checkpoint_name(name_prefix: str, num_timesteps: int | str) -> str:
    """
    The one rule naming checkpoint folders, CartDQN's and ``BatchedCartDQN``'s.

    :param name_prefix: the checkpoints' common prefix
    :param num_timesteps: the step count at the checkpoint (``"*"``: a glob matching every step count)
    :return: the checkpoint folder's name
    """
    return f"{name_prefix}_{num_timesteps}_steps"


def _name_pattern(name_prefix: str) -> re.Pattern[str]:
    """The folder names :func:`checkpoint_name` gives, the step count as group 1."""
    return re.compile(rf"^{re.escape(name_prefix)}_(\d+)_steps$")


def _numbered_folders(
    save_path: str | pathlib.Path, patterns: list[re.Pattern[str]], complete: Callable[[pathlib.Path], bool]
) -> list[tuple[int, pathlib.Path]]:
    """``(num_timesteps, folder)`` of every folder named by one of ``patterns`` that is ``complete``, oldest first."""
    found = []
    folder = pathlib.Path(save_path)
    if folder.is_dir():
        for entry in folder.iterdir():
            match = next(filter(None, (pattern.match(entry.name) for pattern in patterns)), None)
            if match and entry.is_dir() and complete(entry):
                found.append((int(match.group(1)), entry))
    return sorted(found)


def list_checkpoints(save_path: str | pathlib.Path, name_prefix: str = "cartdqn") -> list[tuple[int, pathlib.Path]]:
    """
    :param save_path: the folder the checkpoint callback writes to
    :param name_prefix: the checkpoints' common prefix
    :return: ``(num_timesteps, folder)`` of every complete checkpoint, oldest first (unfinished ones are hidden
        temporary folders and are never listed)
    """
    return _numbered_folders(save_path, [_name_pattern(name_prefix)], lambda entry: (entry / MODEL_FILE).is_file())


def list_batched_checkpoints(
    save_path: str | pathlib.Path, name_prefix: str = BATCHED_PREFIX
) -> list[tuple[int, pathlib.Path]]:
    """
    :param save_path: the folder ``BatchedCartDQN.learn(checkpoint_path=...)`` writes to
    :param name_prefix: the checkpoints' common prefix
    :return: ``(num_timesteps, folder)`` of every checkpoint ``BatchedCartDQN.save_checkpoint`` wrote (named by
        :func:`checkpoint_name`, or ``steps_<n>`` as earlier versions named them), oldest first; each holds
        ``seed_<seed>.zip`` and ``seed_<seed>_replay.pkl`` per seed
    """
    patterns = [_name_pattern(name_prefix), LEGACY_BATCHED_NAME]
    return _numbered_folders(save_path, patterns, lambda entry: any(entry.glob("seed_*.zip")))


def latest_checkpoint(save_path: str | pathlib.Path, name_prefix: str = "cartdqn") -> pathlib.Path | None:
    """
    :param save_path: the folder the checkpoint callback writes to
    :param name_prefix: the checkpoints' common prefix
    :return: the newest complete checkpoint folder, or None if there is none
    """
    checkpoints = list_checkpoints(save_path, name_prefix)
    return checkpoints[-1][1] if checkpoints else None


def capture_rng_state(model: BaseAlgorithm) -> dict[str, Any]:
    """
    :param model: the model whose action space is sampled for exploration
    :return: the state of every random number generator a CartDQN run draws from
    """
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": th.get_rng_state(),
        "action_space": model.action_space.np_random.bit_generator.state,
    }
    if th.cuda.is_available() and th.cuda.is_initialized():
        state["torch_cuda"] = th.cuda.get_rng_state_all()
    return state


def restore_rng_state(model: BaseAlgorithm, state: dict[str, Any]) -> None:
    """
    :param model: the loaded model
    :param state: what :func:`capture_rng_state` returned
    """
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    th.set_rng_state(state["torch"])
    model.action_space.np_random.bit_generator.state = state["action_space"]
    if "torch_cuda" in state and th.cuda.is_available():
        th.cuda.set_rng_state_all(state["torch_cuda"])


def save_checkpoint(
    model: CartDQN,
    save_path: str | pathlib.Path,
    name_prefix: str = "cartdqn",
    save_replay_buffer: bool = True,
    save_vecnormalize: bool = True,
    save_env_state: bool | str = True,
) -> pathlib.Path:
    """
    Write a checkpoint folder atomically (:func:`~sb3_cartdqn.persistence.atomic.atomic_folder`): every file goes to
    a hidden temporary folder that is renamed into place once complete and on disk (a checkpoint of the same step is
    replaced, and removed only once its replacement is in place).

    :param model: the model, at a consistent point (between env steps, not inside ``on_step``)
    :param save_path: the folder to write checkpoints to
    :param name_prefix: the checkpoints' common prefix
    :param save_replay_buffer: also save the replay buffer (needed to resume exactly)
    :param save_vecnormalize: also save the ``VecNormalize`` statistics, if the env is normalised
    :param save_env_state: also save the data attributes of a ``DummyVecEnv``'s envs (needed to resume
        bit-identically); ``"pickle"`` also pickles the envs themselves into ``envs.pkl``, for envs that keep their
        state outside data attributes (loading it needs ``trust_code=True``)
    :return: the checkpoint folder
    """
    if save_env_state not in (True, False, "pickle"):
        raise ValueError(f"save_checkpoint: invalid save_env_state={save_env_state!r}: True, False or 'pickle'.")
    final = pathlib.Path(save_path) / checkpoint_name(name_prefix, model.num_timesteps)
    with atomic_folder(final) as temporary:
        model.save(temporary / MODEL_FILE)
        if save_replay_buffer and model.replay_buffer is not None:
            model.save_replay_buffer(temporary / REPLAY_BUFFER_FILE)
        vec_normalize = model.get_vec_normalize_env()
        if save_vecnormalize and vec_normalize is not None:
            with open(temporary / VECNORMALIZE_FILE, "wb") as file:
                write_vecnormalize(vec_normalize, file)
        if save_env_state == "pickle":
            pickled = capture_env_state(model.env)
            if pickled is None and dummy_vec_env(model.env) is not None:
                warnings.warn(
                    "save_checkpoint: the envs cannot be pickled (an open file or window?): a resumed run restores "
                    "their data attributes only. Everything else is saved."
                )
            if pickled is not None:
                (temporary / ENVS_FILE).write_bytes(pickled)
        state = {
            "format": STATE_FORMAT,
            "num_timesteps": model.num_timesteps,
            "rng": capture_rng_state(model),
            "env": capture_envs_data(model.env) if save_env_state else None,
            "vecnormalize_returns": None if vec_normalize is None else vec_normalize.returns.copy(),
        }
        with open(temporary / STATE_FILE, "wb") as file:
            write_data_file(file, STATE_KIND, state)
    return final


def remove_stale_temporaries(save_path: str | pathlib.Path, name_prefix: str = "cartdqn") -> list[pathlib.Path]:
    """
    Delete the hidden folders left by checkpoints that were killed while being written (and put back a checkpoint
    that was moved aside for a replacement that never arrived: see :func:`~sb3_cartdqn.persistence.atomic.remove_temporaries`).

    :param save_path: the checkpoint folder
    :param name_prefix: the checkpoints' common prefix
    :return: the folders removed
    """
    return remove_temporaries(save_path, checkpoint_name(name_prefix, "*"))


def _data_or_legacy(checkpoint: pathlib.Path, file_name: str, trust_code: bool) -> pathlib.Path | None:
    """The checkpoint's data file ``file_name``, or the pickle an earlier version wrote instead (opt-in only)."""
    if (checkpoint / file_name).is_file():
        return checkpoint / file_name
    legacy = checkpoint / LEGACY_FILES[file_name]
    if not legacy.is_file():
        return None
    if not trust_code:
        raise refuse("load_checkpoint", str(legacy), "it is a pickle (a checkpoint of an earlier sb3-cartdqn version)")
    return legacy


def _read_state(checkpoint: pathlib.Path, trust_code: bool) -> dict[str, Any]:
    path = _data_or_legacy(checkpoint, STATE_FILE, trust_code)
    if path is None:
        return {}
    state = open_data_file(path, STATE_KIND, "load_checkpoint", trust_code, "save the checkpoint again or use an earlier one.")
    if isinstance(state, dict) and state.get("format") == 1 and path.suffix == ".pkl":  # earlier version, opted in
        state["env_pickle"] = state.pop("env", None)
        return state
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        raise ModelFileError(f"load_checkpoint: {path} is not a CartDQN checkpoint state (format {STATE_FORMAT}).")
    return state


def _read_pickled_envs(checkpoint: pathlib.Path, state: dict[str, Any], trust_code: bool) -> list[Any] | None:
    """The pickled envs: ``envs.pkl``, or those a ``state.pkl`` of an earlier version held; only with the opt-in."""
    pickled = state.get("env_pickle")
    if pickled is not None and not trust_code:
        # Only an earlier version's state.pkl (read with the opt-in) holds them: a data file that has the field is
        # crafted, and no field of it is unpickled, whatever its name
        raise refuse("load_checkpoint", str(checkpoint / STATE_FILE), "its field 'env_pickle' holds a pickle")
    if (checkpoint / ENVS_FILE).is_file():
        if not trust_code:
            raise refuse(
                "load_checkpoint",
                str(checkpoint / ENVS_FILE),
                "it holds the envs, pickled (save_env_state='pickle'); delete it to resume from the envs' data "
                "attributes instead",
            )
        pickled = (checkpoint / ENVS_FILE).read_bytes()
    return pickle.loads(pickled) if pickled is not None else None  # the caller opted in (see above)


def load_checkpoint(
    path: str | pathlib.Path,
    env: GymEnv,
    name_prefix: str = "cartdqn",
    device: th.device | str = "auto",
    restore_rng: bool = True,
    trust_code: bool | None = None,
    **kwargs: Any,
) -> CartDQN:
    """
    Load a checkpoint to resume training with ``model.learn(remaining, reset_num_timesteps=False)``.

    :param path: a checkpoint folder, or the folder of checkpoints (the newest complete one is used)
    :param env: the training env, built as at the start of the run (same id, wrappers and number of envs;
        wrapped in ``VecNormalize`` if the run was)
    :param name_prefix: the checkpoints' common prefix (when ``path`` is the folder of checkpoints)
    :param device: device for the model
    :param restore_rng: restore the random number generators (global Python, NumPy and torch ones included)
    :param trust_code: run code stored in the checkpoint: unpickle ``envs.pkl`` and the ``*.pkl`` files of
        checkpoints written by earlier versions; ``None`` reads the environment variable ``TRUST_REMOTE_CODE``
    :param kwargs: passed to ``CartDQN.load``
    :return: the model, ready to continue training
    """
    checkpoint = pathlib.Path(path)
    if not (checkpoint / MODEL_FILE).is_file():
        latest = latest_checkpoint(checkpoint, name_prefix)
        if latest is None:
            raise FileNotFoundError(
                f"load_checkpoint: no complete checkpoint '{name_prefix}_<steps>_steps/{MODEL_FILE}' in {checkpoint}: "
                "check the folder and name_prefix, or start a new run."
            )
        checkpoint = latest
    trusted = code_trusted(trust_code)
    # Every file is checked before anything is restored: a refused file leaves nothing half-loaded
    state = _read_state(checkpoint, trusted)
    replay_buffer = _data_or_legacy(checkpoint, REPLAY_BUFFER_FILE, trusted)
    vecnormalize = _data_or_legacy(checkpoint, VECNORMALIZE_FILE, trusted)
    saved_envs = _read_pickled_envs(checkpoint, state, trusted)
    statistics = read_vecnormalize_statistics(vecnormalize, trusted) if vecnormalize is not None else None

    venv = CartDQN._wrap_env(env, verbose=0)
    base = dummy_vec_env(venv)
    restorable = saved_envs is not None and base is not None and len(saved_envs) == base.num_envs
    restorable_data = not restorable and envs_data_matches(venv, state.get("env"))
    model = CartDQN.load(
        checkpoint / MODEL_FILE,
        env=venv,
        device=device,
        force_reset=not (restorable or restorable_data),
        trust_code=trusted,
        **kwargs,
    )
    if replay_buffer is not None:
        model.load_replay_buffer(replay_buffer, trust_code=trusted)
    else:
        warnings.warn(f"load_checkpoint: {checkpoint} has no replay buffer; training resumes with an empty one.")
    if saved_envs is not None and not restorable:
        warnings.warn(
            f"load_checkpoint: {checkpoint} holds {len(saved_envs)} pickled envs but the env given is "
            f"{type(venv.unwrapped).__name__} with {venv.num_envs}: new episodes start (the rest is restored). "
            "Pass a DummyVecEnv with as many envs to resume bit-identically."
        )
    vec_normalize = model.get_vec_normalize_env()
    if statistics is not None:
        if vec_normalize is None:
            raise ValueError(
                f"load_checkpoint: {checkpoint} was trained with VecNormalize: wrap the env in "
                "stable_baselines3.common.vec_env.VecNormalize before resuming."
            )
        vec_normalize.obs_rms, vec_normalize.ret_rms = statistics  # type: ignore[assignment]
        if state.get("vecnormalize_returns") is not None:
            vec_normalize.returns = np.array(state["vecnormalize_returns"], copy=True)
    if restorable and saved_envs is not None:
        restore_env_state(venv, saved_envs)
    elif restorable_data:
        restore_envs_data(venv, state["env"], str(checkpoint))
    elif model.seed is not None:
        # New episodes start here: seed them from the step count, not with the run's first seeds again
        venv.seed(model.seed + model.num_timesteps)
    if restore_rng and "rng" in state:
        restore_rng_state(model, state["rng"])
    return model


class CartDQNCheckpointCallback(CheckpointCallback):
    """
    SB3's ``CheckpointCallback`` for exact resume: every ``save_freq`` calls it writes a checkpoint folder
    (model, replay buffer, random generators, envs, ``VecNormalize``) atomically, at the next consistent point
    (the start of the next rollout, i.e. after the step's transition is stored and trained on, or the end of training).

    :param save_freq: save every ``save_freq`` calls of the callback (env steps of the VecEnv; ``n_envs`` env
        steps each)
    :param save_path: folder for the checkpoints
    :param name_prefix: common prefix of the checkpoint folders
    :param save_replay_buffer: save the replay buffer (needed to resume exactly)
    :param save_vecnormalize: save the ``VecNormalize`` statistics
    :param save_env_state: save the data attributes of a ``DummyVecEnv``'s envs (needed to resume bit-identically);
        ``"pickle"`` also pickles the envs (see :func:`save_checkpoint`)
    :param keep_last: keep only the newest ``keep_last`` checkpoints (None: keep all)
    :param verbose: 2 prints each checkpoint written
    """

    model: CartDQN

    def __init__(
        self,
        save_freq: int,
        save_path: str,
        name_prefix: str = "cartdqn",
        save_replay_buffer: bool = True,
        save_vecnormalize: bool = True,
        save_env_state: bool | str = True,
        keep_last: int | None = None,
        verbose: int = 0,
    ) -> None:
        if not isinstance(save_freq, int) or save_freq < 1:
            raise ValueError(f"CartDQNCheckpointCallback: invalid save_freq={save_freq!r}: it must be an integer >= 1.")
        if keep_last is not None and keep_last < 1:
            raise ValueError(f"CartDQNCheckpointCallback: invalid keep_last={keep_last!r}: keep at least 1, or None.")
        super().__init__(save_freq, save_path, name_prefix, save_replay_buffer, save_vecnormalize, verbose)
        self.save_env_state = save_env_state
        self.keep_last = keep_last
        self.saved: list[pathlib.Path] = []
        self._pending = False

    def _init_callback(self) -> None:
        super()._init_callback()
        if not isinstance(self.model, CartDQN):
            raise TypeError(f"CartDQNCheckpointCallback saves CartDQN models, not {type(self.model).__name__}.")
        remove_stale_temporaries(self.save_path, self.name_prefix)

    def _on_step(self) -> bool:
        # Inside on_step the step's transition is not stored yet: save at the next consistent point instead
        if self.n_calls % self.save_freq == 0:
            self._pending = True
        return True

    def _on_rollout_start(self) -> None:
        if self._pending:
            self.save()

    def _on_training_end(self) -> None:
        if self._pending:
            self.save()

    def save(self) -> pathlib.Path:
        """
        Write a checkpoint of the model now.

        :return: the checkpoint folder
        """
        self._pending = False
        checkpoint = save_checkpoint(
            self.model,
            self.save_path,
            self.name_prefix,
            save_replay_buffer=self.save_replay_buffer,
            save_vecnormalize=self.save_vecnormalize,
            save_env_state=self.save_env_state,
        )
        self.saved.append(checkpoint)
        if self.verbose >= 2:
            print(f"Saved checkpoint {checkpoint}")
        if self.keep_last is not None:
            for _, old in list_checkpoints(self.save_path, self.name_prefix)[: -self.keep_last]:
                shutil.rmtree(old, ignore_errors=True)
        return checkpoint
