"""Gymnasium ids of the pixel variant, registered when ``sb3_cartdqn`` is imported."""

import gymnasium as gym

#: CartPole-v1 dynamics, 500-step time limit and reward threshold, 3 x 40 x 90 RGB screen difference
SCREEN_DIFF_ID = "CartPoleScreenDiff-v1"
#: The same in grey scale: 1 x 40 x 90
SCREEN_DIFF_GRAY_ID = "CartPoleScreenDiffGray-v1"

_ENTRY_POINT = "sb3_cartdqn.envs.screen_diff:make_cartpole_screen_diff"


def register_envs() -> None:
    """Register the pixel ids with Gymnasium (once: importing again, or calling again, does nothing)."""
    for env_id, kwargs in ((SCREEN_DIFF_ID, {}), (SCREEN_DIFF_GRAY_ID, {"grayscale": True})):
        if env_id not in gym.registry:
            gym.register(
                id=env_id,
                entry_point=_ENTRY_POINT,
                max_episode_steps=500,
                reward_threshold=gym.spec("CartPole-v1").reward_threshold,
                kwargs=kwargs,
            )
