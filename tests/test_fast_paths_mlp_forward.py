"""MlpForward computes what the QNetwork's modules compute, values and gradients, and steps aside for hooks."""

import pytest
import torch as th
from stable_baselines3.common.envs import FakeImageEnv

from sb3_cartdqn import CartDQN
from sb3_cartdqn.common.fast_paths.mlp_forward import MlpForward


@pytest.mark.parametrize("activation_fn", [th.nn.ReLU, th.nn.Tanh])
@pytest.mark.parametrize("batch", [1, 128])
def test_same_values_and_gradients(activation_fn, batch):
    model = CartDQN("MlpPolicy", "CartPole-v1", seed=0, device="cpu", policy_kwargs=dict(activation_fn=activation_fn))
    fast = MlpForward.build(model.q_net)
    assert fast is not None
    obs = th.randn(batch, 4)
    want = model.q_net(obs)
    have = fast(obs)
    assert th.equal(want, have)
    want.sum().backward()
    grads = [p.grad.clone() for p in model.q_net.parameters()]
    model.q_net.zero_grad()
    have.sum().backward()
    for expected, got in zip(grads, (p.grad for p in model.q_net.parameters()), strict=True):
        assert th.equal(expected, got)


def test_sees_in_place_updates():
    model = CartDQN("MlpPolicy", "CartPole-v1", seed=0, device="cpu")
    fast = MlpForward.build(model.q_net)
    with th.no_grad():
        for param in model.q_net.parameters():
            param.mul_(0.5)
    obs = th.randn(3, 4)
    assert th.equal(fast(obs), model.q_net(obs))


def test_hooks_still_run():
    model = CartDQN("MlpPolicy", "CartPole-v1", seed=0, device="cpu")
    fast = MlpForward.build(model.q_net)
    seen = []
    handle = model.q_net.q_net[0].register_forward_hook(lambda module, args, out: seen.append(out.shape))
    fast(th.randn(2, 4))
    assert seen == [th.Size([2, 128])]
    handle.remove()
    fast(th.randn(2, 4))
    assert len(seen) == 1


def test_only_plain_mlps():
    image = CartDQN("CnnPolicy", FakeImageEnv(screen_height=40, screen_width=40, n_channels=1, discrete=True),
                    buffer_size=16, batch_size=8, policy_kwargs=dict(normalize_images=True), seed=0)  # fmt: skip
    assert MlpForward.build(image.q_net) is None
    elu = CartDQN("MlpPolicy", "CartPole-v1", seed=0, policy_kwargs=dict(activation_fn=th.nn.ELU))
    assert MlpForward.build(elu.q_net) is None
    assert MlpForward.build(th.nn.Linear(4, 2)) is None
