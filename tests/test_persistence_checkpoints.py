"""Crash-safe checkpoints and exact resume (sb3_cartdqn/persistence/checkpoints.py), with real SIGKILLed training processes."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from sb3_cartdqn import CartDQN
from sb3_cartdqn.persistence.checkpoints import (
    CartDQNCheckpointCallback,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
)

#: Small enough that a run of a few hundred steps trains (and checkpoints) several times
KWARGS = dict(learning_starts=64, batch_size=32, buffer_size=2_000, seed=0, device="cpu")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _make_env(n_envs=1, vecnormalize=False):
    env = make_vec_env("CartPole-v1", n_envs=n_envs, seed=0)
    return VecNormalize(env) if vecnormalize else env


def _snapshot(model):
    """Everything training depends on, copied."""
    buffer = model.replay_buffer
    optimizer_state = model.policy.optimizer.state_dict()["state"]
    return {
        "num_timesteps": model.num_timesteps,
        "epsilon_next": model.exploration_schedule(model.num_timesteps),
        "n_updates": model._n_updates,
        "episodes": model._episode_num,
        "q_net": {k: v.clone() for k, v in model.q_net.state_dict().items()},
        "q_net_target": {k: v.clone() for k, v in model.q_net_target.state_dict().items()},
        "optimizer": {(i, k): v.clone() for i, s in optimizer_state.items() for k, v in s.items()},
        "buffer": {
            "pos": buffer.pos,
            "full": buffer.full,
            **{k: getattr(buffer, k).copy() for k in ("observations", "next_observations", "actions", "rewards", "dones")},
        },
        "last_obs": np.array(model._last_obs, copy=True),
    }


def _assert_same(a, b, path="state"):
    assert type(a) is type(b), path
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            _assert_same(a[key], b[key], f"{path}[{key!r}]")
    elif isinstance(a, th.Tensor):
        assert th.equal(a, b), path
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=path)
    else:
        assert a == b, path


class _SnapshotAt(BaseCallback):
    """Snapshot the model when a rollout starts at ``steps`` (the point where checkpoints are taken)."""

    def __init__(self, steps):
        super().__init__()
        self.steps, self.snapshot = steps, None

    def _on_rollout_start(self):
        if self.model.num_timesteps == self.steps:
            self.snapshot = _snapshot(self.model)

    def _on_step(self):
        return True


def _uninterrupted(checkpoint_steps, total, tmp_path, **env_kwargs):
    """The reference run: one learn() call to ``total``, checkpointing as the interrupted run did."""
    model = CartDQN("MlpPolicy", _make_env(**env_kwargs), **KWARGS)
    snapshot = _SnapshotAt(checkpoint_steps)
    model.learn(total, callback=[CartDQNCheckpointCallback(100, str(tmp_path / "reference")), snapshot])
    assert snapshot.snapshot is not None
    return model, snapshot.snapshot


def _episode_returns(model):
    return [info["r"] for info in model.ep_info_buffer]


@pytest.mark.parametrize("env_kwargs", [dict(n_envs=2), dict(vecnormalize=True)], ids=["n_envs=2", "vecnormalize"])
def test_resume_is_bit_identical_to_uninterrupted_run(tmp_path, env_kwargs):
    interrupted = CartDQN("MlpPolicy", _make_env(**env_kwargs), **KWARGS)
    callback = CartDQNCheckpointCallback(100, str(tmp_path / "run"))
    interrupted.learn(500, callback=callback)
    n_envs = interrupted.n_envs
    checkpoint = next(c for steps, c in list_checkpoints(tmp_path / "run") if steps == 200 * n_envs)
    del interrupted  # as if the process died after that checkpoint

    reference, at_checkpoint = _uninterrupted(200 * n_envs, 300 * n_envs, tmp_path, **env_kwargs)
    resumed = load_checkpoint(checkpoint, _make_env(**env_kwargs), device="cpu")
    _assert_same(_snapshot(resumed), at_checkpoint)
    resumed.learn(100 * n_envs, reset_num_timesteps=False)
    _assert_same(_snapshot(resumed), _snapshot(reference))
    assert _episode_returns(resumed) == _episode_returns(reference)


def test_checkpoint_state_is_consistent(tmp_path):
    model = CartDQN("MlpPolicy", _make_env(), **KWARGS)
    model.learn(300, callback=CartDQNCheckpointCallback(100, str(tmp_path)))
    assert [steps for steps, _ in list_checkpoints(tmp_path)] == [100, 200, 300]
    for steps, folder in list_checkpoints(tmp_path):
        assert sorted(os.listdir(folder)) == ["model.zip", "replay_buffer.npz", "state.npz"]
        loaded = load_checkpoint(folder, _make_env(), device="cpu")
        # SB3's CheckpointCallback saves inside on_step: num_timesteps = N but only N - 1 transitions stored
        assert loaded.num_timesteps == steps and loaded.replay_buffer.size() == steps
        assert loaded._n_updates == steps - KWARGS["learning_starts"] + 1
        assert loaded.exploration_rate == pytest.approx(0.05 + 0.85 * np.exp(-steps / 1000))
        state = loaded.policy.optimizer.state_dict()["state"][0]
        assert {"exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"} <= state.keys()  # AMSGrad's maxima are kept
        assert state["step"].item() == loaded._n_updates


def test_keep_last_and_latest(tmp_path):
    model = CartDQN("MlpPolicy", _make_env(), **KWARGS)
    callback = CartDQNCheckpointCallback(50, str(tmp_path), name_prefix="run", keep_last=2)
    model.learn(260, callback=callback)
    # 250 by save_freq, 260 is not a multiple: no checkpoint at the end
    assert [steps for steps, _ in list_checkpoints(tmp_path, "run")] == [200, 250]
    assert latest_checkpoint(tmp_path, "run") == tmp_path / "run_250_steps"
    assert latest_checkpoint(tmp_path / "nothing") is None
    with pytest.raises(FileNotFoundError, match="no complete checkpoint"):
        load_checkpoint(tmp_path / "nothing", _make_env())


def test_unpicklable_env_resumes_from_its_data(tmp_path):
    def env_fn():
        return Monitor(gym.make("CartPole-v1"), filename=str(tmp_path / "monitor"))  # an open file: cannot be pickled

    model = CartDQN("MlpPolicy", DummyVecEnv([env_fn]), **KWARGS)
    with pytest.warns(UserWarning, match="envs cannot be pickled"):
        model.learn(200, callback=CartDQNCheckpointCallback(100, str(tmp_path / "ckpt"), save_env_state="pickle"))
    assert not (tmp_path / "ckpt" / "cartdqn_200_steps" / "envs.pkl").exists()
    expected = _snapshot(model)
    resumed = load_checkpoint(tmp_path / "ckpt", DummyVecEnv([env_fn]), device="cpu")
    _assert_same(_snapshot(resumed), expected)  # the episode goes on: the envs' data attributes were restored
    resumed.learn(50, reset_num_timesteps=False)
    assert resumed.num_timesteps == 250


def test_env_with_other_wrappers_resumes_with_new_episodes(tmp_path):
    model = CartDQN("MlpPolicy", _make_env(), **KWARGS)
    model.learn(200, callback=CartDQNCheckpointCallback(100, str(tmp_path)))
    expected = _snapshot(model)
    resumed = load_checkpoint(tmp_path, DummyVecEnv([lambda: gym.make("CartPole-v1")]), device="cpu")  # no Monitor
    state = _snapshot(resumed)
    state["last_obs"] = expected["last_obs"] = None  # the env restarts: a new first observation
    _assert_same(state, expected)
    resumed.learn(50, reset_num_timesteps=False)
    assert resumed.num_timesteps == 250


TRAIN_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    import torch as th
    th.set_num_threads(1)
    from stable_baselines3.common.env_util import make_vec_env
    from sb3_cartdqn import CartDQN
    from sb3_cartdqn.persistence.checkpoints import CartDQNCheckpointCallback

    save_path, die_in_save = sys.argv[1], int(sys.argv[2])
    if die_in_save:
        # Die by SIGKILL half-way through writing the replay buffer of checkpoint number `die_in_save`
        original, calls = CartDQN.save_replay_buffer, []

        def save_replay_buffer(self, path):
            calls.append(path)
            if len(calls) == die_in_save:
                with open(str(path) + ".part", "wb") as file:
                    file.write(b"half a pickle")
                os.kill(os.getpid(), signal.SIGKILL)
            original(self, path)

        CartDQN.save_replay_buffer = save_replay_buffer
    model = CartDQN("MlpPolicy", make_vec_env("CartPole-v1", n_envs=1, seed=0), **{kwargs})
    print("training", flush=True)
    model.learn(10**7, callback=CartDQNCheckpointCallback(100, save_path))
    """
).replace("{kwargs}", repr(KWARGS))


