"""
Opt-in: RL Zoo's own commands know ``cartdqn`` (``python -m rl_zoo3.train --algo cartdqn``, ``rl_zoo3.enjoy``,
``rl_zoo3.record_video``, ...), for users who never type ``python -m sb3_cartdqn.zoo``. RL Zoo has no plugin entry
point for algorithms, so this uses Python's own start-up mechanism::

    python -m sb3_cartdqn.zoo.rl_zoo_hook install     # once per environment
    python -m sb3_cartdqn.zoo.rl_zoo_hook uninstall

``install`` writes ``sb3_cartdqn_rl_zoo_hook.pth`` into the environment's site-packages. Python's ``site`` runs its
one line at every start-up: it runs this file, which only puts a finder on ``sys.meta_path`` (standard library only;
nothing else is imported). The first time Python looks for one of RL Zoo's scripts (:data:`RL_ZOO_MODULES`; ``python
-m rl_zoo3.enjoy`` looks for ``rl_zoo3.enjoy`` before it runs it), the finder removes itself and calls
:func:`sb3_cartdqn.zoo.cli.register_for_rl_zoo_module`: CartDQN is registered for that script as ``python -m
sb3_cartdqn.zoo`` registers it (``train`` also gets the packaged ``cartdqn.yml``; ``enjoy``, ``record_video``
and ``push_to_hub`` a 1-slot buffer). RL Zoo's files are not changed.
"""

import argparse
import importlib.abc
import sys
import sysconfig
import warnings
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

#: The file ``install`` writes into site-packages
PTH_NAME = "sb3_cartdqn_rl_zoo_hook.pth"
#: The module name this file runs under at start-up (not imported: ``sb3_cartdqn`` imports torch)
STARTUP_NAME = "sb3_cartdqn_rl_zoo_hook"
#: RL Zoo's modules that build ``--algo`` choices from ``rl_zoo3.ALGOS`` (``rl_zoo3.cli``: the ``rl_zoo3`` command);
#: tests/test_zoo_rl_zoo_hook.py checks it against ``sb3_cartdqn.zoo.cli.SCRIPTS``
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
    orig_argv = list(getattr(sys, "orig_argv", []))
    run_as_main = any(orig_argv[i : i + 2] == ["-m", module] for i in range(len(orig_argv)))
    return run_as_main or (module == "rl_zoo3.cli" and Path(sys.argv[0]).stem == "rl_zoo3")


class RegisterCartDQNFinder(importlib.abc.MetaPathFinder):
    """Registers CartDQN the first time Python looks for one of :data:`RL_ZOO_MODULES`; finds no module itself."""

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
                from sb3_cartdqn.zoo.cli import register_for_rl_zoo_module

                args = sys.argv[1:] if runs_as_command(fullname) else None
                register_for_rl_zoo_module(fullname, args)
                if args is not None:
                    sys.argv[1:] = args
            except Exception as error:  # a broken hook must not break RL Zoo for its other algorithms
                warnings.warn(
                    f"sb3_cartdqn's RL Zoo hook could not register cartdqn ({type(error).__name__}: {error}). "
                    "Remove the hook with `python -m sb3_cartdqn.zoo.rl_zoo_hook uninstall`.",
                    stacklevel=2,
                )
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


def site_packages() -> Path:
    """:return: this environment's site-packages (where ``install`` writes by default)"""
    return Path(sysconfig.get_paths()["purelib"])


def pth_line(hook_file: Path) -> str:
    """
    :param hook_file: this file
    :return: the ``.pth`` line: run ``hook_file`` at start-up if it still exists (after ``pip uninstall`` the line
        does nothing)
    """
    return (
        f"import os, runpy; hook = {str(hook_file)!r}; "
        f"os.path.isfile(hook) and runpy.run_path(hook, run_name={STARTUP_NAME!r})\n"
    )


def install(site_dir: Path | None = None) -> Path:
    """
    Write the ``.pth`` file that runs this hook at every start-up of this environment's Python.

    :param site_dir: the site-packages folder; by default this environment's
    :return: the file written
    """
    target = (site_dir or site_packages()) / PTH_NAME
    target.write_text(pth_line(Path(__file__).resolve()))
    return target


def uninstall(site_dir: Path | None = None) -> Path | None:
    """
    Remove the ``.pth`` file ``install`` wrote.

    :param site_dir: the site-packages folder; by default this environment's
    :return: the file removed, or ``None`` where there was none
    """
    target = (site_dir or site_packages()) / PTH_NAME
    if not target.is_file():
        return None
    target.unlink()
    return target


def main(argv: Sequence[str] | None = None) -> None:
    """
    ``python -m sb3_cartdqn.zoo.rl_zoo_hook {install,uninstall} [--site-dir DIR]``.

    :param argv: the arguments; ``None`` reads the command line
    """
    parser = argparse.ArgumentParser("python -m sb3_cartdqn.zoo.rl_zoo_hook", description=__doc__.split("::")[0])
    parser.add_argument("action", choices=("install", "uninstall"))
    parser.add_argument("--site-dir", type=Path, default=None, help=f"where to write {PTH_NAME} (default: {site_packages()})")
    args = parser.parse_args(argv)
    if args.action == "install":
        print(f"Wrote {install(args.site_dir)}: `python -m rl_zoo3.SCRIPT --algo cartdqn` now works in this environment")
    else:
        removed = uninstall(args.site_dir)
        print(f"Removed {removed}" if removed else f"No {PTH_NAME} in {args.site_dir or site_packages()}")


if __name__ == STARTUP_NAME:
    install_finder()
elif __name__ == "__main__":
    main()
