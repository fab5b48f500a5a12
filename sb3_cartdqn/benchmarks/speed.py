"""
Training speed of CartDQN beside stock SB3 DQN, the tutorial's own loop and two floors, measured side by side.

    python -m sb3_cartdqn.benchmarks.speed --steps 3000 --repeats 5 --out results/bench.json

Every variant runs the same algorithm at the tutorial's settings (one gradient step of batch 128 per env step,
AdamW amsgrad, soft update tau=0.005 after every step, 128-128 MLP) on CartPole-v1, with learning already started.
Variants run interleaved (A B C D, then rotated), ``--repeats`` times; the table gives the median env steps/s and
the median of the per-repeat ratios, so that machine noise hits all variants alike.

- ``cartdqn``: ``CartDQN("MlpPolicy", "CartPole-v1")`` through ``learn()`` (SB3's VecEnv, Monitor, callbacks, logger).
- ``sb3-dqn``: stock SB3 ``DQN`` configured as closely as SB3 allows (norm clipping instead of value clipping).
- ``tutorial``: the tutorial's loop as it is written (deque of tensors, ``torch.cat``, soft update via ``state_dict``).
- ``bare-loop``: the least Python one step needs, no framework: one CartPole step, one forward to act, a write
  into and a sample of 128 from preallocated tensors, one forward/backward, value clipping, one fused AMSGrad AdamW
  step, one fused soft update.
- ``kernel-floor``: the summed time of the kernels a step cannot avoid, each timed alone (:func:`kernel_floor`):
  the raw CartPole step, a batch-1 forward, the batch-128 forward/backward, the fused AdamW kernel, the clamps and
  the lerp. Every variant's time per step is also given as a multiple of it.

Torch runs on one thread by default (``--threads``): this network is so small (17k parameters, batch 128) that
intra-op parallelism costs more in synchronisation than it gains, and one thread per process lets seeds run in
parallel processes instead.
"""

import functools
import math
import random
import statistics
import time
from collections import deque, namedtuple
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
import torch.nn.functional as F
from torch import nn

from sb3_cartdqn.benchmarks.output import command_line, print_header, record, timing_parser
from sb3_cartdqn.common.defaults import TUTORIAL, tutorial_dqn_kwargs

# The tutorial's constants under the names its code uses (the ``tutorial`` variant is that code)
BATCH_SIZE, GAMMA, TAU, LR = TUTORIAL.batch_size, TUTORIAL.gamma, TUTORIAL.tau, TUTORIAL.learning_rate
EPS_START, EPS_END, EPS_DECAY = TUTORIAL.exploration_initial_eps, TUTORIAL.exploration_final_eps, TUTORIAL.exploration_decay
ENV_ID = "CartPole-v1"


def _timed_steps(run: Callable[[int], Any], steps: int) -> float:
    start = time.perf_counter()
    run(steps)
    return steps / (time.perf_counter() - start)


def bench_cartdqn(steps: int, warmup: int, seed: int = 0) -> float:
    """
    :param steps: env steps to time
    :param warmup: env steps run first (learning starts after 128)
    :param seed: random seed
    :return: env steps per second during learning
    """
    from sb3_cartdqn import CartDQN

    model = CartDQN("MlpPolicy", ENV_ID, seed=seed, device="cpu")
    model.learn(warmup)
    return _timed_steps(lambda n: model.learn(n, reset_num_timesteps=False), steps)


def sb3_dqn_tutorial_kwargs() -> dict[str, Any]:
    """Stock SB3 DQN set as close to the tutorial as SB3 allows (it clips by norm; the bound is set out of reach)."""
    return tutorial_dqn_kwargs(exploration_fraction=0.1)


def bench_sb3_dqn(steps: int, warmup: int, seed: int = 0) -> float:
    """
    :param steps: env steps to time
    :param warmup: env steps run first
    :param seed: random seed
    :return: env steps per second during learning
    """
    from stable_baselines3 import DQN

    model = DQN("MlpPolicy", ENV_ID, seed=seed, device="cpu", **sb3_dqn_tutorial_kwargs())
    model.learn(warmup)
    return _timed_steps(lambda n: model.learn(n, reset_num_timesteps=False), steps)


