"""
What the fields of a model zip may make ``CartDQN.load`` do (sb3_cartdqn/persistence/field_checks.py): each case is
an honest saved zip whose ``data`` JSON (or ``.pth`` entries) the test edits as an attacker would. Where an opt-in
exists, the crafted file is also loaded with it, which must carry the attack out (it is live); where none does, the
attack is shown with Stable-Baselines3's own ``load``.
"""

import io
import json
import shutil
import warnings
import zipfile

import gymnasium as gym
import numpy as np
import pytest
import test_safe_loading as attack_matrix
import torch as th
from gymnasium import spaces
from stable_baselines3 import DQN
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.torch_layers import NatureCNN

from sb3_cartdqn import CartDQN
from sb3_cartdqn.cartdqn.policies import CartDQNPolicy
from sb3_cartdqn.common.checks import (
    MAX_BUFFER_BYTES,
    MAX_NETWORK_PARAMETERS,
    check_buffer_memory,
    check_network_size,
    check_space_size,
)
from sb3_cartdqn.common.torch_layers import TutorialCNN
from sb3_cartdqn.persistence.checkpoints import load_checkpoint
from sb3_cartdqn.persistence.codec import encode
from sb3_cartdqn.persistence.data_file import HEADER
from sb3_cartdqn.persistence.env_state import dummy_vec_env
from sb3_cartdqn.persistence.field_checks import saved_field_names
from sb3_cartdqn.persistence.model_file import read_model_data
from sb3_cartdqn.persistence.trust import QUOTE_LIMIT, ModelFileError, UntrustedFileError, shorten

# The attack matrix's fixtures: no opt-in from the environment, the marker file, a module that creates it when
# imported, an honest trained model saved with its replay buffer
_no_opt_in = attack_matrix._no_opt_in
marker = attack_matrix.marker
marker_module = attack_matrix.marker_module
trained = attack_matrix.trained
OPT_IN = attack_matrix.OPT_IN
#: An 8 MiB string: within the 16 MiB a model's data entry may hold (a 20 MiB one is refused by size first:
#: test_twenty_mib_name_is_refused_by_size)
HUGE = "x" * (8 * 2**20)


def _fields(trained):
    folder, _ = trained
    return json.loads(zipfile.ZipFile(folder / "model.zip").read("data"))


def _rewrite(trained, path, replace):
    """The honest zip with the entries in ``replace`` (name -> bytes) replaced or added."""
    folder, _ = trained
    with zipfile.ZipFile(folder / "model.zip") as old, zipfile.ZipFile(path, "w") as new:
        for name in old.namelist():
            new.writestr(name, replace.pop(name, None) or old.read(name))
        for name, content in replace.items():
            new.writestr(name, content)
    return path


def _crafted(trained, tmp_path, **changes):
    """The honest zip with its data fields changed (``None`` values included)."""
    fields = {**_fields(trained), **changes}
    return _rewrite(trained, tmp_path / "crafted.zip", {"data": json.dumps(fields).encode()})


def _sb3_load(path, **kwargs):
    """SB3's own load, given the fields decoded without the checks (what CartDQN.load did before them)."""
    return BaseAlgorithm.load.__func__(CartDQN, path, custom_objects=read_model_data(path), **kwargs)


def _torch_bytes(value):
    buffer = io.BytesIO()
    th.save(value, buffer)
    return buffer.getvalue()


