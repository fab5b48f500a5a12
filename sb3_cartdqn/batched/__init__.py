"""Many CartDQN seeds in one process, as one batched computation (see ``BatchedCartDQN``)."""

from sb3_cartdqn.batched.trainer import BatchedCartDQN

__all__ = ["BatchedCartDQN"]
