"""
What every CartDQN needs beyond the tutorial, kept out of the algorithm file: SB3's ``OffPolicyAlgorithm`` with

- the tutorial's learning start: gradient steps begin as soon as ``num_timesteps >= learning_starts`` (SB3: ``>``);
- finite checks: a NaN or infinite observation or reward is refused before it reaches the replay buffer;
- a ``learn(total_timesteps)`` check (``learn(0)`` is a no-op, negative is an error);
- safe persistence: atomic ``save`` and ``save_replay_buffer`` (a process killed mid-save leaves the previous file),
  data-only files, and a checked ``load`` / ``load_replay_buffer`` that refuses files carrying code unless the user
  opts in (``trust_code``, see ``sb3_cartdqn.persistence.trust``).
"""

import io
import pathlib
import pickle
import zipfile
from collections.abc import Iterable
from typing import Any, TypeVar

import numpy as np
import torch as th
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, TrainFreq
from stable_baselines3.her.her_replay_buffer import HerReplayBuffer

from sb3_cartdqn.common.checks import check_finite, check_replay_position, check_total_timesteps
from sb3_cartdqn.persistence.atomic import atomic_path
from sb3_cartdqn.persistence.field_checks import (
    check_buffer_fields,
    check_field_names,
    check_field_values,
    check_tensor_names,
    ignored_fields,
    saved_field_names,
)
from sb3_cartdqn.persistence.model_file import (
    check_env_spaces,
    read_model_data,
    read_model_file,
    save_model,
    tensor_entry_error,
    zip_path,
)
from sb3_cartdqn.persistence.replay_file import (
    check_replay_buffer,
    read_replay_buffer,
    replay_buffer_path,
    write_replay_buffer,
)
from sb3_cartdqn.persistence.trust import ModelFileError, code_trusted, shorten

SelfCheckedAlgorithm = TypeVar("SelfCheckedAlgorithm", bound="CheckedOffPolicyAlgorithm")
PathLike = str | pathlib.Path | io.BufferedIOBase


