"""
Zip archives (model zips, npz data files, PyTorch's ``.pth`` files) opened without trusting their directory.

:class:`ZipEntries` refuses, before anything is inflated: an entry name held twice (``zipfile`` and SB3 would read
the last one, a check the first), encrypted entries, compression methods the writer never uses, and entries whose
uncompressed size, as the directory declares it, is beyond the bound the caller gives for what the entry is,
beyond the global cap (:func:`sb3_cartdqn.persistence.limits.max_file_bytes`) for the whole file, or beyond what its
compressed size can honestly hold (:func:`sb3_cartdqn.persistence.limits.max_inflated_bytes`). An entry is read
only when the caller asks for it (an entry nobody reads is never inflated), and inflated in chunks that stop as
soon as the output passes the declared size (the directory can lie); its CRC is checked. Readers that come after
(SB3's ``load_from_zip_file``, ``th.load``) then read entries known to inflate to exactly their declared size.
"""

import io
import struct
import zipfile
import zlib
from collections.abc import Iterable
from typing import BinaryIO, cast

import numpy as np
from numpy.lib import format as npy_format

from sb3_cartdqn.persistence.limits import (
    MAX_COMPRESSION_RATIO,
    RATIO_FREE_BYTES,
    FileLimitError,
    cap_hint,
    max_file_bytes,
    max_inflated_bytes,
)
from sb3_cartdqn.persistence.trust import ModelFileError

#: The compression methods each kind of archive is written with: SB3 deflates model zips; ``np.savez`` and
#: ``th.save`` store their entries as they are
STORED_ONLY = (zipfile.ZIP_STORED,)
STORED_OR_DEFLATED = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_METHOD_NAMES = {0: "stored", 8: "deflated", 9: "deflate64", 12: "bzip2", 14: "lzma", 93: "zstandard", 99: "AES"}
#: A zip entry's local header (its fields: signature, versions, flags, method, time, date, CRC, sizes, name and
#: extra lengths), and its signature
LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
LOCAL_MAGIC = b"PK\x03\x04"
_ENCRYPTED = 0x1
_UTF8_NAME = 0x800
_CHUNK = 1 << 20
_STORED_CHUNK = 1 << 18


