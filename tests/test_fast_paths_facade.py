"""FastPaths: the fast and the plain forms of a gradient step's functions, chosen by name."""

import pytest
import torch as th
from stable_baselines3.common.utils import polyak_update

from sb3_cartdqn import CartDQN
from sb3_cartdqn.common.fast_paths import NAMES, FastPaths, FusedAdamWStep, MlpForward, clip_grad_value, soft_update


def test_fast_by_default_and_plain_by_name():
    model = CartDQN("MlpPolicy", "CartPole-v1", seed=0, device="cpu")
    fast = model.fast_paths
    assert isinstance(fast.q, MlpForward) and isinstance(fast.q_target, MlpForward)
    assert fast.clip is clip_grad_value and fast.soft_update is soft_update
    assert isinstance(fast.optimizer_step.__self__, FusedAdamWStep)  # type: ignore[attr-defined]
    plain = FastPaths.for_policy(model.policy, plain=NAMES)
    assert plain.q is model.q_net and plain.q_target is model.q_net_target
    assert plain.clip is th.nn.utils.clip_grad_value_ and plain.soft_update is polyak_update
    assert plain.optimizer_step == model.policy.optimizer.step
    assert plain.params == list(model.q_net.parameters())


def test_unknown_name_is_refused():
    model = CartDQN("MlpPolicy", "CartPole-v1", seed=0, device="cpu")
    with pytest.raises(ValueError, match="Unknown fast path"):
        FastPaths.for_policy(model.policy, plain=["mlp_forward"])
