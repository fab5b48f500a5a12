"""
RL Zoo's command line with CartDQN registered: ``python -m sb3_cartdqn.zoo SCRIPT [RL Zoo's flags]``.

``SCRIPT`` is one of RL Zoo's own scripts that take ``--algo`` (:data:`SCRIPTS`); each runs as ``python -m
rl_zoo3.SCRIPT`` would, every flag unchanged, after one registration step (:meth:`ZooScript.run`) and with what the
table lists for it:

- ``train --algo cartdqn`` reads ``hyperparams/cartdqn.yml`` (shipped in this package) unless ``-conf`` is given;
- ``enjoy``, ``record_video`` and ``push_to_hub`` load a ``cartdqn`` model with a 1-slot replay buffer, as RL Zoo
  does for ``dqn``;
- ``record_training`` records each checkpoint through this command (so ``cartdqn`` is registered there too), and
  ``record_training``/``push_to_hub`` get imageio-ffmpeg's ``ffmpeg`` where none is on PATH;
- ``push_to_hub``/``load_from_hub`` stop with a clear message without a token or a reachable Hub, and a downloaded
  run is checked (:func:`sb3_cartdqn.zoo.hub.check_downloaded_run`);
- ``plot_train`` takes several algorithms (``-a cartdqn dqn``), draws them on one figure with the algorithm in each
  label, and ``-o FILE`` saves that figure (RL Zoo's ``plot_train`` can only show it).

Every file a script would unpickle, evaluate or import from is checked first (each script's ``checks``): the run
folder and model zip of ``enjoy``, ``record_video`` and ``push_to_hub`` (:mod:`~sb3_cartdqn.zoo.run_folder_checks`),
a downloaded run, ``plot_from_file``'s pickles and ``train``'s ``vecnormalize.pkl`` and ``-i`` agent
(:mod:`~sb3_cartdqn.zoo.script_inputs`). ``--trust-code`` (or ``TRUST_REMOTE_CODE=True``) opts out. The RL Zoo hook
(:mod:`~sb3_cartdqn.zoo.rl_zoo_hook`) enters the same checks (:func:`enter_rl_zoo_module_checks`).
"""

import argparse
import functools
import os
import runpy
import sys
import warnings
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rl_zoo3 import ALGOS

from sb3_cartdqn.command_line import make_parser, unknown_choice
from sb3_cartdqn.persistence.trust import TRUST_ENV_VAR
from sb3_cartdqn.presets import COMPARISON_SEEDS, FAST_PRESET_SEEDS, FAST_VERIFICATION_SEEDS, VERIFICATION_SEEDS
from sb3_cartdqn.zoo import adapters, hub, script_inputs, video
from sb3_cartdqn.zoo.objectives import OBJECTIVES, objective_manager
from sb3_cartdqn.zoo.process_state import argv_set
from sb3_cartdqn.zoo.registration import ALGO_NAME, default_config_path, one_slot_buffer_on_load, register_cartdqn
from sb3_cartdqn.zoo.run_folder_checks import checked_rl_zoo_enjoy

#: A context the script runs in, made from the script's arguments
ScriptContext = Callable[[Sequence[str]], AbstractContextManager[object]]
#: Runs the RL Zoo module with the given arguments
ModuleRunner = Callable[[Sequence[str]], None]


def with_default_config(argv: Sequence[str]) -> list[str]:
    """
    Add ``--conf-file hyperparams/cartdqn.yml`` (the packaged file) to ``train`` arguments for ``--algo cartdqn``
    when they give no config file: RL Zoo would look for ``cartdqn.yml`` inside its own package.

    :param argv: ``train``'s arguments
    :return: the arguments, with the default config file where needed
    """
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--algo", default="ppo")
    parser.add_argument("-conf", "--conf-file", default=None)
    known, _ = parser.parse_known_args(list(argv))
    argv = list(argv)
    if known.algo == ALGO_NAME and known.conf_file is None:
        argv += ["--conf-file", str(default_config_path())]
    return argv


def train_arguments(argv: Sequence[str]) -> list[str]:
    """
    :param argv: ``train``'s arguments
    :return: them without ``--trust-code`` (:func:`with_trust_flag`) and with the default config file
        (:func:`with_default_config`)
    """
    return with_default_config(with_trust_flag(argv))


