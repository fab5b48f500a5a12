"""The tutorial's exponential epsilon decay (``select_action``'s ``eps_threshold``)."""

import math


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