class CheckedOffPolicyAlgorithm(OffPolicyAlgorithm):
    """
    SB3's ``OffPolicyAlgorithm`` with the tutorial's learning start, finite checks and safe persistence
    (see the module docstring).

    :param args: SB3's ``OffPolicyAlgorithm`` arguments
    :param check_finite: raise a clear error as soon as the env returns a NaN or infinite observation or reward,
        before it reaches the replay buffer (about 5 microseconds per env step)
    :param kwargs: SB3's ``OffPolicyAlgorithm`` keyword arguments
    """

    def __init__(self, *args: Any, check_finite: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.check_finite = check_finite

    def learn(
        self: SelfCheckedAlgorithm,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 4,
        tb_log_name: str = "run",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfCheckedAlgorithm:
        """
        Return a trained model. SB3's ``OffPolicyAlgorithm.learn`` to the letter, except that gradient steps start
        as soon as ``num_timesteps >= learning_starts`` (the tutorial optimises once ``len(memory) >= BATCH_SIZE``).
        SB3 offers no hook for that one comparison, so its loop is copied here;
        ``tests/test_checked_algorithm.py`` fails if SB3's loop changes.

        :param total_timesteps: The total number of samples (env steps) to train on
        :param callback: callback(s) called at every step with state of the algorithm.
        :param log_interval: log every ``log_interval`` episodes
        :param tb_log_name: the name of the run for TensorBoard logging
        :param reset_num_timesteps: whether or not to reset the current timestep number (used in logging)
            and so the epsilon schedule; ``False`` continues both
        :param progress_bar: Display a progress bar using tqdm and rich.
        :return: the trained model
        """
        total_timesteps, callback = self._setup_learn(
            total_timesteps,
            callback,
            reset_num_timesteps,
            tb_log_name,
            progress_bar,
        )

        callback.on_training_start(locals(), globals())

        assert self.env is not None, "You must set the environment before calling learn()"
        assert isinstance(self.train_freq, TrainFreq)  # check done in _setup_learn()

        while self.num_timesteps < total_timesteps:
            rollout = self.collect_rollouts(
                self.env,
                train_freq=self.train_freq,
                action_noise=self.action_noise,
                callback=callback,
                learning_starts=self.learning_starts,
                replay_buffer=self.replay_buffer,  # type: ignore[arg-type]
                log_interval=log_interval,
            )

            if not rollout.continue_training:
                break

            # The one change from SB3's loop (which has ``>``): the tutorial optimises once len(memory) >= BATCH_SIZE
            if self.num_timesteps > 0 and self.num_timesteps >= self.learning_starts:
                # If no `gradient_steps` is specified,
                # do as many gradients steps as steps performed during the rollout
                gradient_steps = self.gradient_steps if self.gradient_steps >= 0 else rollout.episode_timesteps
                # Special case when the user passes `gradient_steps=0`
                if gradient_steps > 0:
                    self.train(batch_size=self.batch_size, gradient_steps=gradient_steps)

        callback.on_training_end()

        return self

    def _setup_learn(
        self,
        total_timesteps: int,
        callback: MaybeCallback = None,
        reset_num_timesteps: bool = True,
        tb_log_name: str = "run",
        progress_bar: bool = False,
    ) -> tuple[int, BaseCallback]:
        """
        SB3's ``_setup_learn``, after checking ``total_timesteps`` (``learn(0)`` is a no-op, negative is an error),
        and checking the first observation for NaN/inf when ``check_finite``.
        """
        check_total_timesteps(total_timesteps)
        total_timesteps, callback = super()._setup_learn(
            total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar
        )
        if self.check_finite and self._last_obs is not None:
            check_finite(self._last_obs, np.zeros(1), np.zeros(0, dtype=bool), [], self.num_timesteps)
        return total_timesteps, callback

    def _store_transition(
        self,
        replay_buffer: ReplayBuffer,
        buffer_action: np.ndarray,
        new_obs: np.ndarray | dict[str, np.ndarray],
        reward: np.ndarray,
        dones: np.ndarray,
        infos: list[dict[str, Any]],
    ) -> None:
        """
        SB3's ``_store_transition``, refusing NaN/inf observations and rewards when ``check_finite``.

        SB3 deep-copies the new observations before putting each terminal observation in place of the reset one.
        When no env is done (and no ``VecNormalize`` keeps originals), nothing is put in place and ``add`` copies
        what it stores, so the copy is skipped: the buffer and ``_last_obs`` end up the same.
        """
        if self.check_finite:
            check_finite(new_obs, reward, dones, infos, self.num_timesteps)
        if self._vec_normalize_env is None and not dones.any():
            self._last_original_obs = self._last_obs
            replay_buffer.add(self._last_obs, new_obs, buffer_action, reward, dones, infos)  # type: ignore[arg-type]
            self._last_obs = new_obs
            return
        super()._store_transition(replay_buffer, buffer_action, new_obs, reward, dones, infos)

    def save(self, path: PathLike, exclude: Iterable[str] | None = None, include: Iterable[str] | None = None) -> None:
        """
        SB3's ``save`` with every attribute written as data (no pickles: see ``sb3_cartdqn.persistence.fields``),
        written atomically: to a temporary file in the same folder, renamed over ``path`` once complete, so that a
        process killed mid-save never leaves a truncated file in place of the previous model.

        :param path: path to the file where the rl agent should be saved (``.zip`` is added if it has no suffix)
        :param exclude: name of parameters that should be excluded in addition to the default ones
        :param include: name of parameters that might be excluded but should be included anyway
        """
        if not isinstance(path, str | pathlib.Path):
            save_model(self, path, exclude, include)
            return
        with atomic_path(zip_path(path)) as temporary:
            save_model(self, temporary, exclude, include)

    def save_replay_buffer(self, path: PathLike) -> None:
        """
        Save the replay buffer as data (an npz archive, whatever the suffix), atomically (temporary file, then rename).

        :param path: where to save the replay buffer (``.pkl`` is added if it has no suffix, as SB3 does)
        """
        assert self.replay_buffer is not None, "The replay buffer is not defined"
        if not isinstance(path, str | pathlib.Path):
            write_replay_buffer(self.replay_buffer, path)  # type: ignore[arg-type]
            return
        final = pathlib.Path(path)
        if final.suffix == "":
            final = final.with_name(final.name + ".pkl")
        with atomic_path(final) as temporary, open(temporary, "wb") as file:
            write_replay_buffer(self.replay_buffer, file)

    def load_replay_buffer(self, path: PathLike, truncate_last_traj: bool = True, trust_code: bool | None = None) -> None:
        """
        SB3's ``load_replay_buffer``, reading data only: a pickled replay buffer (SB3's format) is refused unless
        ``trust_code``. A truncated or foreign file raises ``ModelFileError`` naming it, and leaves the current replay
        buffer in place.

        :param path: the file written by ``save_replay_buffer`` (``.pkl`` may be omitted, as with SB3)
        :param truncate_last_traj: (``HerReplayBuffer`` only) assume the last stored trajectory finished
        :param trust_code: unpickle a pickled replay buffer; ``None`` reads the environment variable
            ``TRUST_REMOTE_CODE``
        """
        name = str(replay_buffer_path(path)) if isinstance(path, str | pathlib.Path) else f"<{type(path).__name__}>"
        trusted = code_trusted(trust_code)
        buffer = read_replay_buffer(
            replay_buffer_path(path) if isinstance(path, str | pathlib.Path) else path,  # type: ignore[arg-type]
            trusted,
        )
        try:
            check_replay_position(buffer.buffer_size, buffer.n_envs, buffer.pos, buffer.full)
        except (ValueError, AttributeError) as error:
            raise ModelFileError(
                f"load_replay_buffer: {name} was not loaded: it holds a bad value ({shorten(error)}). "
                "The file is corrupt or was crafted; load the replay buffer of an earlier checkpoint."
            ) from None
        check_replay_buffer(name, buffer, self.observation_space, self.action_space, self.n_envs)
        try:
            probe = type(buffer)(1, self.observation_space, self.action_space, device="cpu", n_envs=self.n_envs)
        except (AssertionError, ValueError, TypeError) as error:
            raise ModelFileError(
                f"load_replay_buffer: {name} was not loaded: a {type(buffer).__name__} cannot hold this model's "
                f"transitions ({shorten(error)})."
            ) from None
        check_buffer_fields(name, buffer, probe, trusted)
        # What SB3's load_replay_buffer does after unpickling
        if not hasattr(buffer, "handle_timeout_termination"):  # SB3 < 2.1.0
            buffer.handle_timeout_termination = False
            buffer.timeouts = np.zeros_like(buffer.dones)
        if isinstance(buffer, HerReplayBuffer):
            assert self.env is not None, "You must pass an environment at load time when using `HerReplayBuffer`"
            buffer.set_env(self.env)
            if truncate_last_traj:
                buffer.truncate_last_trajectory()
        buffer.device = self.device
        self.replay_buffer = buffer

    def set_parameters(
        self,
        load_path_or_dict: str | pathlib.Path | io.BufferedIOBase | dict[str, Any],
        exact_match: bool = True,
        device: th.device | str = "auto",
    ) -> None:
        """
        SB3's ``set_parameters``; from a model file, only after checking that its ``.pth`` entries name state dicts
        the algorithm saves (SB3 applies each entry's name as an attribute path of the model).

        :param load_path_or_dict: a model zip (path or file-like), or state dicts by name (see ``get_parameters``)
        :param exact_match: require every state dict, and every tensor of each
        :param device: where to put the tensors
        """
        if isinstance(load_path_or_dict, dict):
            super().set_parameters(load_path_or_dict, exact_match, device)
            return
        name, content = read_model_file(load_path_or_dict)
        try:
            check_tensor_names(name, content, *self._get_torch_save_params())
        except zipfile.BadZipFile:
            pass  # SB3's error names it: "the file ... wasn't a zip-file"
        super().set_parameters(io.BytesIO(content), exact_match, device)  # type: ignore[arg-type]

    @classmethod
    def load(  # type: ignore[override]
        cls: type[SelfCheckedAlgorithm],
        path: PathLike,
        env: GymEnv | None = None,
        device: th.device | str = "auto",
        custom_objects: dict[str, Any] | None = None,
        print_system_info: bool = False,
        force_reset: bool = True,
        trust_code: bool | None = None,
        **kwargs: Any,
    ) -> SelfCheckedAlgorithm:
        """
        SB3's ``load``, reading data only, after checking the file: a missing, truncated, corrupt or non-CartDQN file
        (e.g. a DQN or PPO model) and an env whose spaces differ from the saved ones raise an error naming the file
        and the fix. A file that carries code (fields SB3 pickled, classes outside the allow-list of
        ``sb3_cartdqn.persistence.codec``) is refused before anything is unpickled unless ``trust_code``.
        What the fields may set is checked too (``sb3_cartdqn.persistence.field_checks``): the file's ``env`` and
        ``tensorboard_log`` are not used unless ``trust_code`` (a loaded model builds no env from the file and writes
        nowhere it chose), a field the algorithm does not save is refused unless ``trust_code``, ``.pth`` entries and
        ``pytorch_variables.pth`` keys other than those it saves are refused, and every value is checked (types,
        ranges, sizes) before anything is allocated.

        :param path: path to the file (or a file-like) where to load the agent from
        :param env: the new environment to run the loaded model on (None: predict only)
        :param device: Device on which the code should run.
        :param custom_objects: Dictionary of objects to replace upon loading (those fields are not read).
        :param print_system_info: Whether to print system info from the saved model
        :param force_reset: Force call to ``reset()`` before training
        :param trust_code: run code stored in the file (unpickle SB3's pickled fields, import classes it names):
            needed for models written by SB3 or earlier sb3-cartdqn versions; ``None`` reads the environment variable
            ``TRUST_REMOTE_CODE``
        :param kwargs: extra arguments to change the model when loading
        :return: new model instance with loaded parameters
        """
        name, content = read_model_file(path)
        trusted = code_trusted(trust_code)
        data = read_model_data(io.BytesIO(content), custom_objects, trusted, name=name)
        # Built as SB3's load builds it, to learn what the algorithm saves and its defaults; nothing is allocated
        probe = cls(next(iter(cls.policy_aliases)), env=None, device="cpu", _init_setup_model=False)
        # What the file holds: the fields given in custom_objects are the caller's, as are kwargs (applied after)
        stored = {key: value for key, value in data.items() if key not in (custom_objects or {})}
        check_field_names(name, stored, saved_field_names(probe), trusted)
        check_field_values(name, {**vars(probe), **stored}, cls.policy_aliases)
        if env is not None:
            env = cls._wrap_env(env, data.get("verbose", 0))
            check_env_spaces(name, data, env.observation_space, env.action_space)
        # SB3 sets every field it finds in the file: those it must not take from the file get the value to use
        data.update(ignored_fields(name, stored, env, trusted, kwargs))
        try:
            check_tensor_names(name, content, *probe._get_torch_save_params())
            # Every field is given: SB3 unpickles none of them; its tensors load with weights_only=True
            return super().load(io.BytesIO(content), env, device, data, print_system_info, force_reset, **kwargs)
        except pickle.UnpicklingError as error:
            raise tensor_entry_error(name, content, error) from None
        except MemoryError as error:
            raise ModelFileError(
                f"CartDQN.load: {name} describes a model too big for this machine's memory ({shorten(error)}): "
                f"buffer_size={shorten(data.get('buffer_size'))}, observation_space={shorten(data.get('observation_space'))}, "
                f"policy_kwargs={shorten(data.get('policy_kwargs'))}. Pass a smaller buffer_size=... to load()."
            ) from None
