"""The screen-difference CartPole wrapper, its registered ids, and CartDQN's CnnPolicy trained on it."""

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from gymnasium.envs.classic_control.cartpole import CartPoleEnv
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.callbacks import EvalCallback
from stable_baselines3.common.env_checker import check_env as sb3_check_env
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecTransposeImage

from sb3_cartdqn import CartDQN
from sb3_cartdqn.benchmarks.pixel import tutorial_get_screen
from sb3_cartdqn.envs import (
    SCREEN_DIFF_GRAY_ID,
    SCREEN_DIFF_ID,
    CartPoleScreenDiff,
    PatchGeometry,
    make_cartpole_screen_diff,
    register_envs,
)
from sb3_cartdqn.envs.screen_diff import screen_difference


def make_wrapped(**kwargs) -> CartPoleScreenDiff:
    return CartPoleScreenDiff(CartPoleEnv(render_mode="rgb_array"), **kwargs)


def test_observation_space_dtype_range_and_zero_first_state():
    env = gym.make(SCREEN_DIFF_ID)
    assert env.observation_space == spaces.Box(-1.0, 1.0, (3, 40, 90), np.float32)
    assert env.spec.max_episode_steps == 500
    for seed in (0, 1):
        obs, _ = env.reset(seed=seed)
        assert obs.shape == (3, 40, 90) and obs.dtype == np.float32
        assert not obs.any(), "the first state is the difference of the same screen: all zeros"
        moving = 0
        for _ in range(30):
            obs, reward, terminated, truncated, _ = env.step(1)
            assert obs in env.observation_space and obs.flags["C_CONTIGUOUS"]
            assert reward == 1.0
            moving += bool(obs.any())
            if terminated or truncated:
                break
        assert moving > 0, "pushing right must move something on the screen"


def test_grayscale_and_height_options():
    env = gym.make(SCREEN_DIFF_GRAY_ID)
    assert env.observation_space.shape == (1, 40, 90)
    assert env.reset(seed=0)[0].shape == (1, 40, 90)
    assert env.step(0)[0].shape == (1, 40, 90)
    assert make_wrapped(height=80).observation_space.shape == (3, 80, 180)
    with pytest.raises(ValueError, match="height"):
        make_wrapped(height=0)


@pytest.mark.parametrize(
    "cart_x, expected_start",
    [(0.0, 120), (0.5, 182), (-0.5, 57), (-1.0, 0), (-2.3, 0), (1.5, 240), (2.3, 240)],
)
def test_crop_follows_cart_and_clamps_at_edges(cart_x, expected_start):
    env = make_wrapped()
    geometry = env.geometry
    assert (geometry.row_start, geometry.row_stop, geometry.view_width) == (160, 320, 360)
    column = geometry.cart_column(cart_x, 2.4)
    assert column == int(cart_x * 600 / 4.8 + 300)
    assert geometry.column_start(column) == expected_start
    env.reset(seed=0)
    env.unwrapped.state = np.array([cart_x, 0.0, 0.0, 0.0])
    env.step(0)  # Euler step: the position moves by tau * old velocity = 0
    assert env.unwrapped.state[0] == cart_x
    patch = env.last_patch
    # The cart is the black box: the only columns with several dark rows (the track is a one-pixel line)
    dark_rows = (patch.max(axis=0) < 60).sum(axis=0)
    cart_columns = np.flatnonzero(dark_rows >= 3)
    assert len(cart_columns) >= 5
    # The cart is 50 pixels wide (partly off-screen at the edges); the patch is resized by 1/4
    left, right = max(column - 25, expected_start), min(column + 25, expected_start + 360)
    expected_centre = ((left + right) / 2 - expected_start) / 4
    assert abs(cart_columns.mean() - expected_centre) <= 1.5
    if expected_start not in (0, 240):
        assert abs(cart_columns.mean() - 45) <= 1.5, "away from the edges the cart stays in the middle"


class FrameCartPole(CartPoleEnv):
    """A CartPole whose render() returns given frames (to test the pipeline on known images)."""

    def __init__(self, frames: list[np.ndarray]) -> None:
        super().__init__(render_mode="rgb_array")
        self.screen_height, self.screen_width = frames[0].shape[:2]
        self.frames = list(frames)

    def render(self):
        return self.frames.pop(0)


