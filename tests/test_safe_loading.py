"""
Opening a file runs no code unless the caller opts in: an attack matrix of crafted files, one per loader, each of
which creates a marker file if it is unpickled, imported or evaluated (sb3_cartdqn/persistence/trust.py and the loaders).
Each crafted file is also loaded *with* the opt-in, which must create the marker: the attack is live, and only the
default refuses it.
"""

import base64
import io
import json
import pickle
import shutil
import sys
import textwrap
import warnings
import zipfile

import cloudpickle
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecNormalize

from sb3_cartdqn import CartDQN
from sb3_cartdqn.cartdqn.policies import CartDQNPolicy
from sb3_cartdqn.persistence.checkpoints import CartDQNCheckpointCallback, load_checkpoint
from sb3_cartdqn.persistence.codec import allow_class, allowed_classes
from sb3_cartdqn.persistence.env_state import read_vecnormalize_statistics
from sb3_cartdqn.persistence.trust import TRUST_ENV_VAR, ModelFileError, UntrustedFileError, code_trusted
from sb3_cartdqn.zoo.run_folder_checks import check_config_file, check_run_folder, literal_problem

KWARGS = dict(learning_starts=32, batch_size=32, buffer_size=300, seed=0, device="cpu")
OPT_IN = "trust_code=True (or the environment variable TRUST_REMOTE_CODE=True)"


