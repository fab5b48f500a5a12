"""
Named CartDQN settings read from the RL Zoo hyperparameter files shipped in ``sb3_cartdqn/zoo/hyperparams/``, so that
Python users and ``python -m sb3_cartdqn.zoo train -conf ...`` get the same numbers from one file.

Example::

    from sb3_cartdqn import CartDQN
    from sb3_cartdqn.presets import robust_preset

    preset = robust_preset()
    model = CartDQN(preset.policy, "CartPole-v1", **preset.kwargs).learn(preset.n_timesteps)

The seed sets of the robust preset's study and checks are kept apart here: the study tuned on ``STUDY_SEEDS`` only;
``VERIFICATION_SEEDS`` and the comparison's ``COMPARISON_SEEDS`` were never used to choose hyperparameters.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rl_zoo3.utils import linear_schedule

from sb3_cartdqn.zoo.hyperparams_files import hyperparams_path, literal_values, read_hyperparams_file

#: Seeds the robust preset's Optuna study trained every trial on (and nothing else used)
STUDY_SEEDS = (1000, 1001, 1002)
#: Held-out seeds of the robust preset's verification (``examples/zoo_seeds.py --preset robust``)
VERIFICATION_SEEDS = tuple(range(100, 120))
#: Seeds of the comparison (``python -m sb3_cartdqn.compare``: seeds 0, 1, ...)
COMPARISON_SEEDS = tuple(range(10))
#: Seeds the fast study (``scripts/fast_study.sh``, time to a sustained solve) trained every trial on
FAST_STUDY_SEEDS = (2000, 2001, 2002)
#: Seeds of the fast study's finalists' checks (seeds the study never trained on): the check of its two best trials,
#: then the choice of the fast preset among its finalists and budgets (docs/fast_preset.md); so, no longer held out
#: for the preset itself
FAST_VERIFICATION_SEEDS = tuple(range(3000, 3050))
#: Held-out seeds of the fast preset's verification (used for nothing else: not the study, not the choice)
FAST_PRESET_SEEDS = tuple(range(4000, 4050))
#: Hyperparameter file of each preset name, in ``sb3_cartdqn/zoo/hyperparams/``
PRESET_FILES = {"tutorial": "cartdqn.yml", "robust": "cartdqn_robust.yml", "fast": "cartdqn_fast.yml"}
#: RL Zoo keys of a hyperparameter file that are not CartDQN constructor arguments
ZOO_ONLY_KEYS = ("n_timesteps", "policy", "n_envs", "env_wrapper", "frame_stack", "callback", "normalize")


@dataclass(frozen=True)
class Preset:
    """
    A named set of CartDQN settings for one env.

    :param name: the preset's name (a key of ``PRESET_FILES``)
    :param env_id: the Gymnasium env id the settings are for
    :param policy: the policy name (``"MlpPolicy"``, ...)
    :param n_timesteps: the training budget in env steps the settings were chosen for
    :param kwargs: CartDQN keyword arguments (``learning_rate`` may be a schedule)
    :param path: the file the settings were read from
    """

    name: str
    env_id: str
    policy: str
    n_timesteps: int
    kwargs: dict[str, Any] = field(repr=False)
    path: Path


def preset_path(name: str) -> Path:
    """
    :param name: a preset name, one of ``PRESET_FILES``
    :return: the RL Zoo hyperparameter file holding it (pass it to ``python -m sb3_cartdqn.zoo train -conf``)
    """
    if name not in PRESET_FILES:
        raise ValueError(f"Unknown preset {name!r}: choose one of {sorted(PRESET_FILES)}")
    return hyperparams_path(PRESET_FILES[name])


def load_preset(name: str, env_id: str = "CartPole-v1") -> Preset:
    """
    Read a named preset from its RL Zoo hyperparameter file (see ``read_preset``).

    :param name: the preset name, one of ``PRESET_FILES``
    :param env_id: the env section of the file to read
    :return: the preset
    """
    return read_preset(preset_path(name), env_id, name)


def read_preset(path: Path, env_id: str = "CartPole-v1", name: str = "custom") -> Preset:
    """
    Read CartDQN settings from an RL Zoo hyperparameter file, converted as RL Zoo converts them (``"lin_<value>"``
    becomes a linear schedule, a ``policy_kwargs`` string a dict), without running any code from the file
    (:func:`sb3_cartdqn.zoo.hyperparams_files.read_hyperparams_file`, the package's one reader of such files).

    :param path: the YAML file
    :param env_id: the env section of the file to read
    :param name: the name to give the preset
    :return: the preset
    :raises HyperparamsFileError: naming the file, if it is not data only (a Python tag, a ``policy_kwargs`` string
        that is not a literal ``dict(...)``)
    """
    sections = read_hyperparams_file(path)
    if env_id not in sections:
        raise ValueError(f"Preset {name!r} ({path}) has no settings for {env_id!r}; it has {sorted(sections)}")
    settings = literal_values(sections[env_id], path)
    kwargs = {key: value for key, value in settings.items() if key not in ZOO_ONLY_KEYS}
    unsupported = sorted(set(settings) & set(ZOO_ONLY_KEYS) - {"n_timesteps", "policy"})
    if unsupported:
        raise ValueError(f"Preset {name!r} sets RL Zoo options {unsupported} that CartDQN(...) cannot take; use the zoo")
    for key in ("learning_rate", "exploration_final_eps", "exploration_initial_eps"):
        if isinstance(kwargs.get(key), str) and kwargs[key].startswith("lin_"):
            kwargs[key] = linear_schedule(kwargs[key].removeprefix("lin_"))
    if isinstance(kwargs.get("train_freq"), list):
        kwargs["train_freq"] = tuple(kwargs["train_freq"])
    return Preset(
        name=name,
        env_id=env_id,
        policy=settings.get("policy", "MlpPolicy"),
        n_timesteps=int(settings["n_timesteps"]),
        kwargs=kwargs,
        path=Path(path),
    )


def robust_preset(env_id: str = "CartPole-v1") -> Preset:
    """
    The robust preset: the best trial of a multi-seed Optuna study (``hyperparams/cartdqn_robust.yml`` says how it
    was found), checked on ``VERIFICATION_SEEDS``.

    :param env_id: the env the settings are for (the file has CartPole-v1)
    :return: the preset; train with ``CartDQN(preset.policy, env_id, **preset.kwargs).learn(preset.n_timesteps)``
    """
    return load_preset("robust", env_id)