def test_difference_of_two_known_frames():
    white = np.full((100, 150, 3), 255, np.uint8)
    grey = np.full((100, 150, 3), 128, np.uint8)
    black = np.zeros((100, 150, 3), np.uint8)
    env = CartPoleScreenDiff(FrameCartPole([white, grey, black, white]))
    # 100 x 150 frame: rows 40:80 and a 90-column window, resized to 40 rows: 40 x 90
    assert env.observation_space.shape == (3, 40, 90)
    assert not env.reset(seed=0)[0].any()
    obs = env.step(0)[0]
    np.testing.assert_allclose(obs, (128 - 255) / 255, rtol=0, atol=1e-6)
    np.testing.assert_allclose(env.step(0)[0], -128 / 255, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(env.step(0)[0], 1.0)
    # And the function itself, signed
    current, previous = np.array([[[0, 255, 10]]], np.uint8), np.array([[[255, 0, 10]]], np.uint8)
    np.testing.assert_array_equal(screen_difference(current, previous), [[[-1.0, 1.0, 0.0]]])


def test_difference_matches_tutorial_get_screen():
    env = make_wrapped()
    env.reset(seed=3)
    previous_frame, previous_x = env.unwrapped.render(), env.unwrapped.state[0]
    for action in (1, 1, 0, 1):
        obs = env.step(action)[0]
        frame, cart_x = env.unwrapped.render(), env.unwrapped.state[0]
        expected = tutorial_get_screen(frame, cart_x) - tutorial_get_screen(previous_frame, previous_x)
        np.testing.assert_allclose(obs, expected, rtol=0, atol=1e-6)
        previous_frame, previous_x = frame, cart_x


def test_env_checkers():
    gym_check_env(make_wrapped(), skip_render_check=False)
    gym_check_env(make_wrapped(grayscale=True))
    sb3_check_env(make_wrapped())


def test_clear_errors():
    with pytest.raises(ValueError, match='render_mode="rgb_array"'):
        CartPoleScreenDiff(gym.make("CartPole-v1"))
    with pytest.raises(TypeError, match="CartPole"):
        CartPoleScreenDiff(gym.make("Pendulum-v1", render_mode="rgb_array"))
    with pytest.raises(ValueError, match="render_mode"):
        make_cartpole_screen_diff(render_mode="ansi")
    with pytest.raises(gym.error.ResetNeeded):
        make_wrapped().step(0)
    env = CartPoleScreenDiff(FrameCartPole([np.zeros((100, 150, 3), np.uint8), np.zeros((50, 50, 3), np.uint8)]))
    env.reset(seed=0)
    with pytest.raises(ValueError, match="frames"):
        env.step(0)


def test_registration_is_idempotent_and_recreatable():
    register_envs()
    register_envs()
    env = gym.make(SCREEN_DIFF_ID, render_mode="rgb_array")  # what SB3 passes for a string env id
    assert isinstance(env.unwrapped, CartPoleEnv)
    env.reset(seed=0)
    assert env.render().shape == (400, 600, 3)
    again = gym.make(env.spec)  # the wrapper is recorded in the spec and not applied twice
    assert again.observation_space == env.observation_space
    assert PatchGeometry.for_frame(400, 600) == again.get_wrapper_attr("geometry")


@pytest.mark.parametrize(
    "env_id, vec_env_cls",
    # New processes (forkserver) have not imported sb3_cartdqn: "module:id" makes gymnasium import it first
    [(SCREEN_DIFF_ID, DummyVecEnv), (f"sb3_cartdqn:{SCREEN_DIFF_ID}", SubprocVecEnv)],
)
def test_vec_envs(env_id, vec_env_cls):
    venv = make_vec_env(env_id, n_envs=2, seed=0, vec_env_cls=vec_env_cls)
    try:
        obs = venv.reset()
        assert obs.shape == (2, 3, 40, 90) and obs.dtype == np.float32 and not obs.any()
        for _ in range(5):
            obs, rewards, _, _ = venv.step(np.array([1, 0]))
        assert obs.shape == (2, 3, 40, 90) and np.abs(obs).max() <= 1.0
        np.testing.assert_array_equal(rewards, [1.0, 1.0])
        assert not np.array_equal(obs[0], obs[1]), "the two envs push their carts opposite ways"
    finally:
        venv.close()


def test_cartdqn_cnn_policy_trains_evaluates_and_reloads(tmp_path):
    model = CartDQN("CnnPolicy", SCREEN_DIFF_ID, buffer_size=200, batch_size=16, learning_starts=16, seed=0, device="cpu")
    # SB3 leaves the float, signed image as it is: no transpose wrapper, no division by 255
    assert not isinstance(model.env, VecTransposeImage) and model.env.observation_space.shape == (3, 40, 90)
    assert model.policy.normalize_images is False
    eval_env = make_vec_env(SCREEN_DIFF_ID, n_envs=1, seed=1)
    eval_callback = EvalCallback(eval_env, n_eval_episodes=2, eval_freq=100, log_path=str(tmp_path), verbose=0)
    model.learn(200, callback=eval_callback)
    assert model.num_timesteps == 200 and model._n_updates == 200 - 16 + 1
    assert len(eval_callback.evaluations_results) == 2
    assert all(len(lengths) == 2 and min(lengths) > 0 for lengths in eval_callback.evaluations_length)

    model.save(tmp_path / "pixel_model")
    loaded = CartDQN.load(tmp_path / "pixel_model", device="cpu")
    obs = np.stack([eval_env.reset()[0], *(eval_env.step(np.array([1]))[0][0] for _ in range(3))])
    with th.no_grad():
        q_values = model.q_net(th.as_tensor(obs))
        q_loaded = loaded.q_net(th.as_tensor(obs))
    th.testing.assert_close(q_loaded, q_values)
    assert not th.equal(q_values[0], q_values[-1])
    for name, buffer in model.q_net_target.named_buffers():
        th.testing.assert_close(dict(loaded.q_net_target.named_buffers())[name], buffer)
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], model.predict(obs, deterministic=True)[0])
