"""
The PyTorch DQN tutorial's settings, written once: ``CartDQN`` and ``BatchedCartDQN`` take their default arguments
from :data:`TUTORIAL`, the speed benchmark runs at them, and the comparison's "stock DQN set up like the tutorial"
row translates them into SB3 ``DQN``'s arguments with :func:`tutorial_dqn_kwargs`.
"""

import inspect
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import torch as th


@dataclass(frozen=True)
class TutorialSettings:
    """
    The constants of the tutorial's code, named as ``CartDQN``'s arguments (the tutorial's name in brackets).

    :param learning_rate: the optimizer's step size (``LR = 1e-4``, ``AdamW(lr=LR, amsgrad=True)``)
    :param buffer_size: replay capacity (``ReplayMemory(10000)``)
    :param learning_starts: transitions in the buffer before the first gradient step
        (``if len(memory) < BATCH_SIZE: return``: one batch)
    :param batch_size: transitions per gradient step (``BATCH_SIZE = 128``)
    :param tau: soft update coefficient of the target network, after every gradient step (``TAU = 0.005``)
    :param gamma: discount factor (``GAMMA = 0.99``)
    :param train_freq: env steps between updates (one ``optimize_model()`` per env step)
    :param gradient_steps: gradient steps per update (one)
    :param exploration_initial_eps: epsilon at step 0 (``EPS_START = 0.9``)
    :param exploration_final_eps: asymptotic epsilon (``EPS_END = 0.05``)
    :param exploration_decay: decay constant of the exponential epsilon, in env steps (``EPS_DECAY = 1000``)
    :param clip_grad_value: bound of the gradient value clipping (``clip_grad_value_(..., 100)``)
    :param double_q: the tutorial's target is the plain DQN target (no Double DQN)
    :param n_steps: the tutorial's target is the one-step target
    :param net_arch: hidden layers of the Q-network (``nn.Linear(n_observations, 128)``, ``nn.Linear(128, 128)``)
    :param amsgrad: the AdamW variant (``amsgrad=True``)
    """

    learning_rate: float = 1e-4
    buffer_size: int = 10_000
    learning_starts: int = 128
    batch_size: int = 128
    tau: float = 0.005
    gamma: float = 0.99
    train_freq: int = 1
    gradient_steps: int = 1
    exploration_initial_eps: float = 0.9
    exploration_final_eps: float = 0.05
    exploration_decay: float = 1000.0
    clip_grad_value: float = 100.0
    double_q: bool = False
    n_steps: int = 1
    net_arch: tuple[int, ...] = (128, 128)
    amsgrad: bool = True


#: The tutorial's settings
TUTORIAL = TutorialSettings()

#: The settings that are training arguments of ``CartDQN`` of the same name (``net_arch`` and ``amsgrad`` are the
#: policy's)
TRAINING_ARGUMENTS = tuple(field.name for field in fields(TutorialSettings) if field.name not in ("net_arch", "amsgrad"))


def training_arguments(trainer: str, **arguments: Any) -> dict[str, Any]:
    """
    Every training argument of ``CartDQN`` (:data:`TRAINING_ARGUMENTS`): ``arguments``' value where given, the
    tutorial's otherwise. For a trainer that takes them as keyword arguments (``BatchedCartDQN``), so that their
    names and defaults are listed here only.

    :param trainer: the class that takes them, for the error message
    :param arguments: the arguments given
    :return: one value per name of :data:`TRAINING_ARGUMENTS`
    :raises TypeError: naming each argument that is not a training argument, and the ones that are
    """
    unknown = [name for name in arguments if name not in TRAINING_ARGUMENTS]
    if unknown:
        raise TypeError(
            f"{trainer} got unexpected keyword argument(s) {', '.join(map(repr, unknown))}: its training arguments are "
            f"{', '.join(TRAINING_ARGUMENTS)} (CartDQN's, with the tutorial's defaults)"
        )
    return {name: arguments.get(name, getattr(TUTORIAL, name)) for name in TRAINING_ARGUMENTS}


def signature_with_training_arguments(init: Callable[..., Any]) -> inspect.Signature:
    """
    The signature of a class whose ``__init__`` takes the training arguments as ``**kwargs`` (passed on to
    :func:`training_arguments`), as ``help``, IDEs and the API reference should show it: ``self`` left out and the
    ``**kwargs`` parameter replaced by one keyword-only parameter per training argument, with the tutorial's default.

    :param init: the class's ``__init__``
    :return: the signature to set as the class's ``__signature__``
    """
    parameters = list(inspect.signature(init).parameters.values())[1:]
    spread = [parameter for parameter in parameters if parameter.kind is inspect.Parameter.VAR_KEYWORD]
    types = {field.name: field.type for field in fields(TutorialSettings)}
    training = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=getattr(TUTORIAL, name), annotation=types[name])
        for name in TRAINING_ARGUMENTS
    ]
    return inspect.Signature([parameter for parameter in parameters if parameter not in spread] + training)


def tutorial_dqn_kwargs(exploration_fraction: float) -> dict[str, Any]:
    """
    Stock SB3 ``DQN`` set as close to the tutorial as SB3 allows: the tutorial's values where ``DQN`` has the
    argument, a soft update after every step (``target_update_interval=1``), and SB3's norm clipping set out of
    reach (``DQN`` cannot clip by value). ``DQN``'s epsilon is linear: ``exploration_fraction`` sets its length.

    :param exploration_fraction: the fraction of the training budget over which epsilon falls from
        ``exploration_initial_eps`` to ``exploration_final_eps``
    :return: keyword arguments of ``stable_baselines3.DQN``
    """
    return dict(
        learning_rate=TUTORIAL.learning_rate,
        buffer_size=TUTORIAL.buffer_size,
        learning_starts=TUTORIAL.learning_starts,
        batch_size=TUTORIAL.batch_size,
        tau=TUTORIAL.tau,
        gamma=TUTORIAL.gamma,
        train_freq=TUTORIAL.train_freq,
        gradient_steps=TUTORIAL.gradient_steps,
        target_update_interval=1,
        exploration_initial_eps=TUTORIAL.exploration_initial_eps,
        exploration_final_eps=TUTORIAL.exploration_final_eps,
        exploration_fraction=exploration_fraction,
        max_grad_norm=1e10,
        policy_kwargs=dict(
            net_arch=list(TUTORIAL.net_arch),
            optimizer_class=th.optim.AdamW,
            optimizer_kwargs=dict(amsgrad=TUTORIAL.amsgrad),
        ),
    )
