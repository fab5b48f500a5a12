"""
The package's stand-ins for the functions RL Zoo's scripts call where RL Zoo offers no hook: the only place where
this package replaces code of RL Zoo (or of a library RL Zoo calls) at run time.

Where RL Zoo has a hook, the package uses it instead: ``rl_zoo3.ALGOS`` and the hyperparameter samplers are
registries (:mod:`sb3_cartdqn.zoo.registration`), ``ExperimentManager`` is subclassed
(:mod:`sb3_cartdqn.zoo.multi_seed`), a config file is passed with ``-conf``, flags through ``sys.argv``
(:mod:`sb3_cartdqn.zoo.process_state`).

Each adapter is an :class:`Adapter`: named for the function it stands in for, it says where the stand-in is set
(``places``), why, and which RL Zoo code it was written against (``watched``: tests/test_zoo_adapters.py records a
hash of that code's source and its signature, and fails when the installed RL Zoo changes it). It is installed one
way only, :meth:`Adapter.installed`: a context manager that sets the places for the block and restores them after
(an attribute that did not exist is removed again). The functions below (one per adapter, named after it) are
declared with :func:`stand_in_for`: each builds the stand-in, its docstring says what the stand-in does and why, and
calling it gives the context manager that installs the stand-in; the scripts' contexts in
:mod:`sb3_cartdqn.zoo.cli`, :mod:`~sb3_cartdqn.zoo.hub`, :mod:`~sb3_cartdqn.zoo.video` and
:mod:`~sb3_cartdqn.zoo.run_folder_checks` enter them. :data:`ADAPTERS` lists them all.
"""

import functools
import importlib
import inspect
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, ParamSpec

_Arguments = ParamSpec("_Arguments")

#: An attribute that did not exist before the block (removed again after it)
_ABSENT = object()


@dataclass(frozen=True)
class Adapter:
    """
    One stand-in for a function RL Zoo's scripts call.

    :param name: the function it stands in for, as RL Zoo's code calls it
    :param places: ``"module:attribute"`` where the stand-in is set for the block (every name the scripts read it by)
    :param watched: the code the stand-in is written against, re-checked when it changes: ``"module:qualname"`` for
        the function it stands in for, ``"module"`` for a whole RL Zoo script that calls it (its imports included)
    :param reason: why RL Zoo's own function does not do
    """

    name: str
    places: tuple[str, ...]
    watched: tuple[str, ...]
    reason: str

    @contextmanager
    def installed(self, stand_in: Any) -> Iterator[None]:
        """
        Within the block, every place of ``places`` is ``stand_in``; after it, each has its previous value again.

        :param stand_in: the replacement
        """
        modules = [(importlib.import_module(place.split(":")[0]), place.split(":")[1]) for place in self.places]
        previous = [getattr(module, attribute, _ABSENT) for module, attribute in modules]
        for module, attribute in modules:
            setattr(module, attribute, stand_in)
        try:
            yield
        finally:
            for (module, attribute), value in zip(modules, previous, strict=True):
                if value is _ABSENT:
                    delattr(module, attribute)
                else:
                    setattr(module, attribute, value)


#: Every adapter, in the order declared (tests/test_zoo_adapters.py checks each one's watched code)
ADAPTERS: tuple[Adapter, ...] = ()


