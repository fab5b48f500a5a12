import os

import pytest
import torch as th

# Rendering must never look for a screen; tiny networks run fastest on one thread.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
th.set_num_threads(1)


@pytest.fixture
def tmp_cwd(tmp_path, monkeypatch):
    """Run a test inside its own temporary directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
