"""Compare CartDQN with stock SB3 DQN and QR-DQN: ``python -m sb3_cartdqn.compare --help``."""

from sb3_cartdqn.compare.algorithms import ALGORITHM_NAMES, AlgorithmConfig, build_algorithms
from sb3_cartdqn.compare.cli import main
from sb3_cartdqn.compare.run import RunTask, run_one

__all__ = ["ALGORITHM_NAMES", "AlgorithmConfig", "RunTask", "build_algorithms", "main", "run_one"]
