"""The pixel examples run end to end at a tiny budget."""

import importlib.util
import json
import os
from pathlib import Path

from PIL import Image

from sb3_cartdqn import CartDQN

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load_example(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_train_pixel_tiny(tmp_path):
    out = tmp_path / "pixel"
    args = ["--steps", "60", "--batch-size", "8", "--buffer-size", "100", "--eval-freq", "30", "--eval-episodes", "1"]
    results = load_example("train_pixel").main(
        [*args, "--checkpoint-freq", "30", "--final-eval-episodes", "1", "--out", str(out)]
    )
    assert results["steps"] == 60 and results["episodes"] >= 1
    assert json.loads((out / "results.json").read_text())["env_id"] == "CartPoleScreenDiff-v1"
    assert sorted(os.listdir(out / "checkpoints")) == ["cartdqn_pixel_30_steps.zip", "cartdqn_pixel_60_steps.zip"]
    assert (out / "evaluations.npz").exists() and os.listdir(out / "tb")
    assert os.path.getsize(out / "durations.png") > 1000
    assert CartDQN.load(out / "best_model.zip").observation_space.shape == (3, 40, 90)


def test_pixel_views(tmp_path):
    patch_path, diff_path = load_example("pixel_views").main(["--out", str(tmp_path)])
    assert Image.open(patch_path).size == Image.open(diff_path).size == (360, 160)
    assert len(set(Image.open(diff_path).getdata())) > 1, "the saved difference shows some motion"
