"""The tutorial's settings are written once (sb3_cartdqn/common/defaults.py) and every user takes them from there."""

import dataclasses
import inspect

import pytest
import torch as th
from stable_baselines3 import DQN

from sb3_cartdqn import CartDQN
from sb3_cartdqn.batched.trainer import BatchedCartDQN
from sb3_cartdqn.benchmarks.speed import sb3_dqn_tutorial_kwargs
from sb3_cartdqn.cartdqn.policies import TUTORIAL_NET_ARCH
from sb3_cartdqn.common.checks import check_hyperparameters
from sb3_cartdqn.common.defaults import TUTORIAL, TutorialSettings, tutorial_dqn_kwargs
from sb3_cartdqn.compare.algorithms import dqn_tutorial_like, linear_exploration_fraction

#: Settings that are arguments of the policy, not of the algorithm
POLICY_SETTINGS = ("net_arch", "amsgrad")
ALGORITHM_SETTINGS = [field.name for field in dataclasses.fields(TUTORIAL) if field.name not in POLICY_SETTINGS]


def _defaults(function) -> dict:
    return {
        name: parameter.default
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }


def test_the_tutorials_constants():
    # The values of the PyTorch DQN tutorial's code (shared/seeds/000_...: BATCH_SIZE, GAMMA, EPS_*, TAU, LR, ...)
    assert TUTORIAL == TutorialSettings(
        learning_rate=1e-4,
        buffer_size=10_000,
        learning_starts=128,
        batch_size=128,
        tau=0.005,
        gamma=0.99,
        train_freq=1,
        gradient_steps=1,
        exploration_initial_eps=0.9,
        exploration_final_eps=0.05,
        exploration_decay=1000.0,
        clip_grad_value=100.0,
        double_q=False,
        n_steps=1,
        net_arch=(128, 128),
        amsgrad=True,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        TUTORIAL.batch_size = 64  # type: ignore[misc]


@pytest.mark.parametrize("learner", [CartDQN, BatchedCartDQN])
def test_signature_defaults_are_the_tutorials(learner):
    defaults = _defaults(learner)
    tutorial = {name: getattr(TUTORIAL, name) for name in ALGORITHM_SETTINGS}
    assert {name: defaults[name] for name in ALGORITHM_SETTINGS} == tutorial


def test_check_defaults_are_the_tutorials():
    defaults = _defaults(check_hyperparameters)
    del defaults["stats_window_size"]  # SB3's logging window, not a setting of the tutorial
    del defaults["saved"]  # whether the values come from a saved model, not a setting
    assert defaults == {name: getattr(TUTORIAL, name) for name in defaults}


def test_cartdqn_and_batched_share_every_default():
    cartdqn, batched = _defaults(CartDQN), _defaults(BatchedCartDQN)
    shared = (set(cartdqn) & set(batched)) - {"device"}  # the batched trainer runs on CPU unless told
    assert {"check_finite", "stats_window_size", "policy_kwargs"} <= shared
    assert {name: batched[name] for name in shared} == {name: cartdqn[name] for name in shared}


def test_default_model_has_the_tutorials_network_and_optimizer():
    model = CartDQN("MlpPolicy", "CartPole-v1", device="cpu")
    assert TUTORIAL_NET_ARCH == list(TUTORIAL.net_arch) == model.policy.net_arch
    assert model.policy.optimizer.param_groups[0]["amsgrad"] is TUTORIAL.amsgrad
    assert (model.batch_size, model.buffer_size, model.learning_starts) == (
        TUTORIAL.batch_size,
        TUTORIAL.buffer_size,
        TUTORIAL.learning_starts,
    )


def test_stock_dqn_set_like_the_tutorial_is_one_configuration():
    kwargs = tutorial_dqn_kwargs(0.25)
    assert {name: kwargs[name] for name in ALGORITHM_SETTINGS if name in kwargs} == {
        name: getattr(TUTORIAL, name) for name in ALGORITHM_SETTINGS if name in kwargs
    }
    assert kwargs["policy_kwargs"]["net_arch"] == list(TUTORIAL.net_arch)
    assert kwargs["exploration_fraction"] == 0.25
    # The comparison's row and the speed benchmark both use it
    assert dqn_tutorial_like(50_000).kwargs == tutorial_dqn_kwargs(linear_exploration_fraction(50_000))
    assert sb3_dqn_tutorial_kwargs() == tutorial_dqn_kwargs(0.1)
    model = DQN("MlpPolicy", "CartPole-v1", device="cpu", **kwargs)
    assert isinstance(model.policy.optimizer, th.optim.AdamW)
    assert model.policy.optimizer.param_groups[0]["amsgrad"] is True
    assert (model.batch_size, model.tau, model.gamma) == (TUTORIAL.batch_size, TUTORIAL.tau, TUTORIAL.gamma)


def test_batched_trainer_takes_the_training_arguments_by_name():
    from sb3_cartdqn.common.defaults import TRAINING_ARGUMENTS, training_arguments

    assert set(TRAINING_ARGUMENTS) == set(ALGORITHM_SETTINGS)
    assert training_arguments("X", batch_size=8) == dict(
        {name: getattr(TUTORIAL, name) for name in TRAINING_ARGUMENTS}, batch_size=8
    )
    with pytest.raises(TypeError, match=r"BatchedCartDQN got unexpected keyword argument\(s\) 'batchsize': its training"):
        BatchedCartDQN("CartPole-v1", [0, 1], batchsize=8)
    parameters = inspect.signature(BatchedCartDQN).parameters
    assert parameters["batch_size"].kind is inspect.Parameter.KEYWORD_ONLY and parameters["batch_size"].annotation is int
    assert not any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters.values())
