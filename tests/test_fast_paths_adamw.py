"""FusedAdamWStep: the same parameters and optimizer state as AdamW(fused=True).step(), or that step itself."""

import copy

import pytest
import torch as th
from torch import nn

from sb3_cartdqn.common.fast_paths.adamw import FusedAdamWStep


def _net_and_optimizer(**kwargs):
    th.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    return net, th.optim.AdamW(net.parameters(), lr=1e-3, **kwargs)


def _train(net, step, optimizer, n=6, lr_change_at=3):
    th.manual_seed(1)
    for i in range(n):
        if i == lr_change_at:  # a learning-rate schedule writes the group's lr between steps
            for group in optimizer.param_groups:
                group["lr"] = 5e-4
        for param in net.parameters():
            param.grad = None
        net(th.randn(8, 4)).pow(2).mean().backward()
        with th.no_grad():
            step()


@pytest.mark.parametrize("amsgrad", [True, False])
def test_same_as_fused_adamw_step(amsgrad):
    net, optimizer = _net_and_optimizer(amsgrad=amsgrad, fused=True)
    reference, reference_optimizer = copy.deepcopy(net), None
    reference_optimizer = th.optim.AdamW(reference.parameters(), lr=1e-3, amsgrad=amsgrad, fused=True)
    _train(reference, reference_optimizer.step, reference_optimizer)
    fast = FusedAdamWStep(optimizer)
    _train(net, fast.step, optimizer)
    assert fast._groups, "the direct kernel path was never taken"
    for a, b in zip(net.parameters(), reference.parameters(), strict=True):
        assert th.equal(a, b)
    state, reference_state = optimizer.state_dict()["state"], reference_optimizer.state_dict()["state"]
    for key in reference_state:
        for name, value in reference_state[key].items():
            assert th.equal(state[key][name], value), name


def test_state_reloaded_is_followed():
    net, optimizer = _net_and_optimizer(amsgrad=True, fused=True)
    fast = FusedAdamWStep(optimizer)
    _train(net, fast.step, optimizer, n=2)
    saved_params, saved_state = copy.deepcopy(net.state_dict()), copy.deepcopy(optimizer.state_dict())
    _train(net, fast.step, optimizer, n=2)
    expected = copy.deepcopy(net.state_dict())
    net.load_state_dict(saved_params)
    optimizer.load_state_dict(saved_state)  # new state tensors: the cached lists must be rebuilt
    _train(net, fast.step, optimizer, n=2)
    for name, value in expected.items():
        assert th.equal(net.state_dict()[name], value), name


def test_falls_back_to_optimizer_step():
    calls = []
    net, optimizer = _net_and_optimizer(amsgrad=True, fused=True)
    fast = FusedAdamWStep(optimizer)
    _train(net, fast.step, optimizer, n=1)
    optimizer.register_step_post_hook(lambda *args: calls.append(1))
    _train(net, fast.step, optimizer, n=2)
    assert len(calls) == 2  # hooks run: the optimizer's own step was used

    unfused_net, unfused = _net_and_optimizer(amsgrad=True)
    reference = copy.deepcopy(unfused_net)
    reference_optimizer = th.optim.AdamW(reference.parameters(), lr=1e-3, amsgrad=True)
    _train(unfused_net, FusedAdamWStep(unfused).step, unfused)
    _train(reference, reference_optimizer.step, reference_optimizer)
    for a, b in zip(unfused_net.parameters(), reference.parameters(), strict=True):
        assert th.equal(a, b)

    sgd_net = nn.Linear(2, 1)
    sgd = th.optim.SGD(sgd_net.parameters(), lr=0.1)
    assert not FusedAdamWStep(sgd)._applies()
