"""The pixel CartPole id trains a few hundred steps through the zoo with the packaged hyperparameters, and enjoy runs it."""

import gymnasium as gym
import pytest
import yaml
from zoo_helpers import QUICK, run_zoo

import sb3_cartdqn  # noqa: F401  (registers the pixel env id, where the package has it)
from sb3_cartdqn import CartDQN
from sb3_cartdqn.zoo.cli import main

PIXEL_ID = "CartPoleScreenDiff-v1"

pytestmark = pytest.mark.skipif(
    PIXEL_ID not in gym.envs.registry,
    reason=f"{PIXEL_ID} is not registered by `import sb3_cartdqn` (the pixel env is not part of this checkout)",
)


def test_pixel_env_trains_and_enjoys_through_the_zoo(tmp_path, monkeypatch, capsys):
    # Few hundred steps; a small buffer keeps the 3x40x90 float observations light
    small = ["-params", "buffer_size:1000", "learning_starts:64", "batch_size:32"]
    run_zoo(
        ["train", "--algo", "cartdqn", "--env", PIXEL_ID, "-n", "200", "--eval-freq", "-1", "--seed", "0", *QUICK, *small],
        tmp_path,
    )
    run = tmp_path / "logs" / "cartdqn" / f"{PIXEL_ID}_1"
    config = dict(yaml.load((run / PIXEL_ID / "config.yml").read_text(), Loader=yaml.UnsafeLoader))
    assert config["policy"] == "CnnPolicy"
    model = CartDQN.load(run / f"{PIXEL_ID}.zip", device="cpu")
    assert model.num_timesteps == 200
    assert len(model.observation_space.shape) == 3

    # enjoy's test env would ask for render_mode="human" unless env_kwargs set it: the packaged entry does
    monkeypatch.chdir(tmp_path)
    main(["enjoy", "--algo", "cartdqn", "--env", PIXEL_ID, "-f", "logs", "--no-render", "-n", "100", "--device", "cpu"])
    assert f"Loading logs/cartdqn/{PIXEL_ID}_1/{PIXEL_ID}.zip" in capsys.readouterr().out