def run_rl_zoo_module(module: str, prog: str, argv: Sequence[str]) -> None:
    """
    Run one of RL Zoo's scripts as ``python -m MODULE`` would (its ``__main__`` block), with ``argv`` as its command
    line. ``sys.argv[0]`` is ``prog``, which its ``--help`` shows.

    :param module: the RL Zoo module, e.g. ``rl_zoo3.record_video``
    :param prog: program name shown in its help
    :param argv: its arguments
    """
    with argv_set([prog, *argv]), warnings.catch_warnings():
        # rl_zoo3.plots imports its scripts: runpy warns that it runs an imported module's code again, which is what
        # `python -m rl_zoo3.plots.plot_train` does too (in a fresh namespace; harmless)
        warnings.filterwarnings("ignore", message=".*found in sys.modules after import of package", category=RuntimeWarning)
        runpy.run_module(module, run_name="__main__", alter_sys=False)


def multi_algo_plot_train(run: ModuleRunner, argv: Sequence[str]) -> None:
    """
    RL Zoo's ``plot_train`` for one or several algorithms on one figure, optionally saved with ``-o FILE``.

    :param run: runs RL Zoo's ``plot_train`` with the arguments it is given
    :param argv: RL Zoo ``plot_train`` arguments; ``-a`` may name several algorithms, ``-o/--output`` saves the figure
    """
    import matplotlib.pyplot as plt

    known, rest = plot_train_flags().parse_known_args(list(argv))
    if not known.algo or "-h" in rest or "--help" in rest:
        run(argv)
        return
    # RL Zoo's plot_train draws on a figure named after the y-axis: each call adds its curves to the same one
    labelled: set[object] = set()
    with adapters.pyplot_show():
        for algo in known.algo:
            run(["-a", algo, *rest])
            axes = plt.gca()
            for line in axes.get_lines():
                if line not in labelled:
                    line.set_label(f"{algo} {line.get_label()}")
                    labelled.add(line)
            axes.legend()
    figure = plt.gcf()
    if known.output is not None:
        Path(known.output).parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(known.output, dpi=120)
        print(f"Saved {known.output}")
    else:
        plt.show()


def with_trust_flag(argv: Sequence[str]) -> list[str]:
    """
    Take this package's ``--trust-code`` flag out of the arguments (RL Zoo does not know it) and turn it into the
    one opt-in every loader reads, ``TRUST_REMOTE_CODE=True``, for this process.

    :param argv: the script's arguments
    :return: the arguments without ``--trust-code``
    """
    if "--trust-code" in argv:
        os.environ[TRUST_ENV_VAR] = "True"
    return [arg for arg in argv if arg != "--trust-code"]


def enjoy_run_checked(argv: Sequence[str]) -> AbstractContextManager[None]:
    """
    :param argv: ``enjoy``'s arguments
    :return: the block in which RL Zoo's ``enjoy``, ``record_video`` and ``push_to_hub`` check the run folder before
        reading it (``run_folder_checks``)
    """
    return checked_rl_zoo_enjoy(None)


def trust_flag() -> argparse.ArgumentParser:
    """:return: the package's ``--trust-code`` flag, for the help of the scripts that take it"""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument(
        "--trust-code",
        action="store_true",
        help=f"open files that can run code (pickles, Python tags, classes outside the allow-list); same as "
        f"{TRUST_ENV_VAR}=True. Without it, such files are refused before anything runs",
    )
    return parser


def multi_seed_flags() -> argparse.ArgumentParser:
    """:return: the multi-seed objective's flags of ``train`` (see :func:`split_trial_seeds`)"""
    parser = argparse.ArgumentParser(add_help=False, parents=[trust_flag()])
    parser.add_argument(
        "--trial-seeds", type=int, nargs="+", default=None, help="with -optimize: score each trial on these seeds"
    )
    parser.add_argument(
        "--solved-threshold", type=float, default=None, help="mean return counted as solved (default: the env's)"
    )
    parser.add_argument(
        "--last-evaluations", type=int, default=None, help="score a seed by the smallest of its last K evaluations"
    )
    parser.add_argument("--batch-seeds", action="store_true", help="train a trial's seeds together (BatchedCartDQN)")
    parser.add_argument(
        "--objective",
        choices=OBJECTIVES,
        default=None,
        help="what a trial is scored on (default: the final greedy return; see sb3_cartdqn.zoo.objectives)",
    )
    return parser


