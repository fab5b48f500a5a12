"""
Python values as JSON data, and back, without pickle: what CartDQN writes into its model zips, policy files,
replay buffers and checkpoints.

:func:`encode` turns a value into JSON-compatible data: plain JSON values stay as they are; arrays, NumPy scalars,
tensors, tuples, deques, random generators, Gymnasium spaces (by their parameters), SB3's schedules and ``TrainFreq``
(by their numbers) and classes (by name) become small tagged dicts ``{":data:": KIND, ...}``. Anything else raises
:class:`NotData`. :func:`decode` turns them back; classes are resolved from an allow-list (the policies, features
extractors, replay buffers, activation functions and optimizers CartDQN and SB3 ship, under their current names and
the names earlier versions recorded (:func:`recorded_names`), plus what :func:`allow_class` adds), never imported by
the name in the file unless the caller opted in (``trust_code``).
"""

import base64
import collections
import functools
import importlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces

from sb3_cartdqn.persistence.trust import shorten

#: The key marking a tagged value
TAG = ":data:"
#: Bit generators a saved ``np.random.Generator`` may name
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")

_user_classes: dict[str, type] = {}


class NotData(TypeError):
    """A value that cannot be written as data (a function, a lambda, an object of an unknown class)."""


class UntrustedClass(ValueError):
    """A file names a class outside the allow-list, and the caller did not opt in to importing it."""

    def __init__(self, name: str) -> None:
        super().__init__(f"names the class {shorten(name)}, which is not in CartDQN's allow-list")
        self.name = name


def class_name(cls: type) -> str:
    """
    :param cls: a class
    :return: ``module:qualname``, how files name it
    """
    return f"{cls.__module__}:{cls.__qualname__}"


def allow_class(cls: type) -> type:
    """
    Let files name ``cls`` (e.g. your own features extractor in ``policy_kwargs``) and load without the opt-in.
    Usable as a class decorator.

    :param cls: the class
    :return: ``cls``
    """
    _user_classes[class_name(cls)] = cls
    return cls


def allowed_classes() -> dict[str, type]:
    """
    :return: every class a file may name without the opt-in, by :func:`class_name`
    """
    from rl_zoo3.utils import SimpleLinearSchedule
    from stable_baselines3.common import buffers, torch_layers, type_aliases, utils
    from torch import nn

    from sb3_cartdqn.common import exploration
    from sb3_cartdqn.common import torch_layers as cartdqn_layers

    classes: list[type] = [
        cartdqn_layers.TutorialCNN,
        exploration.ExponentialEpsilon,
        torch_layers.FlattenExtractor,
        torch_layers.NatureCNN,
        torch_layers.CombinedExtractor,
        buffers.ReplayBuffer,
        buffers.DictReplayBuffer,
        buffers.NStepReplayBuffer,
        utils.FloatSchedule,
        utils.ConstantSchedule,
        utils.LinearSchedule,
        SimpleLinearSchedule,
        type_aliases.TrainFreq,
        type_aliases.TrainFrequencyUnit,
        nn.Identity,
        spaces.Box,
        spaces.Discrete,
        spaces.MultiDiscrete,
        spaces.MultiBinary,
        spaces.Dict,
        spaces.Tuple,
    ]
    classes += [getattr(nn.modules.activation, name) for name in nn.modules.activation.__all__]
    classes += [
        value for value in vars(th.optim).values() if isinstance(value, type) and issubclass(value, th.optim.Optimizer)
    ]
    return {**{class_name(cls): cls for cls in classes}, **recorded_names(), **_user_classes}


def recorded_names() -> dict[str, type]:
    """
    The names files written by earlier versions of sb3-cartdqn record for its own classes (``module:qualname`` as it
    was when they were written, e.g. by commit e0b00fd), each mapped to the class wherever it lives now: a class that
    moves keeps its old name here, so those files still load without the opt-in (``tests/test_legacy_files.py``).

    :return: recorded name -> class
    """
    from sb3_cartdqn.cartdqn import policies
    from sb3_cartdqn.common import exploration, torch_layers

    return {
        "sb3_cartdqn.cartdqn.policies:CartDQNPolicy": policies.CartDQNPolicy,
        "sb3_cartdqn.cartdqn.policies:CnnPolicy": policies.CnnPolicy,
        "sb3_cartdqn.cartdqn.policies:MultiInputPolicy": policies.MultiInputPolicy,
        "sb3_cartdqn.common.exploration:ExponentialEpsilon": exploration.ExponentialEpsilon,
        "sb3_cartdqn.common.torch_layers:TutorialCNN": torch_layers.TutorialCNN,
    }


def resolve_class(name: str, trust_code: bool) -> type:
    """
    :param name: ``module:qualname`` as written by :func:`class_name`
    :param trust_code: import a class outside the allow-list (runs that module's code)
    :return: the class
    :raises UntrustedClass: if it is outside the allow-list and ``trust_code`` is False
    """
    allowed = allowed_classes()
    if name in allowed:
        return allowed[name]
    if not trust_code:
        raise UntrustedClass(name)
    module, _, qualname = name.partition(":")
    value: Any = importlib.import_module(module)
    for part in qualname.split("."):
        value = getattr(value, part)
    if not isinstance(value, type):
        raise ValueError(f"{shorten(name)} is not a class")
    return value


