"""Q-network policies for CartDQN: SB3's DQN policy with the tutorial's network and optimizer as defaults,
and an optional dueling head."""

import inspect
from typing import Any, TypeVar

import torch as th
from gymnasium import spaces
from stable_baselines3.common.preprocessing import is_image_space
from stable_baselines3.common.torch_layers import (
    BaseFeaturesExtractor,
    CombinedExtractor,
    FlattenExtractor,
    NatureCNN,
    create_mlp,
)
from stable_baselines3.common.type_aliases import Schedule
from stable_baselines3.dqn.policies import DQNPolicy, QNetwork
from torch import nn

from sb3_cartdqn.common.checks import check_options
from sb3_cartdqn.common.defaults import TUTORIAL
from sb3_cartdqn.common.torch_layers import TutorialCNN
from sb3_cartdqn.persistence.codec import allow_class
from sb3_cartdqn.persistence.policy_file import load_policy, save_policy

SelfCartDQNPolicy = TypeVar("SelfCartDQNPolicy", bound="CartDQNPolicy")

#: The tutorial's hidden layers: ``Linear(n_obs, 128) -> ReLU -> Linear(128, 128) -> ReLU -> Linear(128, n_actions)``.
TUTORIAL_NET_ARCH = list(TUTORIAL.net_arch)


def tutorial_optimizer_kwargs(
    optimizer_class: type[th.optim.Optimizer], optimizer_kwargs: dict[str, Any] | None
) -> dict[str, Any]:
    """
    The tutorial's optimizer is ``AdamW(lr=1e-4, amsgrad=True)``.

    For ``AdamW`` this adds ``amsgrad=True`` and ``fused=True`` (one kernel for the whole step instead of
    a Python loop over parameters: same arithmetic, about 4x faster on CPU for this network) unless
    ``optimizer_kwargs`` sets them. Other optimizer classes get ``optimizer_kwargs`` unchanged.

    :param optimizer_class: the optimizer class chosen in ``policy_kwargs``
    :param optimizer_kwargs: the user's optimizer keyword arguments, if any
    :return: the keyword arguments to build the optimizer with
    """
    kwargs = dict(optimizer_kwargs or {})
    if optimizer_class is th.optim.AdamW:
        kwargs = {"amsgrad": TUTORIAL.amsgrad, "fused": True, **kwargs}
    return kwargs


class DuelingHead(nn.Module):
    """
    The dueling architecture (Wang et al. 2016, "Dueling Network Architectures for Deep Reinforcement Learning"):
    shared hidden layers, then a state-value stream ``V(s)`` and an advantage stream ``A(s, a)``, combined as
    ``Q(s, a) = V(s) + A(s, a) - mean_a' A(s, a')`` (subtracting the mean makes V and A identifiable).

    Layout: the ``net_arch`` hidden layers (each ``Linear`` then the activation) are shared; each stream is one
    ``Linear`` layer on their output (on the features directly when ``net_arch`` is empty, e.g. ``CnnPolicy``).

    :param features_dim: number of input features (the features extractor's output)
    :param n_actions: number of actions
    :param net_arch: the shared hidden layers
    :param activation_fn: activation after each shared hidden layer
    """

    def __init__(self, features_dim: int, n_actions: int, net_arch: list[int], activation_fn: type[nn.Module]) -> None:
        super().__init__()
        self.shared = nn.Sequential(*create_mlp(features_dim, -1, net_arch, activation_fn))
        hidden_dim = net_arch[-1] if net_arch else features_dim
        self.value = nn.Linear(hidden_dim, 1)
        self.advantage = nn.Linear(hidden_dim, n_actions)

    def forward(self, features: th.Tensor) -> th.Tensor:
        """
        :param features: a batch of features, shape ``(batch, features_dim)``
        :return: Q-values, shape ``(batch, n_actions)``
        """
        hidden = self.shared(features)
        advantages = self.advantage(hidden)
        return self.value(hidden) + advantages - advantages.mean(dim=1, keepdim=True)


