"""
The limits every loader applies to what a file declares before it inflates or parses it, in one place (the table
in ``docs/safe_loading.md`` lists each with its value), and the one setting that lifts the global cap for honestly
huge files: the environment variable ``CARTDQN_MAX_FILE_BYTES``.

- :data:`DEFAULT_MAX_FILE_BYTES`: the most bytes a loader inflates from one file, all its entries together
  (a replay buffer of a million pixel transitions needs more: set ``CARTDQN_MAX_FILE_BYTES``);
- :data:`DATA_ENTRY_BYTES`: a model zip's ``data`` entry, a data file's JSON header;
- :data:`SMALL_ENTRY_BYTES`: entries that hold a few numbers (``pytorch_variables.pth``, ``system_info.txt``);
- :data:`MAX_COMPRESSION_RATIO`: how much a compressed entry of more than :data:`RATIO_FREE_BYTES` may inflate
  (lifted, with the global cap, by ``CARTDQN_MAX_FILE_BYTES=unlimited``);
- :data:`MAX_JSON_DEPTH`: how deeply a JSON entry may nest (checked before it is parsed).
"""

import json
import os
import re
from typing import Any

import numpy as np

from sb3_cartdqn.persistence.trust import ModelFileError

MiB = 1 << 20
GiB = 1 << 30
#: The environment variable that sets the global cap (bytes, or with a K, M, G or T suffix; ``unlimited`` lifts it)
MAX_FILE_BYTES_ENV_VAR = "CARTDQN_MAX_FILE_BYTES"
#: The global cap when the environment variable is not set
DEFAULT_MAX_FILE_BYTES = 4 * GiB
#: A model zip's ``data`` entry and a data file's JSON header (an honest one is a few KiB to a few MiB)
DATA_ENTRY_BYTES = 16 * MiB
#: Entries that hold a few values (``pytorch_variables.pth``: CartDQN saves none; ``system_info.txt``)
SMALL_ENTRY_BYTES = 1 * MiB
#: How deeply a JSON entry may nest (an honest model nests about 10 deep)
MAX_JSON_DEPTH = 100
#: A compressed entry may declare at most this many times its compressed size ...
MAX_COMPRESSION_RATIO = 100
#: ... once it declares more than this (a zip bomb inflates about 1000 times; tensors of trained weights about 1.1)
RATIO_FREE_BYTES = 64 * MiB
_SUFFIXES = {"": 1, "k": 1 << 10, "m": MiB, "g": GiB, "t": 1 << 40}
_UNLIMITED = ("unlimited", "none", "inf")
#: A JSON string (escapes included), to skip the brackets inside strings
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))


class FileLimitError(ModelFileError):
    """A file declares or holds more than a loader's limit for what it is (refused before it is inflated)."""


def max_file_bytes() -> int | None:
    """
    :return: the global cap on the bytes inflated from one file: ``CARTDQN_MAX_FILE_BYTES`` (``unlimited``: None),
        or :data:`DEFAULT_MAX_FILE_BYTES` when it is not set
    :raises ValueError: if the variable holds something else
    """
    value = os.environ.get(MAX_FILE_BYTES_ENV_VAR, "").strip().lower().removesuffix("b").removesuffix("i")
    if not value:
        return DEFAULT_MAX_FILE_BYTES
    if value in _UNLIMITED:
        return None
    match = re.fullmatch(r"(\d+)\s*([kmgt]?)", value)
    if match is None:
        raise ValueError(
            f"{MAX_FILE_BYTES_ENV_VAR}={os.environ[MAX_FILE_BYTES_ENV_VAR]!r} is not a size: set it to a number of "
            "bytes (e.g. 68719476736 or 64G) or to 'unlimited'."
        )
    return int(match.group(1)) * _SUFFIXES[match.group(2)]


def max_inflated_bytes(compressed: int) -> int | None:
    """
    :param compressed: the compressed size of a (deflated) entry
    :return: the most it may declare uncompressed (None: ``CARTDQN_MAX_FILE_BYTES=unlimited``)
    """
    if max_file_bytes() is None:
        return None
    return max(RATIO_FREE_BYTES, MAX_COMPRESSION_RATIO * compressed)


def cap_hint() -> str:
    """:return: how to lift the global cap, for error messages"""
    return (
        f"If the file is honest and this large, set the environment variable {MAX_FILE_BYTES_ENV_VAR} to a larger "
        "size (e.g. 64G) or to 'unlimited'."
    )


def json_depth(text: bytes | bytearray) -> int:
    """
    :param text: a JSON document
    :return: how deeply its arrays and objects nest (brackets inside strings do not count), found without parsing
    """
    brackets = _JSON_STRING.sub(b"", text).translate(None, _NOT_BRACKETS)
    codes = np.frombuffer(brackets, dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1)
    return int(np.cumsum(steps).max(initial=0))


def parse_json(text: bytes | bytearray, name: str, entry: str, loader: str) -> Any:
    """
    :param text: a JSON entry of a file, as bytes
    :param name: the file, for messages
    :param entry: the entry, for messages
    :param loader: the function loading, for messages
    :return: the parsed value
    :raises FileLimitError: if it nests deeper than :data:`MAX_JSON_DEPTH` (checked before parsing)
    :raises ValueError: if it is not JSON (``json.JSONDecodeError``, ``UnicodeDecodeError``)
    """
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise FileLimitError(
            f"{loader}: {name} was not loaded: its entry {entry!r} nests {depth} levels deep, beyond the limit of "
            f"{MAX_JSON_DEPTH} (an honest file nests about 10 deep). Nothing was parsed."
        )
    try:
        return json.loads(text.decode())
    except RecursionError:  # cannot happen below the depth limit; kept as a clear error all the same
        raise FileLimitError(f"{loader}: {name} was not loaded: its entry {entry!r} nests too deeply.") from None
