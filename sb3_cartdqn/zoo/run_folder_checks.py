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
- a pickled ``vecnormalize.pkl`` (it holds code as much as data);
- a file argument of what the run builds (:data:`FILE_WRITING_KEYS`: a wrapper's, callback's, env's or Monitor's
  keyword such as SB3's ``Monitor(filename=...)`` or Gymnasium's ``RecordVideo(video_folder=...)``): RL Zoo would
  write there, outside the run folder (:func:`written_path_problem`).

Whatever the opt-in, the files are read within :mod:`sb3_cartdqn.zoo.yaml_files`' limits (size, aliases, nesting,
duplicated keys). :func:`check_model_zip` checks the model zip of an algorithm other than CartDQN (loaded by SB3's
``load``) for pickled fields and an ``env`` field. Nothing in the folder is evaluated, imported or unpickled by the
checks.
"""

import ast
import collections
import contextlib
import io
import json
import pathlib
import zipfile
from collections.abc import Iterable, Iterator
from typing import Any

import yaml
from rl_zoo3.utils import ALGOS

from sb3_cartdqn.persistence.codec import allowed_classes
from sb3_cartdqn.persistence.fields import SERIALIZED
from sb3_cartdqn.persistence.model_file import read_model_file
from sb3_cartdqn.persistence.trust import TRUST_ENV_VAR, ModelFileError, code_trusted, refuse
from sb3_cartdqn.zoo import adapters
from sb3_cartdqn.zoo.process_state import environ_set
from sb3_cartdqn.zoo.registration import algos_set
from sb3_cartdqn.zoo.yaml_files import DataLoader, quoted, read_yaml_file, refuse_duplicates

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
#: Keys whose values build something that may write files (wrappers, callbacks, the env, Monitor, VecNormalize):
#: no keyword in them may name a file or folder (:func:`written_path_problem`)
FILE_WRITING_KEYS = (
    "env_wrapper",
    "vec_env_wrapper",
    "callback",
    "env_kwargs",
    "eval_env_kwargs",
    "monitor_kwargs",
    "normalize",
)
#: Parts of a keyword's name that say its value is a file or folder (``filename``, ``video_folder``, ``log_dir``,
#: ``save_path``, ``name_prefix``, ``tensorboard_log``, ...)
PATH_KEYWORDS = ("file", "path", "dir", "folder", "prefix", "log")
#: The largest ``data`` entry of a model zip read (SB3 writes a few KiB to a few MiB of settings)
MAX_DATA_BYTES = 64 << 20


class _RunConfigLoader(DataLoader):
    """YAML's safe loader, plus the two Python tags RL Zoo writes (``OrderedDict`` of its config and args, tuples)."""


def _ordered_dict(loader: yaml.SafeLoader, node: yaml.Node) -> collections.OrderedDict:
    pairs = loader.construct_sequence(node, deep=True)  # type: ignore[arg-type]
    (items,) = pairs
    pair_nodes = node.value[0].value if isinstance(node.value[0], yaml.SequenceNode) else []
    refuse_duplicates([key for key, _ in items], pair_nodes)
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


def _keyword_values(value: Any, key: str) -> Iterator[tuple[str, Any]]:
    """
    :param value: a config value that builds something (a wrapper list, ``{class: kwargs}``, an env's kwargs, a string
        RL Zoo evaluates)
    :param key: the name it is given under
    :return: every ``(name, value)`` keyword pair in it, nested ones included; a string RL Zoo evaluates gives the
        keywords and dict items it spells
    """
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _keyword_values(item, str(name))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _keyword_values(item, key)
    elif isinstance(value, str) and key in EVALUATED_KEYS:
        try:
            tree = ast.parse(value, mode="eval")
        except SyntaxError:
            return
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                yield from ((str(k.arg), k.value.value) for k in node.keywords if isinstance(k.value, ast.Constant))
            elif isinstance(node, ast.Dict):
                for name, item in zip(node.keys, node.values, strict=True):
                    if isinstance(name, ast.Constant) and isinstance(item, ast.Constant):
                        yield str(name.value), item.value
    else:
        yield key, value


def written_path_problem(key: str, value: Any) -> str | None:
    """
    :param key: a key of :data:`FILE_WRITING_KEYS`
    :param value: its value in the config
    :return: None if nothing in it names a file or folder, else which keyword does: a non-empty string under a
        keyword whose name says it is one (:data:`PATH_KEYWORDS`: ``filename``, ``video_folder``, ``log_dir``,
        ``save_path``, ``name_prefix``, ...), or a string that is a path (a ``/`` or ``\\`` in it, or a leading ``~``)
    """
    for name, item in _keyword_values(value, key):
        if not isinstance(item, str) or not item:
            continue
        if any(word in name.lower() for word in PATH_KEYWORDS) or "/" in item or "\\" in item or item.startswith("~"):
            return f"its key {key!r} gives {name}={quoted(item)}, a file or folder RL Zoo would write to"
    return None


