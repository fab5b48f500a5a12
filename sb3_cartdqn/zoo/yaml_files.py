"""
The one way the package reads a YAML file (a run folder's ``config.yml`` and ``args.yml``, a hyperparameter file):
bounded before anything is built.

:func:`read_yaml_file` reads at most :data:`MAX_YAML_BYTES` of the file, then scans YAML's event stream (the parser
alone: no node, no object is built yet) and refuses a document with more than :data:`MAX_YAML_ALIASES` aliases,
more than :data:`MAX_YAML_NODES` nodes once its aliases are expanded (an alias bomb: a few lines that expand to
billions of nodes), or collections nested deeper than :data:`MAX_YAML_DEPTH` (YAML's composer recurses once per
level). Only then is the document built, with a loader based on :class:`DataLoader` (YAML's safe loader that also
refuses a mapping with a duplicated key, where YAML keeps the last value silently). Every refusal names the file and
the limit. The limits hold with or without the opt-in: they guard against hangs and ambiguity, not code.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

#: The largest YAML file read (RL Zoo's configs and hyperparameter files are a few KiB)
MAX_YAML_BYTES = 1 << 20
#: The most aliases (``*name``) a document may hold (RL Zoo writes none)
MAX_YAML_ALIASES = 100
#: The most nodes a document may hold once every alias is expanded
MAX_YAML_NODES = 100_000
#: The deepest nesting of collections (RL Zoo's ``OrderedDict`` form of a config is about 8 deep)
MAX_YAML_DEPTH = 32

#: Makes the caller's error from a message
ErrorClass = Callable[[str], Exception]
# libyaml's parser where it is installed (faster); the events are the same
_PARSER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DuplicateKeyError(yaml.YAMLError):
    """A YAML mapping holds the same key twice."""


class DataLoader(yaml.SafeLoader):
    """YAML's safe loader that refuses a mapping (or RL Zoo's ``OrderedDict`` pairs) holding the same key twice."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """
        :param node: a mapping node
        :param deep: build nested values at once
        :return: the mapping
        :raises DuplicateKeyError: naming the key and its line
        """
        if isinstance(node, yaml.MappingNode):
            keys = [key for key, _ in node.value if key.tag != "tag:yaml.org,2002:merge"]
            refuse_duplicates([self.construct_object(key, deep=True) for key in keys], keys)
        return super().construct_mapping(node, deep=deep)


def refuse_duplicates(keys: list[Any], nodes: list[yaml.Node]) -> None:
    """
    :param keys: a mapping's keys, in order
    :param nodes: the nodes they were built from, in the same order (for the line number)
    :raises DuplicateKeyError: at the first key seen twice
    """
    seen: set[Any] = set()
    for key, node in zip(keys, nodes, strict=False):
        try:
            duplicated = key in seen
            seen.add(key)
        except TypeError:  # an unhashable key: YAML's constructor refuses it with its own message
            continue
        if duplicated:
            raise DuplicateKeyError(f"the key {quoted(key)} appears twice in one mapping (line {node.start_mark.line + 1})")


def quoted(value: Any, limit: int = 200) -> str:
    """
    :param value: a value read from a file, to quote in an error message
    :param limit: the most characters quoted
    :return: its ``repr``, cut after ``limit`` characters (with the full length)
    """
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def read_bounded_bytes(path: str | Path, error: ErrorClass) -> bytes:
    """
    :param path: the file
    :param error: makes the error to raise
    :return: its content
    :raises Exception: ``error``'s, if it holds more than :data:`MAX_YAML_BYTES` (read no further than that)
    """
    with open(path, "rb") as file:
        content = file.read(MAX_YAML_BYTES + 1)
    if len(content) > MAX_YAML_BYTES:
        raise error(f"{path} is larger than {MAX_YAML_BYTES} bytes (MAX_YAML_BYTES), more than a YAML file of settings holds")
    return content


def check_yaml_events(content: bytes, path: str | Path, error: ErrorClass) -> None:
    """
    Scan a YAML document's events (nothing is built) and refuse it beyond the limits.

    :param content: the document
    :param path: its file, for the message
    :param error: makes the error to raise
    :raises Exception: ``error``'s, naming the file and the limit (:data:`MAX_YAML_ALIASES`, :data:`MAX_YAML_NODES`,
        :data:`MAX_YAML_DEPTH`)
    :raises yaml.YAMLError: if it is not YAML
    """
    aliases, nodes = 0, 0
    anchored: dict[str, int] = {}  # nodes under each anchor, aliases expanded
    open_collections: list[tuple[str | None, int]] = []  # (anchor, nodes before it started)
    for event in yaml.parse(content, Loader=_PARSER):
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_YAML_ALIASES:
                raise error(f"{path} holds more than {MAX_YAML_ALIASES} YAML aliases (MAX_YAML_ALIASES)")
            nodes += anchored.get(event.anchor, 1)
        elif isinstance(event, yaml.ScalarEvent):
            nodes += 1
            if event.anchor is not None:
                anchored[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            open_collections.append((event.anchor, nodes))
            nodes += 1
            if len(open_collections) > MAX_YAML_DEPTH:
                raise error(f"{path} nests YAML collections deeper than {MAX_YAML_DEPTH} levels (MAX_YAML_DEPTH)")
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, before = open_collections.pop()
            if anchor is not None:
                anchored[anchor] = nodes - before
        if nodes > MAX_YAML_NODES:
            raise error(
                f"{path} expands to more than {MAX_YAML_NODES} YAML nodes once its aliases are expanded (MAX_YAML_NODES)"
            )


def read_yaml_file(path: str | Path, loader: type[DataLoader], error: ErrorClass) -> Any:
    """
    Read a YAML file within the limits, then build it with ``loader``.

    :param path: the file
    :param loader: :class:`DataLoader` or a subclass (with the tags a caller accepts)
    :param error: makes the error to raise for a file beyond a limit or with a duplicated key (the caller's own class)
    :return: the document
    :raises Exception: ``error``'s, naming the file and the limit, or the duplicated key
    :raises yaml.YAMLError: if it is not YAML, or has a tag ``loader`` does not build (``yaml.constructor.ConstructorError``)
    """
    content = read_bounded_bytes(path, error)
    check_yaml_events(content, path, error)
    try:
        return yaml.load(content, Loader=loader)
    except DuplicateKeyError as duplicate:
        raise error(f"{path}: {duplicate}: a key given twice is ambiguous (YAML keeps the last one silently)") from None
