"""
Check an RL Zoo run folder's ``config.yml`` and ``args.yml`` before RL Zoo reads them.

RL Zoo reads them with ``yaml.UnsafeLoader`` (any ``!!python/...`` tag runs code), passes ``normalize``,
``policy_kwargs``, ``replay_buffer_class``, ``replay_buffer_kwargs`` and ``monitor_kwargs`` strings to ``eval``,
imports the modules named by ``env_wrapper``, ``vec_env_wrapper``, ``callback`` and a dotted ``policy``, and unpickles
``vecnormalize.pkl``. A downloaded run folder can therefore run any code (RL Zoo issue #505). :func:`check_run_folder`
refuses, unless the caller opts in (``trust_code=True`` or ``TRUST_REMOTE_CODE=True``):

- a YAML tag other than the ``collections.OrderedDict`` and ``tuple`` ones RL Zoo writes;
- a string RL Zoo would ``eval`` that is not a plain literal: Python literals, ``dict(key=literal, ...)``, and the
  names of allow-listed classes (``nn.ReLU``, ``th.optim.AdamW``, ... see :mod:`sb3_cartdqn.persistence.codec`);
- a class to import outside RL Zoo's, SB3's, sb3-contrib's, Gymnasium's and this package's own modules;
- a pickled ``vecnormalize.pkl`` (it holds code as much as data).

Nothing in the folder is evaluated, imported or unpickled by the check.
"""

import ast
import collections
import contextlib
import io
import json
import pathlib
import zipfile
from collections.abc import Iterator
from typing import Any

import yaml
from rl_zoo3.utils import ALGOS

from sb3_cartdqn.persistence.codec import allowed_classes
from sb3_cartdqn.persistence.fields import SERIALIZED
from sb3_cartdqn.persistence.model_file import read_model_file
from sb3_cartdqn.persistence.trust import TRUST_ENV_VAR, ModelFileError, code_trusted, refuse
from sb3_cartdqn.zoo import adapters
from sb3_cartdqn.zoo.process_state import environ_set
from sb3_cartdqn.zoo.registration import ALGO_NAME, algos_set

#: Keys whose string values RL Zoo passes to ``eval``
EVALUATED_KEYS = ("normalize", "policy_kwargs", "replay_buffer_class", "replay_buffer_kwargs", "monitor_kwargs")
#: Keys naming classes RL Zoo imports (a dotted path, a list of them, or ``{path: kwargs}``)
IMPORTED_KEYS = ("env_wrapper", "vec_env_wrapper", "callback", "policy")
#: Modules whose classes a config may name without the opt-in (importing them runs only installed, known code)
ALLOWED_MODULES = ("rl_zoo3.", "stable_baselines3.", "sb3_contrib.", "gymnasium.wrappers", "sb3_cartdqn.")
#: What the names of an ``eval``'d string may refer to, as RL Zoo's scope has them (``nn``, ``th``, ``torch``)
_MODULE_ALIASES = {"nn": "torch.nn", "th": "torch", "torch": "torch"}
#: The files of a run's stats folder that RL Zoo reads
RUN_FILES = ("config.yml", "args.yml")


class _RunConfigLoader(yaml.SafeLoader):
    """YAML's safe loader, plus the two Python tags RL Zoo writes (``OrderedDict`` of its config and args, tuples)."""


def _ordered_dict(loader: yaml.SafeLoader, node: yaml.Node) -> collections.OrderedDict:
    pairs = loader.construct_sequence(node, deep=True)  # type: ignore[arg-type]
    (items,) = pairs
    return collections.OrderedDict((key, value) for key, value in items)


def _tuple(loader: yaml.SafeLoader, node: yaml.Node) -> tuple:
    return tuple(loader.construct_sequence(node, deep=True))  # type: ignore[arg-type]


_RunConfigLoader.add_constructor("tag:yaml.org,2002:python/object/apply:collections.OrderedDict", _ordered_dict)
_RunConfigLoader.add_constructor("tag:yaml.org,2002:python/tuple", _tuple)


