"""
Data-only files: an ``.npz`` archive (as ``np.savez`` writes it) holding a JSON header and the arrays, for replay
buffers, checkpoint state and ``VecNormalize`` statistics, read without ``np.load``: through
:class:`~sb3_cartdqn.persistence.archive.ZipEntries` (no duplicated names, stored entries only, so that reading never
takes more memory than the file's size; the global cap), the header parsed with its depth limited, then only the
arrays the header refers to, each of exactly the size its ``.npy`` header declares, object arrays refused.

The header entry holds ``{"kind": ..., "format": ..., "value": ...}``, the value written with
:mod:`sb3_cartdqn.persistence.codec` and its arrays set aside as entries of their own (``array_<n>``), stored
uncompressed as NumPy writes them. :func:`open_data_file` tells such a file from a pickle (what SB3 and earlier
versions of sb3-cartdqn wrote) by its first bytes, and unpickles the latter only when the caller opted in.
"""

import contextlib
import json
import pathlib
import pickle
import zipfile
from typing import Any, BinaryIO

import numpy as np

from sb3_cartdqn.persistence.archive import STORED_ONLY, ZipEntries, npy_array
from sb3_cartdqn.persistence.codec import TAG, UntrustedClass, decode, encode
from sb3_cartdqn.persistence.limits import DATA_ENTRY_BYTES, parse_json
from sb3_cartdqn.persistence.trust import ModelFileError, looks_like_pickle, refuse, shorten

#: The npz entry holding the JSON header
HEADER = "__sb3_cartdqn__"
#: Version of the layout
FORMAT = 1
_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"


def write_data_file(file: BinaryIO, kind: str, value: dict[str, Any]) -> None:
    """
    :param file: an open binary file to write to
    :param kind: what the file holds (checked when reading)
    :param value: the content
    :raises NotData: if something in ``value`` cannot be written as data
    """
    arrays: list[np.ndarray] = []
    header = json.dumps({"kind": kind, "format": FORMAT, "value": encode(value, arrays)})
    entries = {f"array_{index}": array for index, array in enumerate(arrays)}
    np.savez(file, **{HEADER: np.frombuffer(header.encode(), dtype=np.uint8)}, **entries)  # type: ignore[arg-type]


def _referenced_entries(value: Any) -> set[str]:
    """The array entries a header's value refers to (``{":data:": "npz", "entry": ...}``): the only ones read."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            if item.get(TAG) == "npz" and isinstance(item.get("entry"), str):
                found.add(item["entry"])
            stack.extend(item.values())
    return found


def _read_npz(file: BinaryIO, kind: str, name: str, loader: str, trust_code: bool) -> dict[str, Any]:
    archive = ZipEntries(file, name, loader, STORED_ONLY)
    header_entry = f"{HEADER}.npy"
    if header_entry not in archive:
        raise ModelFileError(f"{loader}: {name} is an npz archive but was not written by sb3-cartdqn (no {HEADER!r}).")
    content = npy_array(archive.read(header_entry, DATA_ENTRY_BYTES, "a data file's header"), name, HEADER, loader)
    header = parse_json(content.tobytes(), name, header_entry, loader)
    if not isinstance(header, dict) or header.get("kind") != kind:
        found = header.get("kind") if isinstance(header, dict) else None
        raise ModelFileError(f"{loader}: {name} holds {shorten(found)}, not {kind!r}: pass the right file.")
    if header.get("format") != FORMAT:
        raise ModelFileError(
            f"{loader}: {name} has format {shorten(header.get('format'))}; this version of sb3-cartdqn reads {FORMAT}: "
            "upgrade sb3-cartdqn."
        )
    referenced = sorted(_referenced_entries(header.get("value")))
    missing = [entry for entry in referenced if f"{entry}.npy" not in archive]
    if missing:
        raise ValueError(f"no array {missing[0][:200]!r}")
    # Every array is checked against the global cap before any is read; entries no field refers to are never read
    entries = [(f"{entry}.npy", archive.size, "an array stored in a file of this size") for entry in referenced]
    archive.check_total(entries)
    arrays = {
        entry: npy_array(archive.read(*read), name, entry, loader) for entry, read in zip(referenced, entries, strict=True)
    }
    try:
        value = decode(header["value"], trust_code, arrays)
    except UntrustedClass as error:
        raise refuse(loader, name, f"it {error}") from None
    if not isinstance(value, dict):
        raise ModelFileError(f"{loader}: {name} holds {type(value).__name__}, not the fields of a {kind}.")
    return value


def open_data_file(
    path: str | pathlib.Path | BinaryIO,
    kind: str,
    loader: str,
    trust_code: bool,
    what: str,
) -> Any:
    """
    Read a file :func:`write_data_file` wrote; a pickle (the earlier format) only when ``trust_code``.

    :param path: the file or an open binary file
    :param kind: what it must hold
    :param loader: the function loading, for messages
    :param trust_code: unpickle a pickle, import classes outside the allow-list
    :param what: how to describe an unreadable file's likely cause and fix, for messages
    :return: the fields (a dict), or what a pickle held
    :raises UntrustedFileError: if it is a pickle and ``trust_code`` is False
    :raises ModelFileError: if it is unreadable
    """
    name = str(path) if isinstance(path, str | pathlib.Path) else f"<{type(path).__name__}>"
    try:
        with contextlib.ExitStack() as stack:
            file = stack.enter_context(open(path, "rb")) if isinstance(path, str | pathlib.Path) else path
            start = file.tell()
            head = file.read(4)
            file.seek(start)
            if head.startswith((_ZIP_MAGIC, _EMPTY_ZIP_MAGIC)):
                return _read_npz(file, kind, name, loader, trust_code)
            if looks_like_pickle(head[:1]):
                if not trust_code:
                    raise refuse(loader, name, "it is a pickle (as Stable-Baselines3 and earlier sb3-cartdqn versions wrote)")
                return pickle.load(file)  # the caller opted in
            raise ValueError("neither an npz archive nor a pickle" if head else "the file is empty")
    except ModelFileError:
        raise
    except (ValueError, KeyError, TypeError, EOFError, OSError, zipfile.BadZipFile, pickle.UnpicklingError) as error:
        raise ModelFileError(
            f"{loader}: {name} is not a readable {kind} ({type(error).__name__}: {shorten(error)}): {what}"
        ) from error