class _Payload:
    """Unpickling it opens ``marker`` for writing: the marker file appears."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture(autouse=True)
def _no_opt_in(monkeypatch):
    # set, then removed: restored as found after the test even where --trust-code sets it during the test
    monkeypatch.setenv(TRUST_ENV_VAR, "")
    monkeypatch.delenv(TRUST_ENV_VAR)


@pytest.fixture
def marker(tmp_path):
    return tmp_path / "MARKER"


@pytest.fixture
def marker_module(tmp_path, monkeypatch, marker):
    """A module that creates the marker when imported, on sys.path: a class in it may only be imported with the opt-in."""
    folder = tmp_path / "modules"
    folder.mkdir()
    (folder / "marker_module.py").write_text(f"open({str(marker)!r}, 'w')\nclass Thing:\n    pass\n")
    monkeypatch.syspath_prepend(str(folder))
    yield "marker_module"
    sys.modules.pop("marker_module", None)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("honest")
    model = CartDQN("MlpPolicy", "CartPole-v1", **KWARGS)
    model.learn(100)
    model.save(folder / "model.zip")
    model.save_replay_buffer(folder / "buffer.pkl")
    return folder, model


def _refused(error, path, *parts):
    message = str(error.value)
    assert isinstance(error.value, UntrustedFileError), message
    assert str(path) in message and OPT_IN in message and "Nothing was unpickled" in message, message
    for part in parts:
        assert part in message, message


def _pickled_field(marker):
    return {":type:": "<class 'function'>", ":serialized:": base64.b64encode(cloudpickle.dumps(_Payload(marker))).decode()}


def _rewrite_zip(source, target, entry, content):
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            new.writestr(name, content if name == entry else old.read(name))


def _with_field(trained, tmp_path, field, value):
    folder, _ = trained
    fields = json.loads(zipfile.ZipFile(folder / "model.zip").read("data"))
    fields[field] = value
    path = tmp_path / "crafted.zip"
    _rewrite_zip(folder / "model.zip", path, "data", json.dumps(fields))
    return path


def _opted_in(marker, load):
    """Load with the opt-in: the crafted file runs its code (whatever happens after)."""
    try:
        load()
    except Exception:
        pass
    assert marker.exists(), "the crafted file is not a live attack: with the opt-in, its code should have run"


# Model zip: every kind of field SB3 pickles, and a field CartDQN never writes
@pytest.mark.parametrize(
    "field", ["lr_schedule", "observation_space", "action_space", "policy_kwargs", "policy_class", "_last_obs", "extra"]
)
def test_model_zip_pickled_field(trained, tmp_path, marker, field):
    path = _with_field(trained, tmp_path, field, _pickled_field(marker))
    with pytest.raises(UntrustedFileError) as error:
        CartDQN.load(path)
    assert not marker.exists()
    _refused(error, path, repr(field), "hold pickles")
    # custom_objects replaces the field: it is then neither refused nor read
    if field in ("lr_schedule", "extra"):
        CartDQN.load(path, custom_objects={field: 0.0})
        assert not marker.exists()
    _opted_in(marker, lambda: CartDQN.load(path, trust_code=True))


def test_model_zip_class_outside_allow_list(trained, tmp_path, marker, marker_module):
    crafted = {"activation_fn": {":data:": "class", "name": f"{marker_module}:Thing"}}
    path = _with_field(trained, tmp_path, "policy_kwargs", crafted)
    with pytest.raises(UntrustedFileError) as error:
        CartDQN.load(path)
    assert not marker.exists()
    _refused(error, path, "'policy_kwargs'", "marker_module:Thing", "allow-list")
    _opted_in(marker, lambda: CartDQN.load(path, trust_code=True))


def test_model_zip_tensor_entry(trained, tmp_path, marker):
    folder, _ = trained
    crafted = io.BytesIO()
    th.save({"weights": _Payload(marker)}, crafted)
    path = tmp_path / "crafted.zip"
    _rewrite_zip(folder / "model.zip", path, "policy.pth", crafted.getvalue())
    for trust_code in (None, True):  # tensors always load with weights_only=True
        with pytest.raises(ModelFileError, match=r"its entry 'policy.pth' holds objects other than tensors") as error:
            CartDQN.load(path, trust_code=trust_code)
        assert str(path) in str(error.value) and "trust_code=True does not change this" in str(error.value)
    assert not marker.exists()


def test_policy_file(trained, tmp_path, marker):
    path = tmp_path / "policy.pth"
    th.save({"state_dict": {}, "data": {"lr_schedule": _Payload(marker)}}, path)  # SB3's BasePolicy.save format
    with pytest.raises(UntrustedFileError) as error:
        CartDQNPolicy.load(str(path))
    assert not marker.exists()
    _refused(error, path, "objects other than tensors")
    _opted_in(marker, lambda: CartDQNPolicy.load(str(path), trust_code=True))


@pytest.mark.parametrize("name", ["buffer.pkl", "buffer.npz", "buffer", "buffer.zip"])
def test_replay_buffer_pickle_under_every_extension(trained, tmp_path, marker, name):
    _, model = trained
    path = tmp_path / name
    path.write_bytes(pickle.dumps(_Payload(marker)))
    before = model.replay_buffer
    with pytest.raises(UntrustedFileError) as error:
        model.load_replay_buffer(path)
    assert not marker.exists() and model.replay_buffer is before
    _refused(error, path, "is a pickle")
    _opted_in(marker, lambda: model.load_replay_buffer(path, trust_code=True))
    model.replay_buffer = before


def _buffer_entries(folder):
    with np.load(folder / "buffer.pkl", allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def test_replay_buffer_npz_with_object_array(trained, tmp_path, marker):
    folder, model = trained
    entries = _buffer_entries(folder)
    entries["array_0"] = np.array([_Payload(marker)], dtype=object)  # np.savez pickles object arrays
    path = tmp_path / "buffer.npz"
    np.savez(path, **entries)
    with pytest.raises(ModelFileError, match=r"is not a readable replay buffer.*Object arrays cannot be loaded"):
        model.load_replay_buffer(path)
    assert not marker.exists()


def test_replay_buffer_npz_naming_a_class_outside_allow_list(trained, tmp_path, marker, marker_module):
    folder, model = trained
    entries = _buffer_entries(folder)
    header = json.loads(entries["__sb3_cartdqn__"].tobytes())
    header["value"]["class"]["name"] = f"{marker_module}:Thing"
    entries["__sb3_cartdqn__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    path = tmp_path / "buffer.npz"
    np.savez(path, **entries)
    with pytest.raises(UntrustedFileError) as error:
        model.load_replay_buffer(path)
    assert not marker.exists()
    _refused(error, path, "marker_module:Thing")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ckpt")
    model = CartDQN("MlpPolicy", VecNormalize(make_vec_env("CartPole-v1", seed=0)), **KWARGS)
    model.learn(100, callback=CartDQNCheckpointCallback(100, str(folder)))
    return folder / "cartdqn_100_steps"


def _env():
    return VecNormalize(make_vec_env("CartPole-v1", seed=0))


@pytest.mark.parametrize(
    ("remove", "crafted"),
    [
        ("state.npz", "state.pkl"),
        ("replay_buffer.npz", "replay_buffer.pkl"),
        ("vecnormalize.npz", "vecnormalize.pkl"),
        (None, "envs.pkl"),
        ("model.zip", None),
    ],
)
def test_checkpoint_files(checkpoint, tmp_path, marker, remove, crafted):
    folder = tmp_path / "cartdqn_100_steps"
    shutil.copytree(checkpoint, folder)
    if remove is not None:
        (folder / remove).unlink()
    if crafted is not None:
        path = folder / crafted
        path.write_bytes(pickle.dumps(_Payload(marker)))
    else:  # a model zip with a pickled field
        path = folder / "model.zip"
        fields = json.loads(zipfile.ZipFile(checkpoint / "model.zip").read("data"))
        fields["lr_schedule"] = _pickled_field(marker)
        _rewrite_zip(checkpoint / "model.zip", path, "data", json.dumps(fields))
    with pytest.raises(UntrustedFileError) as error:
        load_checkpoint(folder, _env(), device="cpu")
    assert not marker.exists()
    _refused(error, path)
    _opted_in(marker, lambda: load_checkpoint(folder, _env(), device="cpu", trust_code=True))


def test_vecnormalize_statistics(tmp_path, marker):
    path = tmp_path / "vecnormalize.pkl"
    path.write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(UntrustedFileError) as error:
        read_vecnormalize_statistics(path)
    assert not marker.exists()
    _refused(error, path, "is a pickle")
    _opted_in(marker, lambda: read_vecnormalize_statistics(path, trust_code=True))


def _run_folder(tmp_path, config="", args="env_kwargs: null\n"):
    folder = tmp_path / "run" / "CartPole-v1"
    folder.mkdir(parents=True)
    (folder / "config.yml").write_text(config)
    (folder / "args.yml").write_text(args)
    return folder


@pytest.mark.parametrize(
    ("config", "part"),
    [
        ("!!python/object/apply:builtins.open ['{marker}', 'w']\n", "python/object/apply:builtins.open"),
        ("normalize: open('{marker}', 'w')\n", "'normalize'"),
        ("policy_kwargs: dict(net_arch=[open('{marker}', 'w')])\n", "'policy_kwargs'"),
        ("replay_buffer_kwargs: __import__('os').system('touch {marker}')\n", "'replay_buffer_kwargs'"),
        ("monitor_kwargs: \"{{'a': open('{marker}', 'w')}}\"\n", "'monitor_kwargs'"),
        ("env_wrapper: marker_module.Thing\n", "'env_wrapper'"),
        ("env_wrapper:\n- marker_module.Thing: {{}}\n", "'env_wrapper'"),
        ("vec_env_wrapper: marker_module.Thing\n", "'vec_env_wrapper'"),
        ("callback: marker_module.Thing\n", "'callback'"),
        ("policy: marker_module.Thing\n", "'policy'"),
        ("env_kwargs: !!python/object/apply:builtins.open ['{marker}', 'w']\n", "python/object/apply:builtins.open"),
    ],
)
def test_rl_zoo_config(tmp_path, marker, marker_module, config, part):
    folder = _run_folder(tmp_path, config.format(marker=marker))
    with pytest.raises(UntrustedFileError) as error:
        check_run_folder(folder)
    assert not marker.exists()
    _refused(error, folder / "config.yml", part)
    check_run_folder(folder, trust_code=True)  # the opt-in skips the check (RL Zoo then evaluates the file)


def test_rl_zoo_args_and_vecnormalize(tmp_path, marker):
    folder = _run_folder(tmp_path, args=f"env_kwargs: !!python/object/apply:builtins.open ['{marker}', 'w']\n")
    with pytest.raises(UntrustedFileError) as error:
        check_run_folder(folder)
    _refused(error, folder / "args.yml")
    (folder / "args.yml").write_text("env_kwargs: null\n")
    (folder / "vecnormalize.pkl").write_bytes(pickle.dumps(_Payload(marker)))
    check_run_folder(folder)  # RL Zoo reads vecnormalize.pkl only for a run that normalises
    (folder / "config.yml").write_text("normalize: true\n")
    with pytest.raises(UntrustedFileError) as error:
        check_run_folder(folder)
    _refused(error, folder / "vecnormalize.pkl", "is a pickle")
    assert not marker.exists()


def test_rl_zoo_enjoy_checks_the_run_folder(trained, tmp_path, marker, monkeypatch):
    from sb3_cartdqn.zoo.cli import main

    folder, _ = trained
    run = tmp_path / "logs" / "cartdqn" / "CartPole-v1_1"
    (run / "CartPole-v1").mkdir(parents=True)
    shutil.copy(folder / "model.zip", run / "CartPole-v1.zip")
    (run / "CartPole-v1" / "config.yml").write_text(f"normalize: open('{marker}', 'w')\n")
    monkeypatch.chdir(tmp_path)
    argv = ["enjoy", "--algo", "cartdqn", "--env", "CartPole-v1", "-f", "logs", "--no-render", "-n", "5", "--device", "cpu"]
    with pytest.raises(UntrustedFileError) as error:
        main(argv)
    assert not marker.exists()
    _refused(error, "config.yml", "'normalize'", "not a plain literal")
    # --trust-code: RL Zoo evaluates the string (the marker appears), then fails on what it returned
    _opted_in(marker, lambda: main([*argv, "--trust-code"]))


# Honest files and the opt-in's mechanics


def test_honest_rl_zoo_config_passes(tmp_path):
    config = textwrap.dedent(
        """\
        !!python/object/apply:collections.OrderedDict
        - - - normalize
            - "{'norm_obs': True, 'norm_reward': False}"
          - - policy_kwargs
            - dict(net_arch=[64, 64], activation_fn=nn.ReLU, optimizer_class=th.optim.AdamW)
          - - env_wrapper
            - - gymnasium.wrappers.TimeLimit: {max_episode_steps: 100}
          - - frame_stack
            - !!python/tuple [4]
        """
    )
    folder = _run_folder(tmp_path, config)
    check_run_folder(folder)
    content = check_config_file(folder / "config.yml")
    assert list(content) == ["normalize", "policy_kwargs", "env_wrapper", "frame_stack"]
    assert literal_problem("dict(a=-1.5, b=[True, None], c={'x': (1, 2)})") is None


def test_models_of_sb3_and_earlier_versions_load_with_the_opt_in(trained, tmp_path, monkeypatch):
    _, model = trained
    path = tmp_path / "sb3_format.zip"
    BaseAlgorithm.save(model, path)  # SB3's own save: every non-JSON field cloudpickled
    with pytest.raises(UntrustedFileError) as error:
        CartDQN.load(path)
    _refused(error, path, "'observation_space'", "'policy_class'")
    observations = np.random.default_rng(0).normal(size=(10, 4)).astype(np.float32)
    expected = model.predict(observations, deterministic=True)[0]
    loaded = CartDQN.load(path, trust_code=True)
    np.testing.assert_array_equal(loaded.predict(observations, deterministic=True)[0], expected)
    monkeypatch.setenv(TRUST_ENV_VAR, "True")  # huggingface_sb3's convention
    np.testing.assert_array_equal(CartDQN.load(path).predict(observations, deterministic=True)[0], expected)
    # Saved again, it is data
    loaded.save(tmp_path / "data.zip")
    monkeypatch.delenv(TRUST_ENV_VAR)
    np.testing.assert_array_equal(CartDQN.load(tmp_path / "data.zip").predict(observations, deterministic=True)[0], expected)


def test_rl_zoo_custom_objects_still_work(trained):
    folder, _ = trained
    custom_objects = {"learning_rate": 0.0, "lr_schedule": lambda _: 0.0}  # what RL Zoo's enjoy passes
    loaded = CartDQN.load(folder / "model.zip", custom_objects=custom_objects)
    # As in SB3, the model rebuilds lr_schedule from learning_rate
    assert loaded.learning_rate == 0.0 and loaded.lr_schedule(1.0) == 0.0


def test_model_zip_has_no_pickle(trained):
    folder, _ = trained
    with zipfile.ZipFile(folder / "model.zip") as archive:
        assert ":serialized:" not in archive.read("data").decode()
    with np.load(folder / "buffer.pkl", allow_pickle=False) as archive:  # the suffix is SB3's; the content is npz
        assert "__sb3_cartdqn__" in archive.files


def test_rl_zoo_linear_schedule_is_data(tmp_path):
    """RL Zoo's "lin_<value>" learning rate (hyperparameter files, the robust preset) is written as its number."""
    from rl_zoo3.utils import linear_schedule

    model = CartDQN("MlpPolicy", "CartPole-v1", learning_rate=linear_schedule(2e-3), **KWARGS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing pickled
        model.save(tmp_path / "model.zip")
    with zipfile.ZipFile(tmp_path / "model.zip") as archive:
        assert ":serialized:" not in archive.read("data").decode()
    loaded = CartDQN.load(tmp_path / "model.zip")
    assert loaded.learning_rate(0.25) == loaded.lr_schedule(0.25) == pytest.approx(5e-4)


def test_not_data_is_written_with_a_warning(tmp_path):
    model = CartDQN("MlpPolicy", "CartPole-v1", learning_rate=lambda progress: 1e-4 * progress, **KWARGS)
    with pytest.warns(UserWarning) as record:
        model.save(tmp_path / "model.zip")
    messages = [str(warning.message) for warning in record]
    for field in ("learning_rate", "lr_schedule"):
        assert any(f"'{field}' holds a builtins.function" in m and "trust_code=True" in m for m in messages), messages
    with pytest.raises(UntrustedFileError, match="'learning_rate'"):
        CartDQN.load(tmp_path / "model.zip")
    CartDQN.load(tmp_path / "model.zip", custom_objects={"learning_rate": 1e-4, "lr_schedule": lambda _: 1e-4})


def test_allow_class_lets_a_file_name_a_user_class(trained, tmp_path):
    class UserActivation(th.nn.ReLU):
        pass

    UserActivation.__module__, UserActivation.__qualname__ = "user_module", "UserActivation"
    crafted = {"activation_fn": {":data:": "class", "name": "user_module:UserActivation"}}
    path = _with_field(trained, tmp_path, "policy_kwargs", crafted)
    with pytest.raises(UntrustedFileError):
        CartDQN.load(path)
    allow_class(UserActivation)
    try:
        assert CartDQN.load(path).policy_kwargs["activation_fn"] is UserActivation
    finally:
        allowed_classes()  # the registry is module state: leave it as found
        from sb3_cartdqn.persistence import codec

        codec._user_classes.pop("user_module:UserActivation")


@pytest.mark.parametrize(("value", "expected"), [("True", True), ("1", True), ("false", False), ("", False)])
def test_trust_remote_code_variable(monkeypatch, value, expected):
    monkeypatch.setenv(TRUST_ENV_VAR, value)
    assert code_trusted() is expected
    assert code_trusted(False) is False and code_trusted(True) is True


def test_trust_remote_code_variable_must_be_a_truth_value(monkeypatch):
    monkeypatch.setenv(TRUST_ENV_VAR, "maybe")
    with pytest.raises(ValueError, match="TRUST_REMOTE_CODE='maybe' is not a truth value"):
        code_trusted()


def test_documented_import_path_of_the_run_folder_checks_still_works():
    from sb3_cartdqn.zoo import run_config

    assert run_config.check_run_folder is check_run_folder and run_config.check_config_file is check_config_file
