import json
import os

import numpy as np
import pytest
import rl_zoo3
import torch as th
import yaml
from sb3_contrib import QRDQN
from stable_baselines3 import DQN

from sb3_cartdqn import CartDQN
from sb3_cartdqn.common.defaults import TUTORIAL
from sb3_cartdqn.compare.algorithms import (
    ALGORITHM_NAMES,
    build_algorithms,
    dqn_tutorial_like,
    find_robust_entry,
    linear_exploration_fraction,
    load_zoo_hyperparams,
)
from sb3_cartdqn.zoo.hyperparams_files import (
    HyperparamsFileError,
    hyperparams_path,
    literal_values,
    read_hyperparams_file,
)

# The tutorial's exploration: eps(t) = EPS_END + (EPS_START - EPS_END) * exp(-t / EPS_DECAY)
TUTORIAL_EPS_START, TUTORIAL_EPS_END = TUTORIAL.exploration_initial_eps, TUTORIAL.exploration_final_eps
TUTORIAL_EPS_DECAY = TUTORIAL.exploration_decay


def zoo_entry(algo: str, env_id: str = "CartPole-v1") -> dict:
    path = os.path.join(os.path.dirname(rl_zoo3.__file__), "hyperparams", f"{algo}.yml")
    with open(path) as file:
        return yaml.safe_load(file)[env_id]


@pytest.mark.parametrize("name, algo, algo_class", [("dqn-zoo", "dqn", DQN), ("qrdqn-zoo", "qrdqn", QRDQN)])
def test_zoo_configs_come_from_rl_zoo_files(name, algo, algo_class, tmp_path):
    (config,), skipped = build_algorithms([name], "CartPole-v1", 12_345)
    entry = zoo_entry(algo)
    assert skipped == {}
    assert config.algo_class is algo_class
    assert config.policy == entry["policy"]
    assert config.zoo_n_timesteps == int(entry["n_timesteps"])
    assert config.raw_hyperparams == entry
    # RL Zoo's preprocessing: the policy_kwargs string evaluated, the learning rate made a schedule
    assert config.kwargs["policy_kwargs"] == eval(entry["policy_kwargs"])
    assert callable(config.kwargs["learning_rate"])
    assert config.kwargs["learning_rate"](1.0) == pytest.approx(entry["learning_rate"])
    for key in ("batch_size", "buffer_size", "learning_starts", "train_freq", "gradient_steps", "exploration_fraction"):
        assert config.kwargs[key] == entry[key]
    assert "n_timesteps" not in config.kwargs and "policy" not in config.kwargs
    json.dumps(config.record())  # the record is JSON


def test_zoo_nstep3_is_the_zoo_entry_plus_n_steps():
    (plain, nstep), _ = build_algorithms(["dqn-zoo", "dqn-zoo-nstep3"], "CartPole-v1", 12_345)
    assert nstep.algo_class is DQN and nstep.raw_hyperparams == plain.raw_hyperparams
    assert nstep.kwargs.pop("n_steps") == 3 and "n_steps" not in plain.kwargs
    assert set(nstep.kwargs) == set(plain.kwargs)
    assert "n_steps=3" in nstep.notes


def test_linear_exploration_explores_as_much_as_the_tutorial():
    total = 50_000
    fraction = linear_exploration_fraction(total)
    steps = np.arange(total)
    exponential = TUTORIAL_EPS_END + (TUTORIAL_EPS_START - TUTORIAL_EPS_END) * np.exp(-steps / TUTORIAL_EPS_DECAY)
    ramp = fraction * total
    linear = np.where(
        steps < ramp, TUTORIAL_EPS_START + (TUTORIAL_EPS_END - TUTORIAL_EPS_START) * steps / ramp, TUTORIAL_EPS_END
    )
    # the same expected number of extra random actions
    assert np.sum(linear - TUTORIAL_EPS_END) == pytest.approx(np.sum(exponential - TUTORIAL_EPS_END), rel=1e-3)
    # above the exponential at first, below it from ~1.59 * EPS_DECAY on
    below = steps[(steps > 0) & (linear < exponential)]
    assert np.all(linear[1 : below[0]] > exponential[1 : below[0]])
    assert 1_550 < below[0] < 1_650
    assert linear_exploration_fraction(1_000) == 1.0
    with pytest.raises(ValueError, match="positive"):
        linear_exploration_fraction(0)


def test_dqn_tutorial_like_builds_the_tutorial_network_and_optimizer():
    config = dqn_tutorial_like(50_000)
    model = config.algo_class(config.policy, "CartPole-v1", **config.kwargs)
    assert isinstance(model, DQN)
    assert isinstance(model.policy.optimizer, th.optim.AdamW)
    assert model.policy.optimizer.param_groups[0]["amsgrad"] is True
    assert [layer.out_features for layer in model.q_net.q_net if isinstance(layer, th.nn.Linear)] == [128, 128, 2]
    assert model.exploration_schedule(1.0) == pytest.approx(TUTORIAL_EPS_START)
    assert model.exploration_schedule(1.0 - 2_000 / 50_000) == pytest.approx(TUTORIAL_EPS_END)
    assert (model.tau, model.target_update_interval, model.batch_size, model.buffer_size) == (0.005, 1, 128, 10_000)


