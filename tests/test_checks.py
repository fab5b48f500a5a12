"""Bad input fails fast, before any environment step, with a message naming the problem and the fix
(sb3_cartdqn/common/checks.py)."""

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.envs import FakeImageEnv
from stable_baselines3.common.torch_layers import FlattenExtractor, NatureCNN
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_cartdqn import CartDQN, CnnPolicy, MlpPolicy
from sb3_cartdqn.common.checks import check_finite, check_hyperparameters


class _StepCountingEnv(gym.Env):
    observation_space = spaces.Box(-1, 1, (2,), np.float32)

    def __init__(self, action_space):
        self.action_space = action_space
        self.steps = 0

    def reset(self, *, seed=None, options=None):
        return np.zeros(2, np.float32), {}

    def step(self, action):
        self.steps += 1
        return np.zeros(2, np.float32), 0.0, False, False, {}


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(exploration_initial_eps=1.5), "exploration_initial_eps=1.5.*\\[0, 1\\]"),
        (dict(exploration_initial_eps=-0.1), "exploration_initial_eps"),
        (dict(exploration_final_eps=-0.1), "exploration_final_eps=-0.1.*\\[0, 1\\]"),
        (dict(exploration_final_eps=1.2, exploration_initial_eps=1.0), "exploration_final_eps=1.2"),
        (
            dict(exploration_initial_eps=0.1, exploration_final_eps=0.5),
            "exploration_initial_eps=0.1.*>= exploration_final_eps",
        ),
        (dict(exploration_decay=0), "exploration_decay=0.*> 0"),
        (dict(exploration_decay=-5), "exploration_decay"),
        (dict(tau=0.0), "tau=0.0.*\\(0, 1\\]"),
        (dict(tau=1.5), "tau=1.5"),
        (dict(tau=-0.1), "tau"),
        (dict(batch_size=256, buffer_size=100), "batch_size=256.*buffer_size=100"),
        (dict(batch_size=0), "batch_size=0"),
        (dict(buffer_size=0), "buffer_size=0"),
        (dict(clip_grad_value=0), "clip_grad_value=0.*> 0"),
        (dict(clip_grad_value=-1.0), "clip_grad_value"),
        (dict(learning_starts=-1), "learning_starts=-1.*>= 0"),
        (dict(gamma=1.01), "gamma=1.01.*\\[0, 1\\]"),
        (dict(gamma=-0.5), "gamma"),
    ],
)
def test_invalid_hyperparameters(kwargs, match):
    env = _StepCountingEnv(spaces.Discrete(2))
    with pytest.raises(ValueError, match=match):
        CartDQN("MlpPolicy", env, **kwargs)
    assert env.steps == 0


def test_boundary_values_are_accepted():
    CartDQN("MlpPolicy", "CartPole-v1", tau=1.0, gamma=0.0, exploration_initial_eps=0.0, exploration_final_eps=0.0)
    CartDQN("MlpPolicy", "CartPole-v1", gamma=1.0, exploration_initial_eps=1.0, learning_starts=0, clip_grad_value=None)


@pytest.mark.parametrize(
    "action_space, hint",
    [
        (spaces.Box(-1, 1, (1,), np.float32), "SAC, TD3"),
        (spaces.MultiDiscrete([2, 3]), "Flatten"),
        (spaces.MultiBinary(3), "Flatten"),
    ],
)
def test_unsupported_action_space(action_space, hint):
    env = _StepCountingEnv(action_space)
    with pytest.raises(ValueError, match=f"unsupported action space.*Discrete.*{hint}"):
        CartDQN("MlpPolicy", env)
    assert env.steps == 0


VALID = dict(
    learning_starts=128,
    batch_size=128,
    buffer_size=10_000,
    tau=0.005,
    gamma=0.99,
    exploration_initial_eps=0.9,
    exploration_final_eps=0.05,
    exploration_decay=1000.0,
    clip_grad_value=100.0,
)

