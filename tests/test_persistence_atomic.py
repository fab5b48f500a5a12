"""
Crash-safe folders (sb3_cartdqn/persistence/atomic.py) and the two checkpoint writers that use them: CartDQN's
``save_checkpoint`` and ``BatchedCartDQN.save_checkpoint``. Crashes are real: a subprocess SIGKILLs itself at the
rename into place.
"""

import os
import pathlib
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch as th

from sb3_cartdqn import CartDQN
from sb3_cartdqn.batched import BatchedCartDQN
from sb3_cartdqn.batched import trainer as batched_trainer
from sb3_cartdqn.persistence import atomic, checkpoints
from sb3_cartdqn.persistence.atomic import atomic_folder, atomic_path, remove_temporaries
from sb3_cartdqn.persistence.checkpoints import checkpoint_name, list_batched_checkpoints, list_checkpoints

SMALL = dict(buffer_size=300, learning_starts=32, batch_size=16, policy_kwargs=dict(net_arch=[8]))


def _files(folder: pathlib.Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def _write(folder: pathlib.Path, content: str) -> None:
    (folder / "a.txt").write_text(content)
    (folder / "sub").mkdir()
    (folder / "sub" / "b.txt").write_text(content * 2)


def test_atomic_folder_puts_a_complete_folder_in_place_and_replaces_an_old_one(tmp_path):
    final = tmp_path / "deep" / "ckpt"
    with atomic_folder(final) as temporary:
        assert temporary.parent == final.parent and temporary.name.startswith(".ckpt.") and not final.exists()
        _write(temporary, "old")
    assert _files(final) == {"a.txt": b"old", "sub/b.txt": b"oldold"}
    with atomic_folder(final) as temporary:
        _write(temporary, "new")
        assert _files(final) == {"a.txt": b"old", "sub/b.txt": b"oldold"}  # untouched while the new one is written
    assert _files(final) == {"a.txt": b"new", "sub/b.txt": b"newnew"}
    assert sorted(path.name for path in final.parent.iterdir()) == ["ckpt"]  # nothing hidden left


def test_atomic_folder_leaves_the_old_folder_on_error(tmp_path):
    final = tmp_path / "ckpt"
    with atomic_folder(final) as temporary:
        _write(temporary, "old")
    with pytest.raises(RuntimeError, match="killed"), atomic_folder(final) as temporary:
        _write(temporary, "new")
        raise RuntimeError("killed mid-write")
    assert _files(final) == {"a.txt": b"old", "sub/b.txt": b"oldold"}
    assert sorted(path.name for path in tmp_path.iterdir()) == ["ckpt"]


def test_atomic_folder_fsyncs_every_file_before_the_rename(tmp_path, monkeypatch):
    synced = []
    real_fsync_file = atomic.fsync_file
    monkeypatch.setattr(atomic, "fsync_file", lambda path: (synced.append(pathlib.Path(path)), real_fsync_file(path)))
    with atomic_folder(tmp_path / "ckpt") as temporary:
        _write(temporary, "x")
    assert sorted(str(path.relative_to(temporary)) for path in synced) == ["a.txt", "sub/b.txt"]


def test_atomic_path_replaces_only_on_success(tmp_path):
    target = tmp_path / "file.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        temporary.write_bytes(b"partial")
        raise RuntimeError
    assert target.read_bytes() == b"old"
    with atomic_path(target) as temporary:
        temporary.write_bytes(b"new")
    assert target.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["file.bin"]


def _killed_at_rename(script: str, tmp_path: pathlib.Path, rename_call: int) -> None:
    """Run ``script`` in a subprocess whose ``rename_call``-th ``os.rename`` SIGKILLs it instead of renaming."""
    prelude = textwrap.dedent(
        f"""
        import os, signal
        calls = [0]
        real_rename = os.rename
        def rename(source, target):
            calls[0] += 1
            if calls[0] == {rename_call}:
                os.kill(os.getpid(), signal.SIGKILL)
            real_rename(source, target)
        os.rename = rename
        """
    )
    process = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(script)], cwd=tmp_path, capture_output=True, text=True
    )
    assert process.returncode == -signal.SIGKILL, process.stderr


