"""The main job (README's first command) runs end to end at a tiny budget."""

import json
import os

from sb3_cartdqn import CartDQN
from sb3_cartdqn.main import main


def test_main_job_tiny(tmp_path):
    out = tmp_path / "run"
    results = main(["--timesteps", "400", "--eval-episodes", "2", "--out", str(out), "--no-progress-bar"])
    assert results["timesteps"] == 400
    assert os.path.getsize(out / "durations.png") > 1000
    assert json.loads((out / "results.json").read_text())["eval_episodes"] == 2
    assert os.listdir(out / "tb")
    CartDQN.load(out / "cartdqn_model.zip")
