"""The tutorial's exponential epsilon, as a function of num_timesteps, across learn() calls and save/load."""

import math

import pytest
from stable_baselines3.common.env_util import make_vec_env

from sb3_cartdqn import CartDQN
from sb3_cartdqn.common.exploration import ExponentialEpsilon


def tutorial_eps(steps_done: int, start=0.9, end=0.05, decay=1000) -> float:
    return end + (start - end) * math.exp(-1.0 * steps_done / decay)


@pytest.mark.parametrize("t", [0, 1, 10, 500, 1000, 2500, 10_000, 1_000_000])
def test_schedule_values(t):
    schedule = ExponentialEpsilon(0.9, 0.05, 1000)
    assert schedule(t) == pytest.approx(tutorial_eps(t), rel=1e-12)


def test_schedule_endpoints():
    schedule = ExponentialEpsilon(0.9, 0.05, 1000)
    assert schedule(0) == pytest.approx(0.9)
    assert schedule(1000) == pytest.approx(0.05 + 0.85 / math.e)
    assert schedule(10**7) == pytest.approx(0.05)


class EpsilonRecorder:
    """Records (num_timesteps before the step, epsilon used for that step's action)."""

    def __init__(self, model):
        self.seen = []
        original = model._sample_action

        def wrapped(*args, **kwargs):
            result = original(*args, **kwargs)
            self.seen.append((model.num_timesteps, model.exploration_rate))
            return result

        model._sample_action = wrapped


def test_epsilon_used_for_each_action_is_tutorial_value():
    model = CartDQN("MlpPolicy", "CartPole-v1", learning_starts=10_000, seed=0, device="cpu")
    recorder = EpsilonRecorder(model)
    model.learn(300)
    assert [t for t, _ in recorder.seen] == list(range(300))
    for t, eps in recorder.seen:
        assert eps == pytest.approx(tutorial_eps(t))


def test_epsilon_counts_every_env():
    model = CartDQN("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2), learning_starts=10_000, seed=0, device="cpu")
    recorder = EpsilonRecorder(model)
    model.learn(100)
    assert [t for t, _ in recorder.seen] == list(range(0, 100, 2))
    assert model.exploration_rate == pytest.approx(tutorial_eps(98))


def test_epsilon_continues_across_learn_calls():
    model = CartDQN("MlpPolicy", "CartPole-v1", seed=0, device="cpu")
    model.learn(400)
    recorder = EpsilonRecorder(model)
    model.learn(200, reset_num_timesteps=False)
    assert recorder.seen[0][0] == 400
    assert recorder.seen[0][1] == pytest.approx(tutorial_eps(400))
    assert model.num_timesteps == 600

    # reset_num_timesteps=True restarts the schedule, as it restarts num_timesteps
    recorder = EpsilonRecorder(model)
    model.learn(10)
    assert recorder.seen[0] == (0, pytest.approx(0.9))


def test_epsilon_continues_after_save_load(tmp_path):
    model = CartDQN("MlpPolicy", "CartPole-v1", seed=0, device="cpu", exploration_decay=300)
    model.learn(500)
    model.save(tmp_path / "model.zip")
    loaded = CartDQN.load(tmp_path / "model.zip", env=model.get_env(), device="cpu")
    assert loaded.num_timesteps == 500
    assert loaded.exploration_decay == 300
    assert loaded.exploration_rate == pytest.approx(tutorial_eps(500, decay=300))
    recorder = EpsilonRecorder(loaded)
    loaded.learn(50, reset_num_timesteps=False)
    assert recorder.seen[0] == (500, pytest.approx(tutorial_eps(500, decay=300)))
    assert recorder.seen[-1] == (549, pytest.approx(tutorial_eps(549, decay=300)))
