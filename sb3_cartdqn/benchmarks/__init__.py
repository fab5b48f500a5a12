"""
Benchmarks, each a command: ``python -m sb3_cartdqn.benchmarks.speed`` (env steps per second beside SB3's DQN, the
tutorial's loop and the kernel floor), ``.batched`` (seed-steps per second of the seed-batched trainer), ``.memory``
(peak memory over a long run) and ``.pixel`` (the pixel variant's screen pipeline).
"""
