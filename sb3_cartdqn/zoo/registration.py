"""Make CartDQN an RL Zoo algorithm named ``cartdqn``, without forking RL Zoo: add it to RL Zoo's own registries."""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rl_zoo3.hyperparams_opt import HYPERPARAMS_CONVERTER, HYPERPARAMS_SAMPLER
from rl_zoo3.utils import ALGOS

from sb3_cartdqn.cartdqn import CartDQN
from sb3_cartdqn.zoo.hyperparams_files import hyperparams_path
from sb3_cartdqn.zoo.hyperparams_opt import convert_cartdqn_params, sample_cartdqn_params

#: The key of CartDQN in RL Zoo (``--algo cartdqn``)
ALGO_NAME = "cartdqn"


def register_cartdqn(one_slot_buffer: bool = False) -> None:
    """
    Add CartDQN to RL Zoo's algorithm registry (``rl_zoo3.ALGOS``), hyperparameter samplers and trial converters.
    RL Zoo's scripts build their ``--algo`` choices from ``ALGOS`` when they create their parser,
    so call this before them. Calling it again changes nothing.

    :param one_slot_buffer: register a :class:`OneSlotBufferLoader` instead of the class, for the scripts that only
        load a model to run it (``enjoy``, ``record_video``, ``push_to_hub``); ``train`` needs the class itself
    """
    ALGOS[ALGO_NAME] = OneSlotBufferLoader(CartDQN) if one_slot_buffer else CartDQN  # type: ignore[assignment]
    HYPERPARAMS_SAMPLER[ALGO_NAME] = sample_cartdqn_params
    HYPERPARAMS_CONVERTER[ALGO_NAME] = convert_cartdqn_params


def default_config_path() -> Path:
    """
    :return: the hyperparameter file RL Zoo reads for ``--algo cartdqn`` when no ``-conf`` is given
        (``hyperparams/cartdqn.yml``, shipped inside the package)
    """
    return hyperparams_path(f"{ALGO_NAME}.yml")


class OneSlotBufferLoader:
    """
    Stands in for CartDQN in ``rl_zoo3.ALGOS`` while RL Zoo's ``enjoy``, ``record_video`` or ``push_to_hub`` runs.
    They give a 1-slot replay buffer only to the algorithm names in their own hard-coded lists (``dqn``, ``qrdqn``,
    ...); this ``load`` does the same for ``cartdqn``, so that watching an agent does not allocate its training buffer.
    ``__name__`` is the class's (``push_to_hub`` names the algorithm on the model card with it).

    :param algo_class: the algorithm class to load with
    """

    def __init__(self, algo_class: type[CartDQN] = CartDQN) -> None:
        self.algo_class = algo_class
        self.__name__ = algo_class.__name__

    def load(self, path: str, **kwargs: Any) -> CartDQN:
        """
        ``algo_class.load`` with ``buffer_size=1`` (and no memory-optimised buffer, which needs more than one slot),
        unless the caller sets them.

        :param path: the saved model
        :param kwargs: passed on to ``algo_class.load``
        :return: the loaded model
        """
        kwargs.setdefault("buffer_size", 1)
        kwargs.setdefault("optimize_memory_usage", False)
        return self.algo_class.load(path, **kwargs)


@contextmanager
def algos_set(entries: Mapping[str, Any]) -> Iterator[None]:
    """
    Within the block, ``rl_zoo3.ALGOS`` (RL Zoo's registry of algorithms, which its scripts look ``--algo`` up in)
    has ``entries``; after it, each name has its previous entry again (or none, where it had none).

    :param entries: algorithm name to class (or an object with the class's ``load``)
    """
    previous = {name: ALGOS.get(name) for name in entries}
    ALGOS.update(entries)  # type: ignore[arg-type]
    try:
        yield
    finally:
        for name, algo in previous.items():
            if algo is None:
                ALGOS.pop(name, None)
            else:
                ALGOS[name] = algo


@contextmanager
def one_slot_buffer_on_load() -> Iterator[None]:
    """
    Within the block, ``rl_zoo3.ALGOS["cartdqn"].load`` loads with a 1-slot replay buffer (see ``OneSlotBufferLoader``).
    Only for the scripts that run a model: ``train -i`` (continue training) must load the full buffer, so ``ALGOS``
    is restored after.
    """
    register_cartdqn()
    with algos_set({ALGO_NAME: OneSlotBufferLoader(CartDQN)}):
        yield
