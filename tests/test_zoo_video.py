"""``record_video`` and ``record_training`` through ``python -m sb3_cartdqn.zoo``, headless, on tiny trained agents."""

import os
import shutil
import subprocess
import sys

import imageio.v2 as imageio
import pytest
from zoo_helpers import QUICK, finish_zoo, run_zoo, start_zoo

from sb3_cartdqn.envs.registration import SCREEN_DIFF_ID
from sb3_cartdqn.zoo import video
from sb3_cartdqn.zoo.cli import main

SMALL = ["-params", "learning_starts:32", "batch_size:16", "buffer_size:500"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A log folder with a 200-step CartPole-v1 run (one checkpoint, at step 200) and a 100-step pixel run."""
    folder = tmp_path_factory.mktemp("zoo_video")
    common = ["--algo", "cartdqn", "--eval-freq", "-1", "--seed", "0", *QUICK, *SMALL]
    runs = [
        start_zoo(["train", "--env", "CartPole-v1", "-n", "200", "--save-freq", "200", *common], folder),
        start_zoo(["train", "--env", SCREEN_DIFF_ID, "-n", "100", *common], folder),
    ]
    for run in runs:
        finish_zoo(run)
    return folder


def first_frame(path):
    """The first frame of an mp4 and the number of frames."""
    reader = imageio.get_reader(path, format="ffmpeg")
    try:
        return reader.get_data(0), reader.count_frames()
    finally:
        reader.close()


def assert_rendered_cartpole(frame):
    """Gymnasium's CartPole picture: 400 x 600 RGB, white background, a black cart (not a 40 x 90 screen difference)."""
    assert frame.shape == (400, 600, 3)
    assert frame.mean() > 200
    assert (frame.max(axis=2) < 60).sum() > 1000  # the 50 x 30 cart


@pytest.mark.parametrize("env_id", ["CartPole-v1", SCREEN_DIFF_ID])
def test_record_video_writes_the_rendered_cart(trained, env_id, monkeypatch):
    monkeypatch.chdir(trained)
    main(["record_video", "--algo", "cartdqn", "--env", env_id, "-f", "logs", "-n", "40", "-o", f"videos_{env_id}"])
    (clip,) = (trained / f"videos_{env_id}").glob("*.mp4")
    assert clip.name == f"final-model-cartdqn-{env_id}-step-0-to-step-40.mp4"
    frame, n_frames = first_frame(clip)
    assert n_frames == 41
    assert_rendered_cartpole(frame)


def test_record_training_joins_every_checkpoint_into_mp4_and_gif(trained):
    output = run_zoo(
        ["record_training", "--algo", "cartdqn", "--env", "CartPole-v1", "-f", "logs", "-n", "20", "--gif"], trained
    )
    videos = trained / "logs" / "cartdqn" / "CartPole-v1_1" / "videos"
    # Each model was recorded by a child `python -m sb3_cartdqn.zoo record_video` (cartdqn registered there)
    clips = sorted(path.name for path in videos.glob("*-step-0-to-step-20.mp4"))
    assert clips == [
        "checkpoint-200-cartdqn-CartPole-v1-step-0-to-step-20.mp4",
        "final-model-cartdqn-CartPole-v1-step-0-to-step-20.mp4",
    ]
    frame, n_frames = first_frame(videos / "training.mp4")
    assert n_frames == 2 * 21, output
    assert_rendered_cartpole(frame)
    gif = imageio.mimread(videos / "training.gif")
    assert len(gif) > 1 and gif[0].shape[:2] == (400, 600)  # an animation (ffmpeg keeps 10 frames a second)


def test_record_training_keeps_a_folder_with_other_files(trained, tmp_path, monkeypatch):
    (tmp_path / "notes.txt").write_text("mine")
    monkeypatch.chdir(trained)
    with pytest.raises(SystemExit, match=r"deletes its output folder.*\['notes.txt'\].*-o"):
        main(["record_training", "--algo", "cartdqn", "--env", "CartPole-v1", "-f", "logs", "-o", str(tmp_path)])
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_ffmpeg_on_path_finds_imageio_ffmpeg_where_path_has_none(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no ffmpeg there
    with video.ffmpeg_on_path():
        found = shutil.which("ffmpeg")
        assert found is not None
        version = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True, check=True).stdout
        assert version.startswith("ffmpeg version")
    assert os.environ["PATH"] == str(tmp_path)
    assert not os.path.exists(found)  # the temporary link is gone


def test_record_video_children_run_through_this_interpreter(monkeypatch):
    calls = []

    def stand_in(args, *rest, **kwargs):
        calls.append(args)
        return 0

    monkeypatch.setattr(subprocess, "call", stand_in)
    with video.record_video_children_registered():
        subprocess.call(["python", "-m", "rl_zoo3.record_video", "--algo", "cartdqn"])
        subprocess.call(["ffmpeg", "-version"])
    assert calls == [[sys.executable, "-m", "sb3_cartdqn.zoo", "record_video", "--algo", "cartdqn"], ["ffmpeg", "-version"]]
    assert subprocess.call is stand_in  # restored after the block