# Item 1: a loaded model never builds an environment from a string in the file
def test_env_field_is_not_built(trained, tmp_path, marker, marker_module):
    path = _crafted(trained, tmp_path, env=f"{marker_module}:Env-v0")
    with pytest.warns(UserWarning, match="holds env='marker_module:Env-v0', which is not used"):
        loaded = CartDQN.load(path)
    assert not marker.exists() and loaded.env is None
    observation = np.zeros((1, 4), dtype=np.float32)
    assert loaded.predict(observation, deterministic=True)[0].shape == (1,)
    # An env given to load() is the model's env, whatever the file holds (SB3 would set the file's over it)
    env = make_vec_env("CartPole-v1", n_envs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resumed = CartDQN.load(path, env=env)
    assert resumed.env is env and not marker.exists()
    resumed.learn(10)
    # Live: with the opt-in (SB3's behaviour), gym.make imports the module the file names
    with pytest.raises(gym.error.Error):
        CartDQN.load(path, trust_code=True)
    assert marker.exists()


def test_tensorboard_log_field_writes_nowhere(trained, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    path = _crafted(trained, tmp_path, tensorboard_log=str(elsewhere))
    env = make_vec_env("CartPole-v1", n_envs=1)
    with pytest.warns(UserWarning, match="holds tensorboard_log=.* which is not used"):
        loaded = CartDQN.load(path, env=env)
    assert loaded.tensorboard_log is None
    loaded.learn(40)
    assert not elsewhere.exists()
    # The caller chooses: tensorboard_log given to load() is used
    chosen = tmp_path / "chosen"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CartDQN.load(path, env=env, tensorboard_log=str(chosen)).learn(40)
    assert any(chosen.rglob("events.out.tfevents.*"))
    # Live: with the opt-in (SB3's behaviour), the next learn() writes where the file says
    CartDQN.load(path, env=env, trust_code=True).learn(40)
    assert any(elsewhere.rglob("events.out.tfevents.*"))
    # Loaded to predict (no env), it is dropped without a warning: it matters only to learn()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert CartDQN.load(path).tensorboard_log is None


# Item 3: only the attribute names the algorithm saves are applied
@pytest.mark.parametrize(
    "field, value",
    [
        ("_custom_logger", True),  # with no _logger: learn() would log into nothing
        ("predict", 1),  # shadows a method
        ("_vec_normalize_env", 1),
        ("device", "cuda:7"),
        (HUGE, 1),
    ],
)
def test_field_the_algorithm_does_not_save(trained, tmp_path, field, value):
    path = _crafted(trained, tmp_path, **{field: value})
    with pytest.raises(UntrustedFileError) as error:
        CartDQN.load(path)
    message = str(error.value)
    assert "are not attributes CartDQN saves" in message and OPT_IN in message and "Nothing was set" in message
    assert shorten(field) in message and len(message) < 2000
    # Live: with the opt-in, SB3 sets it on the model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            loaded = CartDQN.load(path, trust_code=True)
        except Exception:  # the attribute set breaks the set-up (device="cuda:7")
            return
    assert vars(loaded)[field] == value


def test_twenty_mib_name_is_refused_by_size(trained, tmp_path):
    """The issue's 20 MiB class name: the data entry is beyond its size limit, refused in one short error."""
    from sb3_cartdqn.persistence.limits import FileLimitError

    path = _crafted(trained, tmp_path, **{"x" * (20 * 2**20): 1})
    with pytest.raises(FileLimitError) as error:
        CartDQN.load(path)
    assert "'data'" in str(error.value) and len(str(error.value)) < 1000


def test_saved_field_names_cover_what_the_algorithm_saves(trained):
    probe = CartDQN("MlpPolicy", env=None, device="cpu", _init_setup_model=False)
    assert set(_fields(trained)) <= saved_field_names(probe)
    assert not {"env", "device", "_logger", "_custom_logger", "replay_buffer", "policy"} & saved_field_names(probe)


def _restore_box_data():
    if "data" in vars(spaces.Box):
        delattr(spaces.Box, "data")


@pytest.mark.parametrize("key", ["observation_space.__class__", "_last_episode_starts.ctypes._ctypes._os"])
def test_pytorch_variables_keys(trained, tmp_path, key):
    variables = _torch_bytes({key: th.zeros(1)})
    path = _rewrite(trained, tmp_path / "crafted.zip", {"pytorch_variables.pth": variables})
    for trust_code in (False, True):
        with pytest.raises(ModelFileError) as error:
            CartDQN.load(path, trust_code=trust_code)
        message = str(error.value)
        assert f"pytorch_variables.pth[{key!r}]" in message and "Nothing was set" in message
    assert "data" not in vars(spaces.Box)
    # Live: SB3's own load of a DQN zip with the same key sets an attribute of a class every space shares
    sb3_path = tmp_path / "dqn.zip"
    DQN("MlpPolicy", "CartPole-v1", buffer_size=100, device="cpu").save(sb3_path)
    with zipfile.ZipFile(sb3_path) as old, zipfile.ZipFile(tmp_path / "dqn_crafted.zip", "w") as new:
        for name in old.namelist():
            new.writestr(name, variables if name == "pytorch_variables.pth" else old.read(name))
    if key.startswith("observation_space"):
        try:
            DQN.load(tmp_path / "dqn_crafted.zip", device="cpu")
            assert isinstance(vars(spaces.Box)["data"], th.Tensor)
        finally:
            _restore_box_data()


@pytest.mark.parametrize("entry", ["q_net_target.pth", "policy.q_net.__class__.pth", "replay_buffer.pth"])
def test_state_dict_entry_names(trained, tmp_path, entry):
    _, model = trained
    path = _rewrite(trained, tmp_path / "crafted.zip", {entry: _torch_bytes(model.policy.state_dict())})
    for trust_code in (False, True):
        # refused by the container check (an entry CartDQN never writes) or, past it, by the state dicts' names
        with pytest.raises(ModelFileError, match=r"is not one CartDQN writes|not among the state dicts") as error:
            CartDQN.load(path, trust_code=trust_code)
        assert f"its entry {entry!r}" in str(error.value)
    # set_parameters reads the same entries
    with pytest.raises(ModelFileError, match=f"its entry {entry!r}"):
        model.set_parameters(path)
    model.set_parameters(trained[0] / "model.zip")


# Item 7: bad values are refused at load with a clear error, before anything is allocated
def _space(space):
    return encode(space)


def _discrete_obs_fields():
    return {"observation_space": _space(spaces.Discrete(10**12))}


BAD_VALUES = {
    "gamma_text": ({"gamma": "abc"}, "gamma='abc'"),
    "negative_buffer": ({"buffer_size": -1}, "buffer_size=-1"),
    "float_batch": ({"batch_size": 32.5}, "batch_size=32.5"),
    "train_freq_text": ({"train_freq": "often"}, "train_freq='often'"),
    "policy_kwargs_none": ({"policy_kwargs": None}, "policy_kwargs=None"),
    "negative_steps": ({"num_timesteps": -5}, "num_timesteps=-5"),
    "n_envs_zero": ({"n_envs": 0}, "n_envs=0"),
    "seed_negative": ({"seed": -1}, "seed=-1"),
    "verbose_text": ({"verbose": "loud"}, "verbose='loud'"),
    "memory_flag": ({"optimize_memory_usage": "yes"}, "optimize_memory_usage='yes'"),
    "policy_name": ({"policy_class": "NoSuchPolicy"}, "policy_class='NoSuchPolicy'"),
    "replay_buffer_class": ({"replay_buffer_class": encode(spaces.Box)}, "is not a replay buffer class"),
    "tensorboard_log_number": ({"tensorboard_log": 3}, "tensorboard_log=3"),
    "missing_space": ({"observation_space": None}, "it must be a gymnasium space"),
    "wide_net": ({"policy_kwargs": {"net_arch": [10**9]}}, "net_arch[i]=1000000000"),
    "deep_net": ({"policy_kwargs": {"net_arch": [4096] * 40}}, f"more than {MAX_NETWORK_PARAMETERS:_}"),
    "net_arch_text": ({"policy_kwargs": {"net_arch": "big"}}, "net_arch='big'"),
    "huge_discrete_actions": ({"action_space": _space(spaces.Discrete(10**12))}, "action_space.n=1000000000000"),
    "box_actions": ({"action_space": _space(spaces.Box(-1, 1, (2,)))}, "only gymnasium.spaces.Discrete"),
    "huge_discrete_observations": (_discrete_obs_fields(), "observation_space.n=1000000000000"),
    "huge_multibinary": ({"observation_space": _space(spaces.MultiBinary(10**12))}, "observation_space.shape="),
    "huge_buffer": ({"buffer_size": 10**15}, f"more than {MAX_BUFFER_BYTES:_}"),
    "dueling_text": ({"policy_kwargs": {"dueling": "yes"}}, "policy_kwargs['dueling']='yes'"),
    "last_obs_shape": ({"_last_obs": encode(np.zeros((1, 5), np.float32))}, "is not one observation per env"),
    "last_obs_text": ({"_last_obs": "obs"}, "_last_obs='obs' is not one observation per env"),
    "episode_starts": ({"_last_episode_starts": [True, False]}, "is not one flag per env"),
    "episode_info": ({"ep_info_buffer": 5}, "ep_info_buffer=5 is not a deque"),
}


@pytest.mark.parametrize("case", list(BAD_VALUES))
def test_bad_value(trained, tmp_path, case):
    changes, expected = BAD_VALUES[case]
    path = _crafted(trained, tmp_path, **changes)
    for trust_code in (False, True):
        with pytest.raises(ModelFileError) as error:
            CartDQN.load(path, trust_code=trust_code)
        message = str(error.value)
        assert str(path) in message and "bad value" in message and expected in message, message


@pytest.mark.parametrize("case", ["gamma_text", "negative_buffer", "float_batch", "verbose_text"])
def test_bad_value_reached_the_model_before(trained, tmp_path, case):
    """Live: SB3's load builds the model with the bad value; buffer_size=-1 even trains."""
    changes, _ = BAD_VALUES[case]
    path = _crafted(trained, tmp_path, **changes)
    model = _sb3_load(path)
    for key, value in changes.items():
        assert vars(model)[key] == value
    if case == "negative_buffer":
        model.set_env(make_vec_env("CartPole-v1", n_envs=1))
        model.learn(64)


def test_box_shape_with_a_zero(trained, tmp_path):
    fields = _fields(trained)
    space = fields["observation_space"]
    space = {**space, "state": {**space["state"]}}
    for bound in ("low", "high"):
        space["state"][bound] = {**space["state"][bound], "shape": [0, 10**18], "bytes": ""}
    path = _crafted(trained, tmp_path, observation_space=space)
    with pytest.raises(ModelFileError, match=r"observation_space.shape=0: it must be an integer between 1 and"):
        CartDQN.load(path)


def test_large_but_bounded_values_pass():
    """The bounds leave room for honest models: wide networks, a 4K RGB frame, a large pixel replay buffer."""
    frame = spaces.Box(0, 255, (3, 2160, 3840), np.uint8)
    assert check_space_size(frame, "observation_space") == 3 * 2160 * 3840
    check_network_size(spaces.Box(-1, 1, (4,)), 2, {"net_arch": [4096, 4096]})
    check_buffer_memory(1_000_000, 8, spaces.Box(0, 255, (4, 84, 84), np.uint8))  # Atari's, 8 envs
    with pytest.raises(ValueError, match="net_arch"):
        check_network_size(frame, 2, {"net_arch": [64]})  # an MLP on 4K pixels: 1.6 G parameters


def test_over_long_strings_give_short_errors(trained, tmp_path):
    cases = {
        "policy_class": {":data:": "class", "name": HUGE},  # a class outside the allow-list
        "gamma": HUGE,  # a value of the wrong type
        "observation_space": {":data:": HUGE},  # an unknown kind of value
    }
    for field, value in cases.items():
        path = _crafted(trained, tmp_path, **{field: value})
        with pytest.raises(ModelFileError) as error:
            CartDQN.load(path)
        message = str(error.value)
        assert len(message) < 3 * QUOTE_LIMIT + 1000 and f"{len(HUGE)} characters" in message, message[:3000]


def test_shorten():
    assert shorten("abc") == "'abc'"
    assert shorten(HUGE) == f"'{'x' * QUOTE_LIMIT}'... ({len(HUGE)} characters)"
    assert len(shorten(list(range(10**5)))) < QUOTE_LIMIT + 40
    assert shorten(ValueError("short")) == "short"


# Item 7, replay buffers: a position past the buffer's size
@pytest.mark.parametrize("pos, full, expected", [(10**6, False, "pos=1000000"), (-1, False, "pos=-1"), (3, "no", "full='no'")])
def test_replay_buffer_position(trained, tmp_path, pos, full, expected):
    folder, model = trained
    buffer = model.replay_buffer
    saved = buffer.pos, buffer.full
    try:
        buffer.pos, buffer.full = pos, full
        model.save_replay_buffer(tmp_path / "crafted.pkl")
    finally:
        buffer.pos, buffer.full = saved
    loaded = CartDQN.load(folder / "model.zip")
    honest = loaded.replay_buffer
    with pytest.raises(ModelFileError, match=expected) as error:
        loaded.load_replay_buffer(tmp_path / "crafted.pkl")
    assert "crafted.pkl" in str(error.value) and loaded.replay_buffer is honest
    loaded.load_replay_buffer(folder / "buffer.pkl")
    assert loaded.replay_buffer.pos == buffer.pos


def _saved_buffer(model, path, **attributes):
    """The model's replay buffer saved with ``attributes`` changed or added (then restored)."""
    buffer = model.replay_buffer
    saved = {key: vars(buffer)[key] for key in attributes if key in vars(buffer)}
    try:
        vars(buffer).update(attributes)
        model.save_replay_buffer(path)
    finally:
        for key in attributes:
            vars(buffer).pop(key)
        vars(buffer).update(saved)
    return path


@pytest.mark.parametrize("attribute", ["sample", "extra"])
def test_replay_buffer_attribute_it_does_not_have(trained, tmp_path, attribute):
    folder, model = trained
    path = _saved_buffer(model, tmp_path / "crafted.pkl", **{attribute: 1})
    loaded = CartDQN.load(folder / "model.zip")
    with pytest.raises(UntrustedFileError, match=f"its attribute\\(s\\) '{attribute}' are not attributes a ReplayBuffer has"):
        loaded.load_replay_buffer(path)
    # Live: with the opt-in, the attribute is set (a method shadowed by a number)
    loaded.load_replay_buffer(path, trust_code=True)
    assert vars(loaded.replay_buffer)[attribute] == 1


@pytest.mark.parametrize(
    "key, array",
    [("observations", np.zeros((300, 1, 5), np.float32)), ("actions", np.zeros((300, 1, 1), np.float64))],
)
def test_replay_buffer_arrays_that_do_not_fit_the_spaces(trained, tmp_path, key, array):
    folder, model = trained
    path = _saved_buffer(model, tmp_path / "crafted.pkl", **{key: array})
    loaded = CartDQN.load(folder / "model.zip")
    with pytest.raises(ModelFileError, match=f"its {key} are {array.dtype} of shape"):
        loaded.load_replay_buffer(path)


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"net_arch": [10**9]}, "net_arch[i]=1000000000"),
        ({"action_space": encode(spaces.Discrete(10**12))}, "action_space.n=1000000000000"),
        ({"observation_space": encode(spaces.MultiBinary(10**12))}, "observation_space.shape="),
        ({"device": "cuda:7"}, "'device' are not arguments of CartDQNPolicy"),
    ],
)
def test_policy_file_bad_value(trained, tmp_path, changes, expected):
    _, model = trained
    model.policy.save(tmp_path / "policy.pth")
    saved = th.load(tmp_path / "policy.pth", weights_only=True)
    saved["data_json"] = json.dumps({**json.loads(saved["data_json"]), **changes})
    th.save(saved, tmp_path / "crafted.pth")
    with pytest.raises(ModelFileError, match="bad value") as error:
        CartDQNPolicy.load(tmp_path / "crafted.pth")
    assert expected in str(error.value) and "crafted.pth" in str(error.value)


