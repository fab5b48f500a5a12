"""
What the RL Zoo hook (:mod:`sb3_cartdqn.zoo.rl_zoo_hook`) runs at every start-up of Python: a ``sys.meta_path`` finder
that registers CartDQN the first time Python looks for one of RL Zoo's scripts. The ``.pth`` line runs this file by
path (``sb3_cartdqn`` itself imports torch), so it is short and imports only ``sys`` at top level.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at every start-up
if TYPE_CHECKING:
    from collections.abc import Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType

#: The module name this file runs under at start-up
STARTUP_NAME = "sb3_cartdqn_rl_zoo_startup"
#: RL Zoo's modules that build ``--algo`` choices from ``rl_zoo3.ALGOS`` (``rl_zoo3.cli``: the ``rl_zoo3`` command);
#: tests/test_zoo_rl_zoo_hook.py checks it against the installed RL Zoo and ``sb3_cartdqn.zoo.cli.SCRIPTS``
RL_ZOO_MODULES = frozenset(
    {
        "rl_zoo3.cli",
        "rl_zoo3.train",
        "rl_zoo3.enjoy",
        "rl_zoo3.record_video",
        "rl_zoo3.record_training",
        "rl_zoo3.push_to_hub",
        "rl_zoo3.load_from_hub",
    }
)


def runs_as_command(module: str) -> bool:
    """
    :param module: an RL Zoo module Python is looking for
    :return: whether this process runs it as its command (``python -m MODULE``, or the ``rl_zoo3`` command for
        ``rl_zoo3.cli``), so that ``sys.argv[1:]`` are its arguments; not when it is only imported
    """
    import os

    orig_argv = list(getattr(sys, "orig_argv", []))
    run_as_main = any(orig_argv[i : i + 2] == ["-m", module] for i in range(len(orig_argv)))
    return run_as_main or (module == "rl_zoo3.cli" and os.path.basename(sys.argv[0]).startswith("rl_zoo3"))


def _hook_broken(error: Exception) -> None:
    """
    A broken hook must not break RL Zoo for its other algorithms: warn (``cartdqn`` is then not registered).

    :param error: what went wrong
    """
    import warnings

    warnings.warn(
        f"sb3_cartdqn's RL Zoo hook could not register cartdqn ({type(error).__name__}: {error}). "
        "Remove the hook with `python -m sb3_cartdqn.zoo.rl_zoo_hook uninstall`.",
        stacklevel=3,
    )


class RegisterCartDQNFinder:
    """
    A ``sys.meta_path`` finder (``importlib.abc.MetaPathFinder``'s protocol, without importing it at start-up) that
    registers CartDQN and enters the script's checks the first time Python looks for one of :data:`RL_ZOO_MODULES`
    (:func:`sb3_cartdqn.zoo.cli.register_for_rl_zoo_module`, :func:`~sb3_cartdqn.zoo.cli.enter_rl_zoo_module_checks`);
    it finds no module itself. A file the checks refuse stops the process with the refusal's message.
    """

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> ModuleSpec | None:
        """
        :param fullname: the module Python is looking for
        :param path: the parent package's path (unused)
        :param target: the module being reloaded (unused)
        :return: ``None``: the usual finders find the module
        """
        if fullname in RL_ZOO_MODULES:
            if self in sys.meta_path:
                sys.meta_path.remove(self)
            try:
                from sb3_cartdqn.persistence.trust import ModelFileError
                from sb3_cartdqn.zoo.cli import enter_rl_zoo_module_checks, register_for_rl_zoo_module
            except Exception as error:
                _hook_broken(error)
                return None
            try:
                args = sys.argv[1:] if runs_as_command(fullname) else None
                register_for_rl_zoo_module(fullname, args)
                enter_rl_zoo_module_checks(fullname, args)
                if args is not None:
                    sys.argv[1:] = args
            except ModelFileError as error:  # a file the script would read is refused (the check said which)
                raise SystemExit(str(error)) from None
            except Exception as error:
                _hook_broken(error)
        return None


def install_finder() -> RegisterCartDQNFinder:
    """
    Put the finder first on ``sys.meta_path`` (once: a finder already there is kept).

    :return: the finder on ``sys.meta_path``
    """
    for finder in sys.meta_path:
        if type(finder).__name__ == RegisterCartDQNFinder.__name__:
            return finder  # type: ignore[return-value]
    finder = RegisterCartDQNFinder()
    sys.meta_path.insert(0, finder)
    return finder


if __name__ == STARTUP_NAME:
    install_finder()