def plot_train_flags() -> argparse.ArgumentParser:
    """:return: what the package adds to RL Zoo's ``plot_train`` (see :func:`multi_algo_plot_train`)"""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("-a", "--algo", nargs="+", default=None, help="one or several algorithms, on one figure")
    parser.add_argument("-o", "--output", default=None, help="save the figure to this file instead of showing it")
    return parser


def split_trial_seeds(argv: Sequence[str]) -> tuple[dict[str, Any] | None, list[str]]:
    """
    Take the multi-seed objective's flags out of ``train``'s arguments and check them:

    - ``--trial-seeds S1 S2 ...``: the seeds each trial trains on; they must not be seeds kept for checking results
      (verification and comparison seeds); needs ``-optimize``;
    - ``--solved-threshold R``: the mean return that counts as solved (default: the env's registered reward_threshold);
    - ``--last-evaluations K``: a seed's score is the smallest of its last K evaluations (default 1: the final one);
    - ``--batch-seeds``: train each trial's seeds together in one process (``BatchedCartDQN``);
    - ``--objective NAME``: ``robustness`` (default, ``MultiSeedExperimentManager``), ``sustained-seconds`` or
      ``settled-seconds`` (time to a sustained solve, ``sb3_cartdqn.zoo.sustained_solve``).

    With them, ``--num-threads 1`` is added unless a thread count is given (study workers share the cores).

    :param argv: ``train``'s arguments
    :return: ``MultiSeedExperimentManager.configured``'s keyword arguments (``None`` without ``--trial-seeds``) and
        the arguments for RL Zoo
    """
    known, rest = multi_seed_flags().parse_known_args(list(argv))
    if known.trial_seeds is None:
        if known.solved_threshold is not None or known.last_evaluations is not None or known.batch_seeds or known.objective:
            raise SystemExit(
                "--solved-threshold, --last-evaluations, --batch-seeds and --objective belong to the multi-seed objective: "
                "add --trial-seeds S1 S2 ..."
            )
        return None, rest
    if not {"-optimize", "--optimize-hyperparameters"} & set(rest):
        raise SystemExit("--trial-seeds scores Optuna trials: add -optimize (and --n-trials, --storage, ...)")
    held_out = sorted(
        set(known.trial_seeds) & {*VERIFICATION_SEEDS, *COMPARISON_SEEDS, *FAST_VERIFICATION_SEEDS, *FAST_PRESET_SEEDS}
    )
    if held_out:
        raise SystemExit(
            f"--trial-seeds {held_out} are held out (verification seeds {VERIFICATION_SEEDS[0]}-{VERIFICATION_SEEDS[-1]}, "
            f"comparison seeds {COMPARISON_SEEDS[0]}-{COMPARISON_SEEDS[-1]}, fast-study verification seeds "
            f"{FAST_VERIFICATION_SEEDS[0]}-{FAST_VERIFICATION_SEEDS[-1]}, fast preset verification seeds "
            f"{FAST_PRESET_SEEDS[0]}-{FAST_PRESET_SEEDS[-1]}): tune on other seeds, e.g. 1000 1001 1002"
        )
    if not any(arg.startswith("--num-threads") for arg in rest):
        rest += ["--num-threads", "1"]
    settings: dict[str, Any] = {"trial_seeds": tuple(known.trial_seeds)}
    if known.solved_threshold is not None:
        settings["solved_threshold"] = known.solved_threshold
    if known.last_evaluations is not None:
        settings["last_evaluations"] = known.last_evaluations
    if known.batch_seeds:
        settings["batch_seeds"] = True
    if known.objective is not None:
        settings["objective"] = known.objective
    return settings, rest


def train_with_trial_seeds(run: ModuleRunner, argv: Sequence[str]) -> None:
    """
    RL Zoo's ``train``; with ``--trial-seeds``, ``-optimize`` scores each trial on those seeds
    (``MultiSeedExperimentManager`` stands in for RL Zoo's ``ExperimentManager`` during the run: the adapter
    :func:`sb3_cartdqn.zoo.adapters.experiment_manager`).

    :param run: runs RL Zoo's ``train`` module with the given arguments
    :param argv: ``train``'s arguments, and optionally the multi-seed objective's (see :func:`split_trial_seeds`)
    """
    settings, rest = split_trial_seeds(argv)
    if settings is None:
        run(rest)
        return
    with adapters.experiment_manager(objective_manager(settings)):
        run(rest)


