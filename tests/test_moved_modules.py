"""Former module paths (issue #21's move) import the public names of the modules they moved to."""

import importlib
import subprocess
import sys

import pytest

from sb3_cartdqn.moved_modules import MOVED, public_names


@pytest.mark.parametrize("old", sorted(MOVED))
def test_former_path_serves_the_new_modules_names(old):
    module = importlib.import_module(old)
    assert module.__doc__.startswith("Former import path")
    for target in MOVED[old]:
        new = importlib.import_module(target)
        for name in public_names(new):
            assert getattr(module, name) is getattr(new, name), (old, name)


def test_only_the_listed_paths():
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("sb3_cartdqn.common.no_such_module")


def test_hook_installed_by_importing_the_package_alone():
    """A fresh interpreter: ``import sb3_cartdqn.common.save_util`` works with nothing else imported first."""
    code = "from sb3_cartdqn.common.save_util import read_model_file; print(read_model_file.__module__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "sb3_cartdqn.persistence.model_file"