def test_robust_is_skipped_with_a_reason_when_no_yaml(tmp_path):
    configs, skipped = build_algorithms(list(ALGORITHM_NAMES), "CartPole-v1", 1_000, hyperparams_dir=str(tmp_path))
    assert [config.name for config in configs] == [
        name for name in ALGORITHM_NAMES if name not in ("cartdqn-robust", "cartdqn-fast")
    ]
    assert "cartdqn_robust.yml" in skipped["cartdqn-robust"] and "--robust-config" in skipped["cartdqn-robust"]
    assert skipped["cartdqn-fast"].startswith("no cartdqn_fast.yml yet") and str(tmp_path) in skipped["cartdqn-fast"]


def test_fast_row_reads_cartdqn_fast_yml(tmp_path):
    """The cartdqn-fast row: the env's entry of cartdqn_fast.yml, read as data and preprocessed like the robust row."""
    entry = {"n_timesteps": 20_000, "policy": "MlpPolicy", "train_freq": 2, "policy_kwargs": "dict(net_arch=[64, 64])"}
    (tmp_path / "cartdqn_fast.yml").write_text(yaml.safe_dump({"CartPole-v1": entry}))
    (config,), skipped = build_algorithms(["cartdqn-fast"], "CartPole-v1", 1_000, hyperparams_dir=str(tmp_path))
    assert skipped == {}
    assert config.name == "cartdqn-fast" and config.algo_class is CartDQN
    assert config.kwargs == {"train_freq": 2, "policy_kwargs": {"net_arch": [64, 64]}}
    assert config.zoo_n_timesteps == 20_000 and "cartdqn_fast.yml" in config.source


@pytest.mark.parametrize("file_name, key", [("cartdqn_robust.yml", "CartPole-v1"), ("cartdqn.yml", "CartPole-v1-robust")])
def test_robust_is_read_from_the_yaml(tmp_path, file_name, key):
    entries = {key: {"n_timesteps": 30_000, "policy": "MlpPolicy", "tau": 0.01, "policy_kwargs": "dict(net_arch=[64, 64])"}}
    if file_name == "cartdqn.yml":
        entries["CartPole-v1"] = {"n_timesteps": 50_000, "policy": "MlpPolicy"}  # the tutorial entry is not the robust one
    (tmp_path / file_name).write_text(yaml.safe_dump(entries))
    (config,), skipped = build_algorithms(["cartdqn-robust"], "CartPole-v1", 1_000, hyperparams_dir=str(tmp_path))
    assert skipped == {}
    assert config.algo_class is CartDQN
    assert config.kwargs == {"tau": 0.01, "policy_kwargs": {"net_arch": [64, 64]}}
    assert config.zoo_n_timesteps == 30_000
    assert config.settings()["exploration_decay"] == 1000.0  # CartDQN's defaults fill in the rest


def test_bad_robust_inputs_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="--robust-config"):
        find_robust_entry("CartPole-v1", config=str(tmp_path / "missing.yml"))
    path = tmp_path / "tuned.yml"
    path.write_text(yaml.safe_dump({"CartPole-v1": {"n_timesteps": 1, "policy": "MlpPolicy", "normalize": True}}))
    with pytest.raises(ValueError, match="normalize"):
        load_zoo_hyperparams("cartdqn", "CartPole-v1", 1_000, config=str(path))
    with pytest.raises(ValueError, match="No entry 'other'"):
        load_zoo_hyperparams("cartdqn", "CartPole-v1", 1_000, config=str(path), key="other")
    with pytest.raises(ValueError, match="Unknown algorithm"):
        build_algorithms(["dqn"], "CartPole-v1", 1_000)


def test_robust_row_reads_the_packaged_file_from_any_working_directory(tmp_path, monkeypatch):
    """The package's file is found from elsewhere, and a ./hyperparams/cartdqn_robust.yml there is not read."""
    decoy = {"CartPole-v1": {"n_timesteps": 7, "policy": "MlpPolicy", "tau": 0.5}}
    (tmp_path / "hyperparams").mkdir()
    (tmp_path / "hyperparams" / "cartdqn_robust.yml").write_text(yaml.safe_dump(decoy))
    monkeypatch.chdir(tmp_path)
    (config,), skipped = build_algorithms(["cartdqn-robust"], "CartPole-v1", 1_000)
    assert skipped == {}
    packaged = read_hyperparams_file(hyperparams_path("cartdqn_robust.yml"))["CartPole-v1"]
    assert config.raw_hyperparams == packaged
    assert config.zoo_n_timesteps == packaged["n_timesteps"] != 7
    assert config.kwargs["tau"] == packaged["tau"] != 0.5
    assert config.kwargs["policy_kwargs"] == literal_values(packaged, "")["policy_kwargs"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("CartPole-v1: !!python/object/apply:os.getcwd []\n", r"python/object/apply:os.getcwd.*data only"),
        (
            "CartPole-v1:\n  n_timesteps: 10\n  policy: MlpPolicy\n  policy_kwargs: \"dict(net_arch=__import__('os'))\"\n",
            r"policy_kwargs = .*is not of the form dict\(key=literal, \.\.\.\)",
        ),
    ],
)
def test_robust_config_with_code_is_refused_naming_the_file(tmp_path, text, message):
    path = tmp_path / "cartdqn_robust.yml"
    path.write_text(text)
    for kwargs in ({"hyperparams_dir": str(tmp_path)}, {"robust_config": str(path)}):
        with pytest.raises(HyperparamsFileError, match=rf"{path}.*{message}"):
            build_algorithms(["cartdqn-robust"], "CartPole-v1", 1_000, **kwargs)
