"""Environments of the pixel variant: the screen-difference CartPole wrapper and its registered ids."""

from sb3_cartdqn.envs.registration import SCREEN_DIFF_GRAY_ID, SCREEN_DIFF_ID, register_envs
from sb3_cartdqn.envs.screen_diff import CartPoleScreenDiff, PatchGeometry, make_cartpole_screen_diff

register_envs()

__all__ = [
    "SCREEN_DIFF_GRAY_ID",
    "SCREEN_DIFF_ID",
    "CartPoleScreenDiff",
    "PatchGeometry",
    "make_cartpole_screen_diff",
    "register_envs",
]
