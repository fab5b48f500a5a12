"""
The algorithms the comparison trains, each as an :class:`AlgorithmConfig`: a class, a policy and its keyword arguments.

RL Zoo settings are preprocessed by RL Zoo's own ``ExperimentManager`` (schedule strings, ``n_envs``, ``env_kwargs``),
never copied by hand. RL Zoo's own files (``dqn-zoo``, ``qrdqn-zoo``) are also read by it; CartDQN's files (the
package's ``hyperparams/``, or one the user names) are read by the package's data-only reader
(:mod:`sb3_cartdqn.zoo.hyperparams_files`), so that no string of them is evaluated.
"""

import argparse
import contextlib
import dataclasses
import inspect
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rl_zoo3.exp_manager import ExperimentManager
from rl_zoo3.utils import ALGOS
from stable_baselines3 import DQN
from stable_baselines3.common.base_class import BaseAlgorithm

from sb3_cartdqn.cartdqn.cartdqn import CartDQN
from sb3_cartdqn.common.defaults import TUTORIAL, tutorial_dqn_kwargs
from sb3_cartdqn.zoo.hyperparams_files import hyperparams_folder, literal_values, read_hyperparams_file

ALGORITHM_NAMES = (
    "cartdqn-tutorial",
    "cartdqn-robust",
    "cartdqn-fast",
    "dqn-tutorial-like",
    "dqn-zoo",
    "dqn-zoo-nstep3",
    "qrdqn-zoo",
)
#: The file of the ``cartdqn-fast`` row (issue #22's study writes its winner there), in the hyperparameters folder
FAST_FILE = "cartdqn_fast.yml"

# Zoo keys that change the environment or add callbacks: the comparison uses one env pipeline for all algorithms
_UNSUPPORTED_ZOO_KEYS = ("normalize", "env_wrapper", "vec_env_wrapper", "frame_stack", "callback")
# Constructor arguments that are not settings of the algorithm (set per run by the comparison)
_NOT_SETTINGS = ("self", "policy", "env", "tensorboard_log", "verbose", "seed", "device", "_init_setup_model")


@dataclass(frozen=True)
class AlgorithmConfig:
    """
    One algorithm of the comparison.

    :param name: the name in tables and figures (one of ``ALGORITHM_NAMES``)
    :param algo_class: the SB3 algorithm class
    :param policy: the policy (alias or class)
    :param kwargs: keyword arguments of ``algo_class`` (besides policy, env, seed, device)
    :param n_envs: number of training environments
    :param env_kwargs: keyword arguments of ``gym.make`` (RL Zoo's ``env_kwargs``)
    :param source: where the settings come from
    :param notes: what the settings cannot match, or how they were derived
    :param zoo_n_timesteps: the training budget the settings' source gives (the comparison uses its own budget)
    :param raw_hyperparams: the settings as read, before preprocessing (for the record)
    """

    name: str
    algo_class: type[BaseAlgorithm]
    policy: str | type
    kwargs: dict[str, Any] = field(default_factory=dict)
    n_envs: int = 1
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    notes: str = ""
    zoo_n_timesteps: int | None = None
    raw_hyperparams: dict[str, Any] | None = None

    def settings(self) -> dict[str, Any]:
        """
        Every constructor setting of the algorithm, defaults included, as JSON-friendly values.

        :return: ``{argument: value}`` plus ``policy``, ``n_envs`` and ``env_kwargs``
        """
        parameters = inspect.signature(self.algo_class.__init__).parameters
        values: dict[str, Any] = {
            name: param.default
            for name, param in parameters.items()
            if name not in _NOT_SETTINGS and param.default is not inspect.Parameter.empty
        }
        values.update(self.kwargs)
        values = {"policy": self.policy, **values, "n_envs": self.n_envs, "env_kwargs": self.env_kwargs}
        return jsonable(values)

    def record(self) -> dict[str, Any]:
        """
        :return: the JSON record of this configuration (class, source, notes, settings, raw zoo entry)
        """
        return {
            "name": self.name,
            "class": f"{self.algo_class.__module__}.{self.algo_class.__qualname__}",
            "source": self.source,
            "notes": self.notes,
            "zoo_n_timesteps": self.zoo_n_timesteps,
            "settings": self.settings(),
            "raw_hyperparams": jsonable(self.raw_hyperparams),
        }


