"""
Former import paths of modules that moved when the package was laid out by feature (issue #21), all in one table.

``import sb3_cartdqn`` installs an import hook that answers each former path with a module holding the public names
of the modules it moved to, so code written against an earlier layout keeps working without a file left at every old
place. Files record classes by ``module:qualname``; those names are mapped in ``sb3_cartdqn.persistence.codec``
(``recorded_names``), not here.
"""

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType

#: Former module path -> the modules whose public names it now serves
MOVED: dict[str, tuple[str, ...]] = {
    "sb3_cartdqn.common.data_codec": ("sb3_cartdqn.persistence.codec",),
    "sb3_cartdqn.common.data_file": ("sb3_cartdqn.persistence.data_file",),
    "sb3_cartdqn.common.model_data": ("sb3_cartdqn.persistence.fields", "sb3_cartdqn.persistence.model_file"),
    "sb3_cartdqn.common.save_util": (
        "sb3_cartdqn.persistence.atomic",
        "sb3_cartdqn.persistence.model_file",
        "sb3_cartdqn.persistence.replay_file",
        "sb3_cartdqn.persistence.trust",
    ),
    "sb3_cartdqn.common.buffer_io": ("sb3_cartdqn.persistence.replay_file",),
    "sb3_cartdqn.common.env_state": ("sb3_cartdqn.persistence.env_state",),
    "sb3_cartdqn.common.policy_io": ("sb3_cartdqn.persistence.policy_file",),
    "sb3_cartdqn.common.trust": ("sb3_cartdqn.persistence.trust",),
    "sb3_cartdqn.common.errors": ("sb3_cartdqn.persistence.trust",),
    "sb3_cartdqn.cartdqn.checkpoints": ("sb3_cartdqn.persistence.checkpoints", "sb3_cartdqn.persistence.env_state"),
    "sb3_cartdqn.common.targets": ("sb3_cartdqn.common.q_learning",),
    "sb3_cartdqn.common.mlp_forward": ("sb3_cartdqn.common.fast_paths.mlp_forward",),
    "sb3_cartdqn.common.optim": ("sb3_cartdqn.common.fast_paths.adamw",),
    "sb3_cartdqn.common.replay": ("sb3_cartdqn.common.fast_paths.replay_sampling",),
    "sb3_cartdqn.common.clipping": ("sb3_cartdqn.common.fast_paths.clipping",),
    "sb3_cartdqn.common.target_update": ("sb3_cartdqn.common.fast_paths.polyak",),
    "sb3_cartdqn.zoo.run_config": ("sb3_cartdqn.zoo.run_folder_checks",),
    "sb3_cartdqn.zoo.runs": ("sb3_cartdqn.zoo.run_folder_paths",),
}


def public_names(module: ModuleType) -> list[str]:
    """
    :param module: a module
    :return: what ``from module import *`` binds: its ``__all__``, or every name not starting with an underscore
    """
    names = getattr(module, "__all__", None)
    return list(names) if names is not None else [name for name in vars(module) if not name.startswith("_")]


class MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds the former paths of ``MOVED`` (only those) and fills each with its new modules' public names."""

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None  # the default module object

    def exec_module(self, module: ModuleType) -> None:
        targets = MOVED[module.__name__]
        module.__doc__ = f"Former import path: what this module held is now in {', '.join(targets)}."
        for target in targets:
            new = importlib.import_module(target)
            for name in public_names(new):
                setattr(module, name, getattr(new, name))


def install() -> None:
    """Install the hook (once): importing this module (which ``import sb3_cartdqn`` does) calls it."""
    if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(MovedModuleFinder())


install()
