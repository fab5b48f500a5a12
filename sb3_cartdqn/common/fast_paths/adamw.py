"""The fused AMSGrad AdamW step without ``Optimizer.step``'s per-call bookkeeping."""

import torch as th
from torch.optim import optimizer as torch_optimizer


class FusedAdamWStep:
    """
    Calls ``torch._fused_adamw_`` (the kernel that ``AdamW(fused=True).step()`` ends in) directly on the optimizer's
    own state tensors, with the same arguments, so the update is the same to the bit and ``optimizer.state_dict()``
    stays what AdamW would have: save/load and resuming are unchanged.

    ``Optimizer.step`` spends about as long as the kernel on bookkeeping (hook checks, profiler ranges, regrouping
    tensors by device and dtype, rebuilding the state lists). This skips it whenever that changes nothing: a
    ``th.optim.AdamW`` with ``fused=True`` on the CPU or CUDA, no optimizer hooks, float learning rate and betas,
    every parameter with a gradient and its state initialised. Otherwise it calls ``optimizer.step()``.

    :param optimizer: the optimizer to step
    """

    def __init__(self, optimizer: th.optim.Optimizer) -> None:
        self.optimizer = optimizer
        self._state: object = None
        self._groups: list[tuple[dict, list[th.Tensor], list[list[th.Tensor]]]] = []

    def _applies(self) -> bool:
        optimizer = self.optimizer
        if type(optimizer) is not th.optim.AdamW:
            return False
        if (
            optimizer._optimizer_step_pre_hooks
            or optimizer._optimizer_step_post_hooks
            or torch_optimizer._global_optimizer_pre_hooks
            or torch_optimizer._global_optimizer_post_hooks
            or getattr(optimizer, "grad_scale", None) is not None
            or getattr(optimizer, "found_inf", None) is not None
        ):
            return False
        for group in optimizer.param_groups:
            if not group["fused"] or group["capturable"] or group["differentiable"] or not group["decoupled_weight_decay"]:
                return False
            if isinstance(group["lr"], th.Tensor) or any(isinstance(beta, th.Tensor) for beta in group["betas"]):
                return False
        return True

    def _cache(self) -> bool:
        """Gather each group's state tensors once (again after ``load_state_dict``, which replaces the state)."""
        optimizer = self.optimizer
        if not self._applies():
            return False
        if self._state is optimizer.state:
            return True
        groups = []
        for group in optimizer.param_groups:
            params = list(group["params"])
            states = [optimizer.state.get(param) for param in params]
            if any(not state for state in states):  # not initialised yet: the first step() does it
                return False
            keys = ["exp_avg", "exp_avg_sq", *(["max_exp_avg_sq"] if group["amsgrad"] else []), "step"]
            if len({param.device for param in params}) > 1 or len({param.dtype for param in params}) > 1:
                return False
            groups.append((group, params, [[state[key] for state in states] for key in keys]))  # type: ignore[index]
        self._groups = groups
        self._state = optimizer.state
        return True

    def step(self) -> None:
        """One optimizer step: the fused kernel directly where it applies, else ``optimizer.step()``."""
        if not self._cache():
            self.optimizer.step()
            return
        grads = [[param.grad for param in params] for _, params, _ in self._groups]
        if any(grad is None for group_grads in grads for grad in group_grads):
            self.optimizer.step()
            return
        for (group, params, state), group_grads in zip(self._groups, grads, strict=True):
            if group["amsgrad"]:
                exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps = state
            else:
                (exp_avgs, exp_avg_sqs, steps), max_exp_avg_sqs = state, []
            beta1, beta2 = group["betas"]
            th._foreach_add_(steps, 1)
            th._fused_adamw_(
                params,
                group_grads,  # type: ignore[arg-type]
                exp_avgs,
                exp_avg_sqs,
                max_exp_avg_sqs,
                steps,
                amsgrad=group["amsgrad"],
                lr=group["lr"],
                beta1=beta1,
                beta2=beta2,
                weight_decay=group["weight_decay"],
                eps=group["eps"],
                maximize=group["maximize"],
                grad_scale=None,
                found_inf=None,
            )
