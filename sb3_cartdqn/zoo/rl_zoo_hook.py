"""
Opt-in: RL Zoo's own commands know ``cartdqn`` (``python -m rl_zoo3.train --algo cartdqn``, ``rl_zoo3.enjoy``,
``rl_zoo3.record_video``, ...), for users who never type ``python -m sb3_cartdqn.zoo``. RL Zoo reads no plugin entry
point for algorithms, so this uses Python's own start-up mechanism, a ``.pth`` file::

    python -m sb3_cartdqn.zoo.rl_zoo_hook install     # once per environment
    python -m sb3_cartdqn.zoo.rl_zoo_hook uninstall

``install`` writes ``sb3_cartdqn_rl_zoo_hook.pth`` into the environment's site-packages. Python's ``site`` runs its
one line at every start-up: it runs :mod:`sb3_cartdqn.zoo.rl_zoo_startup`, which only puts a finder on
``sys.meta_path``. The first time Python looks for one of RL Zoo's scripts (``python -m rl_zoo3.enjoy`` looks for
``rl_zoo3.enjoy`` before it runs it), the finder removes itself and calls
:func:`sb3_cartdqn.zoo.cli.register_for_rl_zoo_module`: CartDQN is registered for that script as ``python -m
sb3_cartdqn.zoo`` registers it (``train`` also gets the packaged ``cartdqn.yml``; ``enjoy``, ``record_video``
and ``push_to_hub`` a 1-slot buffer). RL Zoo's files are not changed.

The hook also enters the checks ``python -m sb3_cartdqn.zoo`` runs for that script, for every algorithm, for the
rest of the process: ``enjoy``, ``record_video`` and ``push_to_hub`` check the run folder and the model zip before
RL Zoo reads them, ``train`` its ``vecnormalize.pkl`` and ``-i`` agent, ``rl_zoo3 plot_from_file`` its pickles (see
:mod:`sb3_cartdqn.zoo.run_folder_checks`, :mod:`sb3_cartdqn.zoo.script_inputs`). ``--trust-code`` (taken out of the
arguments) or ``TRUST_REMOTE_CODE=True`` opts out, as with the package's command. Why checked rather than removed:
the hook is how ``rl_zoo3``'s own commands and ``record_training``'s ``python -m rl_zoo3.record_video`` children
know ``cartdqn``; with the checks, a run folder opened through RL Zoo's command is refused exactly as through the
package's, so installing the hook never opens a route the package closes. Where the checks cannot be entered,
``cartdqn`` is not registered. The only check left to the package's command is the one after ``load_from_hub``'s
download (it needs the end of the run): with the hook, the downloaded run is checked when a script opens it.
"""

import sysconfig
from collections.abc import Sequence
from pathlib import Path

from sb3_cartdqn.command_line import make_parser
from sb3_cartdqn.zoo import rl_zoo_startup

#: The file ``install`` writes into site-packages
PTH_NAME = "sb3_cartdqn_rl_zoo_hook.pth"


def site_packages() -> Path:
    """:return: this environment's site-packages (where ``install`` writes by default)"""
    return Path(sysconfig.get_paths()["purelib"])


def pth_line(startup_file: Path) -> str:
    """
    :param startup_file: the file to run at start-up (:mod:`sb3_cartdqn.zoo.rl_zoo_startup`)
    :return: the ``.pth`` line: run ``startup_file`` if it still exists (after ``pip uninstall`` the line does nothing)
    """
    return (
        f"import os; hook = {str(startup_file)!r}; os.path.isfile(hook) and exec(compile("
        f"__import__('pathlib').Path(hook).read_text(), hook, 'exec'), {{'__name__': {rl_zoo_startup.STARTUP_NAME!r}}})\n"
    )


def install(site_dir: Path | None = None) -> Path:
    """
    Write the ``.pth`` file that runs the hook at every start-up of this environment's Python.

    :param site_dir: the site-packages folder; by default this environment's
    :return: the file written
    """
    target = (site_dir or site_packages()) / PTH_NAME
    target.write_text(pth_line(Path(rl_zoo_startup.__file__).resolve()))
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
    parser = make_parser(
        "python -m sb3_cartdqn.zoo.rl_zoo_hook",
        (__doc__ or "").split("::")[0],
        ["python -m sb3_cartdqn.zoo.rl_zoo_hook install", "python -m sb3_cartdqn.zoo.rl_zoo_hook uninstall"],
    )
    parser.add_argument("action", choices=("install", "uninstall"), help="write or remove the hook's .pth file")
    parser.add_argument("--site-dir", type=Path, default=None, help=f"where to write {PTH_NAME} (default: {site_packages()})")
    args = parser.parse_args(argv)
    if args.action == "install":
        print(f"Wrote {install(args.site_dir)}: `python -m rl_zoo3.SCRIPT --algo cartdqn` now works in this environment")
    else:
        removed = uninstall(args.site_dir)
        print(f"Removed {removed}" if removed else f"No {PTH_NAME} in {args.site_dir or site_packages()}")


if __name__ == "__main__":
    main()
