"""The errors CartDQN's loaders raise: each names the file and what to do."""


class ModelFileError(ValueError):
    """A file given to ``CartDQN.load`` (or a checkpoint) is missing, truncated, corrupt or not a CartDQN model."""


class UntrustedFileError(ModelFileError):
    """A file carries code (a pickle, a cloudpickled field, a class to import, an expression) and the caller did not opt in."""
