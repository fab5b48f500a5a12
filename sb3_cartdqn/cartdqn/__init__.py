from sb3_cartdqn.cartdqn.cartdqn import CartDQN
from sb3_cartdqn.cartdqn.policies import CartDQNPolicy, CnnPolicy, MlpPolicy, MultiInputPolicy

__all__ = ["CartDQN", "CartDQNPolicy", "CnnPolicy", "MlpPolicy", "MultiInputPolicy"]