def test_models_rl_zoo_saves_again_still_load(trained, tmp_path):
    """RL Zoo loads a model to evaluate it with learning_rate=0.0 and buffer_size=1, and push_to_hub saves it so."""
    folder, _ = trained
    model = CartDQN.load(folder / "model.zip", custom_objects={"learning_rate": 0.0}, buffer_size=1)
    model.save(tmp_path / "again.zip")
    loaded = CartDQN.load(tmp_path / "again.zip")
    assert loaded.learning_rate == 0.0 and loaded.buffer_size == 1 and loaded.batch_size == 32


checkpoint = attack_matrix.checkpoint


@pytest.mark.parametrize("key", ["step", "reset", "spec", "close"])
def test_checkpoint_env_state_names_a_method(checkpoint, tmp_path, key):
    """A checkpoint's env state is set attribute by attribute on the env's wrappers: a method or a property is refused."""
    folder = tmp_path / checkpoint.name
    shutil.copytree(checkpoint, folder)
    with np.load(folder / "state.npz", allow_pickle=False) as archive:
        entries = {entry: archive[entry] for entry in archive.files}
    header = json.loads(entries[HEADER].tobytes().decode())
    header["value"]["env"][0][0]["attributes"][key] = 1
    entries[HEADER] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    with open(folder / "state.npz", "wb") as file:
        np.savez(file, **entries)
    env = attack_matrix._env()
    with pytest.raises(ModelFileError, match=f"its env state sets {key!r} on a Monitor, which are methods or properties"):
        load_checkpoint(folder, env, device="cpu")
    assert callable(dummy_vec_env(env).envs[0].step)
    load_checkpoint(checkpoint, attack_matrix._env(), device="cpu").learn(10)  # the honest one resumes