class DuelingQNetwork(QNetwork):
    """
    SB3's ``QNetwork`` with a ``DuelingHead`` in place of its MLP: features extractor, shared hidden layers,
    then the value and advantage streams. Everything else (``forward``, ``_predict``, save/load) is SB3's.

    :param observation_space: Observation space
    :param action_space: Action space
    :param features_extractor: the features extractor
    :param features_dim: number of features it outputs
    :param net_arch: the shared hidden layers
    :param activation_fn: Activation function
    :param normalize_images: Whether to normalize images or not, dividing by 255.0
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Discrete,
        features_extractor: BaseFeaturesExtractor,
        features_dim: int,
        net_arch: list[int] | None = None,
        activation_fn: type[nn.Module] = nn.ReLU,
        normalize_images: bool = True,
    ) -> None:
        super().__init__(
            observation_space, action_space, features_extractor, features_dim, net_arch, activation_fn, normalize_images
        )
        # Replaces the plain MLP QNetwork built (``forward`` calls ``self.q_net`` on the features)
        self.q_net = DuelingHead(self.features_dim, int(self.action_space.n), self.net_arch, self.activation_fn)  # type: ignore[assignment]


class CartDQNPolicy(DQNPolicy):
    """
    Policy class with Q-value net and target net for CartDQN.

    The networks and ``set_training_mode`` come from SB3's ``DQNPolicy``; the defaults differ (a 128-128 ReLU MLP
    and ``AdamW(amsgrad=True)``), and ``save``/``load`` write and read data only (SB3's pickle the arguments).

    :param observation_space: Observation space
    :param action_space: Action space
    :param lr_schedule: Learning rate schedule (could be constant)
    :param net_arch: The specification of the Q-network hidden layers (default ``[128, 128]``)
    :param activation_fn: Activation function
    :param features_extractor_class: Features extractor to use.
    :param features_extractor_kwargs: Keyword arguments to pass to the features extractor.
    :param normalize_images: Whether to normalize images or not, dividing by 255.0 (True by default)
    :param optimizer_class: The optimizer to use, ``th.optim.AdamW`` by default
    :param optimizer_kwargs: Additional keyword arguments, excluding the learning rate, to pass to the optimizer.
        For ``AdamW``, ``amsgrad=True`` and ``fused=True`` are added unless given here.
    :param dueling: build dueling Q-networks (``DuelingQNetwork``: shared ``net_arch`` hidden layers, then value and
        mean-subtracted advantage streams) instead of the tutorial's plain MLP
    """

    q_net: QNetwork
    q_net_target: QNetwork

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Discrete,
        lr_schedule: Schedule,
        net_arch: list[int] | None = None,
        activation_fn: type[nn.Module] = nn.ReLU,
        features_extractor_class: type[BaseFeaturesExtractor] = FlattenExtractor,
        features_extractor_kwargs: dict[str, Any] | None = None,
        normalize_images: bool = True,
        optimizer_class: type[th.optim.Optimizer] = th.optim.AdamW,
        optimizer_kwargs: dict[str, Any] | None = None,
        dueling: bool = False,
    ) -> None:
        check_options(dueling=dueling)
        # Set before DQNPolicy.__init__, which builds the networks (make_q_net)
        self.dueling = dueling
        if net_arch is None:
            net_arch = [] if features_extractor_class == NatureCNN else list(TUTORIAL_NET_ARCH)
        super().__init__(
            observation_space,
            action_space,
            lr_schedule,
            net_arch=net_arch,
            activation_fn=activation_fn,
            features_extractor_class=features_extractor_class,
            features_extractor_kwargs=features_extractor_kwargs,
            normalize_images=normalize_images,
            optimizer_class=optimizer_class,
            optimizer_kwargs=tutorial_optimizer_kwargs(optimizer_class, optimizer_kwargs),
        )

    def make_q_net(self) -> QNetwork:
        """
        :return: a new Q-network (online or target): SB3's ``QNetwork``, or ``DuelingQNetwork`` when ``dueling``
        """
        if not self.dueling:
            return super().make_q_net()
        # Separate features extractors for the online and target networks, as SB3's make_q_net
        net_args = self._update_features_extractor(self.net_args, features_extractor=None)
        return DuelingQNetwork(**net_args).to(self.device)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(dueling=self.dueling)
        return data

    def set_training_mode(self, mode: bool) -> None:
        """
        Put the policy in either training or evaluation mode (batch norm, dropout), as SB3's ``DQNPolicy`` does.

        CartDQN switches modes twice per env step (eval to act, train for the gradient step), and
        ``nn.Module.train`` walks the module tree recursively each time. When no submodule overrides
        ``train()``, setting the ``training`` flag of each (cached) submodule directly is equivalent and much cheaper.

        :param mode: if true, set to training mode, else set to evaluation mode
        """
        modules = self.__dict__.get("_q_net_modules")
        if modules is None or modules[0] is not self.q_net:
            submodules = list(self.q_net.modules())
            plain = all(type(module).train is nn.Module.train for module in submodules)
            modules = (self.q_net, submodules if plain else None)
            self.__dict__["_q_net_modules"] = modules  # bypass nn.Module.__setattr__: not a submodule
        if modules[1] is None:
            super().set_training_mode(mode)
            return
        for module in (self, *modules[1]):
            module.__dict__["training"] = mode  # what nn.Module.__setattr__ ends up doing for a plain bool, minus its checks

    def save(self, path: str) -> None:
        """
        Save the weights and the constructor arguments, as data (SB3 pickles the arguments).

        :param path: the file
        """
        save_policy(self, path)

    @classmethod
    def load(  # type: ignore[override]
        cls: type[SelfCartDQNPolicy], path: str, device: th.device | str = "auto", trust_code: bool | None = None
    ) -> SelfCartDQNPolicy:
        """
        Load a policy written by ``save``, reading data only; one written by SB3's ``BasePolicy.save`` (pickled)
        only with ``trust_code=True`` (or ``TRUST_REMOTE_CODE=True``).

        :param path: the file
        :param device: where to put the policy
        :param trust_code: unpickle SB3's format
        :return: the policy
        """
        return load_policy(cls, path, device, trust_code)  # type: ignore[return-value]


MlpPolicy = CartDQNPolicy


class CnnPolicy(CartDQNPolicy):
    """
    Policy class for CartDQN when using images as input: by default the older pixel tutorial's network,
    ``TutorialCNN`` (three 5x5 stride-2 convolutions with batch norm) and a single linear head
    (``Linear(512, n_actions)`` on a 3 x 40 x 90 ``CartPoleScreenDiff`` observation).

    Observations are used as they are (``normalize_images=False``): the screen difference is a float image in
    [-1, 1]. For ``uint8`` images in [0, 255] pass ``normalize_images=True`` to divide them by 255.
    Batch-norm running statistics are copied to the target network after every gradient step (``CartDQN.train``).

    :param observation_space: Observation space
    :param action_space: Action space
    :param lr_schedule: Learning rate schedule (could be constant)
    :param net_arch: The specification of the layers after the features extractor (default ``[]``: one linear head)
    :param activation_fn: Activation function
    :param features_extractor_class: Features extractor to use (default ``TutorialCNN``).
    :param features_extractor_kwargs: Keyword arguments to pass to the features extractor.
    :param normalize_images: Whether to divide ``uint8`` image observations by 255.0 (False by default)
    :param optimizer_class: The optimizer to use, ``th.optim.AdamW`` by default
    :param optimizer_kwargs: Additional keyword arguments, excluding the learning rate, to pass to the optimizer
    :param dueling: build dueling Q-networks (see ``CartDQNPolicy``)
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Discrete,
        lr_schedule: Schedule,
        net_arch: list[int] | None = None,
        activation_fn: type[nn.Module] = nn.ReLU,
        features_extractor_class: type[BaseFeaturesExtractor] = TutorialCNN,
        features_extractor_kwargs: dict[str, Any] | None = None,
        normalize_images: bool = False,
        optimizer_class: type[th.optim.Optimizer] = th.optim.AdamW,
        optimizer_kwargs: dict[str, Any] | None = None,
        dueling: bool = False,
    ) -> None:
        super().__init__(
            observation_space,
            action_space,
            lr_schedule,
            [] if net_arch is None else net_arch,
            activation_fn,
            features_extractor_class,
            features_extractor_kwargs,
            normalize_images,
            optimizer_class,
            optimizer_kwargs,
            dueling,
        )