@dataclass(frozen=True)
class ZooScript:
    """
    One of RL Zoo's scripts, as ``python -m sb3_cartdqn.zoo NAME`` runs it.

    :param module: the RL Zoo module run as ``__main__``
    :param summary: one line for the usage message
    :param loads_model: the script only loads a model to run it: a ``cartdqn`` model loads with a 1-slot replay
        buffer (RL Zoo does so for the names in its hard-coded list of off-policy algorithms)
    :param prepare: rewrites the arguments before the run (``train``: the packaged config file; ``--trust-code``)
    :param checks: entered first, in order, around the run, each made from the (prepared) arguments: the checks of
        the files the script would unpickle, evaluate or import from (the RL Zoo hook enters them too)
    :param contexts: entered next, in order, around the run, each made from the (prepared) arguments
    :param driver: runs the module itself, given a runner and the arguments (``plot_train``: once per algorithm);
        by default the module runs once
    :param flags: the flags this package adds to the script, for its ``--help``
    :param help_contexts: what ``--help`` needs around RL Zoo's help (none of the checks, tokens or network)
    :param examples: command lines for its ``--help``
    """

    module: str
    summary: str
    loads_model: bool = False
    prepare: Callable[[Sequence[str]], list[str]] = list
    checks: tuple[ScriptContext, ...] = field(default=())
    contexts: tuple[ScriptContext, ...] = field(default=())
    driver: Callable[[ModuleRunner, Sequence[str]], None] | None = None
    flags: Callable[[], argparse.ArgumentParser] | None = None
    help_contexts: tuple[ScriptContext, ...] = field(default=())
    examples: tuple[str, ...] = ()

    def help(self, name: str) -> None:
        """
        Print what the package adds to the script (its flags, examples), then RL Zoo's own help of the script, with
        CartDQN registered: no check, token, network or run folder needed.

        :param name: the script's name
        """
        register_cartdqn()
        prog = f"python -m sb3_cartdqn.zoo {name}"
        print(f"{prog}: {self.summary}\nRL Zoo's `python -m {self.module}`, with the `cartdqn` algorithm registered.\n")
        if self.flags is not None:
            added = make_parser(prog, None, (), add_help=False, description="")
            for action in self.flags()._actions:
                added._add_action(action)
            print("flags this package adds:")
            print(added.format_help().split("options:", 1)[-1].split("\n", 1)[-1].rstrip() + "\n")
        if self.examples:
            print("examples:\n" + "\n".join(f"  {example}" for example in self.examples) + "\n")
        print("RL Zoo's flags:")
        with ExitStack() as stack:
            for context in self.help_contexts:
                stack.enter_context(context(["--help"]))
            try:
                run_rl_zoo_module(self.module, prog, ["--help"])
            except SystemExit as done:
                if done.code not in (0, None):
                    raise

    def run(self, name: str, argv: Sequence[str]) -> None:
        """
        Register CartDQN, then run the script with ``argv`` inside its contexts (``-h``/``--help``: :meth:`help`).

        :param name: the script's name (for its help)
        :param argv: its arguments
        """
        if "-h" in argv or "--help" in argv:
            self.help(name)
            return
        register_cartdqn()
        argv = self.prepare(argv)
        runner: ModuleRunner = functools.partial(run_rl_zoo_module, self.module, f"python -m sb3_cartdqn.zoo {name}")
        with ExitStack() as stack:
            if self.loads_model:
                stack.enter_context(one_slot_buffer_on_load())
            for context in (*self.checks, *self.contexts):
                stack.enter_context(context(argv))
            if self.driver is None:
                runner(argv)
            else:
                self.driver(runner, argv)


def trust_code_script(module: str, summary: str, *checks: ScriptContext, **more: Any) -> ZooScript:
    """
    A script that reads files which could run code, checked first unless ``--trust-code`` is given: the flag is in
    its ``--help``, taken out of the arguments before RL Zoo reads them, and passed to the checks.

    :param module: as :class:`ZooScript`
    :param summary: as :class:`ZooScript`
    :param checks: as :class:`ZooScript`
    :param more: the rest of :class:`ZooScript`'s fields
    :return: the script
    """
    return ZooScript(module, summary, prepare=with_trust_flag, checks=checks, flags=trust_flag, **more)


def run_folder_script(module: str, summary: str, **more: Any) -> ZooScript:
    """
    A script that loads a trained agent from a run folder (``enjoy``, ``record_video``, ``push_to_hub``): the run
    folder is checked first (:func:`trust_code_script`), and a ``cartdqn`` model loads with a 1-slot replay buffer.

    :param module: as :class:`ZooScript`
    :param summary: as :class:`ZooScript`
    :param more: the rest of :class:`ZooScript`'s fields
    :return: the script
    """
    return trust_code_script(module, summary, enjoy_run_checked, loads_model=True, **more)


