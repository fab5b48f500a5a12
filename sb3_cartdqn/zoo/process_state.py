"""
This process's command line and environment variables, set for a block and restored after: RL Zoo's scripts read
their flags from ``sys.argv`` and run programs found through ``PATH``.
"""

import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager


@contextmanager
def argv_set(argv: Sequence[str]) -> Iterator[None]:
    """
    ``sys.argv`` is ``argv`` within the block (a script's ``argparse`` reads it), the previous list after.

    :param argv: the command line, program name first
    """
    previous = sys.argv
    sys.argv = list(argv)
    try:
        yield
    finally:
        sys.argv = previous


@contextmanager
def environ_set(values: Mapping[str, str]) -> Iterator[None]:
    """
    The environment variables ``values`` are set within the block; after it, each has its previous value again (or
    is unset, where it was not set before).

    :param values: variable name to value
    """
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
