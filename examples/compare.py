"""
Compare CartDQN with stock SB3 DQN and QR-DQN on CartPole-v1 (5 seeds, 50k env steps each, 2 worker processes):

    python examples/compare.py --seeds 5 --timesteps 50000 --jobs 2 --out results/compare

Takes every flag of ``python -m sb3_cartdqn.compare --help``.
"""

from sb3_cartdqn.compare import main

if __name__ == "__main__":
    main()
