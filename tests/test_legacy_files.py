"""
Files written by the landed main before the persistence modules moved (commit e0b00fd, ``tests/data/legacy_e0b00fd/``,
written by ``tests/data/make_legacy_files.py``) still load with the current code, without the opt-in, and give what
the writing code computed from them (``expected.json``).
"""

import importlib
import json
import pathlib
import pkgutil

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.buffers import NStepReplayBuffer, ReplayBuffer
from stable_baselines3.common.env_util import make_vec_env

from sb3_cartdqn import CartDQN, persistence
from sb3_cartdqn.cartdqn.policies import CartDQNPolicy, CnnPolicy, MlpPolicy, MultiInputPolicy
from sb3_cartdqn.common.exploration import ExponentialEpsilon
from sb3_cartdqn.common.torch_layers import TutorialCNN
from sb3_cartdqn.persistence.checkpoints import latest_checkpoint, list_batched_checkpoints, load_checkpoint
from sb3_cartdqn.persistence.codec import decode

DATA = pathlib.Path(__file__).resolve().parent / "data" / "legacy_e0b00fd"
EXPECTED = json.loads((DATA / "expected.json").read_text())
OBSERVATIONS = np.array(EXPECTED["observations"], dtype=np.float32)
#: Resuming trains: the same operations in another process may round differently in the last bits
RESUME_TOLERANCE = dict(rtol=1e-5, atol=1e-6)


def _q_values(policy) -> np.ndarray:
    with th.no_grad():
        return policy.q_net(th.as_tensor(OBSERVATIONS)).numpy()


def _assert_predicts(model, expected, **tolerance) -> None:
    actions, _ = model.predict(OBSERVATIONS, deterministic=True)
    np.testing.assert_array_equal(actions, expected["actions"])
    np.testing.assert_allclose(_q_values(model.policy), np.array(expected["q_values"], dtype=np.float32), **tolerance)
    assert model.num_timesteps == expected["num_timesteps"]


@pytest.mark.parametrize("name", ["tutorial", "robust"])
def test_model_and_replay_buffer_load_and_predict_as_written(name):
    expected = EXPECTED[f"{name}_model"]
    model = CartDQN.load(DATA / f"{name}_model.zip", env=gym.make("CartPole-v1"), device="cpu")
    _assert_predicts(model, expected, rtol=0, atol=0)
    assert model.replay_buffer.size() == 0  # the replay buffer is a file of its own
    model.load_replay_buffer(DATA / f"{name}_replay.pkl")
    assert model.replay_buffer.size() == expected["buffer_size"]
    if name == "robust":
        assert type(model.replay_buffer) is NStepReplayBuffer and model.replay_buffer.n_steps == 3
        assert model.double_q and model.policy.dueling
        assert model.lr_schedule(0.5) == expected["lr_schedule_at_half"]  # RL Zoo's lin_ schedule, restored
    else:
        assert type(model.replay_buffer) is ReplayBuffer
    model.learn(16, reset_num_timesteps=False)
    assert model.num_timesteps == expected["num_timesteps"] + 16


def test_policy_file_loads_and_predicts_as_written():
    policy = MlpPolicy.load(DATA / "tutorial_policy.pth", device="cpu")
    assert type(policy) is CartDQNPolicy
    np.testing.assert_array_equal(_q_values(policy), np.array(EXPECTED["tutorial_policy"]["q_values"], dtype=np.float32))


def test_checkpoint_resumes_as_the_writing_code_resumed_it():
    expected = EXPECTED["checkpoint"]
    folder = latest_checkpoint(DATA / "checkpoints")
    assert folder is not None and folder.name == expected["folder"]
    model = load_checkpoint(DATA / "checkpoints", make_vec_env("CartPole-v1", n_envs=1, seed=0), device="cpu")
    _assert_predicts(model, expected, rtol=0, atol=0)
    assert model.replay_buffer.size() == expected["buffer_size"]
    model.learn(expected["resumed"]["num_timesteps"] - expected["num_timesteps"], reset_num_timesteps=False)
    _assert_predicts(model, expected["resumed"], **RESUME_TOLERANCE)
    assert model.replay_buffer.size() == expected["resumed"]["buffer_size"]