def _yaml_refused(message: str) -> ModelFileError:
    return ModelFileError(f"sb3_cartdqn.zoo: {message}. Nothing in it was built.")


def check_config_file(path: str | pathlib.Path, trust_code: bool | None = None) -> dict[str, Any]:
    """
    Check one ``config.yml`` or ``args.yml`` as RL Zoo would read it, without evaluating anything.

    :param path: the file
    :param trust_code: skip the checks of code and written paths (the caller trusts the file); ``None`` reads
        ``TRUST_REMOTE_CODE``. The limits of :mod:`sb3_cartdqn.zoo.yaml_files` hold either way
    :return: its content, read with YAML's safe loader (empty if trusted and not readable that way)
    :raises UntrustedFileError: naming the file, the key and the opt-in
    :raises ModelFileError: if it is not a YAML mapping, or is beyond a limit (size, aliases, nesting, a duplicated key)
    """
    trusted = code_trusted(trust_code)
    name = str(path)
    try:
        content = read_yaml_file(path, _RunConfigLoader, _yaml_refused)
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
                f"its key {key!r} = {quoted(value)}, which RL Zoo evaluates, is not a plain literal: {found}",
            )
    for key in IMPORTED_KEYS:
        for imported in _imported_names(content.get(key)):
            if key == "policy" and "." not in imported:
                continue  # an alias such as MlpPolicy: nothing is imported
            if not imported.startswith(ALLOWED_MODULES):
                raise refuse("sb3_cartdqn.zoo", name, f"its key {key!r} names {quoted(imported)}, which RL Zoo would import")
    for key in FILE_WRITING_KEYS:
        if (found := written_path_problem(key, content.get(key))) is not None:
            raise refuse("sb3_cartdqn.zoo", name, f"{found} (outside the run folder)")
    return content


def check_run_folder(stats_path: str | pathlib.Path, trust_code: bool | None = None) -> None:
    """
    Check what RL Zoo reads from a run's stats folder (``<run>/<env id>/``): ``config.yml``, ``args.yml`` and
    ``vecnormalize.pkl``. Call it before RL Zoo's ``enjoy``, ``record_video``, ``push_to_hub`` ... see that folder.

    :param stats_path: the folder (a missing one is fine: RL Zoo then reads nothing from it)
    :param trust_code: skip the checks of code and written paths; ``None`` reads ``TRUST_REMOTE_CODE``. The YAML limits
        hold either way (:mod:`sb3_cartdqn.zoo.yaml_files`)
    :raises UntrustedFileError: naming the file, the key and the opt-in
    :raises ModelFileError: naming the file and the limit it is beyond
    """
    folder = pathlib.Path(stats_path)
    if not folder.is_dir():
        return
    trusted = code_trusted(trust_code)
    contents = {name: check_config_file(folder / name, trusted) for name in RUN_FILES if (folder / name).is_file()}
    if trusted:
        return
    # RL Zoo loads vecnormalize.pkl when the config normalises (without a config: when obs_rms.pkl exists)
    config = contents.get("config.yml")
    normalize = config.get("normalize", False) if config is not None else (folder / "obs_rms.pkl").is_file()
    if normalize and (folder / "vecnormalize.pkl").is_file():
        raise refuse(
            "sb3_cartdqn.zoo",
            str(folder / "vecnormalize.pkl"),
            "it is a pickle (VecNormalize.save), which RL Zoo unpickles for a run that normalises",
        )


