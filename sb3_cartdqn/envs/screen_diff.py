"""
The older PyTorch tutorial's pixel observation for CartPole: the difference between the current and the previous
screen patch centred on the cart, as a Gymnasium wrapper.

Pipeline per step: render (400 x 600 x 3 uint8) -> keep rows 40-80 % and a 60 %-wide window centred on the cart
(clamped at the edges) -> bicubic resize of that uint8 patch to ``height`` rows (40 x 90) -> difference with the
previous patch, scaled to [-1, 1], channels first.
"""

from dataclasses import dataclass
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from PIL import Image

#: Rows kept from the frame, as fractions of its height (the cart and pole are in this band)
ROW_FRACTIONS = (0.4, 0.8)
#: Width of the window centred on the cart, as a fraction of the frame width
VIEW_FRACTION = 0.6


@dataclass(frozen=True)
class PatchGeometry:
    """
    Where the patch comes from in a frame and the size it is resized to.

    :param frame_height: rows of the rendered frame
    :param frame_width: columns of the rendered frame
    :param row_start: first row kept
    :param row_stop: row after the last row kept
    :param view_width: columns kept around the cart
    :param out_height: rows of the resized patch
    :param out_width: columns of the resized patch
    """

    frame_height: int
    frame_width: int
    row_start: int
    row_stop: int
    view_width: int
    out_height: int
    out_width: int

    @classmethod
    def for_frame(cls, frame_height: int, frame_width: int, height: int = 40) -> "PatchGeometry":
        """
        The tutorial's geometry: rows ``int(0.4 H):int(0.8 H)``, ``int(0.6 W)`` columns, resized to ``height`` rows
        keeping the aspect ratio (as ``torchvision.transforms.Resize(height)`` does for a patch wider than tall).

        :param frame_height: rows of the rendered frame
        :param frame_width: columns of the rendered frame
        :param height: rows of the resized patch (tutorial: 40)
        :return: the geometry
        """
        if not (isinstance(height, int | np.integer) and height >= 1):
            raise ValueError(f"Invalid patch height={height!r}: it must be a positive number of pixel rows, e.g. 40.")
        row_start, row_stop = int(frame_height * ROW_FRACTIONS[0]), int(frame_height * ROW_FRACTIONS[1])
        view_width = int(frame_width * VIEW_FRACTION)
        out_width = int(height * view_width / (row_stop - row_start))
        return cls(frame_height, frame_width, row_start, row_stop, view_width, int(height), out_width)

    def cart_column(self, cart_x: float, x_threshold: float) -> int:
        """
        :param cart_x: cart position (``state[0]``)
        :param x_threshold: the env's ``x_threshold`` (2.4): the frame spans ``[-x_threshold, x_threshold]``
        :return: the pixel column of the middle of the cart (the tutorial's ``get_cart_location``)
        """
        scale = self.frame_width / (2 * x_threshold)
        return int(cart_x * scale + self.frame_width / 2.0)

    def column_start(self, cart_column: int) -> int:
        """
        :param cart_column: pixel column of the cart
        :return: first column of the window centred on the cart, clamped so that the window stays in the frame
        """
        return min(max(cart_column - self.view_width // 2, 0), self.frame_width - self.view_width)


def extract_patch(frame: np.ndarray, cart_column: int, geometry: PatchGeometry, grayscale: bool = False) -> np.ndarray:
    """
    Crop the band and the window around the cart out of a frame, then resize it (bicubic) in uint8.

    :param frame: the rendered ``H x W x 3`` uint8 frame
    :param cart_column: pixel column of the cart
    :param geometry: where to crop and the size to resize to
    :param grayscale: convert to one luminance channel (ITU-R 601-2, as PIL's ``convert("L")``)
    :return: the patch, ``C x out_height x out_width`` uint8, C-contiguous
    """
    start = geometry.column_start(cart_column)
    crop = frame[geometry.row_start : geometry.row_stop, start : start + geometry.view_width]
    image = Image.fromarray(np.ascontiguousarray(crop))
    image = image.resize((geometry.out_width, geometry.out_height), Image.Resampling.BICUBIC)
    if grayscale:
        return np.asarray(image.convert("L"))[np.newaxis]
    return np.ascontiguousarray(np.asarray(image).transpose(2, 0, 1))


def screen_difference(current: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """
    :param current: current uint8 patch
    :param previous: previous uint8 patch (same shape)
    :return: ``current / 255 - previous / 255`` as float32 in [-1, 1]
    """
    difference = np.subtract(current, previous, dtype=np.float32)
    difference /= 255.0
    return difference


class CartPoleScreenDiff(gym.Wrapper[np.ndarray, Any, Any, Any], gym.utils.RecordConstructorArgs):
    """
    Observe a CartPole env through the difference of two consecutive screen patches centred on the cart
    (the older PyTorch DQN tutorial's ``current_screen - last_screen``).

    The observation is ``Box(-1, 1, (3, 40, 90), float32)``, channels first, all zeros right after ``reset``.
    Rewards, termination, truncation and ``info`` are the inner env's. Frames come from the inner env's
    ``render()``, so it must be created with ``render_mode="rgb_array"``; no display is needed.
    Stack several differences with SB3's ``VecFrameStack(venv, n, channels_order="first")``.

    :param env: a CartPole env (its unwrapped env has ``state`` and ``x_threshold``) with ``render_mode="rgb_array"``
    :param height: rows of the resized patch (tutorial: 40); the width follows the aspect ratio (90)
    :param grayscale: one luminance channel instead of RGB (1 x 40 x 90)
    """

    def __init__(self, env: gym.Env, height: int = 40, grayscale: bool = False) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, height=height, grayscale=grayscale)
        gym.Wrapper.__init__(self, env)
        if env.render_mode != "rgb_array":
            raise ValueError(
                f"CartPoleScreenDiff observes the frames of env.render(), but the env has render_mode={env.render_mode!r}. "
                'Create it with render_mode="rgb_array", e.g. gymnasium.make("CartPole-v1", render_mode="rgb_array").'
            )
        unwrapped = env.unwrapped
        if not all(hasattr(unwrapped, name) for name in ("state", "x_threshold")):
            raise TypeError(
                f"CartPoleScreenDiff needs a CartPole env (with `state` and `x_threshold`), got {type(unwrapped).__name__}."
            )
        frame_height = int(getattr(unwrapped, "screen_height", 400))
        frame_width = int(getattr(unwrapped, "screen_width", 600))
        self.geometry = PatchGeometry.for_frame(frame_height, frame_width, height)
        self.grayscale = grayscale
        n_channels = 1 if grayscale else 3
        shape = (n_channels, self.geometry.out_height, self.geometry.out_width)
        self.observation_space = spaces.Box(low=-1.0, high=1.0, shape=shape, dtype=np.float32)
        self._shape = shape
        self._last_patch: np.ndarray | None = None

    @property
    def last_patch(self) -> np.ndarray | None:
        """The latest screen patch (``C x H x W`` uint8), ``None`` before the first reset."""
        return self._last_patch

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        _, info = self.env.reset(seed=seed, options=options)
        self._last_patch = self._patch()
        # The tutorial's first state: current_screen - last_screen of the same frame
        return np.zeros(self._shape, dtype=np.float32), info

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        if self._last_patch is None:
            raise gym.error.ResetNeeded("Call reset() before step(): the first observation needs the previous screen.")
        _, reward, terminated, truncated, info = self.env.step(action)
        patch = self._patch()
        observation = screen_difference(patch, self._last_patch)
        self._last_patch = patch
        return observation, reward, terminated, truncated, info

    def _patch(self) -> np.ndarray:
        frame = self.env.render()
        geometry = self.geometry
        if not isinstance(frame, np.ndarray) or frame.shape != (geometry.frame_height, geometry.frame_width, 3):
            shape = getattr(frame, "shape", None)
            raise ValueError(
                f"CartPoleScreenDiff expected {geometry.frame_height} x {geometry.frame_width} x 3 frames from render(), "
                f"got {type(frame).__name__} with shape {shape}. The inner env must render rgb_array frames of the size "
                "given by its screen_height and screen_width."
            )
        unwrapped = self.env.unwrapped
        column = geometry.cart_column(float(unwrapped.state[0]), float(unwrapped.x_threshold))  # type: ignore[attr-defined]
        return extract_patch(frame, column, geometry, self.grayscale)


def make_cartpole_screen_diff(
    render_mode: str | None = "rgb_array", height: int = 40, grayscale: bool = False, **cartpole_kwargs: Any
) -> CartPoleScreenDiff:
    """
    Entry point of the registered ids: CartPole (``CartPoleEnv``) rendered to ``rgb_array`` frames, wrapped by
    ``CartPoleScreenDiff``. ``gymnasium.make`` adds the time limit (500 steps) around it.

    :param render_mode: ``"rgb_array"`` (or ``None``, the same); ``gymnasium.make(..., render_mode="human")``
        wraps the env in ``HumanRendering`` instead of calling this with ``"human"``
    :param height: rows of the resized patch
    :param grayscale: one luminance channel instead of RGB
    :param cartpole_kwargs: passed to ``CartPoleEnv`` (e.g. ``sutton_barto_reward``)
    :return: the wrapped env
    """
    if render_mode not in (None, "rgb_array"):
        raise ValueError(
            f"The screen-difference CartPole renders rgb_array frames to build its observations; render_mode={render_mode!r} "
            'is not supported. Use render_mode="rgb_array" (or "human" through gymnasium.make, which adds HumanRendering).'
        )
    from gymnasium.envs.classic_control.cartpole import CartPoleEnv

    return CartPoleScreenDiff(CartPoleEnv(render_mode="rgb_array", **cartpole_kwargs), height=height, grayscale=grayscale)


# Lets gymnasium.make(..., render_mode="human") add HumanRendering around the rgb_array env
make_cartpole_screen_diff.metadata = {"render_modes": ["rgb_array"], "render_fps": 50}  # type: ignore[attr-defined]