#: Every RL Zoo script that takes ``--algo``, and the plot scripts that read what ``train`` writes
SCRIPTS: dict[str, ZooScript] = {
    "train": ZooScript(
        "rl_zoo3.train",
        "train, -optimize (--trial-seeds: multi-seed objective), --trial-id",
        prepare=train_arguments,
        checks=(script_inputs.trained_agent_checked,),
        driver=train_with_trial_seeds,
        flags=multi_seed_flags,
        examples=(
            "python -m sb3_cartdqn.zoo train --algo cartdqn --env CartPole-v1",
            "python -m sb3_cartdqn.zoo train --algo cartdqn --env CartPole-v1 -conf hyperparams/cartdqn_robust.yml",
            "python -m sb3_cartdqn.zoo train --algo cartdqn --env CartPole-v1 -optimize --n-trials 20 "
            "--trial-seeds 1000 1001 1002 --storage sqlite:///study.db --study-name demo",
        ),
    ),
    "enjoy": run_folder_script(
        "rl_zoo3.enjoy",
        "run a trained agent (run folder checked first; --trust-code opts out)",
        examples=("python -m sb3_cartdqn.zoo enjoy --algo cartdqn --env CartPole-v1 -f logs/ --exp-id 1 -n 1000",),
    ),
    "record_video": run_folder_script(
        "rl_zoo3.record_video",
        "mp4 of a trained agent (run folder checked first; --trust-code opts out)",
        examples=("python -m sb3_cartdqn.zoo record_video --algo cartdqn --env CartPole-v1 -f logs/ -n 500",),
    ),
    "record_training": ZooScript(
        "rl_zoo3.record_training",
        "mp4 (--gif) of every checkpoint",
        contexts=(video.training_video_checked, video.ffmpeg_on_path, video.record_video_children_registered),
        examples=("python -m sb3_cartdqn.zoo record_training --algo cartdqn --env CartPole-v1 -f logs/ -n 500 --gif",),
    ),
    "push_to_hub": run_folder_script(
        "rl_zoo3.push_to_hub",
        "evaluate, record, upload to the Hugging Face Hub",
        contexts=(
            hub.hub_token_required,
            hub.hub_errors_explained,
            hub.model_card_metadata_available,
            video.ffmpeg_on_path,
        ),
        help_contexts=(hub.model_card_metadata_available,),
        examples=(
            "python -m sb3_cartdqn.zoo push_to_hub --algo cartdqn --env CartPole-v1 -f logs/ "
            "--repo-name cartdqn-CartPole-v1 -orga YOUR_NAME -m 'CartDQN on CartPole'",
        ),
    ),
    "load_from_hub": trust_code_script(
        "rl_zoo3.load_from_hub",
        "download a run from the Hugging Face Hub (then checked; --trust-code opts out)",
        contexts=hub.DOWNLOAD_CONTEXTS,
        examples=("python -m sb3_cartdqn.zoo load_from_hub --algo cartdqn --env CartPole-v1 -orga YOUR_NAME -f logs/",),
    ),
    "plot_train": ZooScript(
        "rl_zoo3.plots.plot_train",
        "training curves",
        driver=multi_algo_plot_train,
        flags=plot_train_flags,
        examples=("python -m sb3_cartdqn.zoo plot_train -a cartdqn dqn -e CartPole-v1 -f logs/ -o curves.png",),
    ),
    "plot_from_file": trust_code_script(
        "rl_zoo3.plots.plot_from_file",
        "draw what all_plots -o saved (a pickle: needs --trust-code)",
        script_inputs.plot_pickles_checked,
        examples=("python -m sb3_cartdqn.zoo plot_from_file -i results.pkl --trust-code",),
    ),
    "all_plots": ZooScript(
        "rl_zoo3.plots.all_plots",
        "evaluation curves of several algorithms",
        examples=("python -m sb3_cartdqn.zoo all_plots -a cartdqn dqn -e CartPole-v1 -f logs/ -o results",),
    ),
}

#: The checks the RL Zoo hook entered for this process's script (open until the process ends)
_HOOK_CHECKS = ExitStack()


