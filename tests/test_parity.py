"""One CartDQN update against a line-by-line transcription of the tutorial's optimize_model + soft update."""

import copy
from collections import namedtuple

import numpy as np
import torch as th
import torch.nn as nn
import torch.nn.functional as F
from stable_baselines3.common.logger import configure
from stable_baselines3.common.type_aliases import ReplayBufferSamples

from sb3_cartdqn import CartDQN

Transition = namedtuple("Transition", ("state", "action", "next_state", "reward"))
BATCH_SIZE, GAMMA, TAU, LR = 128, 0.99, 0.005, 1e-4


class TutorialDQN(nn.Module):
    def __init__(self, n_observations, n_actions):
        super().__init__()
        self.layer1 = nn.Linear(n_observations, 128)
        self.layer2 = nn.Linear(128, 128)
        self.layer3 = nn.Linear(128, n_actions)

    def forward(self, x):
        x = F.relu(self.layer1(x))
        x = F.relu(self.layer2(x))
        return self.layer3(x)


def tutorial_optimize_and_soft_update(policy_net, target_net, optimizer, transitions):
    """The tutorial's optimize_model() and the soft update that follows it, verbatim but for the sampling."""
    batch = Transition(*zip(*transitions, strict=True))
    non_final_mask = th.tensor(tuple(map(lambda s: s is not None, batch.next_state)), dtype=th.bool)
    non_final_next_states = th.cat([s for s in batch.next_state if s is not None])
    state_batch = th.cat(batch.state)
    action_batch = th.cat(batch.action)
    reward_batch = th.cat(batch.reward)
    state_action_values = policy_net(state_batch).gather(1, action_batch)
    next_state_values = th.zeros(BATCH_SIZE)
    with th.no_grad():
        next_state_values[non_final_mask] = target_net(non_final_next_states).max(1)[0]
    expected_state_action_values = (next_state_values * GAMMA) + reward_batch
    criterion = nn.SmoothL1Loss()
    loss = criterion(state_action_values, expected_state_action_values.unsqueeze(1))
    optimizer.zero_grad()
    loss.backward()
    th.nn.utils.clip_grad_value_(policy_net.parameters(), 100)
    optimizer.step()

    target_net_state_dict = target_net.state_dict()
    policy_net_state_dict = policy_net.state_dict()
    for key in policy_net_state_dict:
        target_net_state_dict[key] = policy_net_state_dict[key] * TAU + target_net_state_dict[key] * (1 - TAU)
    target_net.load_state_dict(target_net_state_dict)


def _copy_into_tutorial(q_net: nn.Sequential, net: TutorialDQN) -> None:
    linears = [m for m in q_net if isinstance(m, nn.Linear)]
    with th.no_grad():
        for src, dst in zip(linears, (net.layer1, net.layer2, net.layer3), strict=True):
            dst.weight.copy_(src.weight)
            dst.bias.copy_(src.bias)


def _flat(net: nn.Module) -> th.Tensor:
    return th.cat([p.detach().flatten() for p in net.parameters()])


def _random_batch(rng: np.random.Generator, scale: float = 1.0):
    obs = rng.normal(size=(BATCH_SIZE, 4)).astype(np.float32) * scale
    next_obs = rng.normal(size=(BATCH_SIZE, 4)).astype(np.float32) * scale
    actions = rng.integers(0, 2, size=(BATCH_SIZE, 1))
    rewards = rng.uniform(-1, 2, size=(BATCH_SIZE, 1)).astype(np.float32)
    terminated = rng.random(BATCH_SIZE) < 0.2
    return obs, actions, next_obs, rewards, terminated


def test_update_matches_tutorial():
    model = CartDQN("MlpPolicy", "CartPole-v1", seed=0, device="cpu")
    model.set_logger(configure(None, []))
    # Make the target differ from the online net so the soft update is visible
    with th.no_grad():
        for p in model.q_net_target.parameters():
            p.add_(0.01 * th.randn_like(p))

    policy_net, target_net = TutorialDQN(4, 2), TutorialDQN(4, 2)
    _copy_into_tutorial(model.q_net.q_net, policy_net)
    _copy_into_tutorial(model.q_net_target.q_net, target_net)
    optimizer = th.optim.AdamW(policy_net.parameters(), lr=LR, amsgrad=True)

    rng = np.random.default_rng(0)
    for _ in range(5):  # several steps, so that AMSGrad's state matters too
        obs, actions, next_obs, rewards, terminated = _random_batch(rng)
        transitions = [
            Transition(
                th.tensor(obs[i]).unsqueeze(0),
                th.tensor([[int(actions[i, 0])]]),
                None if terminated[i] else th.tensor(next_obs[i]).unsqueeze(0),
                th.tensor([float(rewards[i, 0])]),
            )
            for i in range(BATCH_SIZE)
        ]
        samples = ReplayBufferSamples(
            th.tensor(obs),
            th.tensor(actions),
            th.tensor(next_obs),
            th.tensor(terminated.astype(np.float32)).reshape(-1, 1),
            th.tensor(rewards),
        )
        model.replay_buffer.sample = lambda *args, _s=samples, **kwargs: _s  # type: ignore[method-assign]
        model.train(gradient_steps=1, batch_size=BATCH_SIZE)
        tutorial_optimize_and_soft_update(policy_net, target_net, optimizer, transitions)

        th.testing.assert_close(_flat(model.q_net), _flat(policy_net), rtol=1e-5, atol=1e-7)
        th.testing.assert_close(_flat(model.q_net_target), _flat(target_net), rtol=1e-5, atol=1e-7)


def test_clipping_matches_tutorial_on_huge_errors():
    """Rewards of 1e6 make every gradient far larger than 100: the clip must act the same way in both."""
    model = CartDQN("MlpPolicy", "CartPole-v1", seed=1, device="cpu")
    model.set_logger(configure(None, []))
    policy_net, target_net = TutorialDQN(4, 2), TutorialDQN(4, 2)
    _copy_into_tutorial(model.q_net.q_net, policy_net)
    _copy_into_tutorial(model.q_net_target.q_net, target_net)
    optimizer = th.optim.AdamW(policy_net.parameters(), lr=LR, amsgrad=True)
    obs, actions, next_obs, rewards, terminated = _random_batch(np.random.default_rng(1), scale=1e3)
    rewards = rewards * 1e6
    transitions = [
        Transition(
            th.tensor(obs[i]).unsqueeze(0),
            th.tensor([[int(actions[i, 0])]]),
            None if terminated[i] else th.tensor(next_obs[i]).unsqueeze(0),
            th.tensor([float(rewards[i, 0])]),
        )
        for i in range(BATCH_SIZE)
    ]
    samples = ReplayBufferSamples(
        th.tensor(obs),
        th.tensor(actions),
        th.tensor(next_obs),
        th.tensor(terminated.astype(np.float32)).reshape(-1, 1),
        th.tensor(rewards),
    )
    model.replay_buffer.sample = lambda *args, **kwargs: samples  # type: ignore[method-assign]
    before = copy.deepcopy(model.q_net)
    model.train(gradient_steps=1, batch_size=BATCH_SIZE)
    tutorial_optimize_and_soft_update(policy_net, target_net, optimizer, transitions)
    assert not th.equal(_flat(before), _flat(model.q_net))
    th.testing.assert_close(_flat(model.q_net), _flat(policy_net), rtol=1e-5, atol=1e-7)
