"""
SB3's ``tests/test_save_load.py``, its DQN cases run on CartDQN (issue #13: CartDQN as a drop-in for SB3 users).

Ported from https://github.com/DLR-RM/stable-baselines3 (MIT licence), tests/test_save_load.py at e05d2db:
``test_save_load[DQN]``, ``test_set_env[DQN]``, ``test_exclude_include_saved_params[DQN]``,
``test_save_load_replay_buffer[DQN]``, ``test_warn_buffer[DQN-*]``, ``test_save_load_policy[DQN-*-False]``,
``test_save_load_q_net[DQN-*]``, ``test_dqn_target_update_interval`` (CartDQN has no target_update_interval: its
own target-update settings are checked instead) and ``test_save_load_no_target_params``; and, because CartDQN
overrides ``save``/``load``/``save_replay_buffer``/``load_replay_buffer``, the algorithm-independent
``test_save_load_env_cnn`` (SB3: A2C and TD3) and ``test_no_resource_warning`` (SB3: PPO and SAC).

Intended differences, each said where it applies: CartDQN's ``CnnPolicy`` is the tutorial's network with batch
norm, whose ``num_batches_tracked`` counters are integer tensors (``th.rand_like`` has no integer version), so the
random-parameter checks randomise floating-point entries only and require the integer ones to survive too.
"""

import os
import pathlib
import tempfile
import warnings
from collections import OrderedDict
from copy import deepcopy

import numpy as np
import pytest
import torch as th
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.envs import FakeImageEnv, IdentityEnv
from stable_baselines3.common.utils import get_device
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_cartdqn import CartDQN


def select_env() -> IdentityEnv:
    return IdentityEnv(10)


def randomised(params: dict[str, th.Tensor]) -> dict[str, th.Tensor]:
    """``th.rand_like`` for floating-point entries; integer ones (batch norm's ``num_batches_tracked``) + 1."""
    return {name: th.rand_like(value) if value.is_floating_point() else value + 1 for name, value in params.items()}


