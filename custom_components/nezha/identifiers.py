"""Device identifiers and unique ids: built here and parsed here, nowhere else.

The dashboard's device is ``{entry}``, a server's ``{entry}_{server}``, a service monitor's
``{entry}_service_{service}``. An entity's unique id is its device's suffix and its
description key; a traffic cycle's figure sits on its server's device, a scheduled task's
entities (``{entry}_cron_{task}_{key}``) on the dashboard's.
"""

from __future__ import annotations

from homeassistant.helpers import device_registry as dr

from .const import DOMAIN

_SERVICE = "service_"
_CRON = "cron_"


def dashboard_device(entry_id: str) -> tuple[str, str]:
    """The dashboard's device identifier."""
    return (DOMAIN, entry_id)


def server_device(entry_id: str, server_id: int) -> tuple[str, str]:
    """A server's device identifier."""
    return (DOMAIN, f"{entry_id}_{server_id}")


def service_device(entry_id: str, service_id: int) -> tuple[str, str]:
    """A service monitor's device identifier."""
    return (DOMAIN, f"{entry_id}_{_SERVICE}{service_id}")


def dashboard_unique_id(entry_id: str, key: str) -> str:
    """Unique id of one of the dashboard's own entities."""
    return f"{entry_id}_{key}"


def server_unique_id(entry_id: str, server_id: int, key: str) -> str:
    """Unique id of a server's entity."""
    return f"{entry_id}_{server_id}_{key}"


def service_unique_id(entry_id: str, service_id: int, key: str) -> str:
    """Unique id of a service monitor's entity."""
    return f"{entry_id}_{_SERVICE}{service_id}_{key}"


def cycle_unique_id(entry_id: str, server_id: int, cycle_id: int, key: str) -> str:
    """Unique id of a traffic cycle's figure for one server."""
    return f"{entry_id}_{server_id}_cycle_{cycle_id}_{key}"


def cron_unique_id(entry_id: str, task_id: int, key: str) -> str:
    """Unique id of a scheduled task's entity (on the dashboard's device)."""
    return f"{entry_id}_{_CRON}{task_id}_{key}"


def cron_of(entry_id: str, unique_id: str) -> int | None:
    """The scheduled task behind one of the entry's unique ids, if it is a task's."""
    head = f"{entry_id}_{_CRON}"
    if not unique_id.startswith(head):
        return None
    task, _, _ = unique_id.removeprefix(head).partition("_")
    return int(task) if task.isdecimal() else None


def _suffix_id(entry_id: str, device: dr.AnyDeviceEntry, prefix: str) -> int | None:
    head = f"{entry_id}_{prefix}"
    for domain, identifier in device.identifiers:
        if domain == DOMAIN and identifier.startswith(head):
            suffix = identifier.removeprefix(head)
            if suffix.isdecimal():
                return int(suffix)
    return None


def server_of(entry_id: str, device: dr.AnyDeviceEntry) -> int | None:
    """The server behind one of the entry's devices, if it is a server's."""
    return _suffix_id(entry_id, device, "")


def service_of(entry_id: str, device: dr.AnyDeviceEntry) -> int | None:
    """The service monitor behind one of the entry's devices, if it is one's."""
    return _suffix_id(entry_id, device, _SERVICE)
