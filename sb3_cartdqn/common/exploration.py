"""The tutorial's exploration: exponential epsilon decay (``select_action``'s ``eps_threshold``) and epsilon-greedy."""

import math
from collections.abc import Callable

import numpy as np


class ExponentialEpsilon:
    """
    Exploration rate that decays exponentially with the number of environment steps taken:

    ``epsilon(t) = final + (initial - final) * exp(-t / decay)``

    exactly as the PyTorch DQN tutorial computes ``eps_threshold`` from ``steps_done``.
    Unlike SB3's ``LinearSchedule`` it is a function of the step count ``t``
    (``num_timesteps``, every env counted), not of the progress remaining,
    so it continues unchanged across ``learn(..., reset_num_timesteps=False)`` and save/load.

    :param initial: value at ``t = 0`` (tutorial: ``EPS_START = 0.9``)
    :param final: asymptotic value (tutorial: ``EPS_END = 0.05``)
    :param decay: decay constant in environment steps (tutorial: ``EPS_DECAY = 1000``)
    """

    def __init__(self, initial: float, final: float, decay: float) -> None:
        self.initial = initial
        self.final = final
        self.decay = decay

    def __call__(self, num_timesteps: int) -> float:
        return self.final + (self.initial - self.final) * math.exp(-num_timesteps / self.decay)

    def __repr__(self) -> str:
        return f"ExponentialEpsilon(initial={self.initial}, final={self.final}, decay={self.decay})"


def epsilon_greedy(
    uniforms: np.ndarray,
    epsilon: float,
    greedy_actions: Callable[[], np.ndarray],
    random_actions: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """
    The tutorial's ``select_action`` for a batch of actors: actor ``i`` acts at random when its uniform draw
    ``uniforms[i] <= epsilon``, greedily otherwise. The greedy actions are computed only when some actor needs them.

    :param uniforms: one uniform number in [0, 1) per actor
    :param epsilon: the exploration rate
    :param greedy_actions: returns every actor's ``argmax_a Q(s, a)`` (a writable array)
    :param random_actions: given the mask of exploring actors, returns one random action for each of them, in order
    :return: one action per actor
    """
    explore = uniforms <= epsilon
    if explore.all():
        return random_actions(explore)
    actions = greedy_actions()
    if explore.any():
        actions[explore] = random_actions(explore)
    return actions