def test_save_load(tmp_path):
    """
    Test if 'save' and 'load' saves and loads model correctly
    and if 'get_parameters' and 'set_parameters' and work correctly.
    """
    env = DummyVecEnv([select_env])

    # create model
    model = CartDQN("MlpPolicy", env, policy_kwargs=dict(net_arch=[16]), verbose=1, learning_rate=1e-3)
    model.learn(total_timesteps=128)

    env.reset()
    observations = np.concatenate([env.step([env.action_space.sample()])[0] for _ in range(10)], axis=0)

    # deepcopy to avoid referencing to tensors we are about to modify
    original_params = deepcopy(model.get_parameters())

    # Test that invalid object names throw errors
    invalid_object_params = deepcopy(original_params)
    invalid_object_params["I_should_not_be_a_valid_object"] = "and_I_am_an_invalid_tensor"
    with pytest.raises(ValueError):
        model.set_parameters(invalid_object_params, exact_match=True)
    with pytest.raises(ValueError):
        model.set_parameters(invalid_object_params, exact_match=False)

    # Test that exact_match catches when something was missed.
    missing_object_params = {k: v for k, v in list(original_params.items())[:-1]}
    with pytest.raises(ValueError):
        model.set_parameters(missing_object_params, exact_match=True)

    # Test that exact_match catches when something inside state-dict is missing but we have exact_match.
    missing_state_dict_tensor_params = {}
    for object_name in original_params:
        object_params = {}
        missing_state_dict_tensor_params[object_name] = object_params
        # Skip last item in state-dict
        for k, v in list(original_params[object_name].items())[:-1]:
            object_params[k] = v
    with pytest.raises(RuntimeError):
        # PyTorch load_state_dict throws RuntimeError if strict but invalid state-dict.
        model.set_parameters(missing_state_dict_tensor_params, exact_match=True)

    # Test that parameters do indeed change.
    random_params = {}
    for object_name, params in original_params.items():
        # Do not randomize optimizer parameters (custom layout)
        if "optim" in object_name:
            random_params[object_name] = params
        else:
            # Again, skip the last item in state-dict
            random_params[object_name] = OrderedDict(
                (param_name, th.rand_like(param)) for param_name, param in list(params.items())[:-1]
            )

    # Update model parameters with the new random values
    model.set_parameters(random_params, exact_match=False)

    new_params = model.get_parameters()
    # Check that all params except the final item in each state-dict are different.
    for object_name in original_params:
        # Skip optimizers (no valid comparison with just th.allclose)
        if "optim" in object_name:
            continue
        last_key = list(original_params[object_name].keys())[-1]
        for k in original_params[object_name]:
            if k == last_key:
                assert th.allclose(original_params[object_name][k], new_params[object_name][k]), (
                    "Parameter changed despite not included in the loaded parameters."
                )
            else:
                assert not th.allclose(original_params[object_name][k], new_params[object_name][k]), (
                    "Parameters did not change as expected."
                )

    params = new_params

    # get selected actions
    selected_actions, _ = model.predict(observations, deterministic=True)

    model.save(tmp_path / "test_save.zip")
    del model

    # Check if the model loads as expected for every possible choice of device:
    for device in ["auto", "cpu", "cuda"]:
        model = CartDQN.load(str(tmp_path / "test_save.zip"), env=env, device=device)

        # check if the model was loaded to the correct device
        assert model.device.type == get_device(device).type
        assert model.policy.device.type == get_device(device).type

        # Check that all params are the same as before save load procedure now
        new_params = model.get_parameters()
        for object_name in new_params:
            if "optim" in object_name:
                continue
            for key in params[object_name]:
                assert new_params[object_name][key].device.type == get_device(device).type
                assert th.allclose(params[object_name][key].to("cpu"), new_params[object_name][key].to("cpu")), (
                    "Model parameters not the same after save and load."
                )

        # check if model still selects the same actions
        new_selected_actions, _ = model.predict(observations, deterministic=True)
        assert np.allclose(selected_actions, new_selected_actions, 1e-4)

        # check if learn still works
        model.learn(total_timesteps=128)

        del model

    # Check that loading after compiling works, see GH#2137
    model = CartDQN.load(tmp_path / "test_save.zip")
    model.policy = th.compile(model.policy)
    model.save(tmp_path / "test_save.zip")
    CartDQN.load(tmp_path / "test_save.zip")

    os.remove(tmp_path / "test_save.zip")


def test_set_env(tmp_path):
    """Test if set_env function does work correct."""
    env = DummyVecEnv([select_env])
    env2 = DummyVecEnv([select_env])
    env3 = select_env()
    env4 = DummyVecEnv([select_env for _ in range(2)])

    model = CartDQN("MlpPolicy", env, policy_kwargs=dict(net_arch=[16]), learning_starts=50, train_freq=4)
    model.learn(total_timesteps=64)

    # change env
    model.set_env(env2, force_reset=True)
    # Check that last obs was discarded
    assert model._last_obs is None
    model.learn(total_timesteps=64, reset_num_timesteps=True)
    assert model.num_timesteps == 64

    # change env test wrapping
    model.set_env(env3)
    model.learn(total_timesteps=64)

    # num_env must be the same
    with pytest.raises(AssertionError):
        model.set_env(env4)

    # Keep the same env, disable reset
    model.set_env(model.get_env(), force_reset=False)
    assert model._last_obs is not None
    model.learn(total_timesteps=64, reset_num_timesteps=False)
    assert model.num_timesteps == 2 * 64

    current_env = model.get_env()
    model.save(tmp_path / "test_save.zip")
    del model
    # Check that we can keep the number of timesteps after loading
    # Here the env kept its state so we don't have to reset
    model = CartDQN.load(tmp_path / "test_save.zip", env=current_env, force_reset=False)
    assert model._last_obs is not None
    model.learn(total_timesteps=64, reset_num_timesteps=False)
    assert model.num_timesteps == 3 * 64

    del model
    # We are changing the env, the env must reset but we should keep the number of timesteps
    model = CartDQN.load(tmp_path / "test_save.zip", env=env3, force_reset=True)
    assert model._last_obs is None
    model.learn(total_timesteps=64, reset_num_timesteps=False)
    assert model.num_timesteps == 3 * 64

    del model
    # Load the model with a different number of environments
    model = CartDQN.load(tmp_path / "test_save.zip", env=env4)
    model.learn(total_timesteps=64)

    os.remove(tmp_path / "test_save.zip")