def stand_in_for(
    name: str, *places: str, watched: tuple[str, ...]
) -> Callable[[Callable[_Arguments, Any]], Callable[_Arguments, AbstractContextManager[None]]]:
    """
    Declare an adapter (added to :data:`ADAPTERS`) by the function that builds its stand-in.

    The decorated function, called with the same arguments, returns a context manager that builds the stand-in and
    installs it for the block (where the function returns ``None``, nothing needs replacing and nothing is set). Its
    docstring says what the stand-in does, then, in a paragraph that starts with ``Why:``, why RL Zoo's function
    does not do: that paragraph is the adapter's ``reason``.

    :param name: as :class:`Adapter`
    :param places: as :class:`Adapter`
    :param watched: as :class:`Adapter`
    :return: the decorator
    """

    def declare(build: Callable[_Arguments, Any]) -> Callable[_Arguments, AbstractContextManager[None]]:
        global ADAPTERS
        paragraphs = inspect.cleandoc(build.__doc__ or "").split("\n\n")
        why = [paragraph for paragraph in paragraphs if paragraph.startswith("Why: ")]
        if len(why) != 1:
            raise ValueError(f"the stand-in for {name} must say in one docstring paragraph, 'Why: ...', why it is needed")
        adapter = Adapter(name, places, watched, " ".join(why[0].removeprefix("Why: ").split()))
        ADAPTERS = (*ADAPTERS, adapter)

        @functools.wraps(build)
        @contextmanager
        def installed(*args: _Arguments.args, **kwargs: _Arguments.kwargs) -> Iterator[None]:
            stand_in = build(*args, **kwargs)
            if stand_in is None:
                yield
                return
            with adapter.installed(stand_in):
                yield

        return installed

    return declare


@stand_in_for(
    "get_saved_hyperparams",
    "rl_zoo3.utils:get_saved_hyperparams",
    "rl_zoo3:get_saved_hyperparams",
    "rl_zoo3.enjoy:get_saved_hyperparams",
    watched=("rl_zoo3.utils:get_saved_hyperparams", "rl_zoo3.enjoy", "rl_zoo3.record_video", "rl_zoo3.push_to_hub"),
)
def get_saved_hyperparams(check: Callable[[str], None]) -> Callable[..., Any]:
    """
    Within the block, RL Zoo's ``get_saved_hyperparams(stats_path, ...)`` calls ``check(stats_path)`` before it reads
    the folder (``enjoy``, ``record_video``, ``push_to_hub``; a script run afresh as ``__main__`` imports it from
    ``rl_zoo3`` or ``rl_zoo3.utils``, so both are set, and ``rl_zoo3.enjoy``'s copy too).

    Why: RL Zoo reads a run folder's config.yml and args.yml (and evaluates parts of them) with no check first.

    :param check: raises if the stats folder must not be read
    """
    import rl_zoo3.utils

    original = rl_zoo3.utils.get_saved_hyperparams

    def checked(stats_path: str, *args: Any, **kwargs: Any) -> Any:
        check(stats_path)
        return original(stats_path, *args, **kwargs)

    return checked


@stand_in_for(
    "ExperimentManager",
    "rl_zoo3.exp_manager:ExperimentManager",
    watched=("rl_zoo3.exp_manager:ExperimentManager.__init__", "rl_zoo3.train"),
)
def experiment_manager(manager_class: type) -> type:
    """
    Within the block, RL Zoo's ``train`` builds ``manager_class`` (a subclass of its ``ExperimentManager``) instead of
    its own.

    Why: RL Zoo's train() builds its ExperimentManager itself: a subclass (the multi-seed objective) can only be
    passed where train() imports the class from.

    :param manager_class: the subclass, with the same constructor
    """
    from rl_zoo3.exp_manager import ExperimentManager

    if not issubclass(manager_class, ExperimentManager):
        raise TypeError(f"{manager_class} is not a subclass of RL Zoo's ExperimentManager")
    return manager_class


