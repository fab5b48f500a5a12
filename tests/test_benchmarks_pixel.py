"""The pixel pipeline benchmark runs end to end at a tiny size (speed itself is never asserted here)."""

import numpy as np

from sb3_cartdqn.benchmarks import pixel as bench_screen
from sb3_cartdqn.envs.screen_diff import PatchGeometry, extract_patch


def test_bench_screen_tiny(capsys):
    results = bench_screen.main(["--steps", "20", "--repeats", "1", "--train-steps", "20", "--batch-sizes", "8"])
    assert set(results) == {
        "render_us",
        "ours_us",
        "tutorial_us",
        "full-frame_us",
        "env_step_us",
        "zero_observation_fraction",
        "train_steps_per_s_batch8",
    }
    assert all(value > 0 for key, value in results.items() if key != "zero_observation_fraction")
    assert 0 <= results["zero_observation_fraction"] < 1
    assert capsys.readouterr().out.startswith("$ python -m sb3_cartdqn.benchmarks.pixel --steps 20")


def test_compared_pipelines_compute_the_same_patch():
    import gymnasium as gym

    env = gym.make("CartPole-v1", render_mode="rgb_array").unwrapped
    env.reset(seed=0)
    geometry = PatchGeometry.for_frame(400, 600)
    for cart_x in (-2.3, -0.4, 0.0, 0.7, 2.2):
        env.state = np.array([cart_x, 0.0, 0.05, 0.0])
        frame = env.render()
        ours = extract_patch(frame, geometry.cart_column(cart_x, 2.4), geometry) / np.float32(255)
        # The tutorial's float round trips give the very same pixels
        np.testing.assert_allclose(ours, bench_screen.tutorial_get_screen(frame, cart_x), rtol=0, atol=1e-6)
        # Resizing the whole frame first differs only in the blur at the window's borders
        full_frame = bench_screen.full_frame_get_screen(frame, cart_x)
        assert full_frame.shape == ours.shape
        assert np.abs(full_frame - ours).mean() < 0.02