def test_exclude_include_saved_params(tmp_path):
    """Test if exclude and include parameters of save() work."""
    env = DummyVecEnv([select_env])

    # create model, set verbose as 2, which is not standard
    model = CartDQN("MlpPolicy", env, policy_kwargs=dict(net_arch=[16]), verbose=2)

    # Check if exclude works
    model.save(tmp_path / "test_save", exclude=["verbose"])
    del model
    model = CartDQN.load(str(tmp_path / "test_save.zip"))
    # check if verbose was not saved
    assert model.verbose != 2

    # set verbose as something different then standard settings
    model.verbose = 2
    # Check if include works
    model.save(tmp_path / "test_save", exclude=["verbose"], include=["verbose"])
    del model
    # Load with custom objects
    custom_objects = dict(learning_rate=2e-5, dummy=1.0)
    model = CartDQN.load(str(tmp_path / "test_save.zip"), custom_objects=custom_objects, print_system_info=True)
    assert model.verbose == 2
    # Check that the custom object was taken into account
    assert model.learning_rate == custom_objects["learning_rate"]
    # Check that only parameters that are here already are replaced
    assert not hasattr(model, "dummy")

    os.remove(tmp_path / "test_save.zip")


def test_save_load_replay_buffer(tmp_path):
    path = pathlib.Path(tmp_path / "logs/replay_buffer.pkl")
    path.parent.mkdir(exist_ok=True, parents=True)  # to not raise a warning
    model = CartDQN("MlpPolicy", select_env(), buffer_size=1000, policy_kwargs=dict(net_arch=[64]), learning_starts=100)
    model.learn(150)
    old_replay_buffer = deepcopy(model.replay_buffer)
    model.save_replay_buffer(path)
    model.replay_buffer = None
    for device in ["cpu", "cuda"]:
        # Manually force device to check that the replay buffer device is correctly updated
        model.device = th.device(device)
        model.load_replay_buffer(path)
        assert model.replay_buffer.device.type == model.device.type

    assert np.allclose(old_replay_buffer.observations, model.replay_buffer.observations)
    assert np.allclose(old_replay_buffer.actions, model.replay_buffer.actions)
    assert np.allclose(old_replay_buffer.rewards, model.replay_buffer.rewards)
    assert np.allclose(old_replay_buffer.dones, model.replay_buffer.dones)
    assert np.allclose(old_replay_buffer.timeouts, model.replay_buffer.timeouts)
    infos = [[{"TimeLimit.truncated": truncated}] for truncated in old_replay_buffer.timeouts]

    # test extending replay buffer
    model.replay_buffer.extend(
        old_replay_buffer.observations,
        old_replay_buffer.observations,
        old_replay_buffer.actions,
        old_replay_buffer.rewards,
        old_replay_buffer.dones,
        infos,
    )


@pytest.mark.parametrize("optimize_memory_usage", [False, True])
def test_warn_buffer(recwarn, optimize_memory_usage):
    """
    When using memory efficient replay buffer, a warning must be emitted when calling `.learn()` multiple times.
    See https://github.com/DLR-RM/stable-baselines3/issues/46
    """
    # remove gym warnings
    warnings.filterwarnings(action="ignore", category=DeprecationWarning)
    warnings.filterwarnings(action="ignore", category=UserWarning, module="gym")

    model = CartDQN(
        "MlpPolicy",
        select_env(),
        buffer_size=100,
        batch_size=32,  # DQN's default; CartDQN's (the tutorial's 128) may not exceed buffer_size=100
        optimize_memory_usage=optimize_memory_usage,
        # we cannot use optimize_memory_usage and handle_timeout_termination at the same time
        replay_buffer_kwargs={"handle_timeout_termination": not optimize_memory_usage},
        policy_kwargs=dict(net_arch=[64]),
        learning_starts=10,
    )

    model.learn(50)

    model.learn(50, reset_num_timesteps=False)

    # Check that there is no warning
    assert len(recwarn) == 0

    model.learn(50)

    if optimize_memory_usage:
        assert len(recwarn) == 1
        warning = recwarn.pop(UserWarning)
        assert "The last trajectory in the replay buffer will be truncated" in str(warning.message)
    else:
        assert len(recwarn) == 0


