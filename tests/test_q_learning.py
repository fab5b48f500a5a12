"""The TD targets, computed by hand on a crafted batch: the tutorial's max target and the Double DQN target."""

import pytest
import torch as th
from torch import nn

import sb3_cartdqn.cartdqn.cartdqn as cartdqn_module
from sb3_cartdqn import CartDQN
from sb3_cartdqn.common.q_learning import next_state_values, q_target


class FixedQ(nn.Module):
    """A 'network' that returns a fixed Q-table row per observation (observation = row index)."""

    def __init__(self, table: list[list[float]]) -> None:
        super().__init__()
        self.table = th.tensor(table)

    def forward(self, obs: th.Tensor) -> th.Tensor:
        return self.table[obs.long().reshape(-1)]


# Three next observations, three actions. The online net prefers an action the target net rates low on rows 0 and 1.
ONLINE = FixedQ([[5.0, 1.0, 0.0], [0.0, 0.0, 9.0], [1.0, 2.0, 3.0]])
TARGET = FixedQ([[2.0, 4.0, 3.0], [7.0, 1.0, -1.0], [0.5, 0.0, 6.0]])
NEXT_OBS = th.tensor([[0.0], [1.0], [2.0]])
REWARDS = th.tensor([[1.0], [0.5], [-1.0]])
DONES = th.tensor([[0.0], [0.0], [1.0]])
GAMMA = 0.9


def test_plain_target_is_max_of_target_net():
    # max_a' Q_target(s', a') = 4, 7, 6
    assert next_state_values(TARGET, NEXT_OBS).tolist() == [[4.0], [7.0], [6.0]]
    expected = [[1.0 + 0.9 * 4.0], [0.5 + 0.9 * 7.0], [-1.0]]  # the terminated row does not bootstrap
    th.testing.assert_close(q_target(REWARDS, DONES, GAMMA, NEXT_OBS, TARGET), th.tensor(expected))


def test_double_target_values_online_argmax_with_target_net():
    # online argmax: actions 0, 2, 2 -> Q_target(s', a*) = 2, -1, 6
    assert next_state_values(TARGET, NEXT_OBS, ONLINE).tolist() == [[2.0], [-1.0], [6.0]]
    expected = [[1.0 + 0.9 * 2.0], [0.5 + 0.9 * -1.0], [-1.0]]
    th.testing.assert_close(q_target(REWARDS, DONES, GAMMA, NEXT_OBS, TARGET, ONLINE), th.tensor(expected))
    # never above the plain target: the same values, at an action not chosen by the target net's max
    assert (next_state_values(TARGET, NEXT_OBS, ONLINE) <= next_state_values(TARGET, NEXT_OBS)).all()


def test_per_sample_discounts():
    # n-step replay: one discount per transition (gamma ** k)
    discounts = th.tensor([[0.9**3], [0.9], [0.9**2]])
    expected = [[1.0 + 0.9**3 * 4.0], [0.5 + 0.9 * 7.0], [-1.0]]
    th.testing.assert_close(q_target(REWARDS, DONES, discounts, NEXT_OBS, TARGET), th.tensor(expected))


@pytest.mark.parametrize("double_q", [False, True])
def test_train_regresses_on_the_chosen_target(double_q, monkeypatch):
    """CartDQN.train passes the online network to the target exactly when double_q, and gets the hand-made target."""
    calls = []

    def recording_q_target(rewards, dones, discounts, next_obs, target_net, online_net=None):
        with th.no_grad():  # by hand, with the networks as they are at this gradient step
            target_q = target_net(next_obs)
            plain = target_q.max(dim=1).values
            double = target_q[th.arange(len(target_q)), model.q_net(next_obs).argmax(dim=1)]
            by_hand = {
                kind: rewards.reshape(-1) + (1 - dones.reshape(-1)) * discounts * values
                for kind, values in (("plain", plain), ("double", double))
            }
        result = q_target(rewards, dones, discounts, next_obs, target_net, online_net)
        calls.append((target_net, online_net, discounts, result.reshape(-1), by_hand))
        return result

    monkeypatch.setattr(cartdqn_module, "q_target", recording_q_target)
    model = CartDQN("MlpPolicy", "CartPole-v1", double_q=double_q, learning_starts=32, batch_size=32, seed=0, device="cpu")
    model.learn(40)
    assert len(calls) == model._n_updates > 0
    for target_net, online_net, discounts, result, by_hand in calls:
        # the networks, or their module-dispatch-free forward (MlpForward) on the same parameters
        assert target_net in (model.q_net_target, model.fast_paths.q_target)
        assert online_net is None if not double_q else online_net in (model.q_net, model.fast_paths.q)
        assert discounts == model.gamma  # one-step replay: no per-sample discounts
        th.testing.assert_close(result, by_hand["double" if double_q else "plain"])
    # the two targets differ on these batches, so the check above tells them apart
    assert any(not th.allclose(by_hand["plain"], by_hand["double"]) for *_, by_hand in calls)


def test_double_q_off_by_default():
    assert CartDQN("MlpPolicy", "CartPole-v1", device="cpu").double_q is False
