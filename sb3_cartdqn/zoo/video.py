"""
What RL Zoo's video scripts need around them: an ``ffmpeg`` program, ``record_training``'s children with CartDQN
registered, and ``record_training``'s output folder checked before it is deleted and after it is written.
"""

import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sb3_cartdqn.zoo import adapters
from sb3_cartdqn.zoo.process_state import environ_set
from sb3_cartdqn.zoo.run_folder_paths import parse_run_flags, run_folder


@contextmanager
def ffmpeg_on_path(argv: Sequence[str] = ()) -> Iterator[None]:
    """
    RL Zoo's ``record_training`` (captions, joining the clips, ``--gif``) and ``push_to_hub`` (its replay video) run
    the ``ffmpeg`` program through ``os.system``. Where none is on PATH, the one imageio-ffmpeg ships (it writes
    SB3's mp4 clips through moviepy) is put on PATH as ``ffmpeg`` for the block; RL Zoo's files stay as they are.

    :param argv: the script's arguments (unused)
    """
    if shutil.which("ffmpeg") is not None:
        yield
        return
    try:
        import imageio_ffmpeg

        executable = imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as error:
        raise SystemExit(
            f"RL Zoo's video steps run the ffmpeg program, but none is on PATH and imageio-ffmpeg's cannot be used "
            f"({error}). Install ffmpeg (e.g. `apt-get install ffmpeg`) or `pip install imageio-ffmpeg`."
        ) from error
    with tempfile.TemporaryDirectory(prefix="sb3_cartdqn_ffmpeg_") as folder:
        os.symlink(executable, os.path.join(folder, "ffmpeg"))
        with environ_set({"PATH": folder + os.pathsep + os.environ.get("PATH", "")}):
            yield


@contextmanager
def record_video_children_registered(argv: Sequence[str] = ()) -> Iterator[None]:
    """
    RL Zoo's ``record_training`` records each model with ``subprocess.call(["python", "-m", "rl_zoo3.record_video",
    ...])``: a bare ``python`` (maybe not this environment's) in which ``cartdqn`` is not registered. Within the block
    such a call runs ``python -m sb3_cartdqn.zoo record_video ...`` with this interpreter instead, with the same flags;
    other calls are left alone (the adapter :func:`sb3_cartdqn.zoo.adapters.subprocess_call`).

    :param argv: the script's arguments (unused)
    """
    with adapters.subprocess_call():
        yield


def is_training_video_file(path: Path) -> bool:
    """
    :param path: an entry of ``record_training``'s output folder
    :return: whether ``record_training`` writes such a file (clips, ``training.mp4``/``.gif``, its ``tmp.txt`` list)
    """
    return path.is_file() and (path.suffix in (".mp4", ".gif") or path.name == "tmp.txt")


@contextmanager
def training_video_checked(argv: Sequence[str]) -> Iterator[None]:
    """
    RL Zoo's ``record_training`` deletes its output folder (``-o``, default ``RUN/videos``) before it starts, and
    reports no failure of the ffmpeg steps that join the clips. Before the block, refuse a folder that holds anything
    else than such videos (nothing a user saved is lost); after it, check that ``training.mp4`` (and ``training.gif``
    with ``--gif``) were written.

    :param argv: ``record_training``'s arguments
    """
    flags = parse_run_flags(argv, folder="rl-trained-agents", algo="ppo")
    folder = Path(flags.output_folder) if flags.output_folder is not None else run_folder(flags) / "videos"
    if folder.is_dir():
        others = sorted(path.name for path in folder.iterdir() if not is_training_video_file(path))
        if others:
            raise SystemExit(
                f"record_training deletes its output folder {folder} before recording, and it holds files that are not "
                f"its videos: {others[:5]}. Give an empty or new folder with -o."
            )
    yield
    expected = ["training.mp4"] + (["training.gif"] if {"-g", "--gif"} & set(argv) else [])
    missing = [name for name in expected if not (folder / name).is_file()]
    if missing:
        raise SystemExit(
            f"record_training wrote no {missing} in {folder}: ffmpeg failed to caption or join the clips "
            "(its messages are above)."
        )