def test_rl_zoo_enjoy_does_not_build_the_env_field(trained, tmp_path, marker, marker_module, monkeypatch):
    """``python -m sb3_cartdqn.zoo enjoy`` loads the model without an env: the file's env is never built."""
    from sb3_cartdqn.zoo.cli import main

    run = tmp_path / "logs" / "cartdqn" / "CartPole-v1_1"
    (run / "CartPole-v1").mkdir(parents=True)
    _crafted(trained, run, env=f"{marker_module}:Env-v0").rename(run / "CartPole-v1.zip")
    (run / "CartPole-v1" / "config.yml").write_text("n_timesteps: 1000\n")
    monkeypatch.chdir(tmp_path)
    argv = ["enjoy", "--algo", "cartdqn", "--env", "CartPole-v1", "-f", "logs", "--no-render", "-n", "5", "--device", "cpu"]
    # the zoo's own check of the run's model zip refuses an env field first (CartDQN.load would ignore it)
    with pytest.raises(UntrustedFileError, match="field 'env'"):
        main(argv)
    assert not marker.exists()
    # Live: with --trust-code (SB3's behaviour), gym.make imports the module the file names
    with pytest.raises(gym.error.Error):
        main([*argv, "--trust-code"])
    assert marker.exists()


def test_network_bound_counts_the_default_head_and_features_dim(trained, tmp_path):
    """Without net_arch, the MLP's default head counts; a CNN's features_dim is bounded whatever net_arch is."""
    # 2**24 inputs x 128 units: 2 G parameters
    wide = {"observation_space": encode(spaces.MultiBinary(2**24)), "_last_obs": None, "_last_original_obs": None}
    with pytest.raises(ModelFileError, match="Q-network would have"):
        CartDQN.load(_crafted(trained, tmp_path, **wide))
    cnn = {"features_extractor_class": encode(NatureCNN), "features_extractor_kwargs": {"features_dim": 10**9}}
    with pytest.raises(ModelFileError, match=r"features_extractor_kwargs\['features_dim'\]=1000000000"):
        CartDQN.load(_crafted(trained, tmp_path, policy_kwargs=cnn))
    frame = spaces.Box(0, 255, (3, 40, 90), np.uint8)  # the pixel variant's: CnnPolicy's default TutorialCNN
    check_network_size(frame, 2, {}, TutorialCNN)