@stand_in_for(
    "generate_metadata",
    "huggingface_sb3.push_to_hub:generate_metadata",
    watched=("huggingface_sb3.push_to_hub:_generate_metadata", "rl_zoo3.push_to_hub"),
)
def generate_metadata() -> Callable[..., dict[str, Any]] | None:
    """
    Where ``huggingface_sb3.push_to_hub`` has ``_generate_metadata`` but no ``generate_metadata`` (the name RL Zoo's
    ``push_to_hub`` imports), the block has ``generate_metadata`` as the old function: the same tags and evaluation
    result, as a dict. Elsewhere nothing changes.

    Why: RL Zoo's push_to_hub imports huggingface_sb3's generate_metadata, which sb3-team-hf-integration 3.2 renamed
    _generate_metadata (returning a ModelCardData, not the dict RL Zoo writes).
    """
    # The module, not the function of the same name that the package exports
    hf_push = importlib.import_module("huggingface_sb3.push_to_hub")
    if hasattr(hf_push, "generate_metadata") or not hasattr(hf_push, "_generate_metadata"):
        return None

    def metadata_as_dict(model_name: str, env_id: str, mean_reward: float, std_reward: float) -> dict[str, Any]:
        metadata = hf_push._generate_metadata(model_name, env_id, mean_reward, std_reward)
        return metadata.to_dict() if hasattr(metadata, "to_dict") else dict(metadata)

    return metadata_as_dict


@stand_in_for(
    "load_from_hub",
    "huggingface_sb3:load_from_hub",
    watched=("huggingface_sb3.load_from_hub:load_from_hub", "rl_zoo3.load_from_hub"),
)
def load_from_hub(optional_files: tuple[str, ...]) -> Callable[[str, str], str]:
    """
    Within the block, huggingface_sb3's ``load_from_hub`` raises the Hub's "entry not found" for one of
    ``optional_files`` as ``requests``' ``HTTPError``, which RL Zoo's ``load_from_hub`` skips; a missing model or
    config, and a Hub that cannot be reached, still raise as before.

    Why: RL Zoo skips a missing optional file on requests' HTTPError; huggingface_hub 1.0 and later raise their own
    EntryNotFoundError.

    :param optional_files: files of a run that may be missing on the Hub
    """
    import huggingface_sb3
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError
    from requests.exceptions import HTTPError

    download = huggingface_sb3.load_from_hub

    def optional_files_skippable(repo_id: str, filename: str) -> str:
        try:
            return download(repo_id, filename)
        except EntryNotFoundError as error:
            if filename not in optional_files or isinstance(error, LocalEntryNotFoundError):
                raise
            raise HTTPError(f"{repo_id} has no {filename}") from error

    return optional_files_skippable


#: How RL Zoo's ``record_training`` starts ``record_video`` for each model (a bare ``python``, whichever is on PATH)
RECORD_VIDEO_CHILD = ["python", "-m", "rl_zoo3.record_video"]


@stand_in_for("subprocess.call", "subprocess:call", watched=("rl_zoo3.record_training",))
def subprocess_call() -> Callable[..., int]:
    """
    Within the block, ``subprocess.call(["python", "-m", "rl_zoo3.record_video", ...])`` (RL Zoo's
    ``record_training``, once per model) runs ``python -m sb3_cartdqn.zoo record_video ...`` with this interpreter
    instead, with the same flags; other calls are left alone.

    Why: RL Zoo's record_training records each model with a bare `python -m rl_zoo3.record_video`, in which cartdqn
    is not registered (and which may not be this environment's python).
    """
    call = subprocess.call

    def call_through_cartdqn_zoo(args: Any, *rest: Any, **kwargs: Any) -> int:
        if isinstance(args, list | tuple) and list(args[: len(RECORD_VIDEO_CHILD)]) == RECORD_VIDEO_CHILD:
            args = [sys.executable, "-m", "sb3_cartdqn.zoo", "record_video", *args[len(RECORD_VIDEO_CHILD) :]]
        return call(args, *rest, **kwargs)

    return call_through_cartdqn_zoo


@stand_in_for("pyplot.show", "matplotlib.pyplot:show", watched=("rl_zoo3.plots.plot_train",))
def pyplot_show() -> Callable[..., None]:
    """
    Within the block, ``matplotlib.pyplot.show()`` (the end of RL Zoo's ``plot_train``) does nothing.

    Why: RL Zoo's plot_train shows its figure at the end and cannot save it: the package draws several algorithms on
    one figure (one run of plot_train each) and shows or saves it once.
    """

    def show_later(*args: Any, **kwargs: Any) -> None:
        return None

    return show_later