INVALID = [
    ("buffer_size", 0),
    ("buffer_size", -1),
    ("buffer_size", 1.5),
    ("buffer_size", True),
    ("buffer_size", "10000"),
    ("batch_size", 0),
    ("batch_size", 2.0),
    ("batch_size", 10_001),  # larger than buffer_size
    ("learning_starts", -1),
    ("learning_starts", 1.5),
    ("tau", 0.0),
    ("tau", 1.5),
    ("tau", float("nan")),
    ("tau", "0.5"),
    ("gamma", -0.1),
    ("gamma", 1.1),
    ("gamma", float("nan")),
    ("exploration_initial_eps", -0.1),
    ("exploration_initial_eps", 1.1),
    ("exploration_initial_eps", 0.01),  # below exploration_final_eps
    ("exploration_final_eps", 2.0),
    ("exploration_final_eps", float("nan")),
    ("exploration_decay", 0.0),
    ("exploration_decay", -5.0),
    ("exploration_decay", float("nan")),
    ("clip_grad_value", 0.0),
    ("clip_grad_value", -1.0),
    ("clip_grad_value", float("nan")),
    ("learning_rate", 0.0),
    ("learning_rate", -1e-4),
    ("learning_rate", float("nan")),
    ("learning_rate", float("inf")),
    ("learning_rate", "1e-4"),
    ("train_freq", 0),
    ("train_freq", -1),
    ("train_freq", 1.5),
    ("train_freq", (0, "step")),
    ("train_freq", (1, "steps")),
    ("train_freq", (1,)),
    ("gradient_steps", 0),
    ("gradient_steps", -2),
    ("gradient_steps", 1.5),
    ("stats_window_size", 0),
]


@pytest.mark.parametrize(("name", "value"), INVALID)
def test_invalid_hyperparameter_named_in_error(name, value):
    with pytest.raises(ValueError, match=rf"CartDQN: invalid {name}=") as error:
        check_hyperparameters(**{**VALID, name: value})
    # The message gives the allowed values
    assert "must" in str(error.value)


@pytest.mark.parametrize(
    ("name", "value"), [("learning_rate", 0.0), ("train_freq", (1, "steps")), ("gradient_steps", 0), ("stats_window_size", 0)]
)
def test_constructor_checks_the_other_hyperparameters(name, value):
    with pytest.raises(ValueError, match=rf"invalid {name}="):
        CartDQN("MlpPolicy", "CartPole-v1", **{name: value})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("learning_rate", lambda progress: 1e-4 * progress),
        ("train_freq", (2, "episode")),
        ("train_freq", np.int64(4)),
        ("gradient_steps", -1),
        ("tau", 1),
        ("gamma", 0),
        ("exploration_decay", float("inf")),
        ("clip_grad_value", None),
        ("learning_starts", 0),
    ],
)
def test_valid_edge_values_accepted(name, value):
    check_hyperparameters(**{**VALID, name: value})


class _DictEnv(gym.Env):
    observation_space = spaces.Dict({"a": spaces.Box(-1, 1, (3,), np.float32), "b": spaces.Discrete(4)})
    action_space = spaces.Discrete(2)


@pytest.mark.parametrize("policy", ["MlpPolicy", MlpPolicy])
def test_dict_observation_needs_multi_input_policy(policy):
    with pytest.raises(ValueError, match="MultiInputPolicy"):
        CartDQN(policy, DummyVecEnv([_DictEnv]))
    CartDQN("MultiInputPolicy", DummyVecEnv([_DictEnv]), buffer_size=200, batch_size=32)


class _FloatImageEnv(gym.Env):
    """Like the pixel variant's screen difference: a signed float image, channels first."""

    observation_space = spaces.Box(-1.0, 1.0, (3, 40, 90), np.float32)
    action_space = spaces.Discrete(2)


@pytest.mark.parametrize(
    "env_fn",
    [lambda: FakeImageEnv(screen_height=36, screen_width=36, n_channels=3), _FloatImageEnv],
    ids=["uint8", "float"],
)
def test_image_observation_with_mlp_policy(env_fn):
    env = DummyVecEnv([env_fn])
    with pytest.raises(ValueError, match="MlpPolicy got image observations") as error:
        CartDQN("MlpPolicy", env, buffer_size=200, batch_size=32)
    assert "use policy='CnnPolicy'" in str(error.value) and "FlattenExtractor" in str(error.value)
    # Flattening the pixels on purpose is allowed
    CartDQN("MlpPolicy", env, buffer_size=200, batch_size=32, policy_kwargs=dict(features_extractor_class=FlattenExtractor))
    CartDQN("CnnPolicy", env, buffer_size=200, batch_size=32)


@pytest.mark.parametrize("policy", ["CnnPolicy", CnnPolicy])
def test_vector_observation_with_cnn_policy(policy):
    with pytest.raises(ValueError, match="needs image observations") as error:
        CartDQN(policy, "CartPole-v1")
    assert "Use policy='MlpPolicy'" in str(error.value)


