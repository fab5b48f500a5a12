"""The older PyTorch DQN tutorial's convolutional network, as an SB3 features extractor."""

from collections.abc import Sequence

import torch as th
from gymnasium import spaces
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn


def conv2d_output_size(size: int, kernel_size: int = 5, stride: int = 2) -> int:
    """
    The tutorial's ``conv2d_size_out``: output length of an unpadded convolution.

    :param size: input length (rows or columns)
    :param kernel_size: kernel length
    :param stride: stride
    :return: ``(size - kernel_size) // stride + 1``
    """
    return (size - kernel_size) // stride + 1


class TutorialCNN(BaseFeaturesExtractor):
    """
    The pixel tutorial's convolutions: ``Conv2d(C, 16, 5, stride=2) -> BatchNorm2d -> ReLU``, then 32 and 32
    channels the same way, flattened. On a 3 x 40 x 90 screen difference: 18 x 43 -> 7 x 20 -> 2 x 8, so
    512 features (the tutorial's ``Linear(512, 2)`` head is CartDQN's ``CnnPolicy`` with ``net_arch=[]``).

    The input is used as given (float, possibly signed, such as a screen difference): no ``uint8`` assumption.
    The number of features is computed from the input shape, without a forward pass (which would move the
    batch-norm statistics).

    ``features_dim`` means what it means for SB3's ``NatureCNN``: the flattened convolutions are followed by
    ``Linear(n_flatten, features_dim) -> ReLU``. Without it (the default) the network is the tutorial's, with
    ``n_flatten`` features.

    :param observation_space: a channels-first ``Box`` of shape ``(C, H, W)``
    :param features_dim: if given, the number of features after a final linear layer and ReLU (as ``NatureCNN``);
        ``None`` (default): no linear layer, the tutorial's flattened convolution output
    :param channels: output channels of each convolution (tutorial: 16, 32, 32)
    :param kernel_size: kernel size of every convolution (tutorial: 5)
    :param stride: stride of every convolution (tutorial: 2)
    """

    def __init__(
        self,
        observation_space: spaces.Box,
        features_dim: int | None = None,
        channels: Sequence[int] = (16, 32, 32),
        kernel_size: int = 5,
        stride: int = 2,
    ) -> None:
        shape = getattr(observation_space, "shape", None)
        if not isinstance(observation_space, spaces.Box) or shape is None or len(shape) != 3:
            raise ValueError(
                f"TutorialCNN needs a channels-first image Box of shape (C, H, W), got {observation_space}. "
                "Use MlpPolicy for vector observations, or CartPoleScreenDiff for CartPole pixels."
            )
        n_channels, height, width = shape
        for _ in channels:
            height, width = conv2d_output_size(height, kernel_size, stride), conv2d_output_size(width, kernel_size, stride)
        if height < 1 or width < 1:
            smallest = 1
            for _ in channels:
                smallest = (smallest - 1) * stride + kernel_size
            raise ValueError(
                f"TutorialCNN: an input of {shape[1]} x {shape[2]} pixels is too small for {len(channels)} convolutions "
                f"of kernel {kernel_size} and stride {stride}; they need at least {smallest} x {smallest}. "
                f"Use larger observations (e.g. CartPoleScreenDiff(height={smallest}) or more) or fewer channels."
            )
        if features_dim is not None and (type(features_dim) is not int or features_dim < 1):
            raise ValueError(
                f"TutorialCNN: invalid features_dim={features_dim!r}: it must be an integer >= 1 (the size of the final "
                "linear layer, as for NatureCNN), or None for the tutorial's network without one."
            )
        n_flatten = channels[-1] * height * width
        super().__init__(observation_space, features_dim=n_flatten if features_dim is None else features_dim)
        layers: list[nn.Module] = []
        in_channels = n_channels
        for out_channels in channels:
            layers += [nn.Conv2d(in_channels, out_channels, kernel_size, stride), nn.BatchNorm2d(out_channels), nn.ReLU()]
            in_channels = out_channels
        layers.append(nn.Flatten())
        self.cnn = nn.Sequential(*layers)
        # Only built when asked for: the tutorial's network (and its saved state dicts) stay as they were
        self.linear: nn.Module | None = None
        if features_dim is not None:
            self.linear = nn.Sequential(nn.Linear(n_flatten, features_dim), nn.ReLU())

    def forward(self, observations: th.Tensor) -> th.Tensor:
        features = self.cnn(observations)
        return features if self.linear is None else self.linear(features)