def _array(value: np.ndarray) -> dict[str, Any]:
    if value.dtype.hasobject or value.dtype.kind not in "biufcSU":
        raise NotData(f"an array of dtype {value.dtype}")
    value = np.ascontiguousarray(value)
    return {
        TAG: "ndarray",
        "dtype": value.dtype.str,
        "shape": list(value.shape),
        "bytes": base64.b64encode(value.tobytes()).decode(),
    }


def _decode_array(item: dict[str, Any]) -> np.ndarray:
    dtype = np.dtype(item["dtype"])
    if dtype.hasobject:
        raise ValueError(f"an array of dtype {dtype}")
    shape = tuple(int(n) for n in item["shape"])
    return np.frombuffer(base64.b64decode(item["bytes"]), dtype=dtype).reshape(shape).copy()


def _generator(state: Any) -> np.random.Generator | None:
    if state is None:
        return None
    state = decode(state)
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if name not in _BIT_GENERATORS:
        raise ValueError(f"unknown bit generator {shorten(name)}")
    generator = np.random.Generator(getattr(np.random, name)())
    generator.bit_generator.state = state
    return generator


def _space_state(space: spaces.Space) -> dict[str, Any]:
    state: dict[str, Any]
    if isinstance(space, spaces.Box):
        state = {"low": space.low, "high": space.high, "dtype": space.dtype.str}
    elif isinstance(space, spaces.Discrete):
        state = {"n": int(space.n), "start": int(space.start)}
    elif isinstance(space, spaces.MultiDiscrete):
        state = {"nvec": space.nvec, "start": space.start, "dtype": space.dtype.str}
    elif isinstance(space, spaces.MultiBinary):
        state = {"n": space.n}
    elif isinstance(space, spaces.Dict):
        state = {"spaces": list(space.spaces.items())}
    else:
        assert isinstance(space, spaces.Tuple)
        state = {"spaces": list(space.spaces)}
    return {**state, "np_random": space._np_random}


def _space(cls: type[spaces.Space], state: dict[str, Any], trust_code: bool) -> spaces.Space:
    state = {key: decode(value, trust_code) for key, value in state.items()}
    np_random = state.pop("np_random", None)
    subspaces = [sub for _, sub in state["spaces"]] if cls is spaces.Dict else state.get("spaces", [])
    if not all(isinstance(sub, spaces.Space) for sub in subspaces) or not isinstance(np_random, np.random.Generator | None):
        raise ValueError(f"a {cls.__name__} holding something other than spaces and a random generator")
    space: spaces.Space
    if cls is spaces.Box:
        space = spaces.Box(state["low"], state["high"], dtype=np.dtype(state["dtype"]))
    elif cls is spaces.Discrete:
        space = spaces.Discrete(int(state["n"]), start=int(state["start"]))
    elif cls is spaces.MultiDiscrete:
        space = spaces.MultiDiscrete(state["nvec"], dtype=np.dtype(state["dtype"]), start=state["start"])
    elif cls is spaces.MultiBinary:
        space = spaces.MultiBinary(state["n"])
    elif cls is spaces.Dict:
        space = spaces.Dict(collections.OrderedDict((str(key), sub) for key, sub in state["spaces"]))
    else:
        space = spaces.Tuple(state["spaces"])
    space._np_random = np_random  # type: ignore[assignment]
    return space


def _objects() -> dict[type, tuple[Callable[[Any], dict[str, Any]], Callable[[dict[str, Any], bool], Any]]]:
    """The classes written by their numbers: class -> (to state, from state)."""
    from rl_zoo3.utils import SimpleLinearSchedule
    from stable_baselines3.common.type_aliases import TrainFreq, TrainFrequencyUnit
    from stable_baselines3.common.utils import ConstantSchedule, FloatSchedule, LinearSchedule

    from sb3_cartdqn.common.exploration import ExponentialEpsilon

    def numbers(cls: type, *fields: str) -> tuple[Callable[[Any], dict[str, Any]], Callable[[dict[str, Any], bool], Any]]:
        return (
            lambda obj: {field: getattr(obj, field) for field in fields},
            lambda state, trust: cls(*(decode(state[field], trust) for field in fields)),
        )

    table: dict[type, tuple[Callable[[Any], dict[str, Any]], Callable[[dict[str, Any], bool], Any]]] = {
        ConstantSchedule: numbers(ConstantSchedule, "val"),
        LinearSchedule: numbers(LinearSchedule, "start", "end", "end_fraction"),
        FloatSchedule: numbers(FloatSchedule, "value_schedule"),
        # RL Zoo's "lin_<value>" learning rates (hyperparameter files, the robust preset)
        SimpleLinearSchedule: numbers(SimpleLinearSchedule, "initial_value"),
        ExponentialEpsilon: numbers(ExponentialEpsilon, "initial", "final", "decay"),
        TrainFreq: numbers(TrainFreq, "frequency", "unit"),
        TrainFrequencyUnit: numbers(TrainFrequencyUnit, "value"),
    }
    for space_class in (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary, spaces.Dict, spaces.Tuple):
        table[space_class] = (_space_state, functools.partial(_space, space_class))
    return table


