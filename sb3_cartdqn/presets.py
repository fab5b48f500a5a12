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

import ast
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from rl_zoo3.utils import linear_schedule

#: Seeds the robust preset's Optuna study trained every trial on (and nothing else used)
STUDY_SEEDS = (1000, 1001, 1002)
#: Held-out seeds of the robust preset's verification (``examples/zoo_seeds.py --preset robust``)
VERIFICATION_SEEDS = tuple(range(100, 120))
#: Seeds of the comparison (``python -m sb3_cartdqn.compare``: seeds 0, 1, ...)
COMPARISON_SEEDS = tuple(range(10))
#: Seeds the fast study (``scripts/fast_study.sh``, time to a sustained solve) trained every trial on
FAST_STUDY_SEEDS = (2000, 2001, 2002)
#: Held-out seeds of the fast study's winner's verification (used for nothing else)
FAST_VERIFICATION_SEEDS = tuple(range(3000, 3050))
#: Hyperparameter file of each preset name, in ``sb3_cartdqn/zoo/hyperparams/``
PRESET_FILES = {"tutorial": "cartdqn.yml", "robust": "cartdqn_robust.yml"}
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
    return Path(str(resources.files("sb3_cartdqn.zoo") / "hyperparams" / PRESET_FILES[name]))


def _literal_policy_kwargs(text: str) -> dict[str, Any]:
    """
    Read RL Zoo's ``policy_kwargs`` string (``"dict(net_arch=[256, 256], dueling=True)"``) without running it:
    only ``dict(...)`` of literal keyword values is accepted.

    :param text: the string from the hyperparameter file
    :return: the keyword arguments
    """
    try:
        call = ast.parse(text.strip(), mode="eval").body
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "dict" and not call.args):
            raise ValueError("not a dict(...) call")
        return {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords if keyword.arg is not None}
    except (SyntaxError, ValueError) as error:
        raise ValueError(
            f"policy_kwargs {text!r} is not of the form dict(key=literal, ...) ({error}); "
            "presets only read literal values (use RL Zoo's -conf for anything else)"
        ) from error


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
    becomes a linear schedule, a ``policy_kwargs`` string a dict), without running any code from the file.

    :param path: the YAML file
    :param env_id: the env section of the file to read
    :param name: the name to give the preset
    :return: the preset
    """
    sections = yaml.safe_load(Path(path).read_text())
    if env_id not in sections:
        raise ValueError(f"Preset {name!r} ({path}) has no settings for {env_id!r}; it has {sorted(sections)}")
    settings = dict(sections[env_id])
    kwargs = {key: value for key, value in settings.items() if key not in ZOO_ONLY_KEYS}
    unsupported = sorted(set(settings) & set(ZOO_ONLY_KEYS) - {"n_timesteps", "policy"})
    if unsupported:
        raise ValueError(f"Preset {name!r} sets RL Zoo options {unsupported} that CartDQN(...) cannot take; use the zoo")
    for key in ("learning_rate", "exploration_final_eps", "exploration_initial_eps"):
        if isinstance(kwargs.get(key), str) and kwargs[key].startswith("lin_"):
            kwargs[key] = linear_schedule(kwargs[key].removeprefix("lin_"))
    if isinstance(kwargs.get("policy_kwargs"), str):
        kwargs["policy_kwargs"] = _literal_policy_kwargs(kwargs["policy_kwargs"])
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


def verification_table(results: list[dict[str, Any]], seeds: list[int], threshold: float) -> str:
    """
    A markdown table of a preset's verification: one row per seed, one column per budget (the final greedy mean
    return, ✓ when solved), and the number of seeds solved per budget.

    :param results: one dict per (seed, budget) with ``seed``, ``budget_factor`` (None for the preset's budget),
        ``n_timesteps``, ``mean_return`` and ``solved``
    :param seeds: the seeds, in the table's order
    :param threshold: the mean return that counts as solved
    :return: the table
    """
    budgets = sorted({(r["budget_factor"], r["n_timesteps"]) for r in results}, key=lambda b: b[0] or 1.0)
    by_key = {(r["seed"], r["budget_factor"]): r for r in results}
    header = [f"{steps:,} steps" + ("" if factor is None else f" ({factor:g}x)") for factor, steps in budgets]
    lines = ["| seed | " + " | ".join(header) + " |", "| --- |" + " --- |" * len(budgets)]
    for seed in seeds:
        cells = []
        for factor, _ in budgets:
            result = by_key[(seed, factor)]
            cells.append(f"{result['mean_return']:.1f}{' ✓' if result['solved'] else ''}")
        lines.append(f"| {seed} | " + " | ".join(cells) + " |")
    solved = [sum(by_key[(seed, factor)]["solved"] for seed in seeds) for factor, _ in budgets]
    lines.append(f"| solved (≥ {threshold:g}) | " + " | ".join(f"**{n}/{len(seeds)}**" for n in solved) + " |")
    return "\n".join(lines) + "\n"
