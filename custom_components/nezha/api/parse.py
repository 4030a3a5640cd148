"""Strict, tolerant readers for decoded JSON.

Missing keys and JSON null read as the zero value (dashboards leave them out or send null);
a value of the wrong type raises ``NezhaResponseError`` so bad data never reaches a model.
"""

from __future__ import annotations

from collections.abc import Mapping
from math import isfinite
from typing import Any

from .errors import NezhaResponseError

type JsonObject = Mapping[str, Any]

_EMPTY: JsonObject = {}


def wrong(what: str, key: str) -> NezhaResponseError:
    """Build the error for a field of the wrong type."""
    return NezhaResponseError(f"field '{key}' is not {what}")


# The dashboard's integers are Go int64/uint64; beyond that (orjson reads such a literal as a
# float) a number is corrupt, and arithmetic on it could overflow a float later.
_INT_LIMIT = 2**64


def get_int(obj: JsonObject, key: str) -> int:
    """Read an integer; floats with an integral value are accepted."""
    value = obj.get(key)
    if value is None:
        return 0
    if type(value) is float and isfinite(value) and value.is_integer():
        value = int(value)
    if type(value) is int and -_INT_LIMIT < value < _INT_LIMIT:
        return value
    raise wrong("an integer", key)


def get_float(obj: JsonObject, key: str) -> float:
    """Read a finite number as float."""
    value = obj.get(key)
    if value is None:
        return 0.0
    if type(value) is float:
        if isfinite(value):
            return value
    elif type(value) is int:
        return float(value)
    raise wrong("a number", key)


def get_optional_float(obj: JsonObject, key: str) -> float | None:
    """Read a number that may be absent, keeping absence distinct from zero."""
    if obj.get(key) is None:
        return None
    return get_float(obj, key)


def get_str(obj: JsonObject, key: str) -> str:
    """Read a string."""
    value = obj.get(key)
    if value is None:
        return ""
    if type(value) is str:
        return value
    raise wrong("a string", key)


def get_str_tuple(obj: JsonObject, key: str) -> tuple[str, ...]:
    """Read a list of strings (null and absent are empty)."""
    value = obj.get(key)
    if value is None:
        return ()
    if type(value) is list and all(type(item) is str for item in value):
        return tuple(value)
    raise wrong("a list of strings", key)


def get_object(obj: JsonObject, key: str) -> JsonObject:
    """Read a nested object (null and absent are empty)."""
    value = obj.get(key)
    if value is None:
        return _EMPTY
    if type(value) is dict:
        return value
    raise wrong("an object", key)


def get_object_list(obj: JsonObject, key: str) -> list[JsonObject]:
    """Read a list of objects (null and absent are empty)."""
    value = obj.get(key)
    if value is None:
        return []
    if type(value) is list and all(type(item) is dict for item in value):
        return value
    raise wrong("a list of objects", key)