def jsonable(value: Any) -> Any:
    """
    Convert settings to JSON-friendly values: classes by dotted name, other objects by ``repr``.

    :param value: a setting (possibly nested in dicts, lists or tuples)
    :return: the value built from str, int, float, bool, None, list and dict only
    """
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if inspect.isclass(value) or inspect.isfunction(value):
        return f"{value.__module__}.{value.__qualname__}"
    return repr(value)


def linear_exploration_fraction(total_timesteps: int, decay: float = TUTORIAL.exploration_decay) -> float:
    """
    SB3 DQN's ``exploration_fraction`` whose linear schedule (from ``EPS_START`` to ``EPS_END``) explores as much
    as the tutorial's exponential one: the area of ``eps(t) - EPS_END`` is ``(EPS_START - EPS_END) * decay`` for the
    exponential and ``(EPS_START - EPS_END) * L / 2`` for a linear ramp of ``L`` steps, so ``L = 2 * decay``
    (the same expected number of extra random actions). The two curves cross at ``t ≈ 1.59 * decay``.

    :param total_timesteps: the training budget (SB3's schedule is a fraction of it)
    :param decay: the tutorial's ``EPS_DECAY`` in env steps
    :return: the fraction of ``total_timesteps``, at most 1
    """
    if total_timesteps <= 0:
        raise ValueError(f"total_timesteps must be positive, got {total_timesteps}")
    return min(1.0, 2.0 * decay / total_timesteps)


def cartdqn_tutorial() -> AlgorithmConfig:
    """
    :return: CartDQN with its defaults, which are the tutorial's settings
    """
    return AlgorithmConfig(
        name="cartdqn-tutorial",
        algo_class=CartDQN,
        policy="MlpPolicy",
        source="CartDQN defaults (the PyTorch tutorial's settings)",
    )


def dqn_tutorial_like(total_timesteps: int) -> AlgorithmConfig:
    """
    Stock SB3 DQN configured as close to the tutorial as SB3 allows.

    :param total_timesteps: the training budget (the linear epsilon schedule is a fraction of it)
    :return: the configuration
    """
    fraction = linear_exploration_fraction(total_timesteps)
    kwargs = tutorial_dqn_kwargs(fraction)
    notes = (
        f"linear eps 0.9 -> 0.05 over {fraction * total_timesteps:.0f} steps (exploration_fraction={fraction:.4g}): "
        "same area as the tutorial's exponential (decay 1000), crossing it at ~1594 steps; "
        "cannot match: exponential eps, clipping by value (max_grad_norm=1e10 disables SB3's norm clipping instead), "
        "target update before (not after) the gradient step, uniform random actions for the first 128 steps, "
        "first gradient step at step 129 (not 128)"
    )
    return AlgorithmConfig(
        name="dqn-tutorial-like",
        algo_class=DQN,
        policy="MlpPolicy",
        kwargs=kwargs,
        source="stock SB3 DQN with the tutorial's settings where SB3 has them",
        notes=notes,
    )


def load_zoo_hyperparams(
    algo: str, env_id: str, n_timesteps: int, config: str | None = None, key: str | None = None
) -> tuple[dict[str, Any], dict[str, Any], ExperimentManager]:
    """
    Read RL Zoo hyperparameters and preprocess them with RL Zoo's own ``ExperimentManager``.

    :param algo: RL Zoo algorithm key (``dqn``, ``qrdqn``, ...): the default config is rl_zoo3's ``hyperparams/{algo}.yml``,
        read by RL Zoo
    :param env_id: the env id whose entry is read (else the file's ``default`` entry, as RL Zoo reads it)
    :param n_timesteps: the budget that overrides the entry's ``n_timesteps``
    :param config: a YAML file to read instead of rl_zoo3's own, through the package's data-only reader
        (:func:`sb3_cartdqn.zoo.hyperparams_files.read_hyperparams_file`: its strings are never evaluated)
    :param key: the entry to read when it is not named after ``env_id`` (e.g. a tuned entry)
    :return: the model keyword arguments (with ``policy``), the raw entry, and the manager
        (its ``n_envs`` and ``env_kwargs`` are set)
    """
    manager = ExperimentManager(
        argparse.Namespace(), algo, env_id, log_folder="logs", n_timesteps=n_timesteps, config=config, verbose=0
    )
    if config is None:
        with contextlib.redirect_stdout(io.StringIO()):
            raw, _ = manager.read_hyperparameters()
    else:
        entries = read_hyperparams_file(config)
        if key is not None and key not in entries:
            raise ValueError(f"No entry {key!r} in {manager.config}; its entries are {sorted(entries)}")
        # The entry ExperimentManager.read_hyperparameters would pick: the env id's, else the file's default
        chosen = key or next((name for name in (env_id, "default") if name in entries), None)
        if chosen is None:
            raise ValueError(f"Hyperparameters not found for {algo}-{env_id} in {manager.config}")
        raw = entries[chosen]
    raw = dict(raw)
    unsupported = [name for name in _UNSUPPORTED_ZOO_KEYS if name in raw]
    if unsupported:
        raise ValueError(
            f"{manager.config} [{key or env_id}] sets {unsupported}: the comparison uses the same env pipeline "
            "for every algorithm; remove these keys or compare with RL Zoo's own train script"
        )
    values = dict(raw) if config is None else literal_values(raw, config)
    hyperparams, _, _, _ = manager._preprocess_hyperparams(values)
    return hyperparams, raw, manager