class MultiInputPolicy(CartDQNPolicy):
    """
    Policy class for CartDQN when using dict observations as input.

    :param observation_space: Observation space
    :param action_space: Action space
    :param lr_schedule: Learning rate schedule (could be constant)
    :param net_arch: The specification of the Q-network hidden layers (default ``[128, 128]``)
    :param activation_fn: Activation function
    :param features_extractor_class: Features extractor to use.
    :param features_extractor_kwargs: Keyword arguments to pass to the features extractor.
    :param normalize_images: Whether to normalize images or not, dividing by 255.0 (True by default)
    :param optimizer_class: The optimizer to use, ``th.optim.AdamW`` by default
    :param optimizer_kwargs: Additional keyword arguments, excluding the learning rate, to pass to the optimizer
    :param dueling: build dueling Q-networks (see ``CartDQNPolicy``)
    """

    def __init__(
        self,
        observation_space: spaces.Dict,
        action_space: spaces.Discrete,
        lr_schedule: Schedule,
        net_arch: list[int] | None = None,
        activation_fn: type[nn.Module] = nn.ReLU,
        features_extractor_class: type[BaseFeaturesExtractor] = CombinedExtractor,
        features_extractor_kwargs: dict[str, Any] | None = None,
        normalize_images: bool = True,
        optimizer_class: type[th.optim.Optimizer] = th.optim.AdamW,
        optimizer_kwargs: dict[str, Any] | None = None,
        dueling: bool = False,
    ) -> None:
        super().__init__(
            observation_space,
            action_space,
            lr_schedule,
            net_arch,
            activation_fn,
            features_extractor_class,
            features_extractor_kwargs,
            normalize_images,
            optimizer_class,
            optimizer_kwargs,
            dueling,
        )


