"""CartDQN in RL Zoo's registries, its default hyperparameter file, and enjoy's 1-slot replay buffer."""

import inspect

import yaml
from rl_zoo3 import ALGOS
from rl_zoo3.hyperparams_opt import HYPERPARAMS_CONVERTER, HYPERPARAMS_SAMPLER

from sb3_cartdqn import CartDQN
from sb3_cartdqn.presets import robust_preset
from sb3_cartdqn.zoo import (
    ALGO_NAME,
    OneSlotBufferLoader,
    convert_cartdqn_params,
    default_config_path,
    one_slot_buffer_on_load,
    register_cartdqn,
    sample_cartdqn_params,
)


def test_register_is_idempotent():
    register_cartdqn()
    sizes = (len(ALGOS), len(HYPERPARAMS_SAMPLER), len(HYPERPARAMS_CONVERTER))
    register_cartdqn()
    assert (len(ALGOS), len(HYPERPARAMS_SAMPLER), len(HYPERPARAMS_CONVERTER)) == sizes
    assert ALGOS[ALGO_NAME] is CartDQN
    assert HYPERPARAMS_SAMPLER[ALGO_NAME] is sample_cartdqn_params
    assert HYPERPARAMS_CONVERTER[ALGO_NAME] is convert_cartdqn_params
    # RL Zoo's own entries are untouched
    assert ALGOS["dqn"].__name__ == "DQN"


def test_default_config_is_packaged_and_holds_the_tutorial_settings():
    path = default_config_path()
    assert path.is_file(), path
    assert path.parts[-3:] == ("zoo", "hyperparams", "cartdqn.yml")
    config = yaml.safe_load(path.read_text())
    assert {"default", "CartPole-v1", "CartPoleScreenDiff-v1", "CartPoleScreenDiffGray-v1"} <= set(config)
    tutorial = config["CartPole-v1"]
    assert tutorial["policy"] == "MlpPolicy"
    assert tutorial["n_timesteps"] == 50_000
    # Every CartDQN argument written in the entry is the tutorial's, i.e. CartDQN's default
    defaults = {name: p.default for name, p in inspect.signature(CartDQN.__init__).parameters.items()}
    written = {key: value for key, value in tutorial.items() if key in defaults and key not in ("policy", "policy_kwargs")}
    assert len(written) == 14  # 12 tutorial settings, and the options beyond it (double_q, n_steps) off
    assert written == {key: defaults[key] for key in written}
    assert eval(tutorial["policy_kwargs"]) == {"net_arch": [128, 128]}
    # The pixel entry keeps the env's rgb_array rendering when enjoy builds its test env
    assert config["CartPoleScreenDiff-v1"]["env_kwargs"]["render_mode"] == "rgb_array"


def test_enjoy_loader_gives_a_one_slot_buffer(tmp_path):
    model = CartDQN("MlpPolicy", "CartPole-v1", buffer_size=5_000, learning_starts=10, batch_size=8, device="cpu")
    model.learn(20)
    model.save(tmp_path / "model")
    # A plain load (train -i) rebuilds the training buffer, with no env given
    assert CartDQN.load(tmp_path / "model", device="cpu").replay_buffer.buffer_size == 5_000
    loaded = OneSlotBufferLoader().load(str(tmp_path / "model"), device="cpu")
    assert isinstance(loaded, CartDQN)
    assert loaded.replay_buffer.buffer_size == 1
    assert loaded.replay_buffer.observations.shape[0] == 1
    for p, p_saved in zip(loaded.q_net.parameters(), model.q_net.parameters(), strict=True):
        assert (p == p_saved).all()


def test_one_slot_buffer_only_inside_the_block(tmp_path):
    register_cartdqn()
    with one_slot_buffer_on_load():
        assert isinstance(ALGOS[ALGO_NAME], OneSlotBufferLoader)
    assert ALGOS[ALGO_NAME] is CartDQN


def test_robust_preset_is_packaged_and_builds_cartdqn():
    """The robust preset's file ships with the package; presets.robust_preset() reads it (the one copy of the numbers)."""
    path = default_config_path().with_name("cartdqn_robust.yml")
    entry = yaml.safe_load(path.read_text())["CartPole-v1"]
    preset = robust_preset()
    assert preset.path.resolve() == path.resolve() and preset.n_timesteps == entry["n_timesteps"] <= 30_000
    model = CartDQN(preset.policy, "CartPole-v1", device="cpu", **preset.kwargs)
    assert model.policy.net_arch == preset.kwargs["policy_kwargs"]["net_arch"]
    for name in ("tau", "batch_size", "buffer_size", "gamma", "clip_grad_value", "double_q", "n_steps"):
        if name in entry:
            assert getattr(model, name) == entry[name], name
