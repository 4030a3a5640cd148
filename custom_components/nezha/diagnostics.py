"""Diagnostics: the entry, its options and the latest data, with secrets and addresses redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_PASSWORD, CONF_TOKEN, CONF_URL, CONF_USERNAME
from homeassistant.core import HomeAssistant

from .coordinator import NezhaConfigEntry

TO_REDACT = {
    CONF_PASSWORD,
    CONF_TOKEN,
    CONF_URL,
    CONF_USERNAME,
    "ipv4",
    "ipv6",
    "name",
    "title",
    "unique_id",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: NezhaConfigEntry
) -> dict[str, Any]:
    """Return diagnostics for a config entry."""
    coordinator = entry.runtime_data.coordinator
    snapshot = coordinator.data
    return async_redact_data(
        {
            "entry": entry.as_dict(),
            "options": dict(entry.options),
            "flavor": snapshot.flavor,
            "last_update_success": coordinator.last_update_success,
            "dashboard_time": snapshot.dashboard_time.isoformat(),
            "online_threshold": coordinator.online_threshold,
            "servers": [asdict(server) for server in snapshot.servers.values()],
        },
        TO_REDACT,
    )