def _allowed_names() -> set[str]:
    """Dotted names an ``eval``'d string may use: ``nn.ReLU``, ``th.nn.ReLU``, ``th.optim.AdamW``, ..."""
    names = set()
    for cls in allowed_classes().values():
        module = cls.__module__
        public = [module]
        if module.startswith("torch.nn."):
            public.append("torch.nn")
        if module.startswith("torch.optim."):
            public.append("torch.optim")
        for path in public:
            names.add(f"{path}.{cls.__qualname__}")
            for alias, target in _MODULE_ALIASES.items():
                if path == target or path.startswith(target + "."):
                    names.add(alias + path[len(target) :] + f".{cls.__qualname__}")
    return names


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base is not None else None
    return None


def literal_problem(text: str) -> str | None:
    """
    :param text: a string RL Zoo would pass to ``eval``
    :return: None if it is a plain literal (Python literals, ``dict(key=...)``, allow-listed class names),
        else what in it is not
    """
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        return f"it is not a Python expression ({error.msg})"
    allowed = _allowed_names()

    def problem(node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant):
            return None
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            return problem(node.operand)
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            return next((found for found in map(problem, node.elts) if found), None)
        if isinstance(node, ast.Dict):
            parts = [key for key in node.keys if key is not None] + list(node.values)
            if None in node.keys:
                return "a ** expansion"
            return next((found for found in map(problem, parts) if found), None)
        if isinstance(node, ast.Call) and _dotted(node.func) == "dict" and not node.args:
            if any(keyword.arg is None for keyword in node.keywords):
                return "a ** expansion"
            return next((found for found in (problem(keyword.value) for keyword in node.keywords) if found), None)
        name = _dotted(node) if isinstance(node, ast.Name | ast.Attribute) else None
        if name in allowed or name in ("True", "False", "None"):
            return None
        return f"{ast.unparse(node)!r} is neither a literal nor an allow-listed class"

    return problem(tree.body)


def _imported_names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [key for key in value if isinstance(key, str)]
    if isinstance(value, list):
        return [name for item in value for name in _imported_names(item)]
    return []


def check_config_file(path: str | pathlib.Path, trust_code: bool | None = None) -> dict[str, Any]:
    """
    Check one ``config.yml`` or ``args.yml`` as RL Zoo would read it, without evaluating anything.

    :param path: the file
    :param trust_code: skip the checks (the caller trusts the file); ``None`` reads ``TRUST_REMOTE_CODE``
    :return: its content, read with YAML's safe loader (empty if trusted and not readable that way)
    :raises UntrustedFileError: naming the file, the key and the opt-in
    :raises ModelFileError: if it is not a YAML mapping
    """
    trusted = code_trusted(trust_code)
    name = str(path)
    try:
        content = yaml.load(pathlib.Path(path).read_text(), Loader=_RunConfigLoader)
    except yaml.constructor.ConstructorError as error:
        if trusted:
            return {}
        raise refuse("sb3_cartdqn.zoo", name, f"it has the YAML tag {error.problem}") from None
    except yaml.YAMLError as error:
        raise ModelFileError(f"sb3_cartdqn.zoo: {name} is not readable YAML ({error}).") from error
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise ModelFileError(f"sb3_cartdqn.zoo: {name} holds a {type(content).__name__}, not RL Zoo's key: value mapping.")
    if trusted:
        return content
    for key in EVALUATED_KEYS:
        value = content.get(key)
        if isinstance(value, str) and (found := literal_problem(value)) is not None:
            raise refuse(
                "sb3_cartdqn.zoo",
                name,
                f"its key {key!r} = {value!r}, which RL Zoo evaluates, is not a plain literal: {found}",
            )
    for key in IMPORTED_KEYS:
        for imported in _imported_names(content.get(key)):
            if key == "policy" and "." not in imported:
                continue  # an alias such as MlpPolicy: nothing is imported
            if not imported.startswith(ALLOWED_MODULES):
                raise refuse("sb3_cartdqn.zoo", name, f"its key {key!r} names {imported!r}, which RL Zoo would import")
    return content


