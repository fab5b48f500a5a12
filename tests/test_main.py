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


def test_main_job_default_is_the_tutorial_preset(tmp_path):
    results = main(["--timesteps", "200", "--eval-episodes", "1", "--out", str(tmp_path), "--no-progress-bar"])
    assert results["preset"] == "tutorial"
    model = CartDQN.load(tmp_path / "cartdqn_model.zip")
    assert (model.learning_rate, model.batch_size, model.tau, model.exploration_schedule.decay) == (1e-4, 128, 0.005, 1000)


def test_main_job_seeds_train_in_one_batch(tmp_path):
    seeds = ["--seeds", "2-4", "--timesteps", "150", "--eval-episodes", "1"]
    results = main([*seeds, "--out", str(tmp_path), "--no-progress-bar"])
    assert [row["seed"] for row in results["per_seed"]] == [2, 3, 4]
    assert results["timesteps_per_seed"] == 150 and 0 <= results["solved"] <= 3
    assert CartDQN.load(tmp_path / "seed_3.zip").seed == 3


def test_main_job_seeds_save_every_seeds_durations_plot(tmp_path):
    """--seeds saves one plot of every seed's episode durations, as the one-seed job saves its own."""
    results = main(
        ["--seeds", "0-1", "--timesteps", "300", "--eval-episodes", "1", "--out", str(tmp_path), "--no-progress-bar"]
    )
    assert results["durations_plot"] == os.path.join(str(tmp_path), "durations.png")
    assert os.path.getsize(tmp_path / "durations.png") > 1000


def test_batched_progress_bar_is_sb3s(tmp_path, capsys):
    """The batched trainer shows SB3's progress bar (tqdm.rich), the one CartDQN.learn(progress_bar=True) shows."""
    from stable_baselines3.common import callbacks

    from sb3_cartdqn.batched.trainer import BatchedCartDQN

    made = []
    original = callbacks.tqdm

    class Recording(original):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs):
            made.append(self)
            super().__init__(*args, **kwargs)

    callbacks.tqdm = Recording
    try:
        BatchedCartDQN("CartPole-v1", [0, 1], learning_starts=64, batch_size=32).learn(100, progress_bar=True)
    finally:
        callbacks.tqdm = original
    assert len(made) == 1 and made[0].total == 200