def _start_training(tmp_path, die_in_save=0):
    script = tmp_path / "train.py"
    script.write_text(TRAIN_SCRIPT)
    env = {**os.environ, "PYTHONPATH": ROOT, "SDL_VIDEODRIVER": "dummy"}
    save_path = tmp_path / "checkpoints"
    process = subprocess.Popen(
        [sys.executable, str(script), str(save_path), str(die_in_save)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    return process, save_path


def test_sigkill_during_training_then_resume_exactly(tmp_path):
    process, save_path = _start_training(tmp_path)
    deadline = time.monotonic() + 120
    try:
        while len(list_checkpoints(save_path)) < 3:
            assert process.poll() is None, process.stdout.read().decode()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "no checkpoints written in time"
            time.sleep(0.05)
        time.sleep(np.random.default_rng().uniform(0, 0.3))  # an arbitrary later step
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL
    steps, _ = list_checkpoints(save_path)[-1]
    assert steps >= 300 and steps % 100 == 0

    # The reference first: the global NumPy/torch generators are per process, and load_checkpoint restores them
    reference, at_checkpoint = _uninterrupted(steps, steps + 150, tmp_path)
    resumed = load_checkpoint(save_path, _make_env(), device="cpu")  # the newest complete checkpoint
    _assert_same(_snapshot(resumed), at_checkpoint)
    resumed.learn(150, reset_num_timesteps=False)  # continues the epsilon schedule and the counters
    assert resumed.num_timesteps == steps + 150
    _assert_same(_snapshot(resumed), _snapshot(reference))
    assert _episode_returns(resumed) == _episode_returns(reference)


def test_sigkill_while_writing_a_checkpoint_keeps_previous_ones(tmp_path):
    process, save_path = _start_training(tmp_path, die_in_save=3)
    try:
        process.wait(timeout=120)
    finally:
        process.kill()
    assert process.returncode == -signal.SIGKILL, process.stdout.read().decode()  # type: ignore[union-attr]
    assert [steps for steps, _ in list_checkpoints(save_path)] == [100, 200]
    leftovers = [name for name in os.listdir(save_path) if name.startswith(".")]
    assert len(leftovers) == 1 and leftovers[0].startswith(".cartdqn_300_steps.")  # the unfinished one, hidden

    model = load_checkpoint(save_path, _make_env(), device="cpu")
    assert model.num_timesteps == 200 and model.replay_buffer.size() == 200
    # The next run's callback clears the debris
    model.learn(100, reset_num_timesteps=False, callback=CartDQNCheckpointCallback(100, str(save_path)))
    assert [name for name in os.listdir(save_path) if name.startswith(".")] == []
    assert [steps for steps, _ in list_checkpoints(save_path)] == [100, 200, 300]


def test_callback_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="invalid save_freq=0"):
        CartDQNCheckpointCallback(0, str(tmp_path))
    with pytest.raises(ValueError, match="invalid keep_last=0"):
        CartDQNCheckpointCallback(10, str(tmp_path), keep_last=0)


def test_resume_without_vecnormalize_is_refused(tmp_path):
    model = CartDQN("MlpPolicy", _make_env(vecnormalize=True), **KWARGS)
    model.learn(100, callback=CartDQNCheckpointCallback(100, str(tmp_path)))
    with pytest.raises(ValueError, match=r"wrap the env in stable_baselines3\.common\.vec_env\.VecNormalize"):
        load_checkpoint(tmp_path, _make_env())


def test_resume_with_other_number_of_envs_is_refused(tmp_path):
    model = CartDQN("MlpPolicy", _make_env(), **KWARGS)
    model.learn(100, callback=CartDQNCheckpointCallback(100, str(tmp_path)))
    # The replay buffer stores transitions per env: SB3 would fail deep inside ReplayBuffer.add
    with pytest.raises(ValueError, match=r"was filled by 1 envs, but this model steps 2.*n_envs=1"):
        load_checkpoint(tmp_path, _make_env(n_envs=2), device="cpu")
