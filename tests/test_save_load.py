"""SB3's test_save_load for DQN, adapted: parameters, actions, optimizer, replay buffer survive save/load."""

import numpy as np
import pytest
import torch as th

from sb3_cartdqn import CartDQN


@pytest.fixture
def trained():
    model = CartDQN("MlpPolicy", "CartPole-v1", seed=0, device="cpu")
    model.learn(600)
    return model


def test_save_load_same_parameters_and_actions(trained, tmp_path):
    obs = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    actions, _ = trained.predict(obs, deterministic=True)
    params = trained.get_parameters()
    trained.save(tmp_path / "model")
    del trained

    loaded = CartDQN.load(tmp_path / "model.zip", device="cpu")
    new_params = loaded.get_parameters()
    for key in ("policy", "policy.optimizer"):
        assert key in new_params
    for name, tensor in params["policy"].items():
        assert th.equal(tensor, new_params["policy"][name]), name
    np.testing.assert_array_equal(actions, loaded.predict(obs, deterministic=True)[0])
    # the target network and AMSGrad's state come back too
    state = loaded.policy.optimizer.state_dict()["state"]
    assert all("max_exp_avg_sq" in s for s in state.values())
    assert loaded.policy.optimizer.param_groups[0]["amsgrad"] is True
    assert loaded.q_net_target is loaded.policy.q_net_target


def test_learn_after_load(trained, tmp_path):
    trained.save(tmp_path / "model")
    loaded = CartDQN.load(tmp_path / "model.zip", env=trained.get_env(), device="cpu")
    before = loaded._n_updates
    loaded.learn(200, reset_num_timesteps=False)
    assert loaded.num_timesteps == 800
    assert loaded._n_updates == before + 200
    # soft update still targets the loaded networks
    assert loaded.fast_paths.target_params[0] is next(loaded.q_net_target.parameters())


def test_replay_buffer_save_load(trained, tmp_path):
    buffer = trained.replay_buffer
    trained.save_replay_buffer(tmp_path / "buffer")
    loaded = CartDQN.load(_saved(trained, tmp_path), device="cpu")
    loaded.load_replay_buffer(tmp_path / "buffer.pkl")
    assert loaded.replay_buffer.pos == buffer.pos and loaded.replay_buffer.full == buffer.full
    for field in ("observations", "next_observations", "actions", "rewards", "dones", "timeouts"):
        np.testing.assert_array_equal(getattr(loaded.replay_buffer, field), getattr(buffer, field))


def _saved(model, tmp_path):
    model.save(tmp_path / "model")
    return tmp_path / "model.zip"


def test_save_load_keeps_hyperparameters(tmp_path):
    model = CartDQN(
        "MlpPolicy",
        "CartPole-v1",
        exploration_decay=123,
        exploration_initial_eps=0.7,
        exploration_final_eps=0.1,
        clip_grad_value=5.0,
        tau=0.01,
        policy_kwargs=dict(net_arch=[32]),
    )
    model.save(tmp_path / "model")
    loaded = CartDQN.load(tmp_path / "model.zip")
    assert (loaded.exploration_decay, loaded.exploration_initial_eps, loaded.exploration_final_eps) == (123, 0.7, 0.1)
    assert loaded.clip_grad_value == 5.0 and loaded.tau == 0.01
    assert loaded.policy.net_arch == [32]