Transition = namedtuple("Transition", ("state", "action", "next_state", "reward"))


class _TutorialDQN(nn.Module):
    def __init__(self, n_observations: int, n_actions: int) -> None:
        super().__init__()
        self.layer1 = nn.Linear(n_observations, 128)
        self.layer2 = nn.Linear(128, 128)
        self.layer3 = nn.Linear(128, n_actions)

    def forward(self, x: th.Tensor) -> th.Tensor:
        x = F.relu(self.layer1(x))
        x = F.relu(self.layer2(x))
        return self.layer3(x)


def bench_tutorial(steps: int, warmup: int, seed: int = 0) -> float:
    """
    The tutorial's training loop as written (plotting left out), on CPU.

    :param steps: env steps to time
    :param warmup: env steps run first
    :param seed: random seed
    :return: env steps per second during learning
    """
    random.seed(seed)
    th.manual_seed(seed)
    env = gym.make(ENV_ID)
    n_actions = int(env.action_space.n)  # type: ignore[attr-defined]
    state_np, _ = env.reset(seed=seed)
    policy_net, target_net = _TutorialDQN(len(state_np), n_actions), _TutorialDQN(len(state_np), n_actions)
    target_net.load_state_dict(policy_net.state_dict())
    optimizer = th.optim.AdamW(policy_net.parameters(), lr=LR, amsgrad=True)
    memory: deque = deque(maxlen=TUTORIAL.buffer_size)
    steps_done = 0

    def select_action(state: th.Tensor) -> th.Tensor:
        nonlocal steps_done
        eps_threshold = EPS_END + (EPS_START - EPS_END) * math.exp(-1.0 * steps_done / EPS_DECAY)
        steps_done += 1
        if random.random() > eps_threshold:
            with th.no_grad():
                return policy_net(state).max(1)[1].view(1, 1)
        return th.tensor([[env.action_space.sample()]], dtype=th.long)

    def optimize_model() -> None:
        if len(memory) < BATCH_SIZE:
            return
        transitions = random.sample(memory, BATCH_SIZE)
        batch = Transition(*zip(*transitions, strict=True))
        non_final_mask = th.tensor(tuple(map(lambda s: s is not None, batch.next_state)), dtype=th.bool)
        non_final_next_states = th.cat([s for s in batch.next_state if s is not None])
        state_batch = th.cat(batch.state)
        action_batch = th.cat(batch.action)
        reward_batch = th.cat(batch.reward)
        state_action_values = policy_net(state_batch).gather(1, action_batch)
        next_state_values = th.zeros(BATCH_SIZE)
        with th.no_grad():
            next_state_values[non_final_mask] = target_net(non_final_next_states).max(1)[0]
        expected_state_action_values = (next_state_values * GAMMA) + reward_batch
        loss = nn.SmoothL1Loss()(state_action_values, expected_state_action_values.unsqueeze(1))
        optimizer.zero_grad()
        loss.backward()
        th.nn.utils.clip_grad_value_(policy_net.parameters(), 100)
        optimizer.step()

    def run(n: int) -> None:
        nonlocal state_np
        state = th.tensor(state_np, dtype=th.float32).unsqueeze(0)
        for _ in range(n):
            action = select_action(state)
            observation, reward, terminated, truncated, _ = env.step(action.item())
            reward_t = th.tensor([reward])
            next_state = None if terminated else th.tensor(observation, dtype=th.float32).unsqueeze(0)
            memory.append(Transition(state, action, next_state, reward_t))  # the tutorial's memory.push
            state = next_state  # type: ignore[assignment]
            optimize_model()
            target_net_state_dict = target_net.state_dict()
            policy_net_state_dict = policy_net.state_dict()
            for key in policy_net_state_dict:
                target_net_state_dict[key] = policy_net_state_dict[key] * TAU + target_net_state_dict[key] * (1 - TAU)
            target_net.load_state_dict(target_net_state_dict)
            if terminated or truncated:
                state_np, _ = env.reset()
                state = th.tensor(state_np, dtype=th.float32).unsqueeze(0)

    run(warmup)
    return _timed_steps(run, steps)


