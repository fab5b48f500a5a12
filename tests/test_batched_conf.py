"""python -m sb3_cartdqn.batched --conf FILE: the settings and budget of any RL Zoo hyperparameter file (a study's
best.yml), e.g. to verify a study's winner on held-out seeds."""

import yaml

from sb3_cartdqn import CartDQN
from sb3_cartdqn.batched.cli import main


def test_conf_file_settings_and_budget(tmp_path):
    conf = tmp_path / "best.yml"
    section = {"n_timesteps": 300, "policy": "MlpPolicy", "learning_starts": 64, "batch_size": 32}
    section["policy_kwargs"] = "dict(net_arch=[16])"
    conf.write_text(yaml.safe_dump({"CartPole-v1": section}))
    out = tmp_path / "out"
    args = ["--conf", str(conf), "--seeds", "4,5", "--budget-factors", "1", "2", "--eval-episodes", "2"]
    summary = main([*args, "--out", str(out), "--no-progress-bar"])
    assert summary["preset"] == str(conf)
    assert [budget["timesteps_per_seed"] for budget in summary["budgets"]] == [300, 600]
    model = CartDQN.load(out / "x2" / "seed_5.zip")
    assert model.num_timesteps == 600 and model.batch_size == 32 and model.policy.net_arch == [16]
