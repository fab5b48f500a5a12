"""A fast form of the soft target update (the tutorial's ``target_net.load_state_dict`` loop, SB3's ``polyak_update``):
one fused kernel call over all parameters.

These functions modify parameters in place: call them under ``torch.no_grad()`` (``gradient_step`` in
``sb3_cartdqn.common.q_learning`` does, once for the clipping, optimizer step and update of a gradient step).
"""

from collections.abc import Sequence

import torch as th


def soft_update(params: Sequence[th.Tensor], target_params: Sequence[th.Tensor], tau: float) -> None:
    """
    Soft (Polyak) update of the target network: ``target <- tau * online + (1 - tau) * target``.

    The tutorial does this through ``state_dict`` after every optimisation step; SB3's ``polyak_update``
    loops over parameters in Python. ``torch._foreach_lerp_`` computes
    ``target + tau * (online - target)`` for every tensor in one call.

    :param params: online network parameters (read)
    :param target_params: target network parameters (updated in place)
    :param tau: soft update coefficient in (0, 1]; 1 is a hard copy
    """
    if tau == 1.0:
        th._foreach_copy_(list(target_params), list(params))
    else:
        th._foreach_lerp_(list(target_params), list(params), tau)


def copy_buffers(buffers: Sequence[th.Tensor], target_buffers: Sequence[th.Tensor]) -> None:
    """
    Copy batch-norm running statistics to the target network (SB3 issue 996).

    :param buffers: online network buffers (``running_mean``, ``running_var``, ...)
    :param target_buffers: the target network's matching buffers
    """
    if buffers:
        th._foreach_copy_(list(target_buffers), list(buffers))
