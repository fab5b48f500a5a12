"""
RL Zoo integration: CartDQN as the RL Zoo algorithm ``cartdqn`` (see ``python -m sb3_cartdqn.zoo``).

- ``registration``: ``cartdqn`` in RL Zoo's registries (``ALGOS``, samplers), the 1-slot loader, the default config;
- ``hyperparams_files``: where the package's hyperparameter files are, and their one data-only reader;
- ``hyperparams_opt``: CartDQN's Optuna search space; ``multi_seed``: the multi-seed objective (an
  ``ExperimentManager`` subclass);
- ``cli``: ``python -m sb3_cartdqn.zoo SCRIPT``, RL Zoo's scripts with what each needs around it (``video``, ``hub``);
- ``adapters``: the only stand-ins for functions RL Zoo calls where it has no hook; ``process_state``: ``sys.argv``
  and environment variables for a block;
- ``run_folder_paths``: which run folder a script uses; ``run_folder_checks``: a run folder's files and model zip
  checked before RL Zoo reads them; ``script_inputs``: files a script's command line names (``plot_from_file``'s
  pickles, ``train``'s ``vecnormalize.pkl`` and ``-i`` agent) checked before it runs; ``yaml_files``: the one bounded
  YAML reader (size, aliases, nesting, duplicated keys);
- ``rl_zoo_hook``, ``rl_zoo_startup``: the opt-in hook that makes ``python -m rl_zoo3.SCRIPT --algo cartdqn`` work.
"""

from sb3_cartdqn.zoo.hyperparams_opt import convert_cartdqn_params, sample_cartdqn_params
from sb3_cartdqn.zoo.registration import (
    ALGO_NAME,
    OneSlotBufferLoader,
    default_config_path,
    one_slot_buffer_on_load,
    register_cartdqn,
)

__all__ = [
    "ALGO_NAME",
    "OneSlotBufferLoader",
    "convert_cartdqn_params",
    "default_config_path",
    "one_slot_buffer_on_load",
    "register_cartdqn",
    "sample_cartdqn_params",
]
