"""n-step returns through SB3's NStepReplayBuffer: the returns, discounts and bootstrap flags CartDQN trains on,
computed by hand across a termination and across a truncation (time limit)."""

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.buffers import NStepReplayBuffer, ReplayBuffer
from stable_baselines3.common.envs import SimpleMultiObsEnv
from stable_baselines3.common.logger import Logger

import sb3_cartdqn.cartdqn.cartdqn as cartdqn_module
from sb3_cartdqn import CartDQN
from sb3_cartdqn.common.q_learning import q_target

GAMMA = 0.5

# (reward, terminated, truncated) per step: episode A terminates after 4 steps, episode B is truncated
# (time limit) after 3, episode C is still running.
STEPS = [(1, False, False), (2, False, False), (3, False, False), (4, True, False)]
STEPS += [(10, False, False), (20, False, False), (30, False, True)]
STEPS += [(100, False, False), (200, False, False), (300, False, False)]


@pytest.fixture
def model():
    model = CartDQN("MlpPolicy", "CartPole-v1", n_steps=3, gamma=GAMMA, buffer_size=100, batch_size=8, seed=0, device="cpu")
    for idx, (reward, terminated, truncated) in enumerate(STEPS):
        # observation i is [i, 0, 0, 0], its next observation [i + 0.5, 0, 0, 0] (the terminal one at episode ends)
        obs = np.array([[idx, 0, 0, 0]], dtype=np.float32)
        model.replay_buffer.add(
            obs,
            obs + np.array([[0.5, 0, 0, 0]], dtype=np.float32),
            np.array([[idx % 2]]),
            np.array([reward], dtype=np.float32),
            np.array([terminated or truncated]),  # what the VecEnv reports as done
            [{"TimeLimit.truncated": truncated}],
        )
    return model


def _samples(model, indices):
    return model.replay_buffer._get_samples(np.array(indices))


# index: (n-step return, discount for the bootstrap, done = terminated within the n steps, index of s')
EXPECTED = {
    0: (1 + 0.5 * 2 + 0.25 * 3, 0.125, 0.0, 2),  # three full steps
    1: (2 + 0.5 * 3 + 0.25 * 4, 0.125, 1.0, 3),  # the third step terminates: no bootstrap
    2: (3 + 0.5 * 4, 0.25, 1.0, 3),  # stops at the termination
    3: (4, 0.5, 1.0, 3),
    4: (10 + 0.5 * 20 + 0.25 * 30, 0.125, 0.0, 6),  # truncated on the third step: bootstraps from the last obs
    5: (20 + 0.5 * 30, 0.25, 0.0, 6),  # stops at the truncation, discount gamma ** 2
    6: (30, 0.5, 0.0, 6),
    7: (100 + 0.5 * 200 + 0.25 * 300, 0.125, 0.0, 9),
    8: (200 + 0.5 * 300, 0.25, 0.0, 9),  # the newest transition ends the window: nothing after it is read
}


def test_default_is_one_step_replay():
    model = CartDQN("MlpPolicy", "CartPole-v1", device="cpu")
    assert model.n_steps == 1 and type(model.replay_buffer) is ReplayBuffer


def test_n_step_buffer_is_sb3s(model):
    assert type(model.replay_buffer) is NStepReplayBuffer
    assert (model.replay_buffer.n_steps, model.replay_buffer.gamma) == (3, GAMMA)


@pytest.mark.parametrize("index", sorted(EXPECTED))
def test_n_step_return_across_termination_and_truncation(model, index):
    n_step_return, discount, done, last = EXPECTED[index]
    samples = _samples(model, [index])
    assert samples.rewards.item() == pytest.approx(n_step_return)
    assert samples.discounts.item() == pytest.approx(discount)
    assert samples.dones.item() == done
    assert samples.observations[0, 0].item() == index
    assert samples.next_observations[0, 0].item() == last + 0.5


def test_q_target_on_n_step_samples(model):
    """The target CartDQN trains on: n-step return + (1 - done) * gamma ** k * max_a Q_target(s_{t+k}, a)."""
    indices = sorted(EXPECTED)
    samples = _samples(model, indices)
    with th.no_grad():
        v_next = model.q_net_target(samples.next_observations).max(dim=1).values
    expected = [EXPECTED[i][0] + (1 - EXPECTED[i][2]) * EXPECTED[i][1] * v_next[row].item() for row, i in enumerate(indices)]
    target = q_target(samples.rewards, samples.dones, samples.discounts, samples.next_observations, model.q_net_target)
    np.testing.assert_allclose(target.reshape(-1).numpy(), expected, rtol=1e-6)


def test_train_uses_per_sample_discounts(model, monkeypatch):
    seen = []
    monkeypatch.setattr(cartdqn_module, "q_target", lambda *args: seen.append(args) or q_target(*args))
    model.set_logger(Logger(None, []))
    model.train(gradient_steps=1, batch_size=8)
    discounts = seen[0][2]
    assert isinstance(discounts, th.Tensor) and discounts.shape == (8, 1)
    assert set(discounts.reshape(-1).tolist()) <= {GAMMA, GAMMA**2, GAMMA**3}


def test_learns_with_time_limits():
    """A short time limit makes truncations common: they reach the n-step buffer as timeouts, and training runs."""
    env = gym.make("CartPole-v1", max_episode_steps=8)
    model = CartDQN("MlpPolicy", env, n_steps=4, learning_starts=32, batch_size=32, seed=0, device="cpu")
    model.learn(200)
    buffer = model.replay_buffer
    assert buffer.timeouts[: buffer.pos].any() and model._n_updates > 0


def test_dict_observations_are_refused():
    with pytest.raises(ValueError, match="n-step replay buffer does not support Dict observations"):
        CartDQN("MultiInputPolicy", SimpleMultiObsEnv(), n_steps=3, device="cpu")
    # n_steps=1 still works with Dict observations
    CartDQN("MultiInputPolicy", SimpleMultiObsEnv(), buffer_size=100, batch_size=8, device="cpu")
