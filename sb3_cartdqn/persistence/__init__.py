"""
Everything about files: how CartDQN and ``BatchedCartDQN`` write models, replay buffers, policies and checkpoints as
data, and read them back without running code from the file unless the caller opts in.

- :mod:`~sb3_cartdqn.persistence.trust`: the one opt-in to run code stored in a file, and the errors loaders raise
- :mod:`~sb3_cartdqn.persistence.limits`: the size and depth limits of every loader, ``CARTDQN_MAX_FILE_BYTES``
- :mod:`~sb3_cartdqn.persistence.archive`: zip archives (model zips, npz, ``.pth``) read without trusting their directory
- :mod:`~sb3_cartdqn.persistence.torch_archive`: PyTorch's ``.pth`` archives checked, and bounded by the tensors they declare
- :mod:`~sb3_cartdqn.persistence.codec`: Python values as JSON data and back; the allow-list of classes files may name
- :mod:`~sb3_cartdqn.persistence.atomic`: crash-safe writes of a file or a folder (temporary sibling, fsync, rename)
- :mod:`~sb3_cartdqn.persistence.data_file`: data-only ``.npz`` files (a JSON header and arrays), pickles only opted in
- :mod:`~sb3_cartdqn.persistence.fields`: saved attributes as data, SB3's pickled fields behind the opt-in
- :mod:`~sb3_cartdqn.persistence.field_checks`: what a model's fields may set: names, ignored fields, values, bounds
- :mod:`~sb3_cartdqn.persistence.model_file`: the model zip: write it, check and read it, name what is wrong with it
- :mod:`~sb3_cartdqn.persistence.replay_file`: the replay buffer file, and whether it fits a model
- :mod:`~sb3_cartdqn.persistence.policy_file`: the policy file (``policy.save`` / ``Policy.load``)
- :mod:`~sb3_cartdqn.persistence.env_state`: the envs' state and ``VecNormalize``'s statistics, for checkpoints
- :mod:`~sb3_cartdqn.persistence.checkpoints`: checkpoint folders: names, writer, reader, callback, exact resume
"""