@pytest.mark.parametrize("rename_call", [1, 2], ids=["before-moving-the-old-aside", "between-the-two-renames"])
def test_a_crash_at_the_rename_leaves_the_previous_folder(tmp_path, rename_call):
    final = tmp_path / "ckpt"
    with atomic_folder(final) as temporary:
        _write(temporary, "old")
    script = """
        from sb3_cartdqn.persistence.atomic import atomic_folder
        with atomic_folder("ckpt") as temporary:
            (temporary / "a.txt").write_text("new")
    """
    _killed_at_rename(script, tmp_path, rename_call)
    hidden = [path.name for path in tmp_path.iterdir() if path.name.startswith(".")]
    assert len(hidden) == rename_call  # the complete new folder, and the old one moved aside
    remove_temporaries(tmp_path, "ckpt")  # what a restarted run does first
    assert _files(final) == {"a.txt": b"old", "sub/b.txt": b"oldold"}
    assert sorted(path.name for path in tmp_path.iterdir()) == ["ckpt"]


def _q_net_weights(folder: pathlib.Path, file: str) -> list[np.ndarray]:
    model = CartDQN.load(folder / file, device="cpu")
    return [value.numpy() for value in model.q_net.state_dict().values()]


#: For each checkpoint writer: a script that trains and writes a checkpoint at step 64 (``ZERO`` replaced by a
#: statement that changes the weights first, or by nothing), the folder it writes and a model file in it
WRITERS = {
    "cartdqn": (
        f"""
        from sb3_cartdqn import CartDQN
        from sb3_cartdqn.persistence.checkpoints import save_checkpoint
        model = CartDQN("MlpPolicy", "CartPole-v1", seed=0, device="cpu", **{SMALL!r}).learn(64)
        ZERO
        save_checkpoint(model, "ckpt")
        """,
        "model.q_net.q_net[0].weight.data.zero_()",
        "cartdqn_64_steps",
        "model.zip",
    ),
    "batched": (
        f"""
        from sb3_cartdqn.batched import BatchedCartDQN
        model = BatchedCartDQN("CartPole-v1", [0, 1], **{SMALL!r})
        model.learn(64)
        ZERO
        model.save_checkpoint("ckpt")
        """,
        "model.q_net.params[0].data.zero_()",
        "batched_64_steps",
        "seed_1.zip",
    ),
}


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_both_checkpoint_writers_survive_a_crash_at_the_rename(tmp_path, writer):
    """A checkpoint of the same step written again and killed at the rename: the previous one stays, complete."""
    script, zero, name, file = WRITERS[writer]
    script = textwrap.dedent(script)
    subprocess.run([sys.executable, "-c", script.replace("ZERO", "")], cwd=tmp_path, check=True)
    before = _q_net_weights(tmp_path / "ckpt" / name, file)
    assert np.any(before[0] != 0)
    _killed_at_rename(script.replace("ZERO", zero), tmp_path, rename_call=2)  # old one aside, new one not in
    assert not (tmp_path / "ckpt" / name).exists()
    checkpoints.remove_stale_temporaries(tmp_path / "ckpt", writer)  # what the next run does first
    listed = list_checkpoints(tmp_path / "ckpt") if writer == "cartdqn" else list_batched_checkpoints(tmp_path / "ckpt")
    assert [folder.name for _, folder in listed] == [name]
    for saved, expected in zip(_q_net_weights(tmp_path / "ckpt" / name, file), before, strict=True):
        np.testing.assert_array_equal(saved, expected)
    assert sorted(path.name for path in (tmp_path / "ckpt").iterdir()) == [name]


def test_both_checkpoint_writers_go_through_atomic_folder_and_name_folders_alike(tmp_path, monkeypatch):
    used = []
    real_atomic_folder = atomic.atomic_folder

    def spy(path, *args, **kwargs):
        used.append(pathlib.Path(path))
        return real_atomic_folder(path, *args, **kwargs)

    monkeypatch.setattr(checkpoints, "atomic_folder", spy)
    monkeypatch.setattr(batched_trainer, "atomic_folder", spy)
    model = CartDQN("MlpPolicy", "CartPole-v1", seed=0, device="cpu", **SMALL).learn(40)
    checkpoints.save_checkpoint(model, tmp_path)
    batched = BatchedCartDQN("CartPole-v1", [0, 1], **SMALL)
    batched.learn(40)
    batched.save_checkpoint(tmp_path)
    assert used == [tmp_path / checkpoint_name("cartdqn", 40), tmp_path / checkpoint_name("batched", 40)]
    assert sorted(os.listdir(tmp_path)) == ["batched_40_steps", "cartdqn_40_steps"]
    assert th.equal(
        CartDQN.load(tmp_path / "batched_40_steps" / "seed_1.zip", device="cpu").q_net.q_net[0].weight,
        batched.to_cartdqn(1).q_net.q_net[0].weight,
    )