def script_for_rl_zoo_module(module: str, argv: list[str] | None) -> tuple[ZooScript | None, list[str] | None]:
    """
    :param module: an RL Zoo module about to run, e.g. ``rl_zoo3.enjoy``; ``rl_zoo3.cli`` (the ``rl_zoo3`` command)
        takes the script's name as its first argument
    :param argv: the arguments it runs with (``None`` where it is imported, not run)
    :return: the script of :data:`SCRIPTS` it runs, and that script's arguments (``None`` where there is none)
    """
    if argv is None:
        return None, None
    if module == "rl_zoo3.cli":
        return (SCRIPTS.get(argv[0]), argv[1:]) if argv else (None, None)
    return next((s for s in SCRIPTS.values() if s.module == module), None), argv


def register_for_rl_zoo_module(module: str, argv: list[str] | None = None) -> None:
    """
    What ``python -m sb3_cartdqn.zoo SCRIPT`` does before it runs RL Zoo's module, done for RL Zoo's own command
    (:mod:`sb3_cartdqn.zoo.rl_zoo_hook` calls it, then :func:`enter_rl_zoo_module_checks`): register CartDQN (as a
    1-slot buffer loader for the scripts that only run a model) and rewrite the script's arguments in place
    (``train``: the packaged config file; ``--trust-code`` taken out and turned into ``TRUST_REMOTE_CODE=True``).
    The contexts of :data:`SCRIPTS` (ffmpeg, ``record_training``'s children, Hub messages) are the package command's.

    :param module: the RL Zoo module about to run, e.g. ``rl_zoo3.enjoy``; ``rl_zoo3.cli`` (the ``rl_zoo3`` command)
        takes the script's name as its first argument
    :param argv: the arguments it runs with, changed in place; ``None`` where the module is imported, not run (then
        an existing registration is kept: ``python -m sb3_cartdqn.zoo enjoy`` registers its 1-slot loader first)
    """
    script, args = script_for_rl_zoo_module(module, argv)
    if script is None or argv is None or args is None:
        # Imported, not run: register unless done already (python -m sb3_cartdqn.zoo registers before it imports)
        if ALGO_NAME not in ALGOS:
            register_cartdqn()
        return
    register_cartdqn(one_slot_buffer=script.loads_model)
    argv[len(argv) - len(args) :] = script.prepare(args)


def enter_rl_zoo_module_checks(module: str, argv: list[str] | None) -> None:
    """
    Enter, for the rest of the process, the checks ``python -m sb3_cartdqn.zoo`` runs around RL Zoo's module
    (the ``checks`` of :class:`ZooScript`), so that RL Zoo's own command refuses what the package's refuses (the RL Zoo hook
    calls it after :func:`register_for_rl_zoo_module`). The check after ``load_from_hub``'s download needs the end
    of the run, so it stays the package command's: with the hook, a downloaded run is checked when a script opens it.

    :param module: the RL Zoo module about to run
    :param argv: its arguments, as :func:`register_for_rl_zoo_module` left them (``None``: imported, not run)
    :raises UntrustedFileError: if a file the script would read is refused (``plot_from_file``'s, ``train``'s);
        ``cartdqn`` is then unregistered, as it is where the checks cannot be entered for another reason
    """
    script, args = script_for_rl_zoo_module(module, argv)
    if script is None or args is None:
        return
    try:
        for check in script.checks:
            _HOOK_CHECKS.enter_context(check(args))
    except BaseException:
        ALGOS.pop(ALGO_NAME, None)
        raise


def usage() -> str:
    """:return: the usage message, listing every script"""
    lines = [f"  {name:<16} {script.summary} (python -m {script.module})" for name, script in SCRIPTS.items()]
    return (
        "usage: python -m sb3_cartdqn.zoo SCRIPT [flags]   (SCRIPT --help: its flags)\n\nscripts:\n"
        + "\n".join(lines)
        + "\n\nexample:\n  python -m sb3_cartdqn.zoo train --algo cartdqn --env CartPole-v1"
    )


def main(argv: Sequence[str] | None = None) -> None:
    """
    Entry point of ``python -m sb3_cartdqn.zoo``.

    :param argv: ``SCRIPT [flags]``; ``None`` reads the command line
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[:1] in (["-h"], ["--help"]):
        print(usage())
        return
    if argv[0] not in SCRIPTS:
        raise SystemExit(f"{unknown_choice('script', argv[0], list(SCRIPTS))}\n\n{usage()}")
    SCRIPTS[argv[0]].run(argv[0], argv[1:])
