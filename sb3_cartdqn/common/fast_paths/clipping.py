"""A fast form of ``torch.nn.utils.clip_grad_value_`` (the tutorial clips gradients by value, at 100)."""

from collections.abc import Sequence

import torch as th


def clip_grad_value(params: Sequence[th.Tensor], clip_value: float) -> None:
    """
    Clamp every gradient to ``[-clip_value, clip_value]`` in place, as ``torch.nn.utils.clip_grad_value_`` does
    (the same two foreach kernels, ``clamp_min_`` then ``clamp_max_``), without its per-call regrouping of the
    tensors by device and dtype, which costs as much as the kernels for the tutorial's six small tensors.
    Call it under ``torch.no_grad()``.

    :param params: parameters whose ``.grad`` is clipped (those without a gradient are skipped)
    :param clip_value: the bound
    """
    grads = [param.grad for param in params if param.grad is not None]
    if not grads:
        return
    if len({(grad.device, grad.dtype) for grad in grads}) > 1 or grads[0].device.type not in ("cpu", "cuda"):
        th.nn.utils.clip_grad_value_(params, clip_value)
        return
    th._foreach_clamp_min_(grads, -float(clip_value))
    th._foreach_clamp_max_(grads, float(clip_value))
