"""
The tutorial's ``optimize_model``, as the functions both trainers call: ``CartDQN.train`` on one network and
``BatchedCartDQN.train`` on N stacked networks (one leading seed axis more; every function works on the last axes).

In the tutorial's order: the TD target (:func:`q_target`, with the Double DQN option), ``Q(s, a)`` of the actions
taken (:func:`chosen_q_values`), the Huber loss (:func:`td_loss`), then the gradient step with value clipping, the
AdamW step and the soft target update (:func:`gradient_step`).
"""

from typing import Any

import torch as th
from stable_baselines3.common.type_aliases import PyTorchObs
from torch.nn import functional as F

from sb3_cartdqn.common.fast_paths import FastPaths

QNet = Any  # an nn.Module or any callable mapping observations to ``[..., n_actions]`` Q-values


@th.no_grad()
def next_state_values(q_net_target: QNet, next_observations: PyTorchObs, q_net: QNet | None = None) -> th.Tensor:
    """
    ``V(s')``, the value the target bootstraps from, shape ``(..., batch, 1)``.

    - Plain (the tutorial, ``q_net=None``): ``max_a' Q_target(s', a')``.
    - Double DQN (van Hasselt et al. 2016, ``q_net`` given): the online network picks the action,
      the target network values it: ``Q_target(s', argmax_a' Q_online(s', a'))``. This removes the
      upward bias of taking the max over the same noisy estimates that pick it.

    :param q_net_target: the target Q-network
    :param next_observations: the batch of next observations ``s'``
    :param q_net: the online Q-network for Double DQN, or ``None`` for the plain max target
    :return: one value per transition, shape ``(..., batch, 1)``
    """
    target_q_values = q_net_target(next_observations)
    if q_net is None:
        return target_q_values.max(dim=-1, keepdim=True).values
    next_actions = q_net(next_observations).argmax(dim=-1, keepdim=True)
    return th.gather(target_q_values, dim=-1, index=next_actions)


@th.no_grad()
def q_target(
    rewards: th.Tensor,
    dones: th.Tensor,
    discounts: th.Tensor | float,
    next_observations: PyTorchObs,
    q_net_target: QNet,
    q_net: QNet | None = None,
) -> th.Tensor:
    """
    The TD target ``r + (1 - done) * discount * V(s')``, shape ``(..., batch, 1)``.

    With n-step replay, ``rewards`` is already the discounted sum of up to ``n`` rewards,
    ``discount`` is ``gamma ** k`` for the ``k`` steps summed, ``s'`` is the observation after them and ``done``
    says whether the episode terminated within them (a truncation, i.e. a time limit, is not ``done``: the
    target still bootstraps from the last observation).

    :param rewards: rewards (or n-step discounted reward sums), shape ``(..., batch, 1)``
    :param dones: 1 where the episode terminated (no bootstrap), else 0, shape ``(..., batch, 1)``
    :param discounts: ``gamma``, or one discount per transition, shape ``(..., batch, 1)`` (n-step replay)
    :param next_observations: the batch of next observations ``s'``
    :param q_net_target: the target Q-network
    :param q_net: the online Q-network for the Double DQN target (see ``next_state_values``), or ``None``
    :return: the targets, shape ``(..., batch, 1)``
    """
    return rewards + (1 - dones) * discounts * next_state_values(q_net_target, next_observations, q_net)


def chosen_q_values(q_values: th.Tensor, actions: th.Tensor) -> th.Tensor:
    """
    ``Q(s, a)`` of the actions taken (the tutorial's ``policy_net(state_batch).gather(1, action_batch)``).

    :param q_values: ``(..., batch, n_actions)``
    :param actions: ``(..., batch, 1)`` action indices
    :return: ``(..., batch, 1)``
    """
    return th.gather(q_values, dim=-1, index=actions.long())


def td_loss(current_q_values: th.Tensor, target_q_values: th.Tensor) -> th.Tensor:
    """
    The tutorial's Huber loss (``nn.SmoothL1Loss``), the mean over each network's batch.

    :param current_q_values: ``Q(s, a)``, shape ``(..., batch, 1)``
    :param target_q_values: the TD targets, same shape
    :return: one loss per network: a scalar for ``(batch, 1)`` inputs, ``(N,)`` for N stacked networks
    """
    return F.smooth_l1_loss(current_q_values, target_q_values, reduction="none").mean(dim=(-2, -1))


def gradient_step(loss: th.Tensor, paths: FastPaths, clip_grad_value: float | None, tau: float) -> None:
    """
    The rest of the tutorial's ``optimize_model`` and its soft target update: zero the gradients, backpropagate
    ``loss``, clamp the gradients to ``[-clip_grad_value, clip_grad_value]`` (``None``: no clipping), take the
    optimizer step, then ``target <- tau * online + (1 - tau) * target``.

    :param loss: a scalar (for N stacked networks, the sum of their losses: each one's gradient is its own)
    :param paths: the networks' parameters and the functions to run (fast or plain)
    :param clip_grad_value: the clipping bound, or None
    :param tau: the soft update coefficient
    """
    for param in paths.params:  # optimizer.zero_grad(set_to_none=True)
        param.grad = None
    loss.backward()
    with th.no_grad():
        if clip_grad_value is not None:
            paths.clip(paths.params, clip_grad_value)
        paths.optimizer_step()
        paths.soft_update(paths.params, paths.target_params, tau)
