"""The objectives ``train -optimize --trial-seeds ...`` can score trials with (``--objective NAME``)."""

from typing import Any

from rl_zoo3.exp_manager import ExperimentManager

from sb3_cartdqn.zoo.multi_seed import MultiSeedExperimentManager
from sb3_cartdqn.zoo.sustained_solve import SustainedSolveExperimentManager

#: ``--objective`` names: the robust study's multi-seed return objective (the default), and the time to a
#: sustained solve with the ``cartdqn_fast`` search space, timed to the first evaluation at or above the threshold
#: (``sustained-seconds``) or to the start of the unbroken run of them that holds from the budget on
#: (``settled-seconds``; see ``sb3_cartdqn.zoo.sustained_solve``)
OBJECTIVES = ("robustness", "sustained-seconds", "settled-seconds")


def objective_manager(settings: dict[str, Any]) -> type[ExperimentManager]:
    """
    :param settings: ``split_trial_seeds``'s settings: ``trial_seeds``, optionally ``objective`` (one of
        :data:`OBJECTIVES`), ``solved_threshold``, ``last_evaluations``, ``batch_seeds``
    :return: the ``ExperimentManager`` subclass that scores trials with that objective
    :raises SystemExit: for an option the objective does not take
    """
    settings = dict(settings)
    objective = settings.pop("objective", "robustness")
    if objective == "robustness":
        return MultiSeedExperimentManager.configured(**settings)
    if objective not in ("sustained-seconds", "settled-seconds"):
        raise SystemExit(f"--objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    refused = sorted({"last_evaluations", "batch_seeds"} & set(settings))
    if refused:
        raise SystemExit(
            f"--objective {objective} trains one CartDQN per seed and checks every evaluation up to twice the "
            f"budget: it does not take {', '.join('--' + name.replace('_', '-') for name in refused)}"
        )
    return SustainedSolveExperimentManager.configured(**settings, settled=objective == "settled-seconds")
