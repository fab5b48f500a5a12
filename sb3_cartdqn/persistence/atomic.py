"""
Crash-safe writes: a file or a folder is written under a hidden temporary name beside its final path and renamed into
place only once complete and on disk, so that a reader (or a run restarted after a crash) finds the previous version
or the new one, never a partial one.

SB3 writes a model by opening the final path and streaming into it: a process killed mid-save leaves a truncated zip
where the previous good model was. :func:`atomic_path` writes a file to a temporary sibling and renames it over the
final path (``os.replace`` is atomic on POSIX and Windows). :func:`atomic_folder` does the same for a folder of files
(a checkpoint): every file and the folder are flushed to disk before it is renamed into place, and an existing folder
of that name is removed only after the new one is in place.
"""

import contextlib
import os
import pathlib
import shutil
import uuid
from collections.abc import Iterator

#: Suffix of a file or folder being written
TEMPORARY_SUFFIX = ".tmp"
#: Suffix of a folder moved aside while its replacement is renamed into place
REPLACED_SUFFIX = ".old"


def fsync_directory(directory: str | pathlib.Path) -> None:
    """
    Make a rename inside ``directory`` durable (a no-op where directories cannot be opened, e.g. Windows).

    :param directory: the folder whose entries changed
    """
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_file(path: str | pathlib.Path) -> None:
    """
    Flush a written file's data to disk.

    :param path: the file
    """
    with open(path, "rb") as file:
        os.fsync(file.fileno())


def fsync_tree(folder: str | pathlib.Path) -> None:
    """
    Flush every file under ``folder``, then every folder (deepest first), to disk.

    :param folder: the folder
    """
    folders = []
    for root, _, files in os.walk(folder):
        folders.append(root)
        for name in files:
            fsync_file(os.path.join(root, name))
    for root in reversed(folders):
        fsync_directory(root)


def temporary_sibling(path: str | pathlib.Path, suffix: str = TEMPORARY_SUFFIX) -> pathlib.Path:
    """
    :param path: the final path
    :param suffix: :data:`TEMPORARY_SUFFIX` or :data:`REPLACED_SUFFIX`
    :return: a unique hidden name in the same folder (same file system, so renaming it over ``path`` is atomic)
    """
    path = pathlib.Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}{suffix}")


@contextlib.contextmanager
def atomic_path(path: str | pathlib.Path, fsync: bool = True) -> Iterator[pathlib.Path]:
    """
    Yield a temporary path to write to; on success rename it over ``path``, on error remove it.
    A process killed while writing leaves ``path`` untouched (plus a hidden ``.*.tmp`` file).

    :param path: the final path (its folder is created if needed)
    :param fsync: flush the file and the folder to disk before and after the rename
        (survives power loss, not only a killed process)
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_sibling(path)
    try:
        yield temporary
        if fsync:
            fsync_file(temporary)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise
    if fsync:
        fsync_directory(path.parent)


@contextlib.contextmanager
def atomic_folder(path: str | pathlib.Path, fsync: bool = True) -> Iterator[pathlib.Path]:
    """
    Yield a new, empty temporary folder (a hidden sibling of ``path``) to write files into; on success flush them and
    it to disk and rename it to ``path``, on error remove it. A folder already at ``path`` is first renamed aside
    (a hidden ``.*.old`` sibling) and removed once the new one is in place: the old folder is never deleted before
    the new one replaces it. A process killed before the rename leaves ``path`` untouched (plus a hidden ``.*.tmp``
    folder: see :func:`remove_temporaries`).

    :param path: the final folder (its parent is created if needed)
    :param fsync: flush every file, the folders and the parent to disk (survives power loss, not only a killed
        process)
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_sibling(path)
    temporary.mkdir()
    try:
        yield temporary
        if fsync:
            fsync_tree(temporary)
        replaced = temporary_sibling(path, REPLACED_SUFFIX) if path.exists() else None
        if replaced is not None:
            os.rename(path, replaced)
        os.rename(temporary, path)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    if fsync:
        fsync_directory(path.parent)
    if replaced is not None:
        shutil.rmtree(replaced, ignore_errors=True)


def remove_temporaries(folder: str | pathlib.Path, name_glob: str) -> list[pathlib.Path]:
    """
    Clean up after :func:`atomic_folder` calls that were killed: delete the hidden temporary folders, and put back a
    folder that was moved aside when its replacement never arrived (the process was killed between the two renames).

    :param folder: the folder holding the final folders
    :param name_glob: a glob matching the names of the final folders (``"cartdqn_*_steps"``)
    :return: the hidden folders removed
    """
    folder = pathlib.Path(folder)
    removed = []
    if folder.is_dir():
        for entry in sorted(folder.glob(f".{name_glob}.*")):
            if not entry.is_dir() or entry.suffix not in (TEMPORARY_SUFFIX, REPLACED_SUFFIX):
                continue
            final = folder / entry.name[1:].rsplit(".", 2)[0]
            if entry.suffix == REPLACED_SUFFIX and not final.exists():
                os.rename(entry, final)
                continue
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed
