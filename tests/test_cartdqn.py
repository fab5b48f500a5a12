"""CartDQN's tutorial mechanics: defaults, optimizer, clipping, targets, learning start, acting, logging."""

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.callbacks import EvalCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.logger import configure
from stable_baselines3.common.vec_env import DummyVecEnv
from torch.nn import functional as F

from sb3_cartdqn import CartDQN


def test_tutorial_defaults():
    model = CartDQN("MlpPolicy", "CartPole-v1", device="cpu")
    assert model.learning_rate == 1e-4
    assert model.buffer_size == 10_000
    assert model.batch_size == 128
    assert model.gamma == 0.99
    assert model.tau == 0.005
    assert model.learning_starts == 128
    assert model.train_freq.frequency == 1 and model.gradient_steps == 1
    assert model.clip_grad_value == 100
    assert (model.exploration_initial_eps, model.exploration_final_eps, model.exploration_decay) == (0.9, 0.05, 1000)
    assert model.replay_buffer.handle_timeout_termination
    linears = [m for m in model.q_net.q_net if isinstance(m, th.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(4, 128), (128, 128), (128, 2)]
    assert all(isinstance(m, th.nn.ReLU) for m in model.q_net.q_net if not isinstance(m, th.nn.Linear))
    # Online and target start equal
    for p, p_target in zip(model.q_net.parameters(), model.q_net_target.parameters(), strict=True):
        assert th.equal(p, p_target)


def test_optimizer_is_amsgrad_adamw():
    model = CartDQN("MlpPolicy", "CartPole-v1", device="cpu")
    optimizer = model.policy.optimizer
    assert type(optimizer) is th.optim.AdamW
    group = optimizer.param_groups[0]
    assert group["amsgrad"] is True
    assert group["lr"] == 1e-4
    assert len(group["params"]) == len(list(model.q_net.parameters()))


def test_optimizer_changeable_through_policy_kwargs():
    model = CartDQN(
        "MlpPolicy",
        "CartPole-v1",
        learning_rate=3e-4,
        policy_kwargs=dict(optimizer_class=th.optim.RMSprop, optimizer_kwargs=dict(alpha=0.95), net_arch=[64]),
        device="cpu",
    )
    optimizer = model.policy.optimizer
    assert type(optimizer) is th.optim.RMSprop
    assert optimizer.param_groups[0]["alpha"] == 0.95
    assert optimizer.param_groups[0]["lr"] == 3e-4
    # AdamW keeps amsgrad unless told otherwise
    model = CartDQN("MlpPolicy", "CartPole-v1", policy_kwargs=dict(optimizer_kwargs=dict(weight_decay=0.0)), device="cpu")
    assert model.policy.optimizer.param_groups[0]["amsgrad"] is True
    assert model.policy.optimizer.param_groups[0]["weight_decay"] == 0.0


def _train_once_recording_grads(model):
    grads = []
    optimizer = model.policy.optimizer
    original_step = optimizer.step

    def step(*args, **kwargs):
        grads.append([p.grad.clone() for p in model.q_net.parameters()])
        return original_step(*args, **kwargs)

    optimizer.step = step
    model.train(gradient_steps=1, batch_size=model.batch_size)
    optimizer.step = original_step
    return grads[0]


def _fill_buffer(model, n, reward=1e7):
    buffer = model.replay_buffer
    rng = np.random.default_rng(0)
    for _ in range(n):
        obs = rng.normal(size=(1, 4)).astype(np.float32) * 1e4
        buffer.add(obs, obs, np.array([[rng.integers(2)]]), np.array([reward]), np.array([False]), [{}])


@pytest.mark.parametrize("clip", [100.0, 0.5])
def test_gradient_value_clipping_applied(clip):
    model = CartDQN("MlpPolicy", "CartPole-v1", clip_grad_value=clip, device="cpu", seed=0)
    model.set_logger(configure(None, []))
    _fill_buffer(model, 256)
    grads = _train_once_recording_grads(model)
    largest = max(g.abs().max().item() for g in grads)
    assert largest == pytest.approx(clip)  # huge TD errors: gradients hit the clip exactly


def test_no_clipping_when_disabled():
    model = CartDQN("MlpPolicy", "CartPole-v1", clip_grad_value=None, device="cpu", seed=0)
    model.set_logger(configure(None, []))
    _fill_buffer(model, 256)
    grads = _train_once_recording_grads(model)
    assert max(g.abs().max().item() for g in grads) > 100


class _OneStepEnv(gym.Env):
    """Every episode lasts one step and ends by termination or truncation, from a fixed observation."""

    observation_space = spaces.Box(-1, 1, (1,), np.float32)
    action_space = spaces.Discrete(2)

    def __init__(self, truncate: bool):
        self.truncate = truncate

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(1, np.float32), {}

    def step(self, action):
        return np.ones(1, np.float32), 1.0, not self.truncate, self.truncate, {}


@pytest.mark.parametrize("truncate", [False, True])
def test_terminal_vs_truncated_targets(truncate):
    model = CartDQN("MlpPolicy", DummyVecEnv([lambda: _OneStepEnv(truncate)]), learning_starts=10_000, device="cpu")
    model.learn(200)
    samples = model.replay_buffer.sample(64)
    assert th.all(samples.next_observations == 1.0)  # the terminal observation, not the reset one
    expected_done = 0.0 if truncate else 1.0
    assert th.all(samples.dones == expected_done)
    with th.no_grad():
        v_next = model.q_net_target(samples.next_observations).max(dim=1).values.reshape(-1, 1)
    target = samples.rewards + (1 - samples.dones) * model.gamma * v_next
    if truncate:
        assert th.allclose(target, 1.0 + 0.99 * v_next)  # truncation bootstraps
    else:
        assert th.allclose(target, th.ones_like(target))  # termination does not


def test_learning_starts_when_buffer_holds_one_batch():
    model = CartDQN("MlpPolicy", "CartPole-v1", device="cpu", seed=0)
    calls = []
    original_train = model.train

    def train(gradient_steps, batch_size):
        calls.append((model.num_timesteps, model.replay_buffer.size()))
        original_train(gradient_steps, batch_size)

    model.train = train
    model.learn(130)
    assert calls[0] == (128, 128)  # like the tutorial: optimise as soon as len(memory) >= BATCH_SIZE
    assert len(calls) == 3
    assert model._n_updates == 3


def test_epsilon_greedy_from_first_step():
    """No uniform warm-up: with epsilon 0, the very first actions are greedy even before learning starts."""
    model = CartDQN(
        "MlpPolicy", "CartPole-v1", exploration_initial_eps=0.0, exploration_final_eps=0.0, learning_starts=1000, seed=0
    )
    actions, observations = [], []
    original_sample = model._sample_action

    def sample(*args, **kwargs):
        observations.append(model._last_obs.copy())
        result = original_sample(*args, **kwargs)
        actions.append(result[0].copy())
        return result

    model._sample_action = sample
    model.learn(50)
    greedy = [model.predict(obs, deterministic=True)[0] for obs in observations]
    np.testing.assert_array_equal(np.concatenate(actions), np.concatenate(greedy))


def test_exploration_when_epsilon_is_one():
    model = CartDQN("MlpPolicy", "CartPole-v1", exploration_initial_eps=1.0, exploration_final_eps=1.0, seed=0)
    model.learn(10)
    obs = np.zeros((500, 4), np.float32)
    greedy, _ = model.predict(obs, deterministic=True)
    explored, _ = model.predict(obs, deterministic=False)
    assert len(np.unique(greedy)) == 1
    assert set(np.unique(explored)) == {0, 1}


def test_logs_tutorial_quantities(tmp_path):
    model = CartDQN("MlpPolicy", "CartPole-v1", seed=0, device="cpu")
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(1500, log_interval=1)
    import pandas as pd

    progress = pd.read_csv(tmp_path / "progress.csv")
    for key in ("train/loss", "train/q_values", "train/n_updates", "rollout/exploration_rate", "rollout/ep_len_mean"):
        assert key in progress.columns, key
    last = progress.dropna(subset=["train/loss"]).iloc[-1]
    assert last["train/n_updates"] > 0
    assert np.isfinite(last["train/loss"]) and last["train/loss"] >= 0
    assert last["rollout/exploration_rate"] == pytest.approx(
        0.05 + 0.85 * np.exp(-last["time/total_timesteps"] / 1000), rel=0.01
    )


def test_n_envs_update_counts():
    env = make_vec_env("CartPole-v1", n_envs=2, seed=0)
    model = CartDQN("MlpPolicy", env, learning_starts=100, seed=0, device="cpu")
    model.learn(300)
    # One gradient step per VecEnv step (train_freq=1, gradient_steps=1) once 100 transitions are stored
    assert model.num_timesteps == 300
    assert model._n_updates == (300 - 100) // 2 + 1
    model = CartDQN("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2), learning_starts=100, gradient_steps=-1, seed=0)
    model.learn(300)
    assert model._n_updates == 2 * ((300 - 100) // 2 + 1)


def test_soft_update_after_every_gradient_step():
    model = CartDQN("MlpPolicy", "CartPole-v1", seed=0, device="cpu", tau=0.5)
    model.set_logger(configure(None, []))
    _fill_buffer(model, 256, reward=1.0)
    target_before = [p.clone() for p in model.q_net_target.parameters()]
    model.train(gradient_steps=1, batch_size=128)
    for p, p_target, before in zip(model.q_net.parameters(), model.q_net_target.parameters(), target_before, strict=True):
        th.testing.assert_close(p_target, 0.5 * p.detach() + 0.5 * before)


def test_batch_norm_running_stats_reach_target():
    from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

    class BNExtractor(BaseFeaturesExtractor):
        def __init__(self, observation_space):
            super().__init__(observation_space, features_dim=8)
            self.net = th.nn.Sequential(th.nn.Linear(4, 8), th.nn.BatchNorm1d(8))

        def forward(self, obs):
            return self.net(obs)

    model = CartDQN("MlpPolicy", "CartPole-v1", policy_kwargs=dict(features_extractor_class=BNExtractor), seed=0)
    modes_while_acting = []
    original_greedy = model._greedy_actions

    def greedy(obs):
        modes_while_acting.append((model.q_net.training, model.q_net_target.training))
        return original_greedy(obs)

    model._greedy_actions = greedy
    model.learn(300)
    online = model.q_net.features_extractor.net[1]
    target = model.q_net_target.features_extractor.net[1]
    assert not th.allclose(online.running_mean, th.zeros(8))
    th.testing.assert_close(target.running_mean, online.running_mean)
    th.testing.assert_close(target.running_var, online.running_var)
    # Acting uses eval mode (batch norm uses running stats); the target network always stays in eval mode;
    # gradient steps run in train mode
    assert modes_while_acting and set(modes_while_acting) == {(False, False)}
    assert model.q_net.training and not model.q_net_target.training
    model.predict(np.zeros(4, np.float32), deterministic=True)
    assert not model.q_net.training


@pytest.fixture
def gradient_step_stats(monkeypatch):
    """The loss and mean Q of every gradient step, read off the Huber loss call (its result is returned unchanged)."""
    seen: list[tuple[float, float]] = []
    huber = F.smooth_l1_loss

    def recording_huber(current, target, *args, **kwargs):
        loss = huber(current, target, *args, **kwargs)
        seen.append((loss.mean().item(), current.mean().item()))  # td_loss reduces the elementwise losses itself
        return loss

    monkeypatch.setattr(F, "smooth_l1_loss", recording_huber)
    return seen


def _snapshot_after_train(model, snapshots):
    original_train = model.train

    def train(gradient_steps, batch_size):
        original_train(gradient_steps, batch_size)
        values = model.logger.name_to_value
        snapshots.append((model._n_updates, values["train/n_updates"], values["train/loss"], values["train/q_values"]))

    model.train = train


def test_training_statistics_in_the_logger_after_every_train_call(gradient_step_stats):
    # As SB3's DQN: train/n_updates (and loss) are in logger.name_to_value after every train() call, where
    # callbacks and the user read them. CartDQN's loss and Q are running means since the last dump_logs().
    model = CartDQN("MlpPolicy", "CartPole-v1", learning_starts=100, train_freq=2, gradient_steps=3, seed=0, device="cpu")
    snapshots = []
    _snapshot_after_train(model, snapshots)
    model.learn(200, log_interval=None)  # no dumps: the means run over every gradient step
    assert len(snapshots) == 51 and len(gradient_step_stats) == 153
    for n_updates, logged_n_updates, loss, q_values in snapshots:
        assert logged_n_updates == n_updates
        losses, qs = np.array(gradient_step_stats[:n_updates]).T
        assert loss == pytest.approx(losses.mean(), rel=1e-5)
        assert q_values == pytest.approx(qs.mean(), rel=1e-5)
    # After learn() returns too
    assert model.logger.name_to_value["train/n_updates"] == model._n_updates == 153

    # A dump starts new means
    model.dump_logs()
    assert "train/loss" not in model.logger.name_to_value
    snapshots.clear()
    model.learn(10, reset_num_timesteps=False, log_interval=None)
    assert snapshots[-1][1] == 153 + 15
    losses, qs = np.array(gradient_step_stats[153:]).T
    assert snapshots[-1][2] == pytest.approx(losses.mean(), rel=1e-5)
    assert snapshots[-1][3] == pytest.approx(qs.mean(), rel=1e-5)


def test_n_updates_as_sb3_dqn_with_several_envs():
    # The case of issue #13: SB3's DQN leaves train/n_updates = 6 here
    env = make_vec_env("CartPole-v1", n_envs=2, seed=0)
    model = CartDQN("MlpPolicy", env, learning_starts=0, train_freq=3, gradient_steps=-1, batch_size=32, seed=0)
    model.learn(3)
    assert model._n_updates == 6
    assert model.logger.name_to_value["train/n_updates"] == 6
    assert model.logger.name_to_value["train/loss"] > 0


def test_callback_dumps_include_training_statistics(tmp_path):
    # EvalCallback writes its own logger.dump(): the training statistics are in it, as with SB3's DQN
    model = CartDQN("MlpPolicy", "CartPole-v1", seed=0, device="cpu")
    model.set_logger(configure(str(tmp_path), ["csv"]))
    evaluation = EvalCallback(gym.make("CartPole-v1"), eval_freq=150, n_eval_episodes=1, warn=False)
    model.learn(450, callback=evaluation, log_interval=None)
    import pandas as pd

    evaluations = pd.read_csv(tmp_path / "progress.csv").dropna(subset=["eval/mean_reward"])
    assert list(evaluations["time/total_timesteps"]) == [150, 300, 450]
    # at step 150 the last train() call was after step 149: 149 - 128 + 1 gradient steps
    assert list(evaluations["train/n_updates"]) == [22, 172, 322]
    assert np.isfinite(evaluations["train/loss"]).all() and (evaluations["train/loss"] > 0).all()
    assert np.isfinite(evaluations["train/q_values"]).all()