def _model_zip_fields(name: str, content: bytes) -> dict[str, Any]:
    """
    :param name: the model zip, for messages
    :param content: its bytes
    :return: its ``data`` entry's fields (empty if it is not a model zip: SB3's load then says so, running nothing)
    :raises ModelFileError: for a duplicated entry name, a ``data`` entry beyond :data:`MAX_DATA_BYTES`, or JSON
        nested too deep to read
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        return {}  # not a model zip: SB3's load says so, without unpickling anything
    with archive:
        names = archive.namelist()
        duplicated = sorted({entry for entry in names if names.count(entry) > 1})
        if duplicated:
            raise ModelFileError(
                f"sb3_cartdqn.zoo: {name} holds the entries {', '.join(map(quoted, duplicated[:5]))} more than once: "
                "which one a reader takes is not defined."
            )
        if "data" not in names:
            return {}
        size = archive.getinfo("data").file_size
        if size > MAX_DATA_BYTES:
            raise ModelFileError(
                f"sb3_cartdqn.zoo: {name}'s entry 'data' inflates to {size} bytes, more than {MAX_DATA_BYTES} "
                "(MAX_DATA_BYTES): it is not a model's settings."
            )
        try:
            with archive.open("data") as entry:
                fields = json.loads(entry.read(MAX_DATA_BYTES + 1))
        except RecursionError:
            raise ModelFileError(f"sb3_cartdqn.zoo: {name}'s entry 'data' is JSON nested too deep to read.") from None
        except (NotImplementedError, RuntimeError, zipfile.BadZipFile) as error:  # unknown compression, encrypted
            raise ModelFileError(f"sb3_cartdqn.zoo: {name}'s entry 'data' cannot be read: {error}.") from None
        except ValueError:
            return {}  # not JSON: SB3's load says so
    return fields if isinstance(fields, dict) else {}


def check_model_zip(path: str | pathlib.Path, trust_code: bool | None = None, replaced: Iterable[str] = ()) -> None:
    """
    :param path: a model zip another algorithm will load with SB3's ``load``, which unpickles its pickled fields and,
        when no env is passed (``enjoy``), builds the env its ``env`` field names with ``gym.make`` (a
        ``"module:Env-v0"`` id imports ``module``)
    :param trust_code: skip the checks of code; ``None`` reads ``TRUST_REMOTE_CODE``
    :param replaced: fields the load replaces without reading them (SB3's ``custom_objects``)
    :raises UntrustedFileError: if the zip has pickled fields, or an ``env`` field (SB3 saves none)
    :raises ModelFileError: for duplicated entries, or a ``data`` entry too large or too deep to read
    """
    if code_trusted(trust_code):
        return
    name, content = read_model_file(path)
    fields = {key: value for key, value in _model_zip_fields(name, content).items() if key not in set(replaced)}
    if fields.get("env") is not None:
        raise refuse(
            "sb3_cartdqn.zoo",
            name,
            f"its field 'env' = {quoted(fields['env'])} (Stable-Baselines3 saves no env) would be built by "
            "Stable-Baselines3's load with gym.make, which imports the module an id such as 'module:Env-v0' names",
        )
    pickled = [key for key, value in fields.items() if isinstance(value, dict) and SERIALIZED in value]
    if pickled:
        raise refuse("sb3_cartdqn.zoo", name, f"its field(s) {pickled} hold pickles, which Stable-Baselines3's load unpickles")


class _CheckedLoader:
    """
    Stands in for an algorithm class in ``rl_zoo3.ALGOS``: checks a model zip before the algorithm's ``load``; its
    other attributes (``__name__``, which ``push_to_hub`` reads) are the class's.
    """

    def __init__(self, algo_class: Any, trust_code: bool | None) -> None:
        self.algo_class, self.trust_code = algo_class, trust_code

    def __getattr__(self, name: str) -> Any:
        if name == "algo_class":  # not set yet (a copy being built)
            raise AttributeError(name)
        return getattr(self.algo_class, name)

    def load(self, path: str, **kwargs: Any) -> Any:
        check_model_zip(path, self.trust_code, replaced=kwargs.get("custom_objects") or ())
        return self.algo_class.load(path, **kwargs)


@contextlib.contextmanager
def checked_rl_zoo_enjoy(trust_code: bool | None = None) -> Iterator[None]:
    """
    Within the block, RL Zoo's ``enjoy`` checks the run folder (:func:`check_run_folder`) before reading its
    hyperparameters (the adapter :func:`sb3_cartdqn.zoo.adapters.get_saved_hyperparams`), and the model zip of every
    algorithm before loading it (:func:`check_model_zip`, through ``rl_zoo3.ALGOS``' entries, for the block): other
    algorithms' ``load`` unpickles, and ``enjoy`` loads without an env, so SB3 would build one from the file's
    ``env`` field (CartDQN's ``load`` reads data only; its zip is checked all the same). ``trust_code=True`` also opts
    CartDQN's own loaders in (as ``TRUST_REMOTE_CODE=True`` does).

    :param trust_code: skip the checks; ``None`` reads ``TRUST_REMOTE_CODE``
    """
    wrapped = {name: _CheckedLoader(algo, trust_code) for name, algo in ALGOS.items()}
    environment = {TRUST_ENV_VAR: "True"} if trust_code else {}
    with (
        adapters.get_saved_hyperparams(lambda stats_path: check_run_folder(stats_path, trust_code)),
        algos_set(wrapped),
        environ_set(environment),
    ):
        yield
