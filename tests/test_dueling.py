"""The dueling head: Q = V + A - mean(A), computed by hand on crafted weights; built for MlpPolicy and CnnPolicy."""

import pytest
import torch as th
from stable_baselines3.dqn.policies import QNetwork
from torch import nn

from sb3_cartdqn import CartDQN
from sb3_cartdqn.cartdqn.policies import DuelingHead, DuelingQNetwork


def test_aggregation_by_hand():
    # No hidden layers: V(s) = w_v . s + b_v, A(s, .) = W_a s + b_a
    head = DuelingHead(features_dim=2, n_actions=3, net_arch=[], activation_fn=nn.ReLU)
    with th.no_grad():
        head.value.weight.copy_(th.tensor([[1.0, -1.0]]))
        head.value.bias.fill_(0.5)
        head.advantage.weight.copy_(th.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]]))
        head.advantage.bias.copy_(th.tensor([0.0, 1.0, -1.0]))
    features = th.tensor([[3.0, 1.0], [0.0, 2.0]])
    # row 0: V = 3 - 1 + 0.5 = 2.5, A = [3, 2, 7], mean 4 -> Q = [1.5, 0.5, 5.5]
    # row 1: V = -2 + 0.5 = -1.5, A = [0, 3, 3], mean 2 -> Q = [-3.5, -0.5, -0.5]
    th.testing.assert_close(head(features), th.tensor([[1.5, 0.5, 5.5], [-3.5, -0.5, -0.5]]))


def test_value_is_mean_q_and_advantages_rank_actions():
    th.manual_seed(0)
    head = DuelingHead(features_dim=4, n_actions=5, net_arch=[16, 8], activation_fn=nn.Tanh)
    features = th.randn(32, 4)
    q_values = head(features)
    hidden = head.shared(features)
    # the mean over actions of Q is V; Q minus V is the mean-subtracted advantage
    th.testing.assert_close(q_values.mean(dim=1, keepdim=True), head.value(hidden))
    advantages = head.advantage(hidden)
    th.testing.assert_close(q_values - head.value(hidden), advantages - advantages.mean(dim=1, keepdim=True))
    assert th.equal(q_values.argmax(dim=1), advantages.argmax(dim=1))
    # layout: the net_arch layers are shared, each stream is one linear layer
    assert [m.out_features for m in head.shared if isinstance(m, nn.Linear)] == [16, 8]
    assert (head.value.in_features, head.value.out_features) == (8, 1)
    assert (head.advantage.in_features, head.advantage.out_features) == (8, 5)


def test_mlp_policy_builds_dueling_online_and_target_nets():
    model = CartDQN("MlpPolicy", "CartPole-v1", policy_kwargs=dict(dueling=True), seed=0, device="cpu")
    for net in (model.q_net, model.q_net_target):
        assert isinstance(net, DuelingQNetwork) and isinstance(net.q_net, DuelingHead)
    assert model.q_net.features_extractor is not model.q_net_target.features_extractor
    # the target starts as a copy of the online net, and the soft update covers the heads
    for online, target in zip(model.q_net.parameters(), model.q_net_target.parameters(), strict=True):
        assert th.equal(online, target)
    assert len(model.fast_paths.params) == len(list(model.q_net.parameters())) == 8  # 2 shared layers + 2 heads
    obs = th.randn(5, 4)
    q_values = model.q_net(obs)
    assert q_values.shape == (5, 2)
    assert th.equal(model.q_net._predict(obs), q_values.argmax(dim=1))
    model.learn(200)  # trains: the online and target nets drift apart by the soft update
    assert not th.equal(model.q_net.q_net.value.weight, model.q_net_target.q_net.value.weight)


def test_cnn_policy_dueling_heads_on_cnn_features():
    model = CartDQN("CnnPolicy", "CartPoleScreenDiff-v1", policy_kwargs=dict(dueling=True), buffer_size=200, device="cpu")
    head = model.q_net.q_net
    assert isinstance(head, DuelingHead) and len(head.shared) == 0  # CnnPolicy: net_arch=[], heads on the features
    assert head.value.in_features == head.advantage.in_features == model.q_net.features_dim
    assert head.advantage.out_features == 2


@pytest.mark.parametrize("policy", ["MlpPolicy", "CnnPolicy"])
def test_plain_network_by_default(policy):
    env = "CartPole-v1" if policy == "MlpPolicy" else "CartPoleScreenDiff-v1"
    model = CartDQN(policy, env, buffer_size=200, device="cpu")
    assert model.policy.dueling is False and type(model.q_net) is QNetwork
