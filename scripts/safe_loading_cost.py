"""
Size and save/load time of CartDQN's data-only files against the pickles they replace, measured side by side in
one process: ``python scripts/safe_loading_cost.py [--buffer-size N] [--repeats R]``.

- model zip: CartDQN's writer (fields as data) and ``CartDQN.load`` against SB3's ``BaseAlgorithm.save`` and
  ``CartDQN.load(trust_code=True)`` (fields cloudpickled, unpickled on load, as before);
- replay buffer (filled with random transitions): the npz writer and reader against SB3's ``save_to_pkl`` and
  ``load_from_pkl``;
- checkpoint state: ``state.npz`` (RNG states, the envs' data attributes) against ``state.pkl`` as earlier versions
  pickled it (RNG states and the envs, cloudpickled).

Writers are timed without ``CartDQN.save``'s fsync and rename, which both formats would pay. Times are the median
of ``--repeats`` runs on the same files; only their ratios mean anything beyond this machine.
"""

import pathlib
import pickle
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import BinaryIO

import cloudpickle
import numpy as np
import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.save_util import load_from_pkl, save_to_pkl

from sb3_cartdqn import CartDQN
from sb3_cartdqn.command_line import make_parser
from sb3_cartdqn.persistence.checkpoints import STATE_KIND, capture_rng_state
from sb3_cartdqn.persistence.data_file import open_data_file, write_data_file
from sb3_cartdqn.persistence.env_state import capture_envs_data, dummy_vec_env
from sb3_cartdqn.persistence.model_file import save_model
from sb3_cartdqn.persistence.replay_file import read_replay_buffer, write_replay_buffer


def _median_ms(function: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def _write(path: pathlib.Path, writer: Callable[[BinaryIO], None]) -> None:
    with open(path, "wb") as file:
        writer(file)


def _row(what: str, files: tuple[pathlib.Path, pathlib.Path], before: tuple[float, float], after: tuple[float, float]) -> str:
    """A table row: sizes of the two files, then save and load times before and after (with the ratio)."""
    size_b, size_a = (path.stat().st_size / 1024 for path in files)
    (save_b, load_b), (save_a, load_a) = before, after
    return (
        f"| {what} | {size_b:.1f} | {size_a:.1f} | {save_b:.2f} | {save_a:.2f} ({save_a / save_b:.2f}x) "
        f"| {load_b:.2f} | {load_a:.2f} ({load_a / load_b:.2f}x) |"
    )


def main() -> None:
    parser = make_parser("python scripts/safe_loading_cost.py", __doc__, ["python scripts/safe_loading_cost.py"])
    parser.add_argument("--buffer-size", type=int, default=10_000, help="replay buffer size (filled with random transitions)")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    th.set_num_threads(1)
    model = CartDQN("MlpPolicy", make_vec_env("CartPole-v1", seed=0), buffer_size=args.buffer_size, seed=0)
    model.learn(300)
    buffer = model.replay_buffer
    assert buffer is not None
    rng = np.random.default_rng(0)
    for name in ("observations", "next_observations", "rewards"):  # a full buffer, as after a long run
        array = getattr(buffer, name)
        array[:] = rng.normal(size=array.shape).astype(array.dtype)
    buffer.full = True
    folder = pathlib.Path(tempfile.mkdtemp())
    rows = []

    old_zip, new_zip = folder / "sb3.zip", folder / "data.zip"
    rows.append(
        _row(
            "model zip (MLP 128-128, AdamW state)",
            (old_zip, new_zip),
            (
                _median_ms(lambda: BaseAlgorithm.save(model, old_zip), args.repeats),
                _median_ms(lambda: CartDQN.load(old_zip, trust_code=True), args.repeats),
            ),
            (
                _median_ms(lambda: save_model(model, new_zip), args.repeats),
                _median_ms(lambda: CartDQN.load(new_zip), args.repeats),
            ),
        )
    )

    old_buffer, new_buffer = folder / "buffer_sb3.pkl", folder / "buffer.pkl"
    rows.append(
        _row(
            f"replay buffer ({args.buffer_size} CartPole transitions)",
            (old_buffer, new_buffer),
            (
                _median_ms(lambda: save_to_pkl(old_buffer, buffer), args.repeats),
                _median_ms(lambda: load_from_pkl(old_buffer), args.repeats),
            ),
            (
                _median_ms(lambda: _write(new_buffer, lambda file: write_replay_buffer(buffer, file)), args.repeats),
                _median_ms(lambda: read_replay_buffer(new_buffer), args.repeats),
            ),
        )
    )

    state = {"format": 2, "num_timesteps": model.num_timesteps, "rng": capture_rng_state(model)}
    base = dummy_vec_env(model.env)
    old_state, new_state = folder / "state.pkl", folder / "state.npz"

    def save_old() -> None:
        with open(old_state, "wb") as file:
            pickle.dump({**state, "format": 1, "env": cloudpickle.dumps(base.envs)}, file, pickle.HIGHEST_PROTOCOL)

    def load_old() -> None:
        with open(old_state, "rb") as file:
            pickle.loads(pickle.load(file)["env"])

    def save_new() -> None:
        _write(new_state, lambda file: write_data_file(file, STATE_KIND, {**state, "env": capture_envs_data(model.env)}))

    rows.append(
        _row(
            "checkpoint state (RNGs, 1 CartPole env)",
            (old_state, new_state),
            (_median_ms(save_old, args.repeats), _median_ms(load_old, args.repeats)),
            (
                _median_ms(save_new, args.repeats),
                _median_ms(lambda: open_data_file(new_state, STATE_KIND, "bench", False, ""), args.repeats),
            ),
        )
    )
    print("| file | KiB before | KiB after | save ms before | save ms after | load ms before | load ms after |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
