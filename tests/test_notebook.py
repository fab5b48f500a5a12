"""The tutorial notebook (examples/cartdqn_tutorial.ipynb) runs top to bottom at a tiny budget (through nbmake)."""

import os
import subprocess
import sys
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "cartdqn_tutorial.ipynb"


def test_tutorial_notebook_runs(tmp_path):
    env = {**os.environ, "CARTDQN_NOTEBOOK_STEPS": "600", "CARTDQN_NOTEBOOK_PIXEL_STEPS": "80", "MPLBACKEND": "Agg"}
    env["SDL_VIDEODRIVER"] = "dummy"
    env["PYTHONPATH"] = os.pathsep.join([str(NOTEBOOK.parent.parent), env.get("PYTHONPATH", "")])
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbmake", "--nbmake-timeout=600", "-p", "no:cacheprovider", "-q", str(NOTEBOOK)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout
