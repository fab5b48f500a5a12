"""BatchedCartDQN: one batched update equals N CartDQN updates, seeds stay independent, each seed exports as CartDQN."""

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.buffers import NStepReplayBuffer
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.logger import configure
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.type_aliases import ReplayBufferSamples

from sb3_cartdqn import CartDQN
from sb3_cartdqn.batched import BatchedCartDQN
from sb3_cartdqn.batched.replay import StackedBatch
from sb3_cartdqn.persistence.checkpoints import list_batched_checkpoints

SEEDS = [3, 7, 11]
SMALL = dict(learning_starts=64, batch_size=32, buffer_size=1000)


def _random_batch(n_seeds: int, batch_size: int, seed: int = 0, n_step: bool = False) -> StackedBatch:
    generator = th.Generator().manual_seed(seed)
    discounts = 0.99 ** th.randint(1, 4, (n_seeds, batch_size), generator=generator).float() if n_step else None
    return StackedBatch(
        observations=th.randn(n_seeds, batch_size, 4, generator=generator),
        actions=th.randint(0, 2, (n_seeds, batch_size), generator=generator),
        next_observations=th.randn(n_seeds, batch_size, 4, generator=generator),
        rewards=th.rand(n_seeds, batch_size, generator=generator) * 2,
        dones=(th.rand(n_seeds, batch_size, generator=generator) < 0.2).float(),
        discounts=discounts,
    )


def _seed_samples(batch: StackedBatch, index: int) -> ReplayBufferSamples:
    """Seed ``index``'s part of a stacked batch, as SB3's replay buffer hands it to ``CartDQN.train``."""
    return ReplayBufferSamples(
        batch.observations[index],
        batch.actions[index].unsqueeze(1),
        batch.next_observations[index],
        batch.dones[index].unsqueeze(1),
        batch.rewards[index].unsqueeze(1),
        None if batch.discounts is None else batch.discounts[index].unsqueeze(1),
    )


def _params(net) -> list[th.Tensor]:
    return [p.detach() for p in net.parameters()]


def test_initial_weights_are_cartdqns():
    batched = BatchedCartDQN("CartPole-v1", SEEDS, **SMALL)
    for index, seed in enumerate(SEEDS):
        model = CartDQN("MlpPolicy", "CartPole-v1", seed=seed, **SMALL)
        for a, b in zip(batched.q_net.seed_state(index), _params(model.q_net), strict=True):
            assert th.equal(a, b)
        for a, b in zip(batched.q_net_target.seed_state(index), _params(model.q_net_target), strict=True):
            assert th.equal(a, b)


@pytest.mark.parametrize("target", ["plain", "n-step", "double", "dueling"])
@pytest.mark.parametrize(
    "settings",
    [
        {},  # the tutorial's
        # large enough that a wrong tau, learning rate or target shows beyond the tolerance; a bound some gradients
        # exceed, so that clipping is exercised
        dict(tau=0.3, learning_rate=1e-3, gamma=0.9, clip_grad_value=0.05),
    ],
)
def test_batched_updates_equal_separate_cartdqn_updates(target, settings, monkeypatch):
    """
    Three gradient steps (so AdamW's moments and AMSGrad's maximum matter) on the same batches, for each target
    (``double``: Double DQN; ``dueling``: dueling networks, whose two streams the batch stacks as one layer). ``n-step``
    batches carry per-transition bootstrap discounts (as SB3's ``NStepReplayBuffer`` samples them; its sampling is compared
    in ``test_n_step_sampling_is_sb3s``).
    """
    kwargs = dict(SMALL, **settings)
    if target == "double":
        kwargs["double_q"] = True
    if target == "dueling":
        kwargs["policy_kwargs"] = dict(dueling=True)
    batched = BatchedCartDQN("CartPole-v1", SEEDS, **kwargs)
    models = [CartDQN("MlpPolicy", "CartPole-v1", seed=seed, **kwargs) for seed in SEEDS]
    for model in models:
        model.set_logger(configure(None, []))
    batches = [_random_batch(len(SEEDS), 32, seed=step, n_step=target == "n-step") for step in range(3)]
    for batch in batches:
        batched.gradient_step(batch)
    for index, model in enumerate(models):
        for batch in batches:
            samples = _seed_samples(batch, index)
            monkeypatch.setattr(model.fast_paths, "sample", lambda *args, samples=samples, **kw: samples)
            model.train(gradient_steps=1, batch_size=32)
        tolerance = dict(rtol=1e-5, atol=1e-7)
        for a, b in zip(batched.q_net.seed_state(index), _params(model.q_net), strict=True):
            th.testing.assert_close(a, b, **tolerance)
        for a, b in zip(batched.q_net_target.seed_state(index), _params(model.q_net_target), strict=True):
            th.testing.assert_close(a, b, **tolerance)
        exported = batched.to_cartdqn(index)
        for a, b in zip(
            exported.policy.optimizer.state_dict()["state"].values(),
            model.policy.optimizer.state_dict()["state"].values(),
            strict=True,
        ):
            for key in ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
                th.testing.assert_close(a[key], b[key], **tolerance)
    assert any(not th.equal(a, b) for a, b in zip(_params(models[0].q_net), _params(models[1].q_net), strict=True))


def test_double_q_target():
    """Double DQN: each seed's online network picks the next action, its target network values it."""
    batched = BatchedCartDQN("CartPole-v1", SEEDS, double_q=True, **SMALL)
    with th.no_grad():  # online and target networks apart, so that they disagree on some argmax
        for param in batched.q_net.params:
            param.add_(th.randn(param.shape, generator=th.Generator().manual_seed(0)) * 0.1)
    batch = _random_batch(len(SEEDS), 32, seed=10)
    with th.no_grad():
        targets = batched.td_targets(batch)
    for index, seed in enumerate(SEEDS):
        model = CartDQN("MlpPolicy", "CartPole-v1", seed=seed, **SMALL)
        batched.q_net.load_into(index, model.q_net)
        batched.q_net_target.load_into(index, model.q_net_target)
        with th.no_grad():
            next_obs = batch.next_observations[index]
            next_actions = model.q_net(next_obs).argmax(dim=1, keepdim=True)
            next_q = model.q_net_target(next_obs).gather(1, next_actions).squeeze(1)
            max_q = model.q_net_target(next_obs).max(dim=1).values
        expected = batch.rewards[index] + (1 - batch.dones[index]) * 0.99 * next_q
        th.testing.assert_close(targets[index], expected, rtol=1e-5, atol=1e-6)
        assert not th.allclose(next_q, max_q)  # the double target differs from the plain one here
    assert batched.to_cartdqn(0).double_q


def test_seeds_are_independent():
    """Changing one seed's data leaves every other seed's networks and optimizer state bit-identical."""
    runs = []
    for change in (False, True):
        batched = BatchedCartDQN("CartPole-v1", SEEDS, **SMALL)
        for step in range(3):
            batch = _random_batch(len(SEEDS), 32, seed=step)
            if change:
                batch.rewards[1] += 5.0
                batch.observations[1] *= -1
            batched.gradient_step(batch)
        runs.append(batched)
    original, changed = runs
    nets = ("q_net", "q_net_target")
    for name in nets:
        for a, b in zip(getattr(original, name).params, getattr(changed, name).params, strict=True):
            assert th.equal(a[[0, 2]], b[[0, 2]])
            assert not th.equal(a[1], b[1])
    for param_a, param_b in zip(original.q_net.params, changed.q_net.params, strict=True):
        state_a, state_b = original.optimizer.state[param_a], changed.optimizer.state[param_b]
        assert th.equal(state_a["exp_avg"][[0, 2]], state_b["exp_avg"][[0, 2]])


def test_cartpole_seeds_match_gymnasium_cartpole():
    """The vector CartPole gives seed s the trajectory of gym.make("CartPole-v1") seeded with s, resets included."""
    from sb3_cartdqn.batched.envs import BatchedCartPole

    envs = BatchedCartPole(SEEDS)
    singles = [gym.make("CartPole-v1") for _ in SEEDS]
    obs = envs.reset()
    for index, (env, seed) in enumerate(zip(singles, SEEDS, strict=True)):
        np.testing.assert_array_equal(obs[index], env.reset(seed=seed)[0])
    rng = np.random.default_rng(0)
    n_done = 0
    for _ in range(200):
        actions = rng.integers(0, 2, len(SEEDS))
        steps = envs.step(actions)
        for index, env in enumerate(singles):
            next_obs, reward, terminated, truncated, _ = env.step(int(actions[index]))
            np.testing.assert_allclose(steps.next_obs[index], next_obs, rtol=1e-6, atol=1e-7)
            assert (steps.rewards[index], steps.terminations[index], steps.truncations[index]) == (
                reward,
                terminated,
                truncated,
            )
            if terminated or truncated:
                n_done += 1
                np.testing.assert_allclose(steps.obs[index], env.reset()[0], rtol=1e-6, atol=1e-7)
    assert n_done > 5


def test_no_fake_transitions_from_next_step_autoreset():
    """Every stored transition is real: reward 1 (CartPoleVectorEnv's empty reset step has 0), and consecutive."""
    batched = BatchedCartDQN("CartPole-v1", SEEDS, learning_starts=1000, buffer_size=1000)
    batched.learn(400)
    replay = batched.replay
    assert replay.size() == 400
    assert th.all(replay.rewards[:, :400] == 1.0)
    ends = (replay.terminations[:, :399] > 0) | replay.truncations[:, :399]
    follows = (replay.next_observations[:, :399] == replay.observations[:, 1:400]).all(dim=2)
    assert th.all(follows | ends)  # within an episode, next_obs[t] is obs[t + 1]
    assert th.all(replay.observations[:, 1:400][ends].abs() <= 0.05)  # after an end: a fresh start state
    assert sum(map(len, batched.episode_returns)) == int(ends.sum()) + int(replay.terminations[:, 399].sum())


@pytest.mark.parametrize("env_kwargs", [None, dict(max_episode_steps=7)])  # time limits: truncations in the windows
def test_n_step_sampling_is_sb3s(env_kwargs):
    """Every n-step transition of a wrapped-around buffer equals what SB3's NStepReplayBuffer computes."""
    batched = BatchedCartDQN(
        "CartPole-v1",
        SEEDS[:2],
        learning_starts=1000,
        batch_size=8,
        buffer_size=50,
        n_steps=4,
        gamma=0.9,
        env_kwargs=env_kwargs,
    )
    batched.learn(137)  # full, the write position mid-buffer
    indices = np.arange(50)
    stacked = batched.replay.gather_n_step(np.stack([indices, indices]), n_steps=4, gamma=0.9)
    assert batched.replay.truncations.any() == (env_kwargs is not None)
    for index in range(2):
        model = batched.to_cartdqn(index)
        assert isinstance(model.replay_buffer, NStepReplayBuffer)
        samples = model.replay_buffer._get_samples(indices)
        th.testing.assert_close(samples.observations, stacked.observations[index])
        th.testing.assert_close(samples.actions.reshape(-1), stacked.actions[index])
        th.testing.assert_close(samples.next_observations, stacked.next_observations[index])
        th.testing.assert_close(samples.dones.reshape(-1), stacked.dones[index])
        th.testing.assert_close(samples.rewards.reshape(-1), stacked.rewards[index])
        th.testing.assert_close(samples.discounts.reshape(-1), stacked.discounts[index])


OPTIONS = {"tutorial": {}, "double-dueling": dict(double_q=True, policy_kwargs=dict(dueling=True))}


@pytest.mark.parametrize("options", OPTIONS.values(), ids=OPTIONS.keys())
def test_export_save_load_predict_and_resume(tmp_path, options):
    batched = BatchedCartDQN("CartPole-v1", SEEDS[:2], **SMALL, **options)
    batched.learn(300)
    model = batched.to_cartdqn(1)
    assert model.double_q == options.get("double_q", False)
    assert type(model.q_net).__name__ == ("DuelingQNetwork" if "policy_kwargs" in options else "QNetwork")
    assert model.num_timesteps == 300 and model._n_updates == 300 - 64 + 1
    obs = th.randn(5, 4)
    with th.no_grad():
        expected = batched.q_net(obs.expand(2, 5, 4).contiguous())[1]
        th.testing.assert_close(model.q_net(obs), expected, rtol=1e-5, atol=1e-6)
    # The replay buffer holds the same transitions, with SB3's done/timeout layout
    indices = np.arange(300)
    samples = model.replay_buffer._get_samples(indices)
    stored = batched.replay.gather(np.stack([indices, indices]))
    th.testing.assert_close(samples.observations, stored.observations[1])
    th.testing.assert_close(samples.next_observations, stored.next_observations[1])
    th.testing.assert_close(samples.actions.reshape(-1), stored.actions[1])
    th.testing.assert_close(samples.dones.reshape(-1), stored.dones[1])
    th.testing.assert_close(samples.rewards.reshape(-1), stored.rewards[1])

    paths = batched.save_seeds(tmp_path, replay_buffers=True)
    assert [path.name for path in paths] == [f"seed_{seed}.zip" for seed in SEEDS[:2]]
    loaded = CartDQN.load(paths[1], env=gym.make("CartPole-v1"))
    loaded.load_replay_buffer(tmp_path / f"seed_{SEEDS[1]}_replay.pkl")
    for a, b in zip(_params(loaded.q_net), _params(model.q_net), strict=True):
        assert th.equal(a, b)
    # The exported optimizer state continues each stream's AdamW moments
    for param, stacked in zip(loaded.policy.optimizer.state.values(), model.policy.optimizer.state.values(), strict=True):
        for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            assert th.equal(param[key], stacked[key])
    action, _ = loaded.predict(np.zeros(4, dtype=np.float32), deterministic=True)
    assert action in (0, 1)
    mean_reward, _ = evaluate_policy(loaded, loaded.get_env(), n_eval_episodes=2)
    assert mean_reward > 0
    loaded.learn(50, reset_num_timesteps=False)
    assert loaded.num_timesteps == 350 and loaded._n_updates == 300 - 64 + 1 + 50


def test_generic_env_list():
    batched = BatchedCartDQN("Acrobot-v1", [0, 1], learning_starts=16, batch_size=8, buffer_size=100)
    batched.learn(40)
    assert batched.replay.size() == 40 and batched._n_updates == 40 - 16 + 1
    model = batched.to_cartdqn(0)
    assert model.predict(np.zeros(6, dtype=np.float32), deterministic=True)[0] in (0, 1, 2)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(train_freq=(1, "episode")), "lockstep"),
        (dict(policy_kwargs=dict(optimizer_class=th.optim.SGD)), "fused AdamW"),
        (dict(policy_kwargs=dict(activation_fn=th.nn.ELU)), "activation_fn"),
    ],
)
def test_unsupported_options_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BatchedCartDQN("CartPole-v1", SEEDS, **kwargs)


def test_repeated_seeds_rejected():
    with pytest.raises(ValueError, match="seeds must differ"):
        BatchedCartDQN("CartPole-v1", [1, 1])


@pytest.mark.parametrize("train_freq, gradient_steps", [(4, 2), ((3, "step"), -1)])
def test_update_schedule_is_cartdqns(train_freq, gradient_steps):
    """As many gradient steps, at the same env steps' worth of data, as CartDQN's learn() does."""
    kwargs = dict(SMALL, train_freq=train_freq, gradient_steps=gradient_steps)
    batched = BatchedCartDQN("CartPole-v1", SEEDS[:1], **kwargs)
    model = CartDQN("MlpPolicy", "CartPole-v1", seed=SEEDS[0], **kwargs)
    batched.learn(300)
    model.learn(300)
    assert batched._n_updates == model._n_updates > 0
    assert batched.num_timesteps == model.num_timesteps


def test_vector_cartpole_only_where_it_is_the_same_env():
    from sb3_cartdqn.batched.envs import BatchedCartPole, SeedEnvList, make_seed_envs

    envs = make_seed_envs("CartPole-v0", [0, 1])
    assert isinstance(envs, BatchedCartPole) and envs.env.max_episode_steps == 200
    assert isinstance(make_seed_envs("CartPole-v1", [0, 1]), BatchedCartPole)
    assert isinstance(make_seed_envs("CartPole-v1", [0, 1], dict(sutton_barto_reward=True)), SeedEnvList)
    assert isinstance(make_seed_envs("Acrobot-v1", [0, 1]), SeedEnvList)


