"""Which run folder RL Zoo's scripts use, worked out from their flags."""

import pytest

from sb3_cartdqn.zoo.run_folder_paths import parse_run_flags, run_folder


@pytest.mark.parametrize(
    ("flags", "new", "expected"),
    [
        (["--exp-id", "1"], False, "logs/cartdqn/CartPole-v1_1"),
        ([], False, "logs/cartdqn/CartPole-v1_3"),  # the latest run
        ([], True, "logs/cartdqn/CartPole-v1_4"),  # where load_from_hub saves a new one
        (["--exp-id", "-1"], False, "logs/cartdqn"),
        (["--env", "ALE/Pong-v5", "--exp-id", "2"], False, "logs/cartdqn/ALE-Pong-v5_2"),
    ],
)
def test_run_folder_follows_rl_zoo(tmp_cwd, flags, new, expected):
    for run in ("CartPole-v1_1", "CartPole-v1_3", "CartPole-v1_x", "Acrobot-v1_7"):
        (tmp_cwd / "logs" / "cartdqn" / run).mkdir(parents=True)
    parsed = parse_run_flags(["--algo", "cartdqn", "-f", "logs", "--n-timesteps", "10", *flags])
    assert str(run_folder(parsed, new=new)) == expected


def test_parse_run_flags_defaults_and_output_folder():
    parsed = parse_run_flags(["-o", "videos", "--gif"], folder="rl-trained-agents", algo="ppo")
    assert (parsed.folder, parsed.algo, parsed.env, parsed.exp_id, parsed.output_folder) == (
        "rl-trained-agents", "ppo", "CartPole-v1", 0, "videos",
    )  # fmt: skip