def image_env_kwargs(features_dim: int) -> tuple[FakeImageEnv, dict]:
    # SB3: "Avoid memory error when using replay buffer. Reduce the size of the features"
    env = FakeImageEnv(screen_height=40, screen_width=40, n_channels=2, discrete=True)
    policy_kwargs = dict(features_extractor_kwargs=dict(features_dim=features_dim))
    kwargs = dict(buffer_size=250, learning_starts=100, policy_kwargs=policy_kwargs)
    return env, kwargs


def trained_on(
    policy_str: str, mlp_kwargs: dict, features_dim: int, total_timesteps: int, **cnn_kwargs
) -> tuple[CartDQN, np.ndarray]:
    """A model trained a little on IdentityEnv (MlpPolicy) or FakeImageEnv (CnnPolicy), and 10 observations."""
    if policy_str == "MlpPolicy":
        env, kwargs = select_env(), mlp_kwargs
    else:
        env, kwargs = image_env_kwargs(features_dim)
        kwargs.update(cnn_kwargs)
    env = DummyVecEnv([lambda: env])

    model = CartDQN(policy_str, env, verbose=1, **kwargs)
    model.learn(total_timesteps=total_timesteps)

    env.reset()
    observations = np.concatenate([env.step([env.action_space.sample()])[0] for _ in range(10)], axis=0)
    return model, observations


def check_save_load_module(module, observations: np.ndarray, path: pathlib.Path) -> None:
    """SB3's shared steps: random parameters, predict, ``module.save``, ``type(module).load``, same parameters and actions."""
    module_class = module.__class__

    # Get dictionary of current parameters
    params = deepcopy(module.state_dict())

    # Modify all parameters to be random values (CartDQN: integer batch-norm counters + 1, see the module docstring)
    random_params = randomised(params)

    # Update model parameters with the new random values
    module.load_state_dict(random_params)

    new_params = module.state_dict()
    # Check that all params are different now
    for k in params:
        assert not th.allclose(params[k], new_params[k]), "Parameters did not change as expected."

    params = new_params

    # get selected actions
    selected_actions, _ = module.predict(observations, deterministic=True)

    module.save(path)

    del module

    module = module_class.load(path)

    # Check that all params are the same as before save load procedure now
    new_params = module.state_dict()
    for key in params:
        assert th.allclose(params[key], new_params[key]), "Policy parameters not the same after save and load."

    # check if model still selects the same actions
    new_selected_actions, _ = module.predict(observations, deterministic=True)
    assert np.allclose(selected_actions, new_selected_actions, 1e-4)

    os.remove(path)


@pytest.mark.parametrize("policy_str", ["MlpPolicy", "CnnPolicy"])
def test_save_load_policy(tmp_path, policy_str):
    """Test saving and loading policy only."""
    kwargs = dict(policy_kwargs=dict(net_arch=[16]), learning_rate=1e-3)
    model, observations = trained_on(policy_str, kwargs, features_dim=16, total_timesteps=128, train_freq=2)
    check_save_load_module(model.policy, observations, tmp_path / "policy.pkl")


@pytest.mark.parametrize("policy_str", ["MlpPolicy", "CnnPolicy"])
def test_save_load_q_net(tmp_path, policy_str):
    """Test saving and loading q-network only."""
    kwargs = dict(policy_kwargs=dict(net_arch=[16]))
    model, observations = trained_on(policy_str, kwargs, features_dim=32, total_timesteps=150)
    check_save_load_module(model.q_net, observations, tmp_path / "q_net.pkl")


