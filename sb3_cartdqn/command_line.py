"""
How the package's commands parse their arguments and answer ``--help``: one parser factory, so that every command's
help shows how to call it (``python -m ...``, not ``__main__.py``), each flag's default, and an example, in plain
terminal text (the docstrings' reStructuredText literals without their double backticks).
"""

import argparse
import difflib
import re
import textwrap
from collections.abc import Sequence


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """
    The description and epilog as written (line breaks kept), each flag's default after its help: unless the help
    already says it, or there is none to say (``None``, a ``store_true`` flag's ``False``).
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        help_text = action.help or ""
        if "default" in help_text or any(action.default is none for none in (None, False, argparse.SUPPRESS)):
            return help_text
        return super()._get_help_string(action)


def terminal_text(text: str | None) -> str:
    """
    :param text: a docstring (reStructuredText)
    :return: the same text for a terminal: dedented, literals without their double backticks, ``::`` as ``:``
    """
    text = textwrap.dedent(text or "").strip()
    text = re.sub(r"``([^`]+)``", r"\1", text)
    return re.sub(r"::\n", ":\n", text)


def make_parser(
    prog: str, doc: str | None, examples: Sequence[str], add_help: bool = True, description: str | None = None
) -> argparse.ArgumentParser:
    """
    :param prog: how the command is called, e.g. ``python -m sb3_cartdqn.main``
    :param doc: the module docstring to show as the description
    :param examples: command lines shown under "examples" at the end of the help
    :param add_help: whether ``-h/--help`` is added (``False`` for parsers that pass unknown flags on)
    :param description: text to show instead of ``doc``
    :return: the parser
    """
    epilog = "examples:\n" + "\n".join(f"  {example}" for example in examples) if examples else None
    return argparse.ArgumentParser(
        prog=prog,
        description=description if description is not None else terminal_text(doc),
        epilog=epilog,
        formatter_class=HelpFormatter,
        add_help=add_help,
    )


def unknown_choice(kind: str, name: str, choices: Sequence[str]) -> str:
    """
    :param kind: what was asked for (``subcommand``)
    :param name: what the user typed
    :param choices: what exists
    :return: an error naming the choices, with a "did you mean" for a close one
    """
    close = difflib.get_close_matches(name, choices, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"unknown {kind} {name!r}.{hint} Choose one of: {', '.join(choices)}."
