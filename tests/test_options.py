"""The options beyond the tutorial (double_q, n_steps, dueling): save/load keeps them, bad values get clear errors."""

import warnings

import numpy as np
import pytest
import torch as th
from stable_baselines3.common.buffers import NStepReplayBuffer, ReplayBuffer

from sb3_cartdqn import CartDQN
from sb3_cartdqn.batched.trainer import BatchedCartDQN
from sb3_cartdqn.cartdqn.policies import DuelingQNetwork

OPTIONS = dict(double_q=True, n_steps=3, policy_kwargs=dict(dueling=True))


def test_save_load_keeps_options(tmp_path):
    model = CartDQN("MlpPolicy", "CartPole-v1", learning_starts=32, batch_size=32, seed=0, device="cpu", **OPTIONS)
    model.learn(100)
    obs = np.random.default_rng(0).normal(size=(10, 4)).astype(np.float32)
    actions, _ = model.predict(obs, deterministic=True)
    model.save(tmp_path / "model")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "n_steps is ignored" warning from SB3 on load
        loaded = CartDQN.load(tmp_path / "model.zip", env=model.get_env(), device="cpu")
    assert loaded.double_q is True and loaded.n_steps == 3 and loaded.policy.dueling is True
    assert type(loaded.replay_buffer) is NStepReplayBuffer and loaded.replay_buffer.n_steps == 3
    assert loaded.replay_buffer.gamma == loaded.gamma
    assert isinstance(loaded.q_net, DuelingQNetwork) and isinstance(loaded.q_net_target, DuelingQNetwork)
    for name, tensor in model.policy.state_dict().items():
        assert th.equal(tensor, loaded.policy.state_dict()[name]), name
    np.testing.assert_array_equal(actions, loaded.predict(obs, deterministic=True)[0])
    loaded.learn(50, reset_num_timesteps=False)


def test_save_load_keeps_defaults(tmp_path):
    model = CartDQN("MlpPolicy", "CartPole-v1", device="cpu")
    model.save(tmp_path / "model")
    loaded = CartDQN.load(tmp_path / "model.zip", env=model.get_env(), device="cpu")
    assert loaded.double_q is False and loaded.n_steps == 1 and loaded.policy.dueling is False
    assert type(loaded.replay_buffer) is ReplayBuffer


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(double_q=1), "invalid double_q=1: it must be True or False"),
        (dict(double_q="yes"), "invalid double_q='yes'"),
        (dict(n_steps=0), "invalid n_steps=0: it must be an integer >= 1"),
        (dict(n_steps=2.5), "invalid n_steps=2.5: it must be an integer >= 1"),
        (dict(n_steps=True), "invalid n_steps=True"),
        (dict(policy_kwargs=dict(dueling=1)), r"invalid policy_kwargs\['dueling'\]=1: it must be True or False"),
        (dict(n_steps=3, optimize_memory_usage=True), "no memory-optimised variant: pass optimize_memory_usage=False"),
        (dict(n_steps=3, replay_buffer_class=ReplayBuffer), "replay_buffer_class=ReplayBuffer was given"),
    ],
)
def test_bad_values_name_the_fix(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CartDQN("MlpPolicy", "CartPole-v1", device="cpu", **kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(double_q=1), "invalid double_q=1: it must be True or False"),
        (dict(n_steps=0), "invalid n_steps=0: it must be an integer >= 1"),
        (dict(n_steps=2.5), "invalid n_steps=2.5: it must be an integer >= 1"),
        (dict(n_steps=True), "invalid n_steps=True"),
        (dict(policy_kwargs=dict(dueling=1)), r"invalid policy_kwargs\['dueling'\]=1: it must be True or False"),
        (dict(tau=0.0), "invalid tau=0.0"),
    ],
)
def test_batched_trainer_checks_options_as_cartdqn_does(kwargs, message):
    # One validation of every option: BatchedCartDQN runs CartDQN's checks, with CartDQN's messages
    with pytest.raises(ValueError, match=message):
        BatchedCartDQN("CartPole-v1", [0, 1], **kwargs)