def zoo_config(
    name: str,
    algo: str,
    env_id: str,
    n_timesteps: int,
    algo_class: type[BaseAlgorithm] | None = None,
    **load_kwargs: Any,
) -> AlgorithmConfig:
    """
    An algorithm with RL Zoo-style hyperparameters for ``env_id``.

    :param name: the name in tables and figures
    :param algo: RL Zoo algorithm key (selects rl_zoo3's default config file)
    :param env_id: the env id
    :param n_timesteps: the comparison's budget (replaces the entry's ``n_timesteps``)
    :param algo_class: the algorithm class (default: ``rl_zoo3.ALGOS[algo]``)
    :param load_kwargs: ``config`` and ``key`` of :func:`load_zoo_hyperparams`
    :return: the configuration
    """
    hyperparams, raw, manager = load_zoo_hyperparams(algo, env_id, n_timesteps, **load_kwargs)
    policy = hyperparams.pop("policy")
    zoo_n_timesteps = int(raw["n_timesteps"]) if "n_timesteps" in raw else None
    return AlgorithmConfig(
        name=name,
        algo_class=algo_class or ALGOS[algo],
        policy=policy,
        kwargs=hyperparams,
        n_envs=manager.n_envs,
        env_kwargs=dict(manager.env_kwargs),
        source=f"{_short_path(manager.config)} [{load_kwargs.get('key') or env_id}], read by rl_zoo3's ExperimentManager",
        notes=f"its file trains it for {zoo_n_timesteps} steps; the comparison gives every row --timesteps "
        "unless --row-budgets",
        zoo_n_timesteps=zoo_n_timesteps,
        raw_hyperparams=raw,
    )


def with_n_steps(config: AlgorithmConfig, n_steps: int) -> AlgorithmConfig:
    """
    The same settings with SB3's n-step returns (``n_steps``, SB3 >= 2.7): e.g. RL Zoo's DQN settings plus
    ``n_steps=3``, the strongest stock configuration a user would reach for.

    :param config: the configuration to extend
    :param n_steps: the number of steps of each return
    :return: the configuration with ``n_steps`` set, its notes saying so
    """
    return dataclasses.replace(
        config,
        kwargs={**config.kwargs, "n_steps": n_steps},
        notes=f"{config.notes}; plus n_steps={n_steps} (SB3's NStepReplayBuffer)",
    )


def _short_path(path: str) -> str:
    """
    :param path: a config file
    :return: the path from the package folder on for files inside an installed package (``rl_zoo3/hyperparams/dqn.yml``)
    """
    marker = f"site-packages{os.sep}"
    return path.split(marker, 1)[1] if marker in path else os.path.relpath(path) if os.path.isabs(path) else path


def _folder(hyperparams_dir: str | None) -> Path:
    """:return: ``hyperparams_dir``, else the package's ``hyperparams/`` (whatever the working directory)"""
    return Path(hyperparams_dir) if hyperparams_dir else hyperparams_folder()


def find_fast_file(hyperparams_dir: str | None = None) -> Path | None:
    """
    :param hyperparams_dir: the folder to look in (default: the package's ``hyperparams/``)
    :return: the ``cartdqn-fast`` row's file (``FAST_FILE``, its entry is the env id), or None while there is none
    """
    path = _folder(hyperparams_dir) / FAST_FILE
    return path if path.is_file() else None


