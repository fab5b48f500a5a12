"""
PyTorch's archives (what ``th.save`` writes: a zip of stored records, the first one a pickle naming the tensor
storages, ``<name>/data.pkl``), checked before ``th.load`` reads them: :func:`check_torch_archive` checks the
container, :func:`declared_archive_bytes` bounds an archive's size from the storages its pickle declares, read with
``pickletools`` (nothing is unpickled, nothing imported).
"""

import io
import pickletools
import zipfile
from typing import Any

import numpy as np

from sb3_cartdqn.persistence.archive import LOCAL_HEADER, LOCAL_MAGIC, STORED_ONLY, ZipEntries
from sb3_cartdqn.persistence.trust import ModelFileError

#: How much of a ``.pth`` entry is inflated to read its pickle (an honest one is a few KiB)
PICKLE_HEAD_BYTES = 1 << 20
#: Room for each record's headers and alignment, besides its data (a record takes a few hundred bytes of them)
RECORD_OVERHEAD_BYTES = 4096
#: Bytes per element of the storage classes ``th.save`` names (``UntypedStorage`` counts bytes)
_ELEMENT_BYTES = {
    "UntypedStorage": 1,
    "ByteStorage": 1,
    "CharStorage": 1,
    "BoolStorage": 1,
    "QUInt8Storage": 1,
    "QInt8Storage": 1,
    "ShortStorage": 2,
    "HalfStorage": 2,
    "BFloat16Storage": 2,
    "IntStorage": 4,
    "FloatStorage": 4,
    "QInt32Storage": 4,
    "LongStorage": 8,
    "DoubleStorage": 8,
    "ComplexFloatStorage": 8,
    "ComplexDoubleStorage": 16,
}
_STRINGS = {"BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING", "BINSTRING", "STRING"}
_INTEGERS = {"BININT", "BININT1", "BININT2", "INT", "LONG", "LONG1", "LONG4"}
_MARK = object()


def _pop_to_mark(stack: list[Any]) -> list[Any]:
    index = max(i for i, item in enumerate(stack) if item is _MARK)
    items = stack[index + 1 :]
    del stack[index:]
    return items


def _storage(pid: Any) -> tuple[str, int]:
    """The key and bytes of a storage's persistent id: ``('storage', <torch.*Storage>, key, location, numel)``."""
    kind, cls, key, _, numel = pid
    if kind != "storage" or cls[:2] != ("global", "torch") or cls[2] not in _ELEMENT_BYTES or numel < 0:
        raise ValueError(f"not a storage: {pid!r}"[:200])
    return str(key), int(numel) * _ELEMENT_BYTES[cls[2]]


def _simulate(opcode: pickletools.OpcodeInfo, arg: Any, stack: list[Any], memo: dict[Any, Any]) -> None:
    """One opcode on a stack of strings, integers, globals, tuples and placeholders; nothing is built or imported."""
    name = opcode.name
    if name in _STRINGS or name in _INTEGERS:
        stack.append(arg)
    elif name == "MARK":
        stack.append(_MARK)
    elif name in ("BINPUT", "LONG_BINPUT", "PUT"):
        memo[arg] = stack[-1]
    elif name == "MEMOIZE":
        memo[len(memo)] = stack[-1]
    elif name in ("BINGET", "LONG_BINGET", "GET"):
        stack.append(memo[arg])
    elif name == "GLOBAL":
        stack.append(("global", *str(arg).split(" ", 1)))
    elif name == "STACK_GLOBAL":
        qualname, module = stack.pop(), stack.pop()
        stack.append(("global", module, qualname))
    elif name == "TUPLE":
        stack.append(tuple(_pop_to_mark(stack)))
    elif name in ("EMPTY_TUPLE", "TUPLE1", "TUPLE2", "TUPLE3"):
        count = ("EMPTY_TUPLE", "TUPLE1", "TUPLE2", "TUPLE3").index(name)
        items = stack[len(stack) - count :] if count else []
        del stack[len(stack) - count :]
        stack.append(tuple(items))
    else:
        before = opcode.stack_before
        if pickletools.markobject in before:
            _pop_to_mark(stack)
            before = before[: before.index(pickletools.markobject)]
        for _ in before:
            stack.pop()
        stack.extend(object() for _ in opcode.stack_after)


def declared_archive_bytes(head: bytes) -> int | None:
    """
    :param head: the first bytes of a PyTorch archive (at least its first record, the pickle)
    :return: the most bytes the archive can hold for the storages its pickle declares (their bytes, the pickle,
        each record's headers); None when the pickle is not all in ``head`` or not as ``th.save`` writes it
    """
    if len(head) < LOCAL_HEADER.size or not head.startswith(LOCAL_MAGIC):
        return None
    fields = LOCAL_HEADER.unpack(head[: LOCAL_HEADER.size])
    start = LOCAL_HEADER.size + fields[10] + fields[11]
    name = head[LOCAL_HEADER.size : LOCAL_HEADER.size + fields[10]]
    if fields[4] != zipfile.ZIP_STORED or not name.endswith(b"data.pkl"):
        return None
    stack: list[Any] = []
    memo: dict[Any, Any] = {}
    storages: dict[str, int] = {}
    try:
        for opcode, arg, position in pickletools.genops(head[start:]):
            if opcode.name == "STOP":
                records = len(storages) + 8  # the pickle, the storages, and th.save's few small records
                return sum(storages.values()) + int(position or 0) + RECORD_OVERHEAD_BYTES * records
            if opcode.name == "BINPERSID":
                key, size = _storage(stack.pop())
                storages[key] = max(size, storages.get(key, 0))
                stack.append(object())
            else:
                _simulate(opcode, arg, stack, memo)
    except (ValueError, IndexError, KeyError, TypeError):
        return None
    return None


def check_torch_archive(content: bytes | np.ndarray, name: str, loader: str) -> None:
    """
    Check a file ``th.save`` wrote (a ``.pth`` file, or a ``.pth`` entry of a model zip) before ``th.load`` reads it:
    a zip archive whose entries are all stored (``th.save`` never compresses: reading it takes no more memory than
    its size), none held twice, none ending beyond the archive.

    :param content: its bytes
    :param name: the file (and entry), for messages
    :param loader: the function loading, for messages
    :raises ModelFileError: if it is not such an archive (PyTorch's legacy format, not written since PyTorch 1.6,
        included)
    """
    if bytes(content[:4]) != LOCAL_MAGIC:
        raise ModelFileError(
            f"{loader}: {name} was not loaded: it is not a zip archive as th.save writes it (the format of every "
            "PyTorch since 1.6): the file is truncated, corrupt, or in PyTorch's legacy format (load and save it "
            "again with PyTorch)."
        )
    try:
        archive = ZipEntries(io.BytesIO(content if isinstance(content, bytes) else content.data), name, loader, STORED_ONLY)
    except zipfile.BadZipFile as error:
        raise ModelFileError(
            f"{loader}: {name} is not a complete PyTorch archive ({error}): it is truncated or corrupt."
        ) from error
    archive.check_total((entry, len(content), "an entry of a PyTorch archive of this size") for entry in archive.names())
