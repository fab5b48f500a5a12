"""SB3's test_identity, adapted: CartDQN learns the identity task."""

from stable_baselines3.common.envs import IdentityEnv
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_cartdqn import CartDQN


def test_identity_discrete():
    env = DummyVecEnv([lambda: IdentityEnv(4)])
    model = CartDQN("MlpPolicy", env, gamma=0.4, learning_rate=1e-3, exploration_decay=500, seed=3)
    model.learn(3000)
    mean_reward, _ = evaluate_policy(model, env, n_eval_episodes=20, warn=False)
    assert mean_reward >= 90  # episodes of 100 steps, reward 1 per correct action
