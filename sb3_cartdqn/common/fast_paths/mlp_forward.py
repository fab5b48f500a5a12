"""A Q-network's forward pass as plain tensor calls, for the tutorial's small MLP."""

import torch as th
from gymnasium import spaces
from stable_baselines3.common.preprocessing import is_image_space
from stable_baselines3.common.torch_layers import FlattenExtractor
from stable_baselines3.dqn.policies import QNetwork
from torch import nn
from torch.nn import functional as F
from torch.nn.modules import module as torch_module

_FAST_ACTIVATIONS: dict[type[nn.Module], object] = {nn.ReLU: th.relu, nn.Tanh: th.tanh}


class MlpForward:
    """
    ``q_net(obs)`` for SB3's ``QNetwork`` with a ``FlattenExtractor`` and a ``Linear``/activation ``Sequential``
    (the tutorial's 4-128-128-2 network), computed as ``F.linear`` and activation calls on the network's own
    parameters: the functions ``nn.Linear`` and ``nn.ReLU`` call, so values and gradients are the same to the bit.
    What it skips is ``nn.Module.__call__``'s dispatch, about 3 µs for each of the nine modules a forward pass
    walks through, which is most of the time a batch-1 forward takes. The parameters are read at every call, so
    in-place updates (optimizer, soft update, ``load_state_dict``) are seen. Any forward hook on the network (or a
    global one) sends the call back through the modules, so hooks still run.

    :param q_net: the network; :meth:`build` returns None for networks this does not cover
    :param layers: ``(weight, bias)`` for each linear layer, or the activation function
    """

    def __init__(self, q_net: QNetwork, layers: list[tuple[th.Tensor, th.Tensor] | object]) -> None:
        self.q_net = q_net
        self.layers = layers
        # The hook dictionaries of every module: non-empty as soon as a hook is registered
        self._hooks = [hooks for module in q_net.modules() for hooks in (module._forward_hooks, module._forward_pre_hooks)]

    @classmethod
    def build(cls, q_net: nn.Module) -> "MlpForward | None":
        """
        :param q_net: a Q-network
        :return: its fast forward, or None if it is not an exact SB3 ``QNetwork`` with a flatten extractor and
            an MLP of ``Linear`` layers (with bias) and ReLU/Tanh activations, on non-image ``Box`` observations
        """
        if type(q_net) is not QNetwork or type(q_net.features_extractor) is not FlattenExtractor:
            return None
        # SB3's preprocessing of a Box is ``.float()``, except images (divided by 255 when ``normalize_images``)
        space = q_net.observation_space
        if not isinstance(space, spaces.Box) or (q_net.normalize_images and is_image_space(space)):
            return None
        layers: list[tuple[th.Tensor, th.Tensor] | object] = []
        for layer in q_net.q_net:
            if type(layer) is nn.Linear and layer.bias is not None:
                layers.append((layer.weight, layer.bias))
            elif type(layer) in _FAST_ACTIVATIONS:
                layers.append(_FAST_ACTIVATIONS[type(layer)])
            else:
                return None
        return cls(q_net, layers)

    def _hooked(self) -> bool:
        if torch_module._global_forward_hooks or torch_module._global_forward_pre_hooks:
            return True
        return any(self._hooks)

    def __call__(self, obs: th.Tensor) -> th.Tensor:
        """
        :param obs: a batch of observations, on the network's device
        :return: Q-values, one row per observation
        """
        if self._hooked():
            return self.q_net(obs)
        x = obs.float().flatten(1)
        for layer in self.layers:
            if isinstance(layer, tuple):
                x = F.linear(x, layer[0], layer[1])
            else:
                x = layer(x)  # type: ignore[operator]
        return x
