"""
Write the files of ``tests/data/legacy_e0b00fd/`` with the code of the landed main (commit e0b00fd), for
``tests/test_legacy_files.py``: files written before the persistence modules moved must still load.

Run from the repository root, at commit e0b00fd (the files are committed; rerunning it with later code would test
nothing)::

    python tests/data/make_legacy_files.py

It writes small models (tiny networks, small replay buffers) and ``expected.json``: what the writing code computed
from each file (greedy actions and Q-values of fixed observations, step counts, buffer sizes, the Q-values after
resuming a checkpoint for a few steps), for the test to compare with what the current code computes.
"""

import json
import pathlib
import shutil

import gymnasium as gym
import numpy as np
import torch as th
from rl_zoo3.utils import linear_schedule
from stable_baselines3.common.env_util import make_vec_env

from sb3_cartdqn import CartDQN
from sb3_cartdqn.batched.trainer import BatchedCartDQN
from sb3_cartdqn.cartdqn.checkpoints import CartDQNCheckpointCallback, latest_checkpoint, load_checkpoint
from sb3_cartdqn.cartdqn.policies import CartDQNPolicy, CnnPolicy, MlpPolicy, MultiInputPolicy
from sb3_cartdqn.common.data_codec import allowed_classes, encode
from sb3_cartdqn.common.exploration import ExponentialEpsilon
from sb3_cartdqn.common.policy_io import load_policy, save_policy
from sb3_cartdqn.common.torch_layers import TutorialCNN

OUT = pathlib.Path(__file__).resolve().parent / "legacy_e0b00fd"
#: CartPole observations the recorded predictions are made on
OBSERVATIONS = np.array(
    [[0.0, 0.0, 0.0, 0.0], [0.02, -0.3, 0.05, 0.4], [-0.1, 0.5, -0.08, -0.6], [0.3, 1.0, 0.15, 1.2]], dtype=np.float32
)
#: Small settings: a network of 16 units and a 500-transition replay buffer keep every file a few kilobytes
SMALL = dict(buffer_size=500, learning_starts=64, batch_size=32, device="cpu", policy_kwargs=dict(net_arch=[16]))
#: The robust preset's kind of settings (sb3_cartdqn/zoo/hyperparams/cartdqn_robust.yml), made small
ROBUST = dict(
    SMALL,
    learning_rate=linear_schedule(0.002552362461947222),
    train_freq=8,
    gradient_steps=4,
    double_q=True,
    n_steps=3,
    policy_kwargs=dict(net_arch=[16, 16], dueling=True),
)
#: Env steps the checkpoint's resume check trains for
RESUME_STEPS = 50


def make_env():
    """The env of the checkpointed run; the test builds the same one to resume."""
    return make_vec_env("CartPole-v1", n_envs=1, seed=0)


def q_values(policy) -> list[list[float]]:
    """Q-values of :data:`OBSERVATIONS` (float32, written as decimal floats: exact round trip)."""
    with th.no_grad():
        return policy.q_net(th.as_tensor(OBSERVATIONS)).tolist()


def predictions(model) -> dict:
    """What the test compares: greedy actions and Q-values of :data:`OBSERVATIONS`, step count, buffer size."""
    actions, _ = model.predict(OBSERVATIONS, deterministic=True)
    return {
        "actions": actions.tolist(),
        "q_values": q_values(model.policy),
        "num_timesteps": model.num_timesteps,
        "buffer_size": model.replay_buffer.size() if model.replay_buffer is not None else None,
    }


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    expected: dict = {"observations": OBSERVATIONS.tolist()}

    tutorial = CartDQN("MlpPolicy", "CartPole-v1", seed=0, **SMALL).learn(300)
    tutorial.save(OUT / "tutorial_model.zip")
    tutorial.save_replay_buffer(OUT / "tutorial_replay.pkl")
    expected["tutorial_model"] = predictions(tutorial)

    robust = CartDQN("MlpPolicy", "CartPole-v1", seed=1, **ROBUST).learn(300)
    robust.save(OUT / "robust_model.zip")
    robust.save_replay_buffer(OUT / "robust_replay.pkl")
    expected["robust_model"] = {
        **predictions(robust),
        "learning_rate_now": robust.policy.optimizer.param_groups[0]["lr"],
        "lr_schedule_at_half": robust.lr_schedule(0.5),
    }

    save_policy(tutorial.policy, OUT / "tutorial_policy.pth")
    expected["tutorial_policy"] = {"q_values": q_values(load_policy(MlpPolicy, OUT / "tutorial_policy.pth", "cpu"))}

    callback = CartDQNCheckpointCallback(save_freq=200, save_path=str(OUT / "checkpoints"), keep_last=1)
    CartDQN("MlpPolicy", make_env(), seed=0, **SMALL).learn(200, callback=callback)
    checkpoint = latest_checkpoint(OUT / "checkpoints")
    assert checkpoint is not None
    resumed = load_checkpoint(checkpoint, make_env(), device="cpu")
    expected["checkpoint"] = {"folder": checkpoint.name, **predictions(resumed)}
    resumed.learn(RESUME_STEPS, reset_num_timesteps=False)
    expected["checkpoint"]["resumed"] = predictions(resumed)

    batched = BatchedCartDQN(
        "CartPole-v1", [3, 4], buffer_size=300, learning_starts=64, batch_size=32, policy_kwargs=dict(net_arch=[16])
    )
    batched.learn(150)
    folder = batched.save_checkpoint(OUT / "batched")
    expected["batched_checkpoint"] = {
        "folder": folder.name,
        "seeds": {str(seed): predictions(batched.to_cartdqn(index)) for index, seed in enumerate(batched.seeds)},
    }

    # Every sb3-cartdqn class the allow-list names, as the codec records it (module:qualname)
    classes = [CartDQNPolicy, MlpPolicy, CnnPolicy, MultiInputPolicy, TutorialCNN, ExponentialEpsilon]
    values = {"classes": classes, "exploration_schedule": ExponentialEpsilon(0.9, 0.05, 1000.0)}
    (OUT / "codec_values.json").write_text(json.dumps(encode(values), indent=1) + "\n")
    expected["codec_values"] = {
        "class_names": sorted(name for name in allowed_classes() if name.startswith("sb3_cartdqn.")),
        "epsilon_at_500": values["exploration_schedule"](500),
    }

    (OUT / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    total = sum(path.stat().st_size for path in OUT.rglob("*") if path.is_file())
    print(f"wrote {OUT} ({total / 1024:.0f} KiB)")


if __name__ == "__main__":
    gym.logger.min_level = 40
    main()
