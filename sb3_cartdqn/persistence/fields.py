"""
Saved attributes as data (a model zip's ``data`` entry, a policy file's constructor arguments): every attribute
written with :mod:`sb3_cartdqn.persistence.codec`, read back without unpickling anything.

SB3 cloudpickles every attribute that is not plain JSON (spaces, schedules, classes, arrays) into a
``":serialized:"`` field, and ``json_to_data`` unpickles it on load: opening a model runs whatever code it carries.
Here such a field is refused unless the caller opts in (:mod:`sb3_cartdqn.persistence.trust`), so models written by SB3
or earlier versions of sb3-cartdqn still load with ``trust_code=True``. Only a value that is not data at all
(e.g. a ``lambda`` learning rate) is still written SB3's way, with a warning that loading it will need the opt-in.
"""

import json
import warnings
from typing import Any

from stable_baselines3.common.save_util import data_to_json, json_to_data

from sb3_cartdqn.persistence.codec import NotData, UntrustedClass, decode, encode
from sb3_cartdqn.persistence.trust import ModelFileError, refuse, shorten

#: The key of a field SB3 wrote with cloudpickle
SERIALIZED = ":serialized:"


def encode_fields(data: dict[str, Any], writer: str) -> dict[str, Any]:
    """
    :param data: attribute name -> value
    :param writer: the function writing, for the warning
    :return: attribute name -> JSON-compatible data; a value that is not data is cloudpickled as SB3 does, with a
        warning
    """
    encoded = {}
    for key, value in data.items():
        try:
            encoded[key] = encode(value)
        except NotData as error:
            warnings.warn(
                f"{writer}: {key!r} holds {error}, which cannot be written as data: it is pickled (Stable-Baselines3's "
                f"format), and loading the file will need trust_code=True or custom_objects={{{key!r}: ...}}."
            )
            encoded[key] = json.loads(data_to_json({key: value}))[key]
    return encoded


def decode_fields(
    fields: Any,
    name: str,
    loader: str,
    custom_objects: dict[str, Any] | None = None,
    trust_code: bool = False,
) -> dict[str, Any]:
    """
    Check every field first, then decode: a field that carries code is refused before anything is unpickled.

    :param fields: the parsed JSON object
    :param name: the file, for messages
    :param loader: the function loading, for messages
    :param custom_objects: values to use instead of the stored ones (those fields are neither checked nor decoded)
    :param trust_code: unpickle ``":serialized:"`` fields and import classes outside the allow-list
    :return: attribute name -> value
    :raises UntrustedFileError: if a field carries code and ``trust_code`` is False
    :raises ModelFileError: if a field is malformed
    """
    if not isinstance(fields, dict):
        raise ModelFileError(f"{loader}: {name} holds a {type(fields).__name__} instead of fields: the file is corrupt.")
    custom_objects = custom_objects or {}
    if not isinstance(custom_objects, dict):
        raise ValueError(f"{loader}: custom_objects must be a dict or None, not {type(custom_objects).__name__}.")
    untrusted = [
        f"{shorten(key)} (a pickled {shorten(value.get(':type:', 'object'))})"
        for key, value in fields.items()
        if key not in custom_objects and isinstance(value, dict) and SERIALIZED in value
    ]
    if untrusted and not trust_code:
        raise refuse(loader, name, f"its field(s) {', '.join(untrusted)} hold pickles")
    decoded: dict[str, Any] = {}
    for key, value in fields.items():
        if key in custom_objects:
            decoded[key] = custom_objects[key]
        elif isinstance(value, dict) and SERIALIZED in value:
            decoded.update(json_to_data(json.dumps({key: value})))  # SB3's cloudpickle: the caller opted in
        else:
            try:
                decoded[key] = decode(value, trust_code)
            except UntrustedClass as error:
                raise refuse(loader, name, f"its field {shorten(key)} {error}") from None
            except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as error:
                raise ModelFileError(
                    f"{loader}: {name} has an unreadable field {shorten(key)} ({type(error).__name__}: "
                    f"{shorten(error)}): the file is corrupt or was not written by sb3-cartdqn."
                ) from error
    return decoded
