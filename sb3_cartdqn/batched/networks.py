"""N independent MLP Q-networks as one set of stacked weights, computed with batched matrix products."""

from collections.abc import Callable, Sequence
from typing import Any

import torch as th
from stable_baselines3.common.torch_layers import FlattenExtractor
from stable_baselines3.dqn.policies import QNetwork
from torch import nn

from sb3_cartdqn.cartdqn.policies import DuelingQNetwork

_ACTIVATIONS: dict[type[nn.Module], Callable[[th.Tensor], th.Tensor]] = {nn.ReLU: th.relu, nn.Tanh: th.tanh}


def mlp_layers(q_net: nn.Module) -> tuple[list[tuple[th.Tensor, th.Tensor]], Callable[[th.Tensor], th.Tensor], bool]:
    """
    The layers and the activation of a CartDQN MLP Q-network (SB3's ``QNetwork`` with a flatten extractor, or the
    dueling ``DuelingQNetwork``).

    :param q_net: the network
    :return: each layer's ``(weight, bias)`` in ``nn.Linear``'s layout, in order; the activation between them; and
        whether the network is dueling, in which case the last layer is its value and advantage streams as one
        ``[1 + n_actions, hidden]`` layer (the value's row first)
    """
    dueling = type(q_net) is DuelingQNetwork
    if type(q_net) not in (QNetwork, DuelingQNetwork) or type(q_net.features_extractor) is not FlattenExtractor:
        raise ValueError(
            f"The batched trainer stacks MlpPolicy networks (SB3 QNetwork with a FlattenExtractor), got "
            f"{type(q_net).__name__}: train image or dict observations with CartDQN, one seed per process."
        )
    head: Any = q_net.q_net
    hidden: nn.Sequential = head.shared if dueling else head
    linears = [layer for layer in hidden if isinstance(layer, nn.Linear)]
    if dueling:
        linears += [head.value, head.advantage]
    activations = {type(layer) for layer in hidden if not isinstance(layer, nn.Linear)}
    if any(layer.bias is None for layer in linears) or not activations <= set(_ACTIVATIONS) or len(activations) > 1:
        raise ValueError(
            f"The batched trainer supports Linear layers with bias and one of {[a.__name__ for a in _ACTIVATIONS]} "
            f"as activation_fn, got {q_net.q_net}."
        )
    activation = _ACTIVATIONS[activations.pop()] if activations else th.relu
    layers = [(linear.weight.detach(), linear.bias.detach()) for linear in linears]
    if dueling:
        (value_w, value_b), (advantage_w, advantage_b) = layers.pop(-2), layers.pop(-1)
        layers.append((th.cat((value_w, advantage_w)), th.cat((value_b, advantage_b))))
    return layers, activation, dueling


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

    A dueling network's value and advantage streams are one last layer of ``1 + n_actions`` outputs (the value
    first), combined as ``V + A - mean(A)``; AdamW, value clipping and the soft update are elementwise, so one stacked
    layer steps exactly as the two ``nn.Linear`` streams would.

    :param params: ``[weight_0, bias_0, weight_1, bias_1, ...]``, stacked
    :param activation: the activation between layers
    :param linear_layout: for each layer, whether its weight is stored ``[N, out, in]``
    :param dueling: whether the last layer holds the dueling value and advantage streams
    """

    def __init__(
        self,
        params: Sequence[th.Tensor],
        activation: Callable[[th.Tensor], th.Tensor],
        linear_layout: Sequence[bool],
        dueling: bool = False,
    ) -> None:
        self.params = list(params)
        self.activation = activation
        self.linear_layout = list(linear_layout)
        self.dueling = dueling

    @classmethod
    def stack(cls, q_nets: Sequence[nn.Module], device: th.device | str = "cpu") -> "StackedMlp":
        """
        :param q_nets: one CartDQN MLP Q-network per seed, all of the same shape
        :param device: where the stacked weights live
        :return: their weights, stacked (copies, with ``requires_grad``)
        """
        described = [mlp_layers(q_net) for q_net in q_nets]
        _, activation, dueling = described[0]
        params = []
        first = described[0][0]
        linear_layout = [weight.shape[0] < weight.shape[1] for weight, _ in first]
        for k, keep in enumerate(linear_layout):
            weights = th.stack([layers[k][0] if keep else layers[k][0].t() for layers, _, _ in described])
            biases = th.stack([layers[k][1].unsqueeze(0) for layers, _, _ in described])
            params += [weights.to(device).contiguous(), biases.to(device).contiguous()]
        return cls([param.requires_grad_(True) for param in params], activation, linear_layout, dueling)

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
        if self.dueling:
            advantages = x[..., 1:]
            return x[..., :1] + advantages - advantages.mean(dim=-1, keepdim=True)
        return x

    def seed_state(self, index: int) -> list[th.Tensor]:
        """
        :param index: seed position in the batch
        :return: that seed's parameters in the order and layout of its ``nn.Module``'s ``parameters()`` (detached
            copies)
        """
        return self.seed_tensors(index, self.params)

    def seed_tensors(self, index: int, tensors: Sequence[th.Tensor]) -> list[th.Tensor]:
        """
        :param index: seed position in the batch
        :param tensors: one tensor shaped like each of ``params`` (the weights, or their optimizer state)
        :return: seed ``index``'s slices in the order and layout of its ``nn.Module``'s ``parameters()``: the
            ``nn.Linear`` layout, and for a dueling network the value stream's weight and bias, then the advantage
            stream's (detached copies)
        """
        module = [self.to_linear_layout(k, tensor[index]) for k, tensor in enumerate(tensors)]
        if self.dueling:
            weight, bias = module[-2:]
            module[-2:] = [weight[:1], bias[:1], weight[1:], bias[1:]]
        return module

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
        mlp_layers(q_net)  # the same kind of network
        with th.no_grad():
            for param, value in zip(q_net.parameters(), self.seed_state(index), strict=True):
                param.copy_(value)
