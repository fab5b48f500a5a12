"""
Fast paths: faster forms of torch and SB3 functions that one gradient step of the tutorial calls, each giving the
same values to the bit as the plain function it stands in for (each module's tests check that).

- ``mlp_forward``: ``q_net(obs)`` as ``F.linear``/activation calls, without ``nn.Module.__call__``'s dispatch
- ``adamw``: ``AdamW(fused=True).step()`` as a direct call of the fused kernel
- ``replay_sampling``: ``ReplayBuffer.sample`` without its per-field copies
- ``clipping``: ``torch.nn.utils.clip_grad_value_`` without its per-call regrouping
- ``polyak``: SB3's ``polyak_update`` loop as one ``torch._foreach_lerp_`` call

:class:`FastPaths` bundles them for one pair of online and target networks, so that a trainer's ``train()`` reads
like the tutorial's ``optimize_model`` whichever form runs; ``FastPaths.build(..., plain=NAMES)`` gives the plain
functions (the speed benchmark's ablations and the equality tests use it).
"""

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import torch as th
from stable_baselines3.common.utils import polyak_update

from sb3_cartdqn.common.fast_paths.adamw import FusedAdamWStep
from sb3_cartdqn.common.fast_paths.clipping import clip_grad_value
from sb3_cartdqn.common.fast_paths.mlp_forward import MlpForward
from sb3_cartdqn.common.fast_paths.polyak import copy_buffers, soft_update
from sb3_cartdqn.common.fast_paths.replay_sampling import fast_sampling_applies, sample_replay

__all__ = [
    "NAMES",
    "FastPaths",
    "FusedAdamWStep",
    "MlpForward",
    "clip_grad_value",
    "copy_buffers",
    "fast_sampling_applies",
    "sample_replay",
    "soft_update",
]

#: The name of each fast path, as ``FastPaths.build(plain=...)`` and the speed benchmark's ablations call them
NAMES = ("mlp-forward", "direct-adamw", "fast-sampling", "direct-clip", "foreach-lerp")


def _buffer_sample(buffer: Any, batch_size: int, env: Any = None) -> Any:
    return buffer.sample(batch_size, env=env)


@dataclass
class FastPaths:
    """
    The functions one gradient step calls, for one online/target pair of networks.

    :param q: the online network's forward
    :param q_target: the target network's forward
    :param params: the online parameters (the optimizer's, in its order)
    :param target_params: the target parameters, matching ``params``
    :param sample: ``(replay_buffer, batch_size, env) -> samples``
    :param clip: ``(params, clip_value)``: clamps the gradients in place
    :param optimizer_step: one optimizer step
    :param soft_update: ``(params, target_params, tau)``: ``target <- tau * online + (1 - tau) * target`` in place
    """

    q: Callable[[Any], th.Tensor]
    q_target: Callable[[Any], th.Tensor]
    params: list[th.Tensor]
    target_params: list[th.Tensor]
    sample: Callable[..., Any]
    clip: Callable[[Sequence[th.Tensor], float], Any]
    optimizer_step: Callable[[], Any]
    soft_update: Callable[[Sequence[th.Tensor], Sequence[th.Tensor], float], None]

    @classmethod
    def build(
        cls,
        q_net: Callable[[Any], th.Tensor],
        q_net_target: Callable[[Any], th.Tensor],
        optimizer: th.optim.Optimizer,
        params: Sequence[th.Tensor],
        target_params: Sequence[th.Tensor],
        plain: Collection[str] = (),
    ) -> "FastPaths":
        """
        :param q_net: the online network (an ``nn.Module``, or any callable such as the batched trainer's stacked one)
        :param q_net_target: the target network
        :param optimizer: the optimizer of ``params``
        :param params: the online parameters
        :param target_params: the target parameters
        :param plain: names (of ``NAMES``) whose plain torch/SB3 function is used instead of the fast path
        :return: the functions
        """
        unknown = set(plain) - set(NAMES)
        if unknown:
            raise ValueError(f"Unknown fast path(s) {sorted(unknown)}: choose among {list(NAMES)}.")
        fast_forward = "mlp-forward" not in plain and isinstance(q_net, th.nn.Module)
        return cls(
            q=(MlpForward.build(q_net) if fast_forward else None) or q_net,  # type: ignore[arg-type]
            q_target=(MlpForward.build(q_net_target) if fast_forward else None) or q_net_target,  # type: ignore[arg-type]
            params=list(params),
            target_params=list(target_params),
            sample=_buffer_sample if "fast-sampling" in plain else sample_replay,
            clip=th.nn.utils.clip_grad_value_ if "direct-clip" in plain else clip_grad_value,
            optimizer_step=optimizer.step if "direct-adamw" in plain else FusedAdamWStep(optimizer).step,
            soft_update=polyak_update if "foreach-lerp" in plain else soft_update,
        )

    @classmethod
    def for_policy(cls, policy: Any, plain: Collection[str] = ()) -> "FastPaths":
        """
        :param policy: a DQN-style policy with ``q_net``, ``q_net_target`` and ``optimizer`` (``CartDQNPolicy``)
        :param plain: names (of ``NAMES``) whose plain torch/SB3 function is used instead of the fast path
        :return: the functions for the policy's networks
        """
        q_net, q_net_target = policy.q_net, policy.q_net_target
        return cls.build(q_net, q_net_target, policy.optimizer, q_net.parameters(), q_net_target.parameters(), plain)