def test_save_load_env_cnn(tmp_path):
    """
    Test loading with an env that requires a ``CnnPolicy`` (wrapping and observation space check).
    SB3 runs it with A2C and TD3; the off-policy loading part is CartDQN's own ``load``.
    """
    env = FakeImageEnv(screen_height=40, screen_width=40, n_channels=2, discrete=True)  # SB3: discrete=False
    kwargs = dict(policy_kwargs=dict(net_arch=[32]), buffer_size=100, learning_starts=50, train_freq=4)
    kwargs["batch_size"] = 32  # DQN's default; CartDQN's (the tutorial's 128) may not exceed buffer_size=100

    model = CartDQN("CnnPolicy", env, **kwargs).learn(100)
    model.save(tmp_path / "test_save")
    # Test loading with env and continuing training
    CartDQN.load(str(tmp_path / "test_save.zip"), env=env, **kwargs).learn(100)
    os.remove(tmp_path / "test_save.zip")


def test_cartdqn_target_update_settings(tmp_path):
    # SB3's test_dqn_target_update_interval: `target_update_interval` should not change when reloading the model
    # (GH#1373). Intended difference: CartDQN has none (a soft update after every gradient step); its target
    # update settings, tau and clip_grad_value, and its epsilon schedule must not change instead.
    env = make_vec_env(env_id="CartPole-v1", n_envs=2)
    model = CartDQN("MlpPolicy", env, verbose=1, tau=0.01, clip_grad_value=10.0, exploration_decay=100)
    model.save(tmp_path / "dqn_cartpole")
    del model
    model = CartDQN.load(tmp_path / "dqn_cartpole")
    os.remove(tmp_path / "dqn_cartpole.zip")
    assert (model.tau, model.clip_grad_value, model.exploration_decay) == (0.01, 10.0, 100)
    assert model.exploration_schedule.decay == 100


def test_save_load_no_target_params(tmp_path):
    # SB3: "Check we can load DQN models saved with SB3 < 2.4.0" (an optimizer holding the target net's params)
    model = CartDQN("MlpPolicy", "CartPole-v1", buffer_size=10000, learning_starts=4)
    env = model.get_env()
    # Include target net params
    model.policy.optimizer = th.optim.Adam(model.policy.parameters(), lr=0.001)
    model.save(tmp_path / "test_save")
    with pytest.warns(UserWarning):
        CartDQN.load(str(tmp_path / "test_save.zip"), env=env).learn(20)
    os.remove(tmp_path / "test_save.zip")


# Turn warnings into errors
@pytest.mark.filterwarnings("error")
def test_no_resource_warning(tmp_path):
    # SB3 runs it with PPO and SAC (GH#1751): files are closed, in-memory files are not
    CartDQN("MlpPolicy", "CartPole-v1", device="cpu").save(tmp_path / "dqn_cartpole")
    CartDQN.load(tmp_path / "dqn_cartpole", device="cpu")

    CartDQN("MlpPolicy", "CartPole-v1", device="cpu").save(str(tmp_path / "dqn_cartpole"))
    CartDQN.load(str(tmp_path / "dqn_cartpole"), device="cpu")

    # Do the same but in memory, should not close the file
    with tempfile.TemporaryFile() as fp:
        CartDQN("MlpPolicy", "CartPole-v1", device="cpu").save(fp)
        CartDQN.load(fp, device="cpu")
        assert not fp.closed

    # Same but with replay buffer
    model = CartDQN("MlpPolicy", "CartPole-v1", buffer_size=200)
    model.save_replay_buffer(tmp_path / "replay")
    model.load_replay_buffer(tmp_path / "replay")

    model.save_replay_buffer(str(tmp_path / "replay"))
    model.load_replay_buffer(str(tmp_path / "replay"))

    with tempfile.TemporaryFile() as fp:
        model.save_replay_buffer(fp)
        fp.seek(0)
        model.load_replay_buffer(fp)
        assert not fp.closed