def test_one_tensorboard_run_per_seed(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    batched = BatchedCartDQN("CartPole-v1", SEEDS[:2], tensorboard_log=str(tmp_path), **SMALL)
    batched.learn(250, log_interval=100, eval_freq=125, n_eval_episodes=2)
    assert [step for step, _ in batched.evaluations] == [125, 250]
    assert batched.evaluations[-1][1].shape == (2, 2)
    batched.learn(50)  # continues the same runs
    for index, seed in enumerate(SEEDS[:2]):
        events = EventAccumulator(str(tmp_path / f"CartDQN_seed{seed}_1"))
        events.Reload()
        assert {"rollout/ep_rew_mean", "rollout/exploration_rate", "train/loss", "train/q_values"} <= set(
            events.Tags()["scalars"]
        )
        assert [event.step for event in events.Scalars("rollout/ep_rew_mean")] == [100, 200, 250, 300]
        assert events.Scalars("eval/mean_reward")[-1].value == batched.evaluations[-1][1][index].mean()
        window = batched.episode_returns[index][-100:]
        assert events.Scalars("rollout/ep_rew_mean")[-1].value == pytest.approx(np.mean(window))
    assert not (tmp_path / f"CartDQN_seed{SEEDS[0]}_2").exists()


def test_a_seed_trains_the_same_in_any_batch():
    """
    Seed 7 trained alone, or beside other seeds in any order, gives bit-identical weights and episodes: everything it
    draws comes from its own generators, and each seed's matrix products are computed apart (one thread, CPU).
    """
    runs = [BatchedCartDQN("CartPole-v1", seeds, **SMALL).learn(400) for seeds in ([7], [3, 7, 11], [11, 7])]
    positions = [0, 1, 1]
    reference = runs[0]
    for run, position in zip(runs[1:], positions[1:], strict=True):
        assert run.episode_returns[position] == reference.episode_returns[0]
        for a, b in zip(run.q_net.params, reference.q_net.params, strict=True):
            assert th.equal(a[position], b[0])


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Acrobot-v1"])
def test_evaluate_is_evaluate_policy_per_seed(env_id):
    """All seeds evaluated at once give the episodes SB3's evaluate_policy gives each exported model."""
    batched = BatchedCartDQN(env_id, SEEDS[:2], **SMALL)
    batched.learn(300)
    returns = batched.evaluate(n_eval_episodes=3)
    for index, seed in enumerate(SEEDS[:2]):
        env = Monitor(gym.make(env_id))
        env.reset(seed=seed + 10_000)
        expected, _ = evaluate_policy(
            batched.to_cartdqn(index), env, n_eval_episodes=3, deterministic=True, return_episode_rewards=True
        )
        assert list(returns[index]) == expected


def test_learning_rate_schedule_follows_cartdqns_progress():
    kwargs = dict(SMALL, learning_rate=lambda progress: 1e-3 * progress + 1e-5)
    batched = BatchedCartDQN("CartPole-v1", SEEDS[:1], **kwargs)
    model = CartDQN("MlpPolicy", "CartPole-v1", seed=SEEDS[0], **kwargs)
    batched.learn(150)
    model.learn(150)
    assert batched.optimizer.param_groups[0]["lr"] == model.policy.optimizer.param_groups[0]["lr"]
    assert batched.to_cartdqn(0)._current_progress_remaining == model._current_progress_remaining


def test_checkpoints_every_n_steps_resume_each_seed_as_cartdqn(tmp_path):
    batched = BatchedCartDQN("CartPole-v1", SEEDS[:2], **SMALL)
    batched.learn(200, checkpoint_freq=100, checkpoint_path=tmp_path)
    # CartDQN's checkpoint names (issue #21: one naming rule for both writers); no temporary folder left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batched_100_steps", "batched_200_steps"]
    assert [steps for steps, _ in list_batched_checkpoints(tmp_path)] == [100, 200]
    model = CartDQN.load(tmp_path / "batched_100_steps" / f"seed_{SEEDS[1]}.zip", env=gym.make("CartPole-v1"))
    model.load_replay_buffer(tmp_path / "batched_100_steps" / f"seed_{SEEDS[1]}_replay.pkl")
    assert model.num_timesteps == 100 and model.replay_buffer.size() == 100
    model.learn(20, reset_num_timesteps=False)
    assert model.num_timesteps == 120
    with pytest.raises(ValueError, match="needs checkpoint_path"):
        batched.learn(10, checkpoint_freq=5)


def test_learn_calls_after_env_step_and_times_on_its_clock():
    """The hook runs after every env step, before its gradient steps; evaluations are off the training clock."""
    batched = BatchedCartDQN("CartPole-v1", SEEDS[:2], **SMALL)
    steps, updates = [], []
    batched.learn(
        300,
        eval_freq=100,
        n_eval_episodes=2,
        after_env_step=lambda step: (steps.append(step), updates.append(batched._n_updates)),
    )
    assert steps == list(range(1, 301))
    assert updates[SMALL["learning_starts"] - 1] == 0  # at learning_starts: the hook runs before that step's update
    assert len(batched.evaluations_train_seconds) == len(batched.evaluations_train_cpu_seconds) == 3
    assert np.all(np.diff(batched.evaluations_train_cpu_seconds) > 0)
    assert batched.clock.excluded_wall >= batched.eval_seconds > 0
