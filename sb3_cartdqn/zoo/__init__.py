"""RL Zoo integration: CartDQN as the RL Zoo algorithm ``cartdqn`` (see ``python -m sb3_cartdqn.zoo``)."""

from sb3_cartdqn.zoo.hyperparams_opt import convert_cartdqn_params, sample_cartdqn_params
from sb3_cartdqn.zoo.registration import (
    ALGO_NAME,
    OneSlotBufferLoader,
    default_config_path,
    one_slot_buffer_on_load,
    register_cartdqn,
)

__all__ = [
    "ALGO_NAME",
    "OneSlotBufferLoader",
    "convert_cartdqn_params",
    "default_config_path",
    "one_slot_buffer_on_load",
    "register_cartdqn",
    "sample_cartdqn_params",
]