def encode(value: Any, arrays: list[np.ndarray] | None = None) -> Any:  # noqa: C901
    """
    :param value: a value to write
    :param arrays: if given, arrays are appended to it and referred to by their entry name ``array_<index>``
        (for an npz file, see :mod:`sb3_cartdqn.persistence.data_file`) instead of written inline
    :return: JSON-compatible data that :func:`decode` turns back into an equal value
    :raises NotData: if ``value`` (or something inside it) cannot be written as data
    """
    if value is None or type(value) in (bool, int, float, str):
        return value
    objects = _objects()
    if type(value) in objects:
        to_state, _ = objects[type(value)]
        return {TAG: "object", "class": class_name(type(value)), "state": encode(to_state(value))}
    if isinstance(value, type):
        if "<locals>" in value.__qualname__ or value.__module__ == "__main__":
            raise NotData(f"the class {value.__qualname__}, defined where it cannot be imported by name")
        return {TAG: "class", "name": class_name(value)}
    if isinstance(value, np.ndarray):
        if arrays is not None and not value.dtype.hasobject:
            arrays.append(value)
            return {TAG: "npz", "entry": f"array_{len(arrays) - 1}"}
        return _array(value)
    if isinstance(value, np.generic):
        return {**_array(np.asarray(value)), TAG: "scalar"}
    if isinstance(value, th.Tensor):
        return {TAG: "tensor", "array": _array(value.detach().cpu().numpy())}
    if isinstance(value, np.random.Generator):
        return {TAG: "generator", "state": encode(value.bit_generator.state)}
    if isinstance(value, bytes):
        return {TAG: "bytes", "base64": base64.b64encode(value).decode()}
    if type(value) is list:
        return [encode(item, arrays) for item in value]
    if type(value) is tuple:
        return {TAG: "tuple", "items": [encode(item, arrays) for item in value]}
    if type(value) is collections.deque:
        return {TAG: "deque", "items": [encode(item, arrays) for item in value], "maxlen": value.maxlen}
    if type(value) in (dict, collections.OrderedDict):
        if all(isinstance(key, str) and not key.startswith(":") for key in value):
            return {key: encode(item, arrays) for key, item in value.items()}
        return {TAG: "dict", "items": [[encode(key), encode(item, arrays)] for key, item in value.items()]}
    raise NotData(f"a {type(value).__module__}.{type(value).__qualname__}")


def decode(value: Any, trust_code: bool = False, arrays: Mapping[str, np.ndarray] | None = None) -> Any:  # noqa: C901
    """
    :param value: what :func:`encode` returned (after a JSON round trip)
    :param trust_code: import classes outside the allow-list by the name in the file
    :param arrays: the arrays ``encode`` set aside, by entry name
    :return: the value
    :raises UntrustedClass: if it names a class outside the allow-list and ``trust_code`` is False
    :raises ValueError: if it is malformed
    """
    if isinstance(value, list):
        return [decode(item, trust_code, arrays) for item in value]
    if not isinstance(value, dict):
        return value
    kind = value.get(TAG)
    if kind is None:
        return {key: decode(item, trust_code, arrays) for key, item in value.items()}
    if kind == "npz":
        if arrays is None or value["entry"] not in arrays:
            raise ValueError(f"no array {shorten(value['entry'])}")
        return arrays[value["entry"]]
    if kind == "ndarray":
        return _decode_array(value)
    if kind == "scalar":
        return _decode_array(value)[()]
    if kind == "tensor":
        return th.from_numpy(_decode_array(value["array"]))
    if kind == "generator":
        return _generator(value["state"])
    if kind == "bytes":
        return base64.b64decode(value["base64"])
    if kind == "tuple":
        return tuple(decode(item, trust_code, arrays) for item in value["items"])
    if kind == "deque":
        return collections.deque((decode(item, trust_code, arrays) for item in value["items"]), maxlen=value["maxlen"])
    if kind == "dict":
        return {decode(key, trust_code): decode(item, trust_code, arrays) for key, item in value["items"]}
    if kind == "class":
        return resolve_class(str(value["name"]), trust_code)
    if kind == "object":
        cls = resolve_class(str(value["class"]), trust_code)
        objects = _objects()
        if cls not in objects:
            raise ValueError(f"{shorten(value['class'])} is not written by its numbers")
        _, from_state = objects[cls]
        return from_state(value["state"], trust_code)
    raise ValueError(f"unknown kind of value {shorten(kind)}")
