"""The pixel tutorial's CNN (TutorialCNN) and CartDQN's CnnPolicy built on it: shapes, batch norm, train/eval modes."""

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces

from sb3_cartdqn import CartDQN
from sb3_cartdqn.cartdqn.policies import CnnPolicy
from sb3_cartdqn.common.torch_layers import TutorialCNN, conv2d_output_size


def box(shape: tuple[int, ...]) -> spaces.Box:
    return spaces.Box(-1.0, 1.0, shape, np.float32)


def test_tutorial_network_on_screen_difference():
    extractor = TutorialCNN(box((3, 40, 90)))
    # 40 x 90 -> 18 x 43 -> 7 x 20 -> 2 x 8, times 32 channels: the tutorial's Linear(512, 2) input
    assert [conv2d_output_size(s) for s in (40, 18, 7)] == [18, 7, 2]
    assert [conv2d_output_size(s) for s in (90, 43, 20)] == [43, 20, 8]
    assert extractor.features_dim == 512
    convs = [m for m in extractor.cnn if isinstance(m, th.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.stride) for c in convs] == [
        (3, 16, (5, 5), (2, 2)),
        (16, 32, (5, 5), (2, 2)),
        (32, 32, (5, 5), (2, 2)),
    ]
    assert [m.num_features for m in extractor.cnn if isinstance(m, th.nn.BatchNorm2d)] == [16, 32, 32]
    # Building it does not run a forward pass that would move the batch-norm statistics
    assert all(not m.running_mean.any() for m in extractor.cnn if isinstance(m, th.nn.BatchNorm2d))


@pytest.mark.parametrize("shape", [(1, 40, 90), (3, 29, 29), (2, 64, 48), (3, 80, 180)])
def test_features_dim_computed_from_input_shape(shape):
    extractor = TutorialCNN(box(shape)).eval()
    with th.no_grad():
        features = extractor(th.rand(2, *shape) * 2 - 1)
    assert features.shape == (2, extractor.features_dim)


def test_features_dim_adds_a_linear_layer_as_nature_cnn_does():
    # Without features_dim: the tutorial's network, no linear layer, state dict unchanged
    plain = TutorialCNN(box((2, 40, 40)))
    assert plain.linear is None and plain.features_dim == 128
    assert all(key.startswith("cnn.") for key in plain.state_dict())
    # With it: Linear(n_flatten, features_dim) -> ReLU after the flattened convolutions, as SB3's NatureCNN
    extractor = TutorialCNN(box((2, 40, 40)), features_dim=32).eval()
    assert extractor.features_dim == 32
    assert [type(m) for m in extractor.linear] == [th.nn.Linear, th.nn.ReLU]
    assert (extractor.linear[0].in_features, extractor.linear[0].out_features) == (128, 32)
    with th.no_grad():
        features = extractor(th.rand(3, 2, 40, 40))
    assert features.shape == (3, 32) and (features >= 0).all()
    with pytest.raises(ValueError, match="features_dim"):
        TutorialCNN(box((2, 40, 40)), features_dim=0)
    with pytest.raises(ValueError, match="features_dim"):
        TutorialCNN(box((2, 40, 40)), features_dim=32.0)


def test_bad_inputs_get_clear_errors():
    with pytest.raises(ValueError, match="at least 29 x 29"):
        TutorialCNN(box((3, 28, 90)))
    with pytest.raises(ValueError, match="MlpPolicy"):
        TutorialCNN(box((4,)))


class SignedImageEnv(gym.Env):
    """Random signed float images, 20 steps per episode: fast enough to train a CNN policy a little."""

    observation_space = spaces.Box(-1.0, 1.0, (1, 32, 32), np.float32)
    action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self._obs(), {}

    def step(self, action):
        self.t += 1
        return self._obs(), float(action), False, self.t >= 20, {}

    def _obs(self):
        return self.np_random.uniform(-1, 1, (1, 32, 32)).astype(np.float32)


def test_cnn_policy_defaults_take_the_signed_image_as_is():
    model = CartDQN("CnnPolicy", SignedImageEnv(), device="cpu")
    policy = model.policy
    assert isinstance(policy, CnnPolicy) and policy.normalize_images is False
    assert isinstance(model.q_net.features_extractor, TutorialCNN)
    assert isinstance(model.q_net_target.features_extractor, TutorialCNN)
    # The head is the tutorial's single linear layer on the flattened features
    assert [type(m) for m in model.q_net.q_net] == [th.nn.Linear]
    assert (model.q_net.q_net[0].in_features, model.q_net.q_net[0].out_features) == (model.q_net.features_dim, 2)
    seen = []
    model.q_net.features_extractor.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    obs = SignedImageEnv().reset(seed=0)[0]
    model.predict(obs, deterministic=True)
    th.testing.assert_close(seen[0], th.as_tensor(obs)[None])  # no division by 255, no clipping
    # Other choices still work: a hidden layer and SB3's NatureCNN
    model = CartDQN("CnnPolicy", SignedImageEnv(), policy_kwargs=dict(net_arch=[64]), device="cpu")
    assert [m.out_features for m in model.q_net.q_net if isinstance(m, th.nn.Linear)] == [64, 2]
    # features_dim, as SB3 users pass it to NatureCNN: the head reads features_dim features
    model = CartDQN("CnnPolicy", SignedImageEnv(), policy_kwargs=dict(features_extractor_kwargs=dict(features_dim=16)))
    assert model.q_net.features_dim == 16 and model.q_net.q_net[0].in_features == 16


def test_batch_norm_statistics_reach_target_and_modes_are_right():
    model = CartDQN("CnnPolicy", SignedImageEnv(), batch_size=8, learning_starts=8, buffer_size=200, seed=0, device="cpu")
    online_calls, target_calls = [], []
    model.q_net.features_extractor.register_forward_hook(
        lambda module, args, out: online_calls.append((module.training, args[0].shape[0]))
    )
    model.q_net_target.features_extractor.register_forward_hook(lambda module, args, out: target_calls.append(module.training))
    model.learn(60)
    # Gradient steps (batches of 8) run in train mode; acting (one observation) in eval mode
    assert {training for training, batch in online_calls if batch == 8} == {True}
    assert {training for training, batch in online_calls if batch == 1} == {False}
    assert target_calls and not any(target_calls), "the target network always stays in eval mode"
    batch_norms = [m for m in model.q_net.features_extractor.cnn if isinstance(m, th.nn.BatchNorm2d)]
    target_norms = [m for m in model.q_net_target.features_extractor.cnn if isinstance(m, th.nn.BatchNorm2d)]
    for online, target in zip(batch_norms, target_norms, strict=True):
        assert online.running_mean.any()
        th.testing.assert_close(target.running_mean, online.running_mean)
        th.testing.assert_close(target.running_var, online.running_var)