class ZipEntries:
    """
    A zip archive whose directory is checked (see the module docstring), read entry by entry.

    :param file: the archive, an open seekable binary file
    :param name: the file, for messages
    :param loader: the function loading, for messages
    :param methods: the compression methods its writer uses (others are refused)
    :raises zipfile.BadZipFile: if it is not a zip archive (the caller names the cause)
    :raises ModelFileError: if an entry name is held twice
    """

    def __init__(self, file: BinaryIO, name: str, loader: str, methods: tuple[int, ...] = STORED_OR_DEFLATED) -> None:
        self.file, self.name, self.loader, self.methods = file, name, loader, methods
        self.archive = zipfile.ZipFile(file)
        self.size = file.seek(0, io.SEEK_END)
        self.entries: dict[str, zipfile.ZipInfo] = {}
        for info in self.archive.infolist():
            if info.filename in self.entries:
                raise ModelFileError(
                    f"{loader}: {name} was not loaded: it holds the entry {info.filename[:200]!r} more than once "
                    "(zip readers disagree on which one counts: a crafted file can show a check one and a loader "
                    "another). No writer of sb3-cartdqn, Stable-Baselines3, NumPy or PyTorch does that."
                )
            self.entries[info.filename] = info
        self.budget = max_file_bytes()

    def names(self) -> list[str]:
        """:return: the entry names, in the archive's order"""
        return list(self.entries)

    def __contains__(self, entry: object) -> bool:
        return entry in self.entries

    def _error(self, entry: str, what: str) -> ModelFileError:
        return ModelFileError(f"{self.loader}: {self.name} was not loaded: its entry {entry[:200]!r} {what}")

    def check(self, entry: str, limit: int, what: str) -> zipfile.ZipInfo:
        """
        Check an entry's directory record, without inflating it.

        :param entry: the entry name
        :param limit: the most bytes it may inflate to, for what it is
        :param what: what it is, for messages (``"a model's data"``)
        :return: its record
        :raises FileLimitError: if it declares more than ``limit`` or than what is left of the global cap
        :raises ModelFileError: if it is encrypted, compressed with a method the writer never uses, or ends beyond the
            end of the file
        """
        info = self.entries[entry]
        if info.flag_bits & _ENCRYPTED:
            raise self._error(entry, "is encrypted: no writer of these files encrypts, and nothing was decrypted.")
        if info.compress_type not in self.methods:
            method = _METHOD_NAMES.get(info.compress_type, "unknown")
            allowed = " or ".join(_METHOD_NAMES[method] for method in self.methods)
            raise self._error(
                entry, f"is compressed with method {info.compress_type} ({method}); this kind of file is {allowed}."
            )
        if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
            raise self._error(entry, "is corrupt: a stored entry whose two sizes differ.")
        if info.header_offset + info.compress_size > self.size:
            raise self._error(entry, "ends beyond the end of the file: the file is truncated or corrupt.")
        if info.file_size > limit:
            raise FileLimitError(
                f"{self.loader}: {self.name} was not loaded: its entry {entry[:200]!r} declares {info.file_size} bytes "
                f"uncompressed, beyond the limit of {limit} bytes for {what}. Nothing was inflated."
            )
        if self.budget is not None and info.file_size > self.budget:
            raise self._cap_error(entry, info.file_size)
        inflated = max_inflated_bytes(info.compress_size)
        if info.compress_type != zipfile.ZIP_STORED and inflated is not None and info.file_size > inflated:
            raise FileLimitError(
                f"{self.loader}: {self.name} was not loaded: its entry {entry[:200]!r} declares {info.file_size} bytes "
                f"inflated from {info.compress_size}, beyond the limit of {inflated} bytes for an entry of that "
                f"compressed size ({MAX_COMPRESSION_RATIO} times it, or {RATIO_FREE_BYTES} bytes): a zip bomb. Nothing "
                f"was inflated. {cap_hint()}"
            )
        return info

    def _cap_error(self, entry: str, size: int) -> FileLimitError:
        cap = max_file_bytes()
        return FileLimitError(
            f"{self.loader}: {self.name} was not loaded: its entry {entry[:200]!r} declares {size} bytes uncompressed, "
            f"beyond the global cap of {cap} bytes inflated per file. Nothing was inflated. {cap_hint()}"
        )

    def check_total(self, entries: Iterable[tuple[str, int, str]]) -> None:
        """
        Check several entries before reading any: each against its limit, all together against the global cap.

        :param entries: ``(entry, limit, what)`` for each
        :raises FileLimitError: as :meth:`check`, or if together they declare more than the global cap
        """
        total = sum(self.check(entry, limit, what).file_size for entry, limit, what in entries)
        if self.budget is not None and total > self.budget:
            raise self._cap_error("(all entries together)", total)

    def read(self, entry: str, limit: int, what: str) -> np.ndarray:
        """
        :param entry: the entry name
        :param limit: the most bytes it may inflate to, for what it is
        :param what: what it is, for messages
        :return: its content (bytes as a ``uint8`` array), inflated in chunks that stop past the declared size, CRC
            checked
        :raises FileLimitError: if it declares more than ``limit`` or the global cap, or inflates beyond what it
            declares
        :raises ModelFileError: if it is corrupt
        """
        info = self.check(entry, limit, what)
        self._seek_data(entry, info)
        content = np.empty(info.file_size, dtype=np.uint8)  # not zeroed: every byte is written below
        if info.compress_type == zipfile.ZIP_STORED:
            crc = self._copy(entry, content.data)
        else:
            crc = self._inflate(entry, info, content.data)
        if crc != info.CRC:
            raise self._error(entry, "is corrupt: its checksum does not match.")
        if self.budget is not None:
            self.budget -= info.file_size
        return content

    def head(self, entry: str, size: int) -> bytes:
        """
        :param entry: an entry :meth:`check` passed
        :param size: how many bytes to read
        :return: its first ``size`` bytes (all of it if shorter), inflating no more than that; not checksummed
        :raises ModelFileError: if it is corrupt
        """
        info = self.entries[entry]
        self._seek_data(entry, info)
        content = np.empty(min(size, info.file_size), dtype=np.uint8)
        if info.compress_type == zipfile.ZIP_STORED:
            self._copy(entry, content.data)
        else:
            self._inflate(entry, info, content.data, partial=True)
        return content.tobytes()

    def _seek_data(self, entry: str, info: zipfile.ZipInfo) -> None:
        """Move the file to the entry's data, past its local header (checked against the directory)."""
        self.file.seek(info.header_offset)
        header = self.file.read(LOCAL_HEADER.size)
        if len(header) != LOCAL_HEADER.size or not header.startswith(LOCAL_MAGIC):
            raise self._error(entry, "has no local header where the directory says: the file is corrupt.")
        fields = LOCAL_HEADER.unpack(header)
        local_name = self.file.read(fields[10]).decode("utf-8" if fields[3] & _UTF8_NAME else "cp437", "replace")
        if local_name != info.orig_filename:
            raise self._error(entry, "has another name in its local header: the file is corrupt.")
        self.file.seek(fields[11], io.SEEK_CUR)

    def _copy(self, entry: str, out: memoryview) -> int:
        """Read a stored entry into ``out`` in cache-sized chunks, each checksummed while it is in the cache."""
        crc, reader = 0, cast(io.BufferedIOBase, self.file)
        for start in range(0, len(out), _STORED_CHUNK):
            part = out[start : start + _STORED_CHUNK]
            if reader.readinto(part) != len(part):
                raise self._error(entry, "is truncated: the file is corrupt.")
            crc = zlib.crc32(part, crc)
        return crc

    def _inflate(self, entry: str, info: zipfile.ZipInfo, out: memoryview, partial: bool = False) -> int:
        """
        Inflate a deflated entry into ``out`` (its declared size), refusing it as soon as it inflates beyond;
        ``partial``: only its first ``len(out)`` bytes.
        """
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        position, left, pending, crc = 0, info.compress_size, b"", 0
        while not inflater.eof and not (partial and position == len(out)):
            if not pending:
                if left == 0:
                    break
                pending = self.file.read(min(_CHUNK, left))
                if not pending:
                    break
                left -= len(pending)
            room = len(out) - position
            try:
                chunk = inflater.decompress(pending, room if partial else room + 1)
            except zlib.error as error:
                raise self._error(entry, f"is corrupt ({error}).") from None
            pending = inflater.unconsumed_tail
            if len(chunk) > room:
                raise FileLimitError(
                    f"{self.loader}: {self.name} was not loaded: its entry {entry[:200]!r} inflates to more than the "
                    f"{len(out)} bytes its zip directory declares: the file is crafted or corrupt. Inflating stopped there."
                )
            out[position : position + len(chunk)] = chunk
            crc = zlib.crc32(chunk, crc)
            position += len(chunk)
        if position != len(out) or not (inflater.eof or partial):
            raise self._error(entry, "is truncated: the file is corrupt.")
        return crc


