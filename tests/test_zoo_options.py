"""RL Zoo reads the options beyond the tutorial (double_q, n_steps, dueling) from a hyperparameter file."""

import yaml
from zoo_helpers import QUICK, run_zoo

from sb3_cartdqn import CartDQN
from sb3_cartdqn.cartdqn.policies import DuelingQNetwork

OPTIONS_YAML = """
CartPole-v1:
  n_timesteps: 300
  policy: 'MlpPolicy'
  learning_starts: 64
  batch_size: 32
  buffer_size: 1000
  double_q: True
  n_steps: 3
  policy_kwargs: "dict(net_arch=[32, 32], dueling=True)"
"""


def test_yaml_options_reach_the_model(tmp_path):
    (tmp_path / "options.yml").write_text(OPTIONS_YAML)
    run_zoo(
        ["train", "--algo", "cartdqn", "--env", "CartPole-v1", "-conf", "options.yml", "--eval-freq", "-1", *QUICK],
        tmp_path,
    )
    run = tmp_path / "logs" / "cartdqn" / "CartPole-v1_1"
    config = dict(yaml.load((run / "CartPole-v1" / "config.yml").read_text(), Loader=yaml.UnsafeLoader))
    assert config["double_q"] is True and config["n_steps"] == 3
    model = CartDQN.load(run / "CartPole-v1.zip", device="cpu")
    assert model.num_timesteps == 300
    assert model.double_q is True and model.n_steps == 3
    assert model.policy.dueling is True and isinstance(model.q_net, DuelingQNetwork)
    assert model.policy.net_arch == [32, 32]
