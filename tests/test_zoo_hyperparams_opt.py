"""CartDQN's Optuna sampler produces valid CartDQN arguments, and its converter reproduces them from a stored trial."""

import optuna
import pytest
from rl_zoo3.exp_manager import ExperimentManager
from rl_zoo3.utils import SimpleLinearSchedule

from sb3_cartdqn import CartDQN
from sb3_cartdqn.zoo import convert_cartdqn_params, sample_cartdqn_params
from sb3_cartdqn.zoo.hyperparams_opt import BUFFER_SIZES, CLIP_GRAD_VALUES, NET_DEPTHS, NET_WIDTHS, TRAIN_FREQS

SEARCHED = {
    "exploration_decay",
    "exploration_initial_eps",
    "exploration_final_eps",
    "tau",
    "learning_rate",
    "batch_size",
    "buffer_size",
    "policy_kwargs",
    "clip_grad_value",
    "gamma",
    "train_freq",
    "gradient_steps",
    "double_q",
    "n_steps",
}


@pytest.fixture(scope="module")
def study_and_samples():
    """A stored study of 24 random trials, and what the sampler returned for each."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0), direction="maximize")
    samples = []

    def objective(trial: optuna.Trial) -> float:
        samples.append(sample_cartdqn_params(trial, n_actions=0, n_envs=1, additional_args={}))
        return 0.0

    study.optimize(objective, n_trials=24)
    return study, samples


def test_sampler_covers_cartdqn_parameters(study_and_samples):
    _, samples = study_and_samples
    for kwargs in samples:
        assert set(kwargs) == SEARCHED
        assert 0.95 <= kwargs["gamma"] <= 0.999
        assert kwargs["batch_size"] in (32, 64, 128, 256)
        assert kwargs["buffer_size"] in BUFFER_SIZES
        assert kwargs["clip_grad_value"] in CLIP_GRAD_VALUES
        net_arch = kwargs["policy_kwargs"]["net_arch"]
        assert net_arch[0] in NET_WIDTHS and len(net_arch) in NET_DEPTHS and net_arch == [net_arch[0]] * len(net_arch)
        assert kwargs["exploration_final_eps"] <= kwargs["exploration_initial_eps"]
        assert kwargs["train_freq"] in TRAIN_FREQS and 1 <= kwargs["gradient_steps"] <= kwargs["train_freq"]
        assert 1 <= kwargs["n_steps"] <= 5
    # Both forms of each choice are drawn in 24 random trials
    assert {type(kwargs["learning_rate"]) for kwargs in samples} == {float, SimpleLinearSchedule}
    for option in ("double_q", "dueling"):
        assert {kwargs.get(option, kwargs["policy_kwargs"].get(option)) for kwargs in samples} == {False, True}
    assert {kwargs["n_steps"] for kwargs in samples} == {1, 2, 3, 4, 5}


def test_sampled_arguments_build_cartdqn(study_and_samples):
    _, samples = study_and_samples
    for kwargs in samples[:8]:
        model = CartDQN("MlpPolicy", "CartPole-v1", device="cpu", **kwargs)
        assert model.gamma == kwargs["gamma"]
        assert model.policy.net_arch == kwargs["policy_kwargs"]["net_arch"]
        assert model.policy.dueling == kwargs["policy_kwargs"]["dueling"]
        assert (model.double_q, model.n_steps) == (kwargs["double_q"], kwargs["n_steps"])


def _as_model_kwargs(hyperparams: dict) -> dict:
    """What RL Zoo passes to the model after reading these hyperparameters (learning-rate strings become schedules)."""
    return ExperimentManager._preprocess_schedules(dict(hyperparams))


def _comparable(kwargs: dict) -> dict:
    lr = kwargs["learning_rate"]
    return {**kwargs, "learning_rate": (type(lr).__name__, lr(1.0), lr(0.25)) if callable(lr) else ("float", lr, lr)}


def test_converter_round_trips_stored_trials(study_and_samples):
    study, samples = study_and_samples
    for trial, sampled in zip(study.trials, samples, strict=True):
        reloaded = convert_cartdqn_params(trial.params)
        # Plain values, as a hyperparameter file would hold them
        assert not callable(reloaded["learning_rate"])
        model_kwargs = _as_model_kwargs(reloaded)
        if isinstance(sampled["learning_rate"], float):
            assert reloaded == sampled
        else:
            assert reloaded["learning_rate"] == f"lin_{trial.params['learning_rate']!r}"
            assert _comparable(model_kwargs) == _comparable(sampled)


#: A trial of a study run before depth, train frequency and the options were searched
OLD_TRIAL = {
    "one_minus_gamma": 0.02,
    "learning_rate": 1e-3,
    "lr_schedule": "linear",
    "batch_size_pow": 7,
    "buffer_size": 50_000,
    "tau": 0.05,
    "exploration_initial_eps": 1.0,
    "exploration_final_eps": 0.02,
    "exploration_decay": 2_000.0,
    "clip_grad_value": None,
    "net_width": 256,
}
#: What the converter makes of it
OLD_TRIAL_KWARGS = {
    "gamma": 0.98,
    "learning_rate": "lin_0.001",
    "batch_size": 128,
    "buffer_size": 50_000,
    "tau": 0.05,
    "exploration_initial_eps": 1.0,
    "exploration_final_eps": 0.02,
    "exploration_decay": 2_000.0,
    "clip_grad_value": None,
    "policy_kwargs": {"net_arch": [256, 256]},
}


def test_converter_example_before_the_options():
    """The parameters a trial lacks keep their defaults (two layers, train_freq 1, the options off)."""
    assert convert_cartdqn_params(OLD_TRIAL) == OLD_TRIAL_KWARGS


def test_converter_example_with_the_options():
    params = {
        **OLD_TRIAL,
        "net_depth": 3,
        "train_freq": 4,
        "subsample_steps": 2,
        "double_q": True,
        "n_steps": 3,
        "dueling": True,
    }
    assert convert_cartdqn_params(params) == {
        **OLD_TRIAL_KWARGS,
        "train_freq": 4,
        "gradient_steps": 2,  # 4 // 2
        "double_q": True,
        "n_steps": 3,
        "policy_kwargs": {"net_arch": [256, 256, 256], "dueling": True},
    }
    # more subsampling than env steps between updates: still one gradient step
    assert convert_cartdqn_params({**params, "train_freq": 2, "subsample_steps": 8})["gradient_steps"] == 1
