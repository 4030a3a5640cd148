"""The "when a Nezha alert fires → notify" blueprint, fed by a real delivery of the fake."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import async_mock_service

from custom_components.nezha.const import CONF_ALERT_GROUPS, CONF_ALERTS
from fake_dashboard.actions import FakeGroup
from tests.actions_support import ENTRY_ID, entity_id, make_entry, set_up, start_dashboard
from tests.helpers import Clock

BLUEPRINTS = Path(__file__).parent.parent / "blueprints"


async def test_alert_blueprint_notifies(
    hass: HomeAssistant,
    tmp_path: Path,
    clock: Clock,
    socket_enabled: None,
    hass_client_no_auth: Callable[[], Awaitable[TestClient[Any, Any]]],
) -> None:
    """An incident is passed on with the dashboard's message; an unwanted kind is not."""
    fake = await start_dashboard(clock, "v1")
    try:
        fake.language = "en-US"
        fake.notification_groups = {1: FakeGroup("Ops")}
        assert await async_setup_component(hass, "webhook", {})
        client = await hass_client_no_auth()
        await hass.config.async_update(internal_url=str(client.make_url("/")))
        await set_up(hass, make_entry(fake, **{CONF_ALERTS: True, CONF_ALERT_GROUPS: ["1"]}))
        alert = entity_id(hass, "event", f"{ENTRY_ID}_1_alert")
        assert alert is not None

        calls = async_mock_service(hass, "notify", "send_message")
        hass.config.config_dir = str(tmp_path)
        (tmp_path / "blueprints").symlink_to(BLUEPRINTS, target_is_directory=True)
        assert await async_setup_component(hass, "persistent_notification", {})
        assert await async_setup_component(
            hass,
            "automation",
            {
                "automation": {
                    "id": "nezha_alert",
                    "alias": "Nezha alert",
                    "use_blueprint": {
                        "path": "nezha/alert_notify.yaml",
                        "input": {
                            "alerts": [alert],
                            "kinds": ["incident"],
                            "notify_entities": ["notify.phone"],
                        },
                    },
                }
            },
        )
        await hass.async_block_till_done()

        server = fake.servers[1]
        await fake.fire_alert(1, fake.alert_message("task_succeeded", server, "Backup"), server)
        await hass.async_block_till_done()
        assert calls == []
        message = fake.alert_message("incident", server, "Memory > 90%")
        await fake.fire_alert(1, message, server)
        await hass.async_block_till_done()
        assert len(calls) == 1
        assert calls[0].data["message"] == message
        assert calls[0].data["entity_id"] == ["notify.phone"]
    finally:
        await fake.stop()