def find_robust_entry(
    env_id: str, hyperparams_dir: str | None = None, config: str | None = None, key: str | None = None
) -> tuple[str, str | None] | None:
    """
    Find CartDQN's robust preset: ``cartdqn_robust.yml`` (entry ``env_id``), else an entry of ``cartdqn.yml`` whose
    name starts with ``env_id`` and contains ``robust`` (e.g. ``CartPole-v1-robust``). Files are read by the package's
    data-only reader.

    :param env_id: the env id
    :param hyperparams_dir: the folder to look in (default: the package's ``hyperparams/``, whatever the working
        directory)
    :param config: an explicit YAML file (skips the search)
    :param key: an explicit entry name in that file (default: ``env_id``)
    :return: ``(file, key or None for env_id)``, or None when there are no robust settings
    """
    if config is not None:
        if not os.path.isfile(config):
            raise FileNotFoundError(f"--robust-config {config} does not exist")
        return config, key
    folder = _folder(hyperparams_dir)
    robust_file = folder / "cartdqn_robust.yml"
    if robust_file.is_file():
        return str(robust_file), key
    main_file = folder / "cartdqn.yml"
    if main_file.is_file():
        entries = read_hyperparams_file(main_file)
        if key is not None and key in entries:
            return str(main_file), key
        robust_keys = sorted(name for name in entries if name.startswith(env_id) and "robust" in name.lower())
        if robust_keys:
            return str(main_file), robust_keys[0]
    return None


def build_algorithms(
    names: Sequence[str],
    env_id: str,
    total_timesteps: int,
    hyperparams_dir: str | None = None,
    robust_config: str | None = None,
    robust_key: str | None = None,
) -> tuple[list[AlgorithmConfig], dict[str, str]]:
    """
    Build the configurations of the requested algorithms.

    :param names: algorithm names, from ``ALGORITHM_NAMES``
    :param env_id: the env id
    :param total_timesteps: the training budget of every run
    :param hyperparams_dir: where to look for CartDQN's robust and fast presets' YAML
    :param robust_config: an explicit YAML file with CartDQN's robust preset
    :param robust_key: the entry of that file (default: the env id)
    :return: the configurations, and ``{name: reason}`` for algorithms skipped because their settings do not exist
    """
    unknown = [name for name in names if name not in ALGORITHM_NAMES]
    if unknown:
        raise ValueError(f"Unknown algorithm(s) {unknown}: choose from {list(ALGORITHM_NAMES)}")
    configs: list[AlgorithmConfig] = []
    skipped: dict[str, str] = {}
    for name in names:
        if name == "cartdqn-tutorial":
            configs.append(cartdqn_tutorial())
        elif name == "dqn-tutorial-like":
            configs.append(dqn_tutorial_like(total_timesteps))
        elif name == "dqn-zoo":
            configs.append(zoo_config(name, "dqn", env_id, total_timesteps))
        elif name == "dqn-zoo-nstep3":
            configs.append(with_n_steps(zoo_config(name, "dqn", env_id, total_timesteps), 3))
        elif name == "qrdqn-zoo":
            configs.append(zoo_config(name, "qrdqn", env_id, total_timesteps))
        elif name == "cartdqn-robust":
            found = find_robust_entry(env_id, hyperparams_dir, robust_config, robust_key)
            if found is None:
                where = _folder(hyperparams_dir)
                skipped[name] = (
                    f"no robust CartDQN settings for {env_id}: neither cartdqn_robust.yml nor a '{env_id}...robust' "
                    f"entry of cartdqn.yml in {where} (pass --robust-config FILE [--robust-key KEY])"
                )
                continue
            config_file, key = found
            configs.append(zoo_config(name, "cartdqn", env_id, total_timesteps, CartDQN, config=config_file, key=key))
        elif name == "cartdqn-fast":
            fast_file = find_fast_file(hyperparams_dir)
            if fast_file is None:
                skipped[name] = f"no {FAST_FILE} yet in {_folder(hyperparams_dir)} (issue #22's study writes its winner there)"
                continue
            configs.append(zoo_config(name, "cartdqn", env_id, total_timesteps, CartDQN, config=str(fast_file)))
    return configs, skipped
