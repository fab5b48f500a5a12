"""Atomic saves and clear load errors of model and replay buffer files (sb3_cartdqn/persistence/model_file.py,
replay_file.py and CartDQN.save/load)."""

import io
import os
import zipfile

import gymnasium as gym
import pytest
import torch as th
from stable_baselines3 import DQN, PPO
from stable_baselines3.common.env_util import make_vec_env

from sb3_cartdqn import CartDQN
from sb3_cartdqn.persistence.trust import ModelFileError


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A small trained CartDQN model and its replay buffer, saved once for the module."""
    folder = tmp_path_factory.mktemp("saved")
    model = CartDQN("MlpPolicy", "CartPole-v1", learning_starts=32, batch_size=32, buffer_size=500, seed=0)
    model.learn(100)
    model.save(folder / "model")
    model.save_replay_buffer(folder / "buffer")
    return folder, model


def _hidden_leftovers(folder):
    return [name for name in os.listdir(folder) if name.startswith(".")]


def test_save_writes_zip_and_pkl_atomically(saved):
    folder, model = saved
    assert (folder / "model.zip").is_file() and (folder / "buffer.pkl").is_file()
    assert _hidden_leftovers(folder) == []
    loaded = CartDQN.load(folder / "model", device="cpu")  # ".zip" may be omitted, as with SB3
    assert loaded.num_timesteps == model.num_timesteps
    for a, b in zip(loaded.policy.parameters(), model.policy.parameters(), strict=True):
        assert th.equal(a, b)


def test_failed_save_keeps_previous_model(saved, tmp_path, monkeypatch):
    _, model = saved
    path = tmp_path / "model.zip"
    model.save(path)
    good = path.read_bytes()

    import stable_baselines3.common.base_class as base_class

    def crash_mid_write(save_path, **kwargs):
        with open(save_path, "wb") as file:
            file.write(good[: len(good) // 2])
        raise KeyboardInterrupt  # e.g. Ctrl-C while writing

    monkeypatch.setattr(base_class, "save_to_zip_file", crash_mid_write)
    with pytest.raises(KeyboardInterrupt):
        model.save(path)
    assert path.read_bytes() == good
    assert _hidden_leftovers(tmp_path) == []
    monkeypatch.undo()
    CartDQN.load(path)


@pytest.mark.parametrize("keep", [0.5, 0.99, 0.1])
def test_truncated_model_file(saved, tmp_path, keep):
    folder, _ = saved
    data = (folder / "model.zip").read_bytes()
    path = tmp_path / "truncated.zip"
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ModelFileError, match="is not a complete model zip") as error:
        CartDQN.load(path)
    assert str(path) in str(error.value) and "truncated" in str(error.value)


def test_corrupt_entry_detected_by_checksum(saved, tmp_path):
    folder, _ = saved
    data = bytearray((folder / "model.zip").read_bytes())
    with zipfile.ZipFile(folder / "model.zip") as archive:
        info = archive.getinfo("policy.pth")
    # Flip a byte inside the (stored, uncompressed or deflated) payload of policy.pth
    offset = info.header_offset + 30 + len(info.filename) + len(info.extra) + info.compress_size // 2
    data[offset] ^= 0xFF
    path = tmp_path / "corrupt.zip"
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=rf"{path}.*(corrupt|not a complete model zip)"):
        CartDQN.load(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is not a complete model zip"),
        (b"hello, not a model", "is not a complete model zip"),
        ("zip-without-model", "is a zip file but not a Stable-Baselines3 model"),
    ],
)
def test_foreign_files(tmp_path, content, message):
    path = tmp_path / "foreign.zip"
    if content == "zip-without-model":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("readme.txt", "hi")
    else:
        path.write_bytes(content)
    with pytest.raises(ModelFileError, match=message) as error:
        CartDQN.load(path)
    assert str(path) in str(error.value)


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match=rf"no model file at {tmp_path / 'nothing'}.*latest_checkpoint"):
        CartDQN.load(tmp_path / "nothing")


@pytest.mark.parametrize(
    ("algo", "hint"),
    [(DQN, "stable_baselines3.DQN.load"), (PPO, "stable_baselines3.PPO.load() or stable_baselines3.A2C.load()")],
)
def test_model_saved_by_another_algorithm(tmp_path, algo, hint):
    kwargs = dict(buffer_size=100) if algo is DQN else dict(n_steps=16, batch_size=16)
    path = tmp_path / "other.zip"
    algo("MlpPolicy", "CartPole-v1", **kwargs).save(path)
    with pytest.raises(ModelFileError, match="was saved by another algorithm") as error:
        CartDQN.load(path)
    assert str(path) in str(error.value) and hint in str(error.value)


def test_load_from_file_object(saved):
    folder, model = saved
    buffer = io.BytesIO((folder / "model.zip").read_bytes())
    assert CartDQN.load(buffer).num_timesteps == model.num_timesteps
    with pytest.raises(ModelFileError, match="<BytesIO> is not a complete model zip"):
        CartDQN.load(io.BytesIO(b"junk"))


def test_load_with_env_of_other_spaces(saved):
    folder, _ = saved
    path = folder / "model.zip"
    with pytest.raises(
        ValueError, match=rf"{path} was trained with observation space Box.*but the env passed to load\(\) has Box"
    ) as error:
        CartDQN.load(path, env=gym.make("MountainCar-v0"))
    assert "same wrappers" in str(error.value)
    with pytest.raises(ValueError, match="action space"):
        CartDQN.load(path, env=_ThreeActions())
    CartDQN.load(path, env=make_vec_env("CartPole-v1", n_envs=2))  # same spaces, other n_envs: fine


class _ThreeActions(gym.Wrapper):
    def __init__(self):
        super().__init__(gym.make("CartPole-v1"))
        self.action_space = gym.spaces.Discrete(3)


@pytest.mark.parametrize("keep", [0.5, 0.0])
def test_truncated_replay_buffer(saved, tmp_path, keep):
    folder, model = saved
    data = (folder / "buffer.pkl").read_bytes()
    path = tmp_path / "buffer.pkl"
    path.write_bytes(data[: int(len(data) * keep)])
    before = model.replay_buffer
    with pytest.raises(ModelFileError, match=rf"{path} is not a readable replay buffer.*truncated"):
        model.load_replay_buffer(path)
    assert model.replay_buffer is before  # left in place


@pytest.mark.parametrize("writer", ["sb3", "cartdqn"])
def test_replay_buffer_of_other_spaces(tmp_path, writer):
    algo = DQN if writer == "sb3" else CartDQN
    other = algo("MlpPolicy", "MountainCar-v0", buffer_size=100, batch_size=32)
    other.save_replay_buffer(tmp_path / "other.pkl")
    model = CartDQN("MlpPolicy", "CartPole-v1", buffer_size=100, batch_size=32)
    with pytest.raises(ModelFileError, match="stores transitions with observation space"):
        # SB3 pickles its replay buffers: reading one is opting in to run code (see tests/test_safe_loading.py)
        model.load_replay_buffer(tmp_path / "other.pkl", trust_code=writer == "sb3")
