"""The TD target CartDQN regresses Q(s, a) on: the tutorial's max target, or the Double DQN target."""

import torch as th
from stable_baselines3.common.type_aliases import PyTorchObs
from torch import nn


@th.no_grad()
def next_state_values(q_net_target: nn.Module, next_observations: PyTorchObs, q_net: nn.Module | None = None) -> th.Tensor:
    """
    ``V(s')``, the value the target bootstraps from, shape ``(batch, 1)``.

    - Plain (the tutorial, ``q_net=None``): ``max_a' Q_target(s', a')``.
    - Double DQN (van Hasselt et al. 2016, ``q_net`` given): the online network picks the action,
      the target network values it: ``Q_target(s', argmax_a' Q_online(s', a'))``. This removes the
      upward bias of taking the max over the same noisy estimates that pick it.

    :param q_net_target: the target Q-network
    :param next_observations: the batch of next observations ``s'``
    :param q_net: the online Q-network for Double DQN, or ``None`` for the plain max target
    :return: one value per transition, shape ``(batch, 1)``
    """
    target_q_values = q_net_target(next_observations)
    if q_net is None:
        return target_q_values.max(dim=1, keepdim=True).values
    next_actions = q_net(next_observations).argmax(dim=1, keepdim=True)
    return th.gather(target_q_values, dim=1, index=next_actions)


@th.no_grad()
def q_target(
    rewards: th.Tensor,
    dones: th.Tensor,
    discounts: th.Tensor | float,
    next_observations: PyTorchObs,
    q_net_target: nn.Module,
    q_net: nn.Module | None = None,
) -> th.Tensor:
    """
    The TD target ``r + (1 - done) * discount * V(s')``, shape ``(batch, 1)``.

    With SB3's n-step replay buffer, ``rewards`` is already the discounted sum of up to ``n`` rewards,
    ``discount`` is ``gamma ** k`` for the ``k`` steps summed, ``s'`` is the observation after them and ``done``
    says whether the episode terminated within them (a truncation, i.e. a time limit, is not ``done``: the
    target still bootstraps from the last observation).

    :param rewards: rewards (or n-step discounted reward sums), shape ``(batch, 1)``
    :param dones: 1 where the episode terminated (no bootstrap), else 0, shape ``(batch, 1)``
    :param discounts: ``gamma``, or one discount per transition, shape ``(batch, 1)`` (n-step replay)
    :param next_observations: the batch of next observations ``s'``
    :param q_net_target: the target Q-network
    :param q_net: the online Q-network for the Double DQN target (see ``next_state_values``), or ``None``
    :return: the targets, shape ``(batch, 1)``
    """
    return rewards + (1 - dones) * discounts * next_state_values(q_net_target, next_observations, q_net)