def npy_array(content: np.ndarray, name: str, entry: str, loader: str) -> np.ndarray:
    """
    :param content: an ``.npy`` entry as :meth:`ZipEntries.read` returned it (its memory is used, not copied)
    :param name: the file, for messages
    :param entry: the entry, for messages
    :param loader: the function loading, for messages
    :return: the array its header declares, whose size must be the entry's size
    :raises ValueError: if it is an object array (NumPy would unpickle it), or not an ``.npy`` array
    :raises ModelFileError: if its header declares another size than the entry holds
    """
    stream = io.BytesIO(content[: 1 << 16].tobytes())
    version = npy_format.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = npy_format.read_array_header_1_0(stream)
    elif version == (2, 0):
        shape, fortran, dtype = npy_format.read_array_header_2_0(stream)
    else:
        raise ValueError(f"the entry {entry!r} is an .npy array of version {version}, which sb3-cartdqn never writes")
    if dtype.hasobject:
        raise ValueError(f"Object arrays cannot be loaded: the entry {entry!r} holds one, which NumPy would unpickle")
    count = 1
    for length in shape:
        count *= length
    offset = stream.tell()
    if offset + count * dtype.itemsize != len(content):
        raise ModelFileError(
            f"{loader}: {name} was not loaded: its entry {entry!r} declares an array of shape {shape} and dtype "
            f"{dtype} ({count * dtype.itemsize} bytes) but holds {len(content) - offset}: the file is corrupt."
        )
    if count * dtype.itemsize == 0:
        return np.zeros(shape, dtype=dtype)
    return content[offset:].view(dtype).reshape(shape, order="F" if fortran else "C")