def bench_floor(steps: int, warmup: int, seed: int = 0) -> float:
    """
    The bare loop: the least Python one training step of this algorithm needs, with no framework around it.

    :param steps: env steps to time
    :param warmup: env steps run first
    :param seed: random seed
    :return: env steps per second
    """
    th.manual_seed(seed)
    env = gym.make(ENV_ID)
    obs, _ = env.reset(seed=seed)
    q_net = nn.Sequential(nn.Linear(4, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 2))
    target = nn.Sequential(nn.Linear(4, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 2))
    target.load_state_dict(q_net.state_dict())
    params: list[th.Tensor] = list(q_net.parameters())
    target_params: list[th.Tensor] = list(target.parameters())
    optimizer = th.optim.AdamW(params, lr=LR, amsgrad=True, fused=True)
    capacity = TUTORIAL.buffer_size
    observations, next_observations = th.zeros(capacity, 4), th.zeros(capacity, 4)
    actions, rewards, dones = th.zeros(capacity, 1, dtype=th.long), th.zeros(capacity, 1), th.zeros(capacity, 1)
    pos, size = 0, 0

    def run(n: int) -> None:
        nonlocal obs, pos, size
        for _ in range(n):
            obs_t = th.as_tensor(obs)
            with th.no_grad():
                action = int(q_net(obs_t).argmax())
            next_obs, reward, terminated, truncated, _ = env.step(action)
            observations[pos] = obs_t
            next_observations[pos] = th.as_tensor(next_obs)
            actions[pos, 0], rewards[pos, 0], dones[pos, 0] = action, float(reward), float(terminated)
            pos, size = (pos + 1) % capacity, min(size + 1, capacity)
            obs = env.reset()[0] if terminated or truncated else next_obs
            if size < BATCH_SIZE:
                continue
            idx = th.randint(0, size, (BATCH_SIZE,))
            with th.no_grad():
                next_q = target(next_observations[idx]).max(dim=1, keepdim=True).values
                td_target = rewards[idx] + (1 - dones[idx]) * GAMMA * next_q
            loss = F.smooth_l1_loss(q_net(observations[idx]).gather(1, actions[idx]), td_target)
            for p in params:
                p.grad = None
            loss.backward()
            th.nn.utils.clip_grad_value_(params, 100)
            optimizer.step()
            with th.no_grad():
                th._foreach_lerp_(target_params, params, TAU)

    run(warmup)
    return _timed_steps(run, steps)


#: What each speed change replaces, undone one at a time by ``bench_cartdqn_ablation``
ABLATIONS = (
    "fused-adamw",
    "direct-adamw",
    "foreach-lerp",
    "mode-flags",
    "fast-sampling",
    "mlp-forward",
    "direct-clip",
    "no-copy-store",
)


def bench_cartdqn_ablation(change: str, steps: int, warmup: int, seed: int = 0) -> float:
    """
    CartDQN with one speed change undone, to measure what that change buys inside the whole loop.

    :param change: ``fused-adamw`` (AdamW's default per-parameter loop instead of the fused kernel),
        ``direct-adamw`` (``optimizer.step()`` instead of calling the fused kernel directly),
        ``foreach-lerp`` (SB3's ``polyak_update`` loop), ``mode-flags`` (SB3's recursive ``set_training_mode``),
        ``fast-sampling`` (SB3's ``ReplayBuffer.sample``), ``mlp-forward`` (the network's modules instead of
        ``MlpForward``), ``direct-clip`` (``torch.nn.utils.clip_grad_value_``), ``no-copy-store`` (SB3's
        ``_store_transition``, which deep-copies every new observation)
    :param steps: env steps to time
    :param warmup: env steps run first
    :param seed: random seed
    :return: env steps per second during learning
    """
    from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
    from stable_baselines3.dqn.policies import DQNPolicy

    from sb3_cartdqn import CartDQN
    from sb3_cartdqn.common.fast_paths import NAMES, FastPaths

    policy_kwargs = dict(optimizer_kwargs=dict(fused=False, foreach=False)) if change == "fused-adamw" else None
    model = CartDQN("MlpPolicy", ENV_ID, seed=seed, device="cpu", policy_kwargs=policy_kwargs)
    if change == "mode-flags":
        model.policy.set_training_mode = lambda mode: DQNPolicy.set_training_mode(model.policy, mode)  # type: ignore[method-assign]
    if change in NAMES:  # one of the fast paths: its plain torch/SB3 function instead
        model.fast_paths = FastPaths.for_policy(model.policy, plain=[change])
    if change == "no-copy-store":
        model._store_transition = functools.partial(OffPolicyAlgorithm._store_transition, model)  # type: ignore[method-assign]
    model.learn(warmup)
    return _timed_steps(lambda n: model.learn(n, reset_num_timesteps=False), steps)


