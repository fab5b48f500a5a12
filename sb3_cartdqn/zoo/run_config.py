"""
Compatibility import path: the checks of an RL Zoo run folder's configuration moved to
:mod:`sb3_cartdqn.zoo.run_folder_checks` (the name says what they check). The names documented before stay
importable from here.
"""

from sb3_cartdqn.zoo.run_folder_checks import (
    check_config_file,
    check_model_zip,
    check_run_folder,
    checked_rl_zoo_enjoy,
    literal_problem,
)

__all__ = ["check_config_file", "check_model_zip", "check_run_folder", "checked_rl_zoo_enjoy", "literal_problem"]
