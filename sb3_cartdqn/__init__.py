import os

from sb3_cartdqn import moved_modules  # noqa: F401  (installs the hook that keeps former module paths importable)
from sb3_cartdqn.cartdqn import CartDQN, CartDQNPolicy, CnnPolicy, MlpPolicy, MultiInputPolicy
from sb3_cartdqn.common.callbacks import PlotDurationsCallback
from sb3_cartdqn.envs import CartPoleScreenDiff  # registers the pixel env ids

# Read version from file
version_file = os.path.join(os.path.dirname(__file__), "version.txt")
with open(version_file) as file_handler:
    __version__ = file_handler.read().strip()

__all__ = [
    "CartDQN",
    "CartDQNPolicy",
    "CartPoleScreenDiff",
    "CnnPolicy",
    "MlpPolicy",
    "MultiInputPolicy",
    "PlotDurationsCallback",
    "__version__",
]
