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
    # Free text the user wrote on the dashboard (billing, contacts...).
    "public_note",
    # Alerts: whoever knows these could fire events in Home Assistant.
    "secret",
    "webhook_id",
    "server_name",
    "title",
    "unique_id",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: NezhaConfigEntry
) -> dict[str, Any]:
    """Return diagnostics for a config entry."""
    coordinator = entry.runtime_data.coordinator
    snapshot = coordinator.data
    services = entry.runtime_data.services
    service_data: dict[str, Any] | None = None
    if services is not None and services.data is not None:
        service_data = {
            "last_update_success": services.last_update_success,
            "services": [asdict(service) for service in services.data.services.values()],
            "cycles": [asdict(cycle) for cycle in services.data.cycles.values()],
        }
    return async_redact_data(
        {
            "entry": entry.as_dict(),
            "options": dict(entry.options),
            "flavor": snapshot.flavor,
            "last_update_success": coordinator.last_update_success,
            "dashboard_time": snapshot.dashboard_time.isoformat(),
            "online_threshold": coordinator.online_threshold,
            "stream_connected": coordinator.stream_connected,
            "servers": [asdict(server) for server in snapshot.servers.values()],
            "services": service_data,
            "scheduled_tasks": None
            if (cron := entry.runtime_data.cron) is None or cron.data is None
            else {
                "last_update_success": cron.last_update_success,
                "tasks": [asdict(task) for task in cron.data.values()],
            },
            "alerts": None
            if (alerts := entry.runtime_data.alerts) is None
            else {
                "language": alerts.language,
                "received": alerts.received,
                "refused": alerts.refused,
                "dropped_outside_tags": alerts.dropped_outside_tags,
            },
            "history": None
            if (history := entry.runtime_data.history) is None
            else history.as_dict(),
        },
        TO_REDACT,
    )
