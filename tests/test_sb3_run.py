"""
SB3's ``tests/test_run.py``, its DQN cases run on CartDQN (issue #13: CartDQN as a drop-in for SB3 users).

Ported from https://github.com/DLR-RM/stable-baselines3 (MIT licence), tests/test_run.py at e05d2db: ``test_dqn``,
``test_offpolicy_multi_env[DQN]``, ``test_warn_dqn_multi_env``, and the off-policy cases SB3 runs with SAC only
(``test_train_freq``, ``test_train_freq_fail``), run here with CartDQN on CartPole. DQN-only arguments are mapped to
CartDQN's; where CartDQN differs on purpose, the test says so and checks CartDQN's behaviour.
"""

import warnings

import gymnasium as gym
import pytest
from stable_baselines3.common.env_util import make_vec_env

from sb3_cartdqn import CartDQN


def test_dqn():
    model = CartDQN(
        "MlpPolicy",
        "CartPole-v1",
        policy_kwargs=dict(net_arch=[64, 64]),
        learning_starts=100,
        buffer_size=500,
        learning_rate=3e-4,
        verbose=1,
    )
    model.learn(total_timesteps=200)
    assert model._n_updates == 101  # CartDQN: the first gradient step at num_timesteps == learning_starts


#: SB3's SAC arguments in test_train_freq and test_train_freq_fail, minus SAC's n_critics
TRAIN_FREQ_KWARGS = dict(policy_kwargs=dict(net_arch=[64, 64]), learning_starts=100, buffer_size=10000, verbose=1)


@pytest.mark.parametrize("train_freq", [4, (4, "step"), (1, "episode")])
def test_train_freq(tmp_path, train_freq):
    # SB3 runs this one with SAC on Pendulum
    model = CartDQN("MlpPolicy", "CartPole-v1", train_freq=train_freq, **TRAIN_FREQ_KWARGS)
    model.learn(total_timesteps=150)
    model.save(tmp_path / "test_save.zip")
    env = model.get_env()
    model = CartDQN.load(tmp_path / "test_save.zip", env=env)
    model.learn(total_timesteps=150)
    model = CartDQN.load(tmp_path / "test_save.zip", train_freq=train_freq, env=env)
    model.learn(total_timesteps=150)


@pytest.mark.parametrize("train_freq", ["4", ("1", "episode"), "non_sense", (1, "close")])
def test_train_freq_fail(train_freq):
    # SB3 runs this one with SAC; CartDQN raises its ValueError in the constructor, naming train_freq
    with pytest.raises(ValueError, match="train_freq"):
        model = CartDQN("MlpPolicy", "CartPole-v1", train_freq=train_freq, **TRAIN_FREQ_KWARGS)
        model.learn(total_timesteps=250)


def test_offpolicy_multi_env():
    policy_kwargs = dict(net_arch=[64])

    def make_env():
        env = gym.make("CartPole-v1")
        # to check that the code handling timeouts runs
        env = gym.wrappers.TimeLimit(env, 50)
        return env

    env = make_vec_env(make_env, n_envs=2)
    model = CartDQN(
        "MlpPolicy",
        env,
        policy_kwargs=policy_kwargs,
        learning_starts=100,
        buffer_size=10000,
        verbose=0,
        train_freq=5,
    )
    model.learn(total_timesteps=150)

    # Check that gradient_steps=-1 works as expected:
    # perform as many gradient_steps as transitions collected
    train_freq = 3
    model = CartDQN(
        "MlpPolicy",
        env,
        policy_kwargs=policy_kwargs,
        learning_starts=0,
        buffer_size=10000,
        verbose=0,
        train_freq=train_freq,
        gradient_steps=-1,
    )
    model.learn(total_timesteps=train_freq)
    assert model.logger.name_to_value["train/n_updates"] == train_freq * env.num_envs


def test_no_warning_dqn_multi_env():
    # Intended difference: SB3's DQN warns that with several envs its target_update_interval (in env steps) is
    # reached sooner. CartDQN has no target_update_interval (a soft update after every gradient step, the
    # tutorial's), so nothing depends on the number of envs: no warning, and the DQN-only argument is refused.
    # batch_size=32 is DQN's default: CartDQN's is the tutorial's 128, which it refuses above buffer_size=100.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CartDQN("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2), buffer_size=100, batch_size=32)
    with pytest.raises(ValueError, match="batch_size=128: it must not exceed buffer_size=100"):
        CartDQN("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2), buffer_size=100)
    with pytest.raises(TypeError, match="target_update_interval"):
        CartDQN("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2), buffer_size=100, target_update_interval=1)