def _mean_us(function: Callable[[], Any], calls: int) -> float:
    """Mean microseconds per call of ``function`` over ``calls`` calls, after a tenth as many warm-up calls."""
    for _ in range(max(1, calls // 10)):
        function()
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls * 1e6


def kernel_floor(calls: int = 2000, seed: int = 0) -> dict[str, float]:
    """
    The kernel floor: the time of the computations one training step of the tutorial cannot avoid, each timed
    alone in a tight loop and summed. Everything else a step does (framework calls, sampling bookkeeping,
    VecEnv/Monitor/callbacks, logging) is overhead above this floor.

    - ``env step``: the raw ``CartPoleEnv.step`` (no wrappers), with a reset when the pole falls;
    - ``act``: a batch-1 forward of the 4-128-128-2 MLP (three ``addmm``, two ReLU) and its argmax, no autograd;
    - ``forward/backward``: target forward on 128 next observations, the TD target, online forward on 128
      observations, gather, Huber loss and its backward;
    - ``optimizer``: the fused AMSGrad AdamW kernel (with its step-counter increment);
    - ``clip``: ``clamp_min_`` and ``clamp_max_`` over the gradients;
    - ``target update``: ``_foreach_lerp_`` of the target parameters.

    :param calls: calls timed per kernel
    :param seed: random seed
    :return: kernel name -> microseconds per call, and ``total``
    """
    th.manual_seed(seed)
    rng = np.random.default_rng(seed)
    env: Any = gym.make(ENV_ID).unwrapped
    env.reset(seed=seed)

    def env_step() -> None:
        _, _, terminated, _, _ = env.step(int(rng.integers(2)))
        if terminated:
            env.reset()

    def mlp() -> list[th.Tensor]:
        layers = [nn.Linear(4, 128), nn.Linear(128, 128), nn.Linear(128, 2)]
        return [tensor for layer in layers for tensor in (layer.weight, layer.bias)]

    def forward(params: list[th.Tensor], x: th.Tensor) -> th.Tensor:
        x = th.relu(th.addmm(params[1], x, params[0].t()))
        x = th.relu(th.addmm(params[3], x, params[2].t()))
        return th.addmm(params[5], x, params[4].t())

    params, target_params = mlp(), mlp()
    obs_1 = th.randn(1, 4)
    obs, next_obs = th.randn(BATCH_SIZE, 4), th.randn(BATCH_SIZE, 4)
    actions = th.randint(0, 2, (BATCH_SIZE, 1))
    rewards, dones = th.ones(BATCH_SIZE, 1), (th.rand(BATCH_SIZE, 1) < 0.05).float()

    def act() -> None:
        with th.no_grad():
            forward(params, obs_1).argmax(dim=1)

    def forward_backward() -> None:
        with th.no_grad():
            next_q = forward(target_params, next_obs).max(dim=1).values.reshape(-1, 1)
            td_target = rewards + (1 - dones) * GAMMA * next_q
        loss = F.smooth_l1_loss(th.gather(forward(params, obs), 1, actions), td_target)
        for param in params:
            param.grad = None
        loss.backward()

    forward_backward()
    optimizer = th.optim.AdamW(params, lr=LR, amsgrad=True, fused=True)
    optimizer.step()
    state = [optimizer.state[param] for param in params]
    grads = [param.grad for param in params if param.grad is not None]
    exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps = (
        [s[key] for s in state] for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step")
    )
    group = optimizer.param_groups[0]

    def adamw() -> None:
        th._foreach_add_(steps, 1)
        th._fused_adamw_(
            params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, amsgrad=True, lr=LR, beta1=0.9, beta2=0.999,
            weight_decay=group["weight_decay"], eps=group["eps"], maximize=False, grad_scale=None, found_inf=None,
        )  # fmt: skip

    def clip() -> None:
        th._foreach_clamp_min_(grads, -100.0)  # type: ignore[arg-type]
        th._foreach_clamp_max_(grads, 100.0)  # type: ignore[arg-type]

    def lerp() -> None:
        th._foreach_lerp_(target_params, params, TAU)

    kernels: dict[str, Callable[[], Any]] = {
        "env step": env_step,
        "act": act,
        "forward/backward": forward_backward,
    }
    result = {name: _mean_us(function, calls) for name, function in kernels.items()}
    with th.no_grad():
        result.update(
            {
                "optimizer": _mean_us(adamw, calls),
                "clip": _mean_us(clip, calls),
                "target update": _mean_us(lerp, calls),
            }
        )
    result["total"] = sum(result.values())
    return result


def bench_kernel_floor(steps: int, warmup: int, seed: int = 0) -> float:
    """
    :param steps: calls timed per kernel (see :func:`kernel_floor`)
    :param warmup: unused (each kernel is warmed up on its own)
    :param seed: random seed
    :return: the env steps per second that the kernel floor allows (1 / its summed time)
    """
    return 1e6 / kernel_floor(max(200, steps), seed)["total"]


BENCHES: dict[str, Callable[[int, int, int], float]] = {
    "cartdqn": bench_cartdqn,
    "sb3-dqn": bench_sb3_dqn,
    "tutorial": bench_tutorial,
    "bare-loop": bench_floor,
    "kernel-floor": bench_kernel_floor,
    **{f"cartdqn-without-{change}": functools.partial(bench_cartdqn_ablation, change) for change in ABLATIONS},
}
DEFAULT_BENCHES = ["cartdqn", "sb3-dqn", "tutorial", "bare-loop", "kernel-floor"]


class _PhaseTimer:
    """Accumulates wall time spent inside wrapped callables, per phase name."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, name: str, function: Callable) -> Callable:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

        return timed


PHASES = ["act", "env step", "buffer add", "sample", "forward/backward", "optimizer", "clip", "target update", "other"]


def cartdqn_phases(steps: int, warmup: int, seed: int = 0) -> dict[str, float]:
    """
    Microseconds per env step spent in each phase of CartDQN's ``learn()``, by wrapping the calls that make it.

    :param steps: env steps to profile
    :param warmup: env steps run first
    :param seed: random seed
    :return: phase name -> microseconds per env step (``other``: rollout loop, callbacks, logging), and ``total``
    """
    from sb3_cartdqn import CartDQN

    model = CartDQN("MlpPolicy", ENV_ID, seed=seed, device="cpu")
    model.learn(warmup)
    timer = _PhaseTimer()
    env, buffer = model.env, model.replay_buffer
    assert env is not None and buffer is not None
    model._sample_action = timer.wrap("act", model._sample_action)  # type: ignore[method-assign]
    env.step = timer.wrap("env step", env.step)  # type: ignore[method-assign]
    buffer.add = timer.wrap("buffer add", buffer.add)  # type: ignore[method-assign]
    paths = model.fast_paths
    phase_functions = {"optimizer": "optimizer_step", "sample": "sample", "clip": "clip", "target update": "soft_update"}
    for phase, name in phase_functions.items():
        setattr(paths, name, timer.wrap(phase, getattr(paths, name)))
    model.train = timer.wrap("train", model.train)  # type: ignore[method-assign]
    start = time.perf_counter()
    model.learn(steps, reset_num_timesteps=False)
    total = time.perf_counter() - start
    seconds = dict(timer.seconds)
    inner = sum(seconds.get(k, 0.0) for k in ("sample", "optimizer", "clip", "target update"))
    seconds["forward/backward"] = seconds.pop("train") - inner
    seconds["other"] = total - sum(seconds.values())
    result = {name: seconds.get(name, 0.0) / steps * 1e6 for name in PHASES}
    result["total"] = total / steps * 1e6
    return result


def run_benchmark(names: list[str], steps: int, warmup: int, repeats: int) -> dict[str, Any]:
    """
    Interleave the variants ``repeats`` times (order rotated each repeat) and collect env steps/s.

    :param names: variants to run (keys of ``BENCHES``)
    :param steps: env steps timed per run
    :param warmup: env steps before timing (at least one batch, so that learning has started)
    :param repeats: interleaved repetitions
    :return: per-variant samples, medians and median ratios
    """
    samples: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(repeats):
        order = names[rep % len(names) :] + names[: rep % len(names)]
        for name in order:
            samples[name].append(BENCHES[name](steps, warmup, rep))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    ratios: dict[str, float] = {}
    if "cartdqn" in samples:
        for name in names:
            if name != "cartdqn":
                per_repeat = [a / b for a, b in zip(samples["cartdqn"], samples[name], strict=True)]
                ratios[f"cartdqn / {name}"] = statistics.median(per_repeat)
    if "kernel-floor" in samples:
        # time per step as a multiple of the kernel floor's (1.0 = nothing but the unavoidable kernels)
        for name in names:
            if name != "kernel-floor":
                per_repeat = [b / a for a, b in zip(samples[name], samples["kernel-floor"], strict=True)]
                ratios[f"{name} time / kernel floor"] = statistics.median(per_repeat)
    return {"samples": samples, "median_steps_per_s": medians, "median_ratios": ratios}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = timing_parser(
        "sb3_cartdqn.benchmarks.speed",
        __doc__,
        [
            "python -m sb3_cartdqn.benchmarks.speed --steps 3000 --repeats 5 --out results/bench.json",
            "python -m sb3_cartdqn.benchmarks.speed --ablation --no-phases",
        ],
        steps=3000,
        warmup=500,
        repeats=5,
    )
    parser.add_argument("--only", nargs="+", choices=list(BENCHES), default=DEFAULT_BENCHES, help="variants to run")
    parser.add_argument(
        "--ablation", action="store_true", help="also run CartDQN with each speed change undone (what each change buys)"
    )
    parser.add_argument("--no-phases", action="store_true", help="skip CartDQN's per-phase breakdown")
    args = parser.parse_args(argv)
    if args.warmup < BATCH_SIZE:
        parser.error(f"--warmup must be >= {BATCH_SIZE} so that learning has started before timing")
    th.set_num_threads(args.threads)
    np.random.seed(0)

    command = command_line("sb3_cartdqn.benchmarks.speed", argv)
    names = list(args.only) + ([f"cartdqn-without-{change}" for change in ABLATIONS] if args.ablation else [])
    results = run_benchmark(names, args.steps, args.warmup, args.repeats)
    print_header(command, args.repeats, args.steps, args.warmup)
    print(f"{'variant':<34}{'median steps/s':>16}{'µs/step':>10}   samples")
    for name, median in results["median_steps_per_s"].items():
        values = ", ".join(f"{v:.0f}" for v in results["samples"][name])
        print(f"{name:<34}{median:>16.0f}{1e6 / median:>10.0f}   [{values}]")
    for name, ratio in results["median_ratios"].items():
        print(f"{name:<44} {ratio:.2f}x (median of per-repeat ratios)")
    if not args.no_phases:
        phases = cartdqn_phases(args.steps, args.warmup)
        kernels = kernel_floor(max(200, args.steps))
        results["cartdqn_phases_us_per_step"] = phases
        results["kernel_floor_us"] = kernels
        print("CartDQN time per env step, by phase, beside the kernels each phase cannot avoid (µs):")
        print(f"  {'phase':<18}{'CartDQN':>9}{'kernels':>9}")
        for name, value in phases.items():
            print(f"  {name:<18}{value:>9.1f}{kernels.get(name, 0.0):>9.1f}")
    return record(results, command, args.out, steps=args.steps, warmup=args.warmup, repeats=args.repeats)


if __name__ == "__main__":
    main()
