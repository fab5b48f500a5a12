"""N independent MLP Q-networks as one set of stacked weights, computed with batched matrix products."""

from collections.abc import Callable, Sequence

import torch as th
from stable_baselines3.common.torch_layers import FlattenExtractor
from stable_baselines3.dqn.policies import QNetwork
from torch import nn

_ACTIVATIONS: dict[type[nn.Module], Callable[[th.Tensor], th.Tensor]] = {nn.ReLU: th.relu, nn.Tanh: th.tanh}


def mlp_layers(q_net: nn.Module) -> tuple[list[nn.Linear], Callable[[th.Tensor], th.Tensor]]:
    """
    The linear layers and the activation of a CartDQN MLP Q-network (SB3's ``QNetwork`` with a flatten extractor).

    :param q_net: the network
    :return: its ``Linear`` layers in order, and the activation function between them
    """
    if type(q_net) is not QNetwork or type(q_net.features_extractor) is not FlattenExtractor:
        raise ValueError(
            f"The batched trainer stacks MlpPolicy networks (SB3 QNetwork with a FlattenExtractor), got "
            f"{type(q_net).__name__}: train image or dict observations with CartDQN, one seed per process."
        )
    linears = [layer for layer in q_net.q_net if isinstance(layer, nn.Linear)]
    activations = {type(layer) for layer in q_net.q_net if not isinstance(layer, nn.Linear)}
    if any(layer.bias is None for layer in linears) or not activations <= set(_ACTIVATIONS) or len(activations) > 1:
        raise ValueError(
            f"The batched trainer supports Linear layers with bias and one of {[a.__name__ for a in _ACTIVATIONS]} "
            f"as activation_fn, got {q_net.q_net}."
        )
    activation = _ACTIVATIONS[activations.pop()] if activations else th.relu
    return linears, activation


class StackedMlp:
    """
    N MLPs of the same shape as stacked tensors: layer ``k``'s weight is ``[N, in, out]`` (seed ``i``'s
    ``nn.Linear.weight`` transposed) and its bias ``[N, 1, out]``, so that ``torch.baddbmm`` computes every seed's
    layer in one call. Each seed's rows only ever meet its own weights: seeds stay independent.

    :param params: ``[weight_0, bias_0, weight_1, bias_1, ...]``, stacked
    :param activation: the activation between layers
    """

    def __init__(self, params: Sequence[th.Tensor], activation: Callable[[th.Tensor], th.Tensor]) -> None:
        self.params = list(params)
        self.activation = activation

    @classmethod
    def stack(cls, q_nets: Sequence[nn.Module], device: th.device | str = "cpu") -> "StackedMlp":
        """
        :param q_nets: one CartDQN MLP Q-network per seed, all of the same shape
        :param device: where the stacked weights live
        :return: their weights, stacked (copies, with ``requires_grad``)
        """
        layers = [mlp_layers(q_net) for q_net in q_nets]
        activation = layers[0][1]
        params = []
        for k in range(len(layers[0][0])):
            weights = th.stack([linears[k].weight.detach().t() for linears, _ in layers])
            biases = th.stack([linears[k].bias.detach().unsqueeze(0) for linears, _ in layers])
            params += [weights.to(device).contiguous(), biases.to(device).contiguous()]
        return cls([param.requires_grad_(True) for param in params], activation)

    @property
    def n_seeds(self) -> int:
        return self.params[0].shape[0]

    def __call__(self, obs: th.Tensor) -> th.Tensor:
        """
        :param obs: ``[N, batch, n_features]``
        :return: Q-values ``[N, batch, n_actions]``
        """
        x = obs
        last = len(self.params) - 2
        for k in range(0, len(self.params), 2):
            x = th.baddbmm(self.params[k + 1], x, self.params[k])
            if k != last:
                x = self.activation(x)
        return x

    def seed_state(self, index: int) -> list[th.Tensor]:
        """
        :param index: seed position in the batch
        :return: that seed's ``[weight_0, bias_0, ...]`` in ``nn.Linear``'s layout (detached copies)
        """
        return [to_linear_layout(param[index], is_bias=k % 2 == 1) for k, param in enumerate(self.params)]

    def load_into(self, index: int, q_net: nn.Module) -> None:
        """
        Copy seed ``index``'s weights into an ordinary Q-network of the same shape.

        :param index: seed position in the batch
        :param q_net: the network to overwrite
        """
        linears, _ = mlp_layers(q_net)
        state = self.seed_state(index)
        with th.no_grad():
            for k, linear in enumerate(linears):
                linear.weight.copy_(state[2 * k])
                linear.bias.copy_(state[2 * k + 1])


def to_linear_layout(tensor: th.Tensor, is_bias: bool) -> th.Tensor:
    """
    :param tensor: one seed's slice of a stacked weight ``[in, out]`` or bias ``[1, out]`` (or any tensor of the
        same shape, such as its optimizer state)
    :param is_bias: whether it is a bias
    :return: the same values in ``nn.Linear``'s layout: weight ``[out, in]``, bias ``[out]`` (a detached copy)
    """
    if is_bias:
        return tensor.detach()[0].clone()
    return tensor.detach().t().contiguous()
