"""
Save what the pixel agent sees, as PNGs: one screen patch and one screen difference of ``CartPoleScreenDiff-v1``.

    python examples/pixel_views.py --out docs

The difference is drawn as ``0.5 + 0.5 * difference`` per RGB channel: grey where nothing changed, lighter where a
channel got brighter, darker where it got darker. Both images are enlarged ``--scale`` times (nearest neighbour).
"""

import os

import gymnasium as gym
import numpy as np
from PIL import Image

from sb3_cartdqn.command_line import make_parser
from sb3_cartdqn.envs import SCREEN_DIFF_ID


def to_image(chw: np.ndarray, scale: int) -> Image.Image:
    """
    :param chw: ``C x H x W`` uint8 image (1 or 3 channels)
    :param scale: enlargement factor
    :return: the PIL image, enlarged
    """
    image = Image.fromarray(chw[0] if chw.shape[0] == 1 else np.ascontiguousarray(chw.transpose(1, 2, 0)))
    return image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)


def main(argv: list[str] | None = None) -> tuple[str, str]:
    parser = make_parser("python examples/pixel_views.py", __doc__, ["python examples/pixel_views.py --out docs"])
    parser.add_argument("--out", default="docs", help="folder for pixel_patch.png and pixel_diff.png")
    parser.add_argument("--seed", type=int, default=0, help="env seed")
    parser.add_argument("--steps", type=int, default=10, help="steps into the episode (alternating pushes)")
    parser.add_argument("--scale", type=int, default=4, help="enlargement factor")
    args = parser.parse_args(argv)

    env = gym.make(SCREEN_DIFF_ID)
    env.reset(seed=args.seed)
    difference = np.zeros(env.observation_space.shape, np.float32)
    for step in range(args.steps):
        difference = env.step((step // 3) % 2)[0]
    patch = env.get_wrapper_attr("last_patch")
    os.makedirs(args.out, exist_ok=True)
    patch_path, diff_path = os.path.join(args.out, "pixel_patch.png"), os.path.join(args.out, "pixel_diff.png")
    to_image(patch, args.scale).save(patch_path)
    to_image(np.round(127.5 + 127.5 * difference).astype(np.uint8), args.scale).save(diff_path)
    low, high = difference.min(), difference.max()
    print(f"Saved {patch_path} and {diff_path} (patch {patch.shape}, difference in [{low:.2f}, {high:.2f}])")
    return patch_path, diff_path


if __name__ == "__main__":
    main()
