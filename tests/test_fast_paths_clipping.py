"""clip_grad_value clamps gradients as torch.nn.utils.clip_grad_value_ does."""

import torch as th
from torch import nn

from sb3_cartdqn.common.fast_paths.clipping import clip_grad_value


def test_same_as_torch():
    th.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    (net(th.randn(16, 4) * 100).pow(2).sum() * 1e4).backward()
    expected = [p.grad.clone() for p in net.parameters()]
    for grad in expected:
        grad.clamp_(-1.0, 1.0)
    assert any((g.abs() == 1.0).any() for g in expected), "nothing was clipped: the test would prove nothing"
    with th.no_grad():
        clip_grad_value(list(net.parameters()), 1.0)
    for want, param in zip(expected, net.parameters(), strict=True):
        assert th.equal(param.grad, want)


def test_parameters_without_gradient_are_skipped():
    used, unused = nn.Linear(2, 1), nn.Linear(2, 1)
    used(th.ones(1, 2)).sum().mul(1e3).backward()
    with th.no_grad():
        clip_grad_value([*used.parameters(), *unused.parameters()], 0.5)
    assert all(p.grad.abs().max() <= 0.5 for p in used.parameters())
    assert all(p.grad is None for p in unused.parameters())
