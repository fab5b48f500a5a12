"""
What CartDQN and ``BatchedCartDQN`` share: the tutorial's rules, written once.

- :mod:`~sb3_cartdqn.common.defaults`: the tutorial's settings (``TUTORIAL``), the one source of every default
- :mod:`~sb3_cartdqn.common.exploration`: the exponential epsilon schedule and epsilon-greedy acting
- :mod:`~sb3_cartdqn.common.q_learning`: the tutorial's ``optimize_model``: TD target, Q of the actions taken, Huber
  loss, the gradient step with clipping, AdamW and the soft target update
- :mod:`~sb3_cartdqn.common.fast_paths`: faster forms of the torch calls a gradient step makes (the same values)
- :mod:`~sb3_cartdqn.common.checked_algorithm`: what every CartDQN needs beyond the tutorial (its learning start,
  finite checks, atomic save, checked load), as SB3's ``OffPolicyAlgorithm`` subclass ``CheckedOffPolicyAlgorithm``
- :mod:`~sb3_cartdqn.common.checks`: the validation of every argument and option
- :mod:`~sb3_cartdqn.common.evaluation`: evaluation rules: seed offsets, the solved threshold, first-reaching, tables
- :mod:`~sb3_cartdqn.common.torch_layers`: the pixel variant's CNN; :mod:`~sb3_cartdqn.common.callbacks`: the
  tutorial's durations plot
"""