def test_nature_cnn_needs_uint8_images_unless_told_otherwise():
    with pytest.raises(ValueError, match=r"uses a CNN \(NatureCNN\).*Use policy='MlpPolicy'"):
        CartDQN("CnnPolicy", "CartPole-v1", policy_kwargs=dict(features_extractor_class=NatureCNN))
    env = DummyVecEnv([lambda: _FloatImageEnv()])
    with pytest.raises(ValueError, match="uint8 in \\[0, 255\\] unless normalize_images=False"):
        CartDQN("CnnPolicy", env, policy_kwargs=dict(features_extractor_class=NatureCNN, normalize_images=True))
    CartDQN("CnnPolicy", env, buffer_size=200, batch_size=32, policy_kwargs=dict(features_extractor_class=NatureCNN))


class _NonFiniteEnv(gym.Env):
    """Returns a NaN/inf observation or reward at step ``bad_step`` (or from reset)."""

    observation_space = spaces.Box(-np.inf, np.inf, (3,), np.float32)
    action_space = spaces.Discrete(2)

    def __init__(self, what: str, bad_step: int = 5):
        self.what, self.bad_step, self.t = what, bad_step, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        obs = np.zeros(3, np.float32)
        if self.what == "reset":
            obs[1] = np.nan
        return obs, {}

    def step(self, action):
        self.t += 1
        obs, reward = np.zeros(3, np.float32), 1.0
        bad = self.t == self.bad_step
        if bad and self.what == "obs":
            obs[2] = np.inf
        if bad and self.what == "reward":
            reward = float("nan")
        terminal = bad and self.what == "terminal"
        if terminal:
            obs[0] = np.nan
        return obs, reward, terminal, False, {}


@pytest.mark.parametrize(
    ("what", "named"),
    [
        ("obs", "observation from env 0"),
        ("reward", "reward nan from env 0"),
        ("terminal", "terminal observation"),
        ("reset", ""),
    ],
)
def test_non_finite_env_output_raises_before_reaching_buffer(what, named):
    model = CartDQN("MlpPolicy", DummyVecEnv([lambda: _NonFiniteEnv(what)]), learning_starts=1000, seed=0)
    with pytest.raises(ValueError, match="NaN or infinite value") as error:
        model.learn(50)
    message = str(error.value)
    assert named in message and "VecCheckNan" in message and "check_finite=False" in message
    if what != "reset":
        assert "at step 5" in message
        assert model.replay_buffer.size() == 4  # the bad transition was not stored
        assert np.isfinite(model.replay_buffer.observations[:4]).all()


def test_non_finite_check_can_be_turned_off():
    model = CartDQN("MlpPolicy", DummyVecEnv([lambda: _NonFiniteEnv("reward")]), learning_starts=1000, check_finite=False)
    model.learn(10)
    assert np.isnan(model.replay_buffer.rewards[4]).all()


def test_check_finite_ignores_integer_observations_and_names_dict_keys():
    check_finite(np.full((2, 4, 4), 255, np.uint8), np.zeros(2, np.float32), np.zeros(2, bool), [{}, {}], 7)
    observations = {"pos": np.zeros((2, 3), np.float32), "vel": np.array([[0.0], [np.nan]], np.float32)}
    with pytest.raises(ValueError, match=r"observation\['vel'\] from env 1"):
        check_finite(observations, np.zeros(2), np.zeros(2, bool), [{}, {}], 7)


def test_learn_zero_is_a_no_op():
    model = CartDQN("MlpPolicy", "CartPole-v1", seed=0, learning_starts=10, batch_size=10)
    model.learn(30)
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(0, reset_num_timesteps=False)
    assert model.num_timesteps == 30
    assert all(th.equal(a, b) for a, b in zip(before, model.policy.parameters(), strict=True))


@pytest.mark.parametrize("total", [-1, -1000, float("nan"), float("inf"), "100", None])
def test_learn_rejects_negative_or_non_numeric_timesteps(total):
    model = CartDQN("MlpPolicy", "CartPole-v1")
    with pytest.raises(ValueError, match="invalid total_timesteps") as error:
        model.learn(total)
    assert "reset_num_timesteps=False" in str(error.value)
    assert model.num_timesteps == 0


@pytest.mark.parametrize("total", [-1, float("nan"), "100"])
def test_batched_learn_checks_timesteps_as_cartdqn_does(total):
    from sb3_cartdqn.batched import BatchedCartDQN

    batched = BatchedCartDQN("CartPole-v1", [0, 1])
    with pytest.raises(ValueError, match=r"BatchedCartDQN\.learn: invalid total_timesteps") as error:
        batched.learn(total)
    assert "batched.learn(total - batched.num_timesteps)" in str(error.value)
    assert batched.num_timesteps == 0
