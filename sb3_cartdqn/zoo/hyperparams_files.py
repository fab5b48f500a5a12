"""
The package's RL Zoo hyperparameter files: where they are, and the one reader of such files.

The files ship inside the package, in ``sb3_cartdqn/zoo/hyperparams/`` (:func:`hyperparams_path`); the checkout's
top-level ``hyperparams/`` is a link to that folder, for RL Zoo users who pass ``-conf hyperparams/...``. Nothing
else is searched (not the working directory): presets, the comparison and ``python -m sb3_cartdqn.zoo train`` all
find a file here, or read the one file a user names.

:func:`read_hyperparams_file` reads data only, within the limits of :mod:`sb3_cartdqn.zoo.yaml_files` (size,
aliases, nesting, duplicated keys): YAML's safe loader (a ``!!python/...`` tag is refused, YAML's own ``!!float`` is
fine), and the strings RL Zoo would ``eval`` (``policy_kwargs``, ``replay_buffer_kwargs``, ``monitor_kwargs``,
``normalize``) must spell ``dict(key=literal, ...)``; :func:`literal_values` turns them into the dicts they spell
without running them. A string ``replay_buffer_class`` (a class RL Zoo would evaluate) is refused.
"""

import ast
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from sb3_cartdqn.zoo.yaml_files import DataLoader, read_yaml_file

#: The package that holds the ``hyperparams/`` folder
HYPERPARAMS_PACKAGE = "sb3_cartdqn.zoo"
#: Keys whose string values RL Zoo passes to ``eval`` to make a keyword dict: read here as ``dict(key=literal, ...)``
LITERAL_DICT_KEYS = ("policy_kwargs", "replay_buffer_kwargs", "monitor_kwargs", "normalize")
#: Keys whose string values RL Zoo evaluates to a class: no data-only reading of them exists
CLASS_KEYS = ("replay_buffer_class",)


class HyperparamsFileError(ValueError):
    """A hyperparameter file that is not data only (a Python tag, code where a literal belongs), or not RL Zoo's form."""


def hyperparams_folder() -> Path:
    """:return: the package's ``hyperparams/`` folder (``sb3_cartdqn/zoo/hyperparams``)"""
    return Path(str(resources.files(HYPERPARAMS_PACKAGE) / "hyperparams"))


def hyperparams_path(file_name: str) -> Path:
    """
    :param file_name: a file of the package's ``hyperparams/`` folder, e.g. ``cartdqn.yml``
    :return: its path (pass it to RL Zoo's ``-conf``, or to :func:`read_hyperparams_file`)
    """
    return hyperparams_folder() / file_name


def literal_dict(text: str, where: str) -> dict[str, Any]:
    """
    Read a string RL Zoo would ``eval`` (``"dict(net_arch=[256, 256], dueling=True)"``) without running it: only
    ``dict(...)`` of literal keyword values is accepted.

    :param text: the string from the hyperparameter file
    :param where: the file and key it comes from, for the error message
    :return: the keyword arguments
    :raises HyperparamsFileError: naming ``where``, if the string is anything else
    """
    try:
        call = ast.parse(text.strip(), mode="eval").body
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "dict" and not call.args):
            raise ValueError("not a dict(...) call")
        if any(keyword.arg is None for keyword in call.keywords):
            raise ValueError("a ** expansion")
        return {str(keyword.arg): ast.literal_eval(keyword.value) for keyword in call.keywords}
    except (SyntaxError, ValueError) as error:
        raise HyperparamsFileError(
            f"{where} = {text!r} is not of the form dict(key=literal, ...) ({error}): hyperparameter files are read as "
            "data only (RL Zoo's own -conf reads anything else)"
        ) from error


def literal_values(entry: dict[str, Any], path: str | Path) -> dict[str, Any]:
    """
    :param entry: one entry of a hyperparameter file, as :func:`read_hyperparams_file` returns it
    :param path: the file, for error messages
    :return: a copy in which the strings RL Zoo would ``eval`` (:data:`LITERAL_DICT_KEYS`) are the dicts they spell
    :raises HyperparamsFileError: naming the file and key, for a string that is not a literal ``dict(...)`` or a
        string class (:data:`CLASS_KEYS`)
    """
    values = dict(entry)
    for key in CLASS_KEYS:
        if isinstance(values.get(key), str):
            raise HyperparamsFileError(
                f"{path}: {key} = {values[key]!r} is code RL Zoo evaluates: hyperparameter files are read as data only"
            )
    for key in LITERAL_DICT_KEYS:
        if isinstance(values.get(key), str):
            values[key] = literal_dict(values[key], f"{path}: {key}")
    return values


def read_hyperparams_file(path: str | Path) -> dict[str, dict[str, Any]]:
    """
    Read an RL Zoo hyperparameter file as data: ``{entry name (env id or "default"): {key: value}}``, values as
    written (``policy_kwargs`` stays RL Zoo's string; :func:`literal_values` gives its dict). Every entry is checked
    with :func:`literal_values`, so a file this returns has no code in it.

    :param path: the YAML file
    :return: its entries
    :raises HyperparamsFileError: naming the file, for a Python tag, a string RL Zoo would ``eval`` that is not a
        literal ``dict(...)``, content that is not a mapping of entries, or a file beyond the limits of
        :mod:`sb3_cartdqn.zoo.yaml_files` (size, aliases, nesting, a duplicated key)
    """
    try:
        content = read_yaml_file(path, DataLoader, HyperparamsFileError)
    except yaml.constructor.ConstructorError as error:
        raise HyperparamsFileError(
            f"{path}: {error.problem}: hyperparameter files are read as data only (no Python tags)"
        ) from None
    except yaml.YAMLError as error:
        raise HyperparamsFileError(f"{path} is not readable YAML ({error})") from error
    if not isinstance(content, dict) or not all(isinstance(entry, dict) for entry in content.values()):
        raise HyperparamsFileError(f"{path} is not RL Zoo's form: a mapping of env ids to mappings of settings")
    for entry in content.values():
        literal_values(entry, path)
    return content
