"""N independent MLP Q-networks as one set of stacked weights, computed with batched matrix products."""

from collections.abc import Callable, Sequence
from typing import Any

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


class _NarrowLinear(th.autograd.Function):
    """
    ``x W^T + b`` for a stacked weight ``W`` of shape ``[N, out, in]``, with the backward written out so that the
    weight gradient is computed as ``g^T x`` (an ``[out, in]`` result) rather than autograd's ``(x^T g)^T``.
    """

    @staticmethod
    def forward(ctx: Any, x: th.Tensor, weight: th.Tensor, bias: th.Tensor) -> th.Tensor:
        ctx.save_for_backward(x, weight)
        return th.baddbmm(bias, x, weight.transpose(1, 2))

    @staticmethod
    def backward(ctx: Any, grad: th.Tensor) -> tuple[th.Tensor | None, th.Tensor, th.Tensor]:  # type: ignore[override]
        x, weight = ctx.saved_tensors
        grad_x = th.bmm(grad, weight) if ctx.needs_input_grad[0] else None
        return grad_x, th.bmm(grad.transpose(1, 2), x), grad.sum(dim=1, keepdim=True)


class StackedMlp:
    """
    N MLPs of the same shape as stacked tensors, so that ``torch.baddbmm`` computes every seed's layer in one call:
    layer ``k``'s weight is ``[N, in, out]`` (seed ``i``'s ``nn.Linear.weight`` transposed) and its bias
    ``[N, 1, out]``, except in layers that narrow (``out < in``, such as the 128 -> 2 head), whose weight keeps
    ``nn.Linear``'s layout ``[N, out, in]``. MKL's batched GEMM is slow for results with a few contiguous columns:
    computed as ``x W`` with ``W`` ``[N, in, out]``, the head's forward and weight gradient take ~6x longer
    (measured at N = 10 and 32, one thread). Each seed's rows only ever meet its own weights: seeds stay independent.

    :param params: ``[weight_0, bias_0, weight_1, bias_1, ...]``, stacked
    :param activation: the activation between layers
    :param linear_layout: for each layer, whether its weight is stored ``[N, out, in]``
    """

    def __init__(
        self, params: Sequence[th.Tensor], activation: Callable[[th.Tensor], th.Tensor], linear_layout: Sequence[bool]
    ) -> None:
        self.params = list(params)
        self.activation = activation
        self.linear_layout = list(linear_layout)

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
        linear_layout = [linear.out_features < linear.in_features for linear in layers[0][0]]
        for k, keep in enumerate(linear_layout):
            weights = th.stack(
                [linears[k].weight.detach() if keep else linears[k].weight.detach().t() for linears, _ in layers]
            )
            biases = th.stack([linears[k].bias.detach().unsqueeze(0) for linears, _ in layers])
            params += [weights.to(device).contiguous(), biases.to(device).contiguous()]
        return cls([param.requires_grad_(True) for param in params], activation, linear_layout)

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
            if self.linear_layout[k // 2]:
                x = _NarrowLinear.apply(x, self.params[k], self.params[k + 1])
            else:
                x = th.baddbmm(self.params[k + 1], x, self.params[k])
            if k != last:
                x = self.activation(x)
        return x

    def seed_state(self, index: int) -> list[th.Tensor]:
        """
        :param index: seed position in the batch
        :return: that seed's ``[weight_0, bias_0, ...]`` in ``nn.Linear``'s layout (detached copies)
        """
        return [self.to_linear_layout(k, param[index]) for k, param in enumerate(self.params)]

    def to_linear_layout(self, k: int, tensor: th.Tensor) -> th.Tensor:
        """
        :param k: position in ``params``
        :param tensor: one seed's slice of ``params[k]`` (or of a tensor of the same shape, such as its optimizer
            state)
        :return: the same values in ``nn.Linear``'s layout: weight ``[out, in]``, bias ``[out]`` (a detached copy)
        """
        if k % 2 == 1:
            return tensor.detach().reshape(-1).clone()
        if self.linear_layout[k // 2]:
            return tensor.detach().clone()
        return tensor.detach().t().contiguous()

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
