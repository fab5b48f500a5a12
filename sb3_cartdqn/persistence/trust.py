"""
The one opt-in to run code stored in a file, shared by every CartDQN loader, and the errors the loaders raise.

Opening a file runs no code unless the caller opts in: with ``trust_code=True`` (an argument of every loader) or,
when that argument is left at ``None``, with the environment variable ``TRUST_REMOTE_CODE=True`` (the convention
huggingface_sb3 uses for models from the Hugging Face Hub). A file that needs the opt-in is refused *before*
anything in it is unpickled, imported or evaluated, with an :class:`UntrustedFileError` naming the file, the field
and the opt-in.
"""

import os
from typing import Any

#: The environment variable read when a loader's ``trust_code`` argument is ``None``
TRUST_ENV_VAR = "TRUST_REMOTE_CODE"
#: How the opt-in is named in error messages
OPT_IN = f"trust_code=True (or the environment variable {TRUST_ENV_VAR}=True)"
_TRUE = ("y", "yes", "t", "true", "on", "1")
_FALSE = ("n", "no", "f", "false", "off", "0", "")
#: The first byte of every pickle stream of protocol 2 or higher (``PROTO`` opcode); protocols 0 and 1 start with an
#: opcode among these too (``(``, ``]``, ``}``, ``c``, ...): a file starting with one of them may be a pickle
PICKLE_START = frozenset(b"\x80(]}cl)NIFSVXTUBCJKMLG.")
#: The most characters an error message quotes of one value read from a file
QUOTE_LIMIT = 200


class ModelFileError(ValueError):
    """A file given to ``CartDQN.load`` (or a checkpoint) is missing, truncated, corrupt or not a CartDQN model."""


class UntrustedFileError(ModelFileError):
    """A file carries code (a pickle, a cloudpickled field, a class to import, an expression) and the caller did not opt in."""


def code_trusted(trust_code: bool | None = None) -> bool:
    """
    :param trust_code: the caller's choice; ``None`` reads the environment variable ``TRUST_REMOTE_CODE``
    :return: whether the caller opted in to running code stored in files
    :raises ValueError: if ``TRUST_REMOTE_CODE`` holds something other than a truth value
    """
    if trust_code is not None:
        return bool(trust_code)
    value = os.environ.get(TRUST_ENV_VAR, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{TRUST_ENV_VAR}={os.environ[TRUST_ENV_VAR]!r} is not a truth value: set it to True or False.")


def refuse(loader: str, name: str, what: str) -> UntrustedFileError:
    """
    :param loader: the function refusing (``CartDQN.load``, ``load_checkpoint``, ...)
    :param name: the file
    :param what: which part of it carries code, and what it holds (``"its field 'lr_schedule' holds a pickle"``)
    :return: the error to raise, naming the file, the field and the opt-in
    """
    return UntrustedFileError(
        f"{loader}: {name} was not loaded: {what}, and loading that would run code stored in the file. Nothing was "
        f"unpickled, imported or evaluated. If you trust the file (you wrote it, or an earlier version of sb3-cartdqn "
        f"or Stable-Baselines3 did), pass {OPT_IN}; save it again with sb3-cartdqn to get a data-only file."
    )


def shorten(value: Any, limit: int | None = None) -> str:
    """
    How every error of :mod:`sb3_cartdqn.persistence` quotes a value read from a file (a field name, a class name,
    an entry, a value, the text of an error about it): a crafted file must not make a 20 MB error message.

    :param value: the value (quoted with ``repr``), or an exception (its text, unquoted, which may itself quote a
        value already shortened: it gets three times the room)
    :param limit: the most characters kept (default :data:`QUOTE_LIMIT`)
    :return: the quote, cut after ``limit`` characters with how long the whole was
    """
    if limit is None:
        limit = 3 * QUOTE_LIMIT if isinstance(value, BaseException) else QUOTE_LIMIT
    if isinstance(value, BaseException):
        text = str(value)
    elif isinstance(value, str | bytes) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value)} characters)"  # the repr of a 20 MB string is not built
    else:
        text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def looks_like_pickle(head: bytes) -> bool:
    """
    :param head: the first bytes of a file
    :return: whether it may be a pickle stream (every pickle starts with one of :data:`PICKLE_START`)
    """
    return bool(head) and head[0] in PICKLE_START
