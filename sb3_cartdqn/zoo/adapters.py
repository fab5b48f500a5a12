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
(an attribute that did not exist is removed again). The functions below (one per adapter, named after it) build the
stand-in and install it; the scripts' contexts in :mod:`sb3_cartdqn.zoo.cli`, :mod:`~sb3_cartdqn.zoo.hub`,
:mod:`~sb3_cartdqn.zoo.video` and :mod:`~sb3_cartdqn.zoo.run_folder_checks` enter them.
"""

import importlib
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

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


GET_SAVED_HYPERPARAMS = Adapter(
    name="get_saved_hyperparams",
    places=("rl_zoo3.utils:get_saved_hyperparams", "rl_zoo3:get_saved_hyperparams", "rl_zoo3.enjoy:get_saved_hyperparams"),
    watched=("rl_zoo3.utils:get_saved_hyperparams", "rl_zoo3.enjoy", "rl_zoo3.record_video", "rl_zoo3.push_to_hub"),
    reason="RL Zoo reads a run folder's config.yml and args.yml (and evaluates parts of them) with no check first",
)
EXPERIMENT_MANAGER = Adapter(
    name="ExperimentManager",
    places=("rl_zoo3.exp_manager:ExperimentManager",),
    watched=("rl_zoo3.exp_manager:ExperimentManager.__init__", "rl_zoo3.train"),
    reason="RL Zoo's train() builds its ExperimentManager itself: a subclass (the multi-seed objective) can only be "
    "passed where train() imports the class from",
)
GENERATE_METADATA = Adapter(
    name="generate_metadata",
    places=("huggingface_sb3.push_to_hub:generate_metadata",),
    watched=("huggingface_sb3.push_to_hub:_generate_metadata", "rl_zoo3.push_to_hub"),
    reason="RL Zoo's push_to_hub imports huggingface_sb3's generate_metadata, which sb3-team-hf-integration 3.2 "
    "renamed _generate_metadata (returning a ModelCardData, not the dict RL Zoo writes)",
)
LOAD_FROM_HUB = Adapter(
    name="load_from_hub",
    places=("huggingface_sb3:load_from_hub",),
    watched=("huggingface_sb3.load_from_hub:load_from_hub", "rl_zoo3.load_from_hub"),
    reason="RL Zoo skips a missing optional file on requests' HTTPError; huggingface_hub 1.0 and later raise their own "
    "EntryNotFoundError",
)
SUBPROCESS_CALL = Adapter(
    name="subprocess.call",
    places=("subprocess:call",),
    watched=("rl_zoo3.record_training",),
    reason="RL Zoo's record_training records each model with a bare `python -m rl_zoo3.record_video`, in which "
    "cartdqn is not registered (and which may not be this environment's python)",
)
PYPLOT_SHOW = Adapter(
    name="pyplot.show",
    places=("matplotlib.pyplot:show",),
    watched=("rl_zoo3.plots.plot_train",),
    reason="RL Zoo's plot_train shows its figure at the end and cannot save it: the package draws several algorithms "
    "on one figure (one run of plot_train each) and shows or saves it once",
)
#: Every adapter (tests/test_zoo_adapters.py checks each one's watched code)
ADAPTERS = (GET_SAVED_HYPERPARAMS, EXPERIMENT_MANAGER, GENERATE_METADATA, LOAD_FROM_HUB, SUBPROCESS_CALL, PYPLOT_SHOW)


@contextmanager
def get_saved_hyperparams(check: Callable[[str], None]) -> Iterator[None]:
    """
    Within the block, RL Zoo's ``get_saved_hyperparams(stats_path, ...)`` calls ``check(stats_path)`` before it reads
    the folder (``enjoy``, ``record_video``, ``push_to_hub``; a script run afresh as ``__main__`` imports it from
    ``rl_zoo3`` or ``rl_zoo3.utils``, so both are set, and ``rl_zoo3.enjoy``'s copy too).

    :param check: raises if the stats folder must not be read
    """
    import rl_zoo3.utils

    original = rl_zoo3.utils.get_saved_hyperparams

    def checked(stats_path: str, *args: Any, **kwargs: Any) -> Any:
        check(stats_path)
        return original(stats_path, *args, **kwargs)

    with GET_SAVED_HYPERPARAMS.installed(checked):
        yield


@contextmanager
def experiment_manager(manager_class: type) -> Iterator[None]:
    """
    Within the block, RL Zoo's ``train`` builds ``manager_class`` (a subclass of its ``ExperimentManager``) instead of
    its own.

    :param manager_class: the subclass, with the same constructor
    """
    from rl_zoo3.exp_manager import ExperimentManager

    if not issubclass(manager_class, ExperimentManager):
        raise TypeError(f"{manager_class} is not a subclass of RL Zoo's ExperimentManager")
    with EXPERIMENT_MANAGER.installed(manager_class):
        yield


@contextmanager
def generate_metadata() -> Iterator[None]:
    """
    Where ``huggingface_sb3.push_to_hub`` has ``_generate_metadata`` but no ``generate_metadata`` (the name RL Zoo's
    ``push_to_hub`` imports), the block has ``generate_metadata`` as the old function: the same tags and evaluation
    result, as a dict. Elsewhere nothing changes.
    """
    # The module, not the function of the same name that the package exports
    hf_push = importlib.import_module("huggingface_sb3.push_to_hub")
    if hasattr(hf_push, "generate_metadata") or not hasattr(hf_push, "_generate_metadata"):
        yield
        return

    def metadata_as_dict(model_name: str, env_id: str, mean_reward: float, std_reward: float) -> dict[str, Any]:
        metadata = hf_push._generate_metadata(model_name, env_id, mean_reward, std_reward)
        return metadata.to_dict() if hasattr(metadata, "to_dict") else dict(metadata)

    with GENERATE_METADATA.installed(metadata_as_dict):
        yield


@contextmanager
def load_from_hub(optional_files: tuple[str, ...]) -> Iterator[None]:
    """
    Within the block, huggingface_sb3's ``load_from_hub`` raises the Hub's "entry not found" for one of
    ``optional_files`` as ``requests``' ``HTTPError``, which RL Zoo's ``load_from_hub`` skips; a missing model or
    config, and a Hub that cannot be reached, still raise as before.

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

    with LOAD_FROM_HUB.installed(optional_files_skippable):
        yield


#: How RL Zoo's ``record_training`` starts ``record_video`` for each model (a bare ``python``, whichever is on PATH)
RECORD_VIDEO_CHILD = ["python", "-m", "rl_zoo3.record_video"]


@contextmanager
def subprocess_call() -> Iterator[None]:
    """
    Within the block, ``subprocess.call(["python", "-m", "rl_zoo3.record_video", ...])`` (RL Zoo's
    ``record_training``, once per model) runs ``python -m sb3_cartdqn.zoo record_video ...`` with this interpreter
    instead, with the same flags; other calls are left alone.
    """
    call = subprocess.call

    def call_through_cartdqn_zoo(args: Any, *rest: Any, **kwargs: Any) -> int:
        if isinstance(args, list | tuple) and list(args[: len(RECORD_VIDEO_CHILD)]) == RECORD_VIDEO_CHILD:
            args = [sys.executable, "-m", "sb3_cartdqn.zoo", "record_video", *args[len(RECORD_VIDEO_CHILD) :]]
        return call(args, *rest, **kwargs)

    with SUBPROCESS_CALL.installed(call_through_cartdqn_zoo):
        yield


@contextmanager
def pyplot_show() -> Iterator[None]:
    """Within the block, ``matplotlib.pyplot.show()`` (the end of RL Zoo's ``plot_train``) does nothing."""

    def show_later(*args: Any, **kwargs: Any) -> None:
        return None

    with PYPLOT_SHOW.installed(show_later):
        yield
