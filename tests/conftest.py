import os
from pathlib import Path

import pytest
import torch as th

# Rendering must never look for a screen; tiny networks run fastest on one thread.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
th.set_num_threads(1)

# Subprocesses (CLI tests run from temporary folders) import this checkout, as the tests themselves do, not the copy
# scripts/setup_env.sh installed into the environment
REPOSITORY = str(Path(__file__).resolve().parent.parent)
os.environ["PYTHONPATH"] = os.pathsep.join([REPOSITORY, *filter(None, [os.environ.get("PYTHONPATH")])])


@pytest.fixture
def tmp_cwd(tmp_path, monkeypatch):
    """Run a test inside its own temporary directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