# Model files name their policy class; CartDQN's own may be loaded without the trust_code opt-in
for _policy_class in (CartDQNPolicy, CnnPolicy, MultiInputPolicy):
    allow_class(_policy_class)


def _policy_default(policy_class: type, name: str) -> Any:
    parameter = inspect.signature(policy_class).parameters.get(name)
    return None if parameter is None else parameter.default


def _is_image_shaped(observation_space: spaces.Space) -> bool:
    # (C, H, W) or (H, W, C), any dtype: uint8 frames, or float images such as the pixel variant's screen difference
    return isinstance(observation_space, spaces.Box) and len(observation_space.shape) == 3


def check_policy_spaces(policy_class: type, observation_space: spaces.Space, policy_kwargs: dict[str, Any] | None) -> None:
    """
    Catch a policy that cannot read the observations before SB3 or torch fails deep inside the network.

    :param policy_class: the policy class chosen (``MlpPolicy``, ``CnnPolicy``, ``MultiInputPolicy`` or a custom one)
    :param observation_space: the env's observation space (after ``VecTransposeImage``)
    :param policy_kwargs: the policy keyword arguments (a ``features_extractor_class`` there is respected)
    """
    kwargs = policy_kwargs or {}
    extractor = kwargs.get("features_extractor_class")
    name = "MlpPolicy" if policy_class is CartDQNPolicy else policy_class.__name__
    if isinstance(observation_space, spaces.Dict) and not issubclass(policy_class, MultiInputPolicy) and extractor is None:
        raise ValueError(
            f"CartDQN: {name} cannot read Dict observations {observation_space}: use policy='MultiInputPolicy', "
            "or flatten the observation with gymnasium.wrappers.FlattenObservation."
        )
    if policy_class is CartDQNPolicy and extractor is None and _is_image_shaped(observation_space):
        raise ValueError(
            f"CartDQN: MlpPolicy got image observations {observation_space}: use policy='CnnPolicy'. "
            "To flatten the pixels into an MLP on purpose, pass "
            "policy_kwargs=dict(features_extractor_class=stable_baselines3.common.torch_layers.FlattenExtractor)."
        )
    extractor = extractor or _policy_default(policy_class, "features_extractor_class")
    cnn = isinstance(extractor, type) and issubclass(extractor, NatureCNN | TutorialCNN)
    normalize_images = kwargs.get("normalize_images", _policy_default(policy_class, "normalize_images"))
    if not cnn or isinstance(observation_space, spaces.Dict):
        return
    if issubclass(extractor, NatureCNN):
        fits = is_image_space(observation_space, check_channels=False, normalized_image=normalize_images is False)
        needs = "a Box of shape (C, H, W) or (H, W, C), uint8 in [0, 255] unless normalize_images=False"
    else:
        fits, needs = _is_image_shaped(observation_space), "a Box of shape (C, H, W)"
    if not fits:
        raise ValueError(
            f"CartDQN: {name} uses a CNN ({extractor.__name__}), which needs image observations ({needs}), "
            f"but the env observes {observation_space}. Use policy='MlpPolicy' for vector observations, "
            "or observe the env as pixels (the pixel variant) for CnnPolicy."
        )