@pytest.mark.parametrize("seed", ["3", "4"])
def test_batched_checkpoint_resumes_each_seed_as_cartdqn(seed):
    expected = EXPECTED["batched_checkpoint"]
    # The landed main named batched checkpoints steps_<n>: the reader still lists them
    [(steps, folder)] = list_batched_checkpoints(DATA / "batched")
    assert folder.name == expected["folder"] == "steps_150" and steps == 150
    model = CartDQN.load(folder / f"seed_{seed}.zip", env=gym.make("CartPole-v1"), device="cpu")
    model.load_replay_buffer(folder / f"seed_{seed}_replay.pkl")
    _assert_predicts(model, expected["seeds"][seed], rtol=0, atol=0)
    assert model.replay_buffer.size() == expected["seeds"][seed]["buffer_size"]
    model.learn(20, reset_num_timesteps=False)
    assert model.num_timesteps == expected["seeds"][seed]["num_timesteps"] + 20


def test_class_names_recorded_by_the_codec_still_resolve_without_the_opt_in():
    values = decode(json.loads((DATA / "codec_values.json").read_text()), trust_code=False)
    assert values["classes"] == [CartDQNPolicy, MlpPolicy, CnnPolicy, MultiInputPolicy, TutorialCNN, ExponentialEpsilon]
    schedule = values["exploration_schedule"]
    assert isinstance(schedule, ExponentialEpsilon)
    assert schedule(500) == EXPECTED["codec_values"]["epsilon_at_500"]


#: What the persistence modules defined at their import paths before they moved into sb3_cartdqn.persistence (issue
#: #21), as the docs and the API reference of the landed main showed them (names imported from elsewhere left out)
OLD_NAMES = {
    "sb3_cartdqn.cartdqn.checkpoints": [
        "CartDQNCheckpointCallback", "ENVS_FILE", "LEGACY_FILES", "MODEL_FILE", "REPLAY_BUFFER_FILE", "STATE_FILE",
        "STATE_FORMAT", "STATE_KIND", "VECNORMALIZE_FILE", "capture_env_state", "capture_rng_state", "checkpoint_name",
        "latest_checkpoint", "list_checkpoints", "load_checkpoint", "remove_stale_temporaries", "restore_env_state",
        "restore_rng_state", "save_checkpoint",
    ],
    "sb3_cartdqn.common.buffer_io": ["KIND", "read_replay_buffer", "replay_buffer_path", "write_replay_buffer"],
    "sb3_cartdqn.common.data_codec": [
        "TAG", "NotData", "UntrustedClass", "allow_class", "allowed_classes", "class_name", "decode", "encode",
        "resolve_class",
    ],
    "sb3_cartdqn.common.data_file": ["FORMAT", "HEADER", "open_data_file", "write_data_file"],
    "sb3_cartdqn.common.env_state": [
        "VECNORMALIZE_KIND", "capture_envs_data", "dummy_vec_env", "envs_data_matches", "read_vecnormalize_statistics",
        "restore_envs_data", "write_vecnormalize",
    ],
    "sb3_cartdqn.common.errors": ["ModelFileError", "UntrustedFileError"],
    "sb3_cartdqn.common.model_data": ["SERIALIZED", "decode_fields", "encode_fields", "save_model"],
    "sb3_cartdqn.common.policy_io": ["load_policy", "save_policy"],
    "sb3_cartdqn.common.save_util": [
        "CARTDQN_KEYS", "MODEL_ENTRIES", "ModelFileError", "atomic_path", "check_env_spaces", "check_replay_buffer",
        "check_saved_by_cartdqn", "fsync_directory", "fsync_file", "read_model_data", "read_model_file",
        "temporary_sibling", "tensor_entry_error", "zip_path",
    ],
    "sb3_cartdqn.common.trust": [
        "OPT_IN", "PICKLE_START", "TRUST_ENV_VAR", "UntrustedFileError", "code_trusted", "looks_like_pickle", "refuse",
    ],
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(OLD_NAMES))
def test_old_import_paths_give_the_moved_objects(name):
    module = importlib.import_module(name)
    assert module.__doc__.startswith("Former import path")
    homes = [
        importlib.import_module(f"sb3_cartdqn.persistence.{info.name}") for info in pkgutil.iter_modules(persistence.__path__)
    ]
    for attribute in OLD_NAMES[name]:
        assert any(vars(home).get(attribute) is getattr(module, attribute) for home in homes), (name, attribute)
