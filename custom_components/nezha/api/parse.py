"""Strict, tolerant readers for decoded JSON, shared by every dashboard line.

Missing keys and JSON null read as the zero value (dashboards leave them out or send null);
a value of the wrong type raises ``NezhaResponseError`` so bad data never reaches a model.
The lines differ only in their keys: each declares its key tables once, read here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from math import isfinite
from typing import Any, Final

from .errors import NezhaResponseError
from .models import ServerHost, Temperature

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


def label(obj: JsonObject, item_id: int, key: str = "name") -> str:
    """An item's name; ``#<id>`` when the dashboard gives none, so that it can be told apart."""
    return get_str(obj, key) or f"#{item_id}"


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


def timestamp(seconds: int) -> datetime | None:
    """Unix seconds to an aware datetime; 0 and Go's zero time (negative) mean "never"."""
    if seconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as err:
        raise NezhaResponseError("timestamp out of range") from err


def get_timestamp(obj: JsonObject, key: str) -> datetime | None:
    """Read Unix seconds as a datetime (absent and zero are None)."""
    return timestamp(get_int(obj, key))


type Reader = Callable[[JsonObject, str], Any]

# How each field of the models is read; each dashboard line names the JSON key of every
# field once (``v0.HOST_KEYS``, ``v1v2.STATE_KEYS``, ...).
HOST_READERS: Final[Mapping[str, Reader]] = {
    "platform": get_str,
    "platform_version": get_str,
    "cpu": get_str_tuple,
    "mem_total": get_int,
    "disk_total": get_int,
    "swap_total": get_int,
    "arch": get_str,
    "virtualization": get_str,
    "boot_time": get_timestamp,
    "agent_version": get_str,
    "gpu": get_str_tuple,
}
STATUS_READERS: Final[Mapping[str, Reader]] = {
    "cpu": get_float,
    "mem_used": get_int,
    "swap_used": get_int,
    "disk_used": get_int,
    "net_in_transfer": get_int,
    "net_out_transfer": get_int,
    "net_in_speed": get_int,
    "net_out_speed": get_int,
    "uptime": get_int,
    "load_1": get_float,
    "load_5": get_float,
    "load_15": get_float,
    "tcp_connections": get_int,
    "udp_connections": get_int,
    "processes": get_int,
}


def read_fields(obj: JsonObject, keys: Mapping[str, str], readers: Mapping[str, Reader]) -> Any:
    """The model fields named in ``keys`` (field → JSON key), each read by its reader."""
    return {field: readers[field](obj, key) for field, key in keys.items()}


def read_temperatures(obj: JsonObject, key: str) -> tuple[Temperature, ...]:
    """The agent's temperature sensors; every line keeps Go's field names inside."""
    return tuple(
        Temperature(name=get_str(item, "Name"), celsius=get_float(item, "Temperature"))
        for item in get_object_list(obj, key)
    )


def dashboard_time(headers: Mapping[str, str]) -> datetime:
    """The dashboard's clock from an answer's Date header, or ours when it sent none."""
    value = headers.get("Date")
    if value:
        try:
            when = parsedate_to_datetime(value)
        except TypeError, ValueError:
            pass
        else:
            if when.tzinfo is not None:
                return when
    return datetime.now(UTC)


class HostCache:
    """The hosts the last answer built, by server id, with the JSON they came from.

    A host changes when its agent restarts, not between refreshes: an unchanged JSON object
    gives back the same model, so a refresh builds nothing new for it.
    """

    def __init__(self) -> None:
        """Empty: the first answer builds every host."""
        self._hosts: dict[int, tuple[JsonObject, str, ServerHost]] = {}

    def host(
        self,
        server_id: int,
        obj: JsonObject,
        country_code: str,
        build: Callable[[], ServerHost],
    ) -> ServerHost:
        """The host for ``obj``: the kept one when the JSON is the same, else ``build()``."""
        kept = self._hosts.get(server_id)
        if kept is not None and kept[1] == country_code and kept[0] == obj:
            return kept[2]
        host = build()
        self._hosts[server_id] = (obj, country_code, host)
        return host

    def keep_only(self, server_ids: Iterable[int]) -> None:
        """Forget servers no longer listed."""
        listed = set(server_ids)
        for server_id in self._hosts.keys() - listed:
            self._hosts.pop(server_id, None)
