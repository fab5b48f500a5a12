"""CartDQN's policies: the tutorial's defaults and a cheaper, equivalent set_training_mode."""

import pytest
import torch as th
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

from sb3_cartdqn import CartDQN
from sb3_cartdqn.cartdqn.policies import tutorial_optimizer_kwargs


def test_optimizer_kwargs_defaults_and_overrides():
    assert tutorial_optimizer_kwargs(th.optim.AdamW, None) == {"amsgrad": True, "fused": True}
    assert tutorial_optimizer_kwargs(th.optim.AdamW, {"amsgrad": False}) == {"amsgrad": False, "fused": True}
    assert tutorial_optimizer_kwargs(th.optim.Adam, {"eps": 1e-5}) == {"eps": 1e-5}


class _ModeRecordingExtractor(BaseFeaturesExtractor):
    """Overrides train(): the policy must fall back to nn.Module.train so the override runs."""

    def __init__(self, observation_space):
        super().__init__(observation_space, features_dim=4)
        self.calls = []
        self.net = th.nn.Sequential(th.nn.Flatten(), th.nn.Dropout(0.1))

    def train(self, mode: bool = True):
        self.calls.append(mode)
        return super().train(mode)

    def forward(self, obs):
        return self.net(obs)


@pytest.mark.parametrize("extractor", [None, _ModeRecordingExtractor])
def test_set_training_mode_equals_module_train(extractor):
    policy_kwargs = {} if extractor is None else dict(features_extractor_class=extractor)
    policy = CartDQN("MlpPolicy", "CartPole-v1", policy_kwargs=policy_kwargs).policy
    for mode in (False, True, False, False, True):
        policy.set_training_mode(mode)
        assert policy.training is mode
        assert all(module.training is mode for module in policy.q_net.modules())
        assert not policy.q_net_target.training  # the target stays in eval mode
    if extractor is not None:
        assert policy.q_net.features_extractor.calls == [False, True, False, False, True]