def check_run_folder(stats_path: str | pathlib.Path, trust_code: bool | None = None) -> None:
    """
    Check what RL Zoo reads from a run's stats folder (``<run>/<env id>/``): ``config.yml``, ``args.yml`` and
    ``vecnormalize.pkl``. Call it before RL Zoo's ``enjoy``, ``record_video``, ``push_to_hub`` ... see that folder.

    :param stats_path: the folder (a missing one is fine: RL Zoo then reads nothing from it)
    :param trust_code: skip the checks; ``None`` reads ``TRUST_REMOTE_CODE``
    :raises UntrustedFileError: naming the file, the key and the opt-in
    """
    folder = pathlib.Path(stats_path)
    if code_trusted(trust_code) or not folder.is_dir():
        return
    contents = {name: check_config_file(folder / name, False) for name in RUN_FILES if (folder / name).is_file()}
    # RL Zoo loads vecnormalize.pkl when the config normalises (without a config: when obs_rms.pkl exists)
    config = contents.get("config.yml")
    normalize = config.get("normalize", False) if config is not None else (folder / "obs_rms.pkl").is_file()
    if normalize and (folder / "vecnormalize.pkl").is_file():
        raise refuse(
            "sb3_cartdqn.zoo",
            str(folder / "vecnormalize.pkl"),
            "it is a pickle (VecNormalize.save), which RL Zoo unpickles for a run that normalises",
        )


def check_model_zip(path: str | pathlib.Path, trust_code: bool | None = None) -> None:
    """
    :param path: a model zip another algorithm will load with SB3's ``load`` (which unpickles its pickled fields)
    :param trust_code: skip the check; ``None`` reads ``TRUST_REMOTE_CODE``
    :raises UntrustedFileError: if the zip has pickled fields
    """
    if code_trusted(trust_code):
        return
    name, content = read_model_file(path)
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            fields = json.loads(archive.read("data")) if "data" in archive.namelist() else {}
    except (zipfile.BadZipFile, ValueError):
        return  # not a model zip: SB3's load says so, without unpickling anything
    pickled = [key for key, value in fields.items() if isinstance(value, dict) and SERIALIZED in value]
    if pickled:
        raise refuse("sb3_cartdqn.zoo", name, f"its field(s) {pickled} hold pickles, which Stable-Baselines3's load unpickles")


class _CheckedLoader:
    """Stands in for an algorithm class in ``rl_zoo3.ALGOS``: checks a model zip before the algorithm's ``load``."""

    def __init__(self, algo_class: Any, trust_code: bool | None) -> None:
        self.algo_class, self.trust_code = algo_class, trust_code

    def load(self, path: str, **kwargs: Any) -> Any:
        check_model_zip(path, self.trust_code)
        return self.algo_class.load(path, **kwargs)


@contextlib.contextmanager
def checked_rl_zoo_enjoy(trust_code: bool | None = None) -> Iterator[None]:
    """
    Within the block, RL Zoo's ``enjoy`` checks the run folder (:func:`check_run_folder`) before reading its
    hyperparameters (the adapter :func:`sb3_cartdqn.zoo.adapters.get_saved_hyperparams`), and the model zip of any
    algorithm but CartDQN (whose ``load`` reads data only) before loading it (``rl_zoo3.ALGOS``' entries, for the
    block). ``trust_code=True`` also opts CartDQN's own loaders in (as ``TRUST_REMOTE_CODE=True`` does).

    :param trust_code: skip the checks; ``None`` reads ``TRUST_REMOTE_CODE``
    """
    wrapped = {name: _CheckedLoader(algo, trust_code) for name, algo in ALGOS.items() if name != ALGO_NAME}
    environment = {TRUST_ENV_VAR: "True"} if trust_code else {}
    with (
        adapters.get_saved_hyperparams(lambda stats_path: check_run_folder(stats_path, trust_code)),
        algos_set(wrapped),
        environ_set(environment),
    ):
        yield
