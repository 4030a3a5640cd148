"""The "server offline for N minutes" blueprint, run by the automation integration."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_mock_service,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from fake_dashboard import FakeDashboard
from tests.helpers import Clock

BLUEPRINTS = Path(__file__).parent.parent / "blueprints"
ONLINE = "binary_sensor.server1_online"


@pytest.fixture
async def notify_calls(hass: HomeAssistant) -> list[ServiceCall]:
    """Calls of notify.send_message (the action of the optional notify entities)."""
    return async_mock_service(hass, "notify", "send_message")


@pytest.fixture
async def automation(
    hass: HomeAssistant,
    tmp_path: Path,
    init_integration: MockConfigEntry,
    notify_calls: list[ServiceCall],
) -> None:
    """An automation from the blueprint file in the repository: 5 minutes, one notify entity."""
    # The blueprint integration reads <config>/blueprints/automation/<path>.
    hass.config.config_dir = str(tmp_path)
    (tmp_path / "blueprints").symlink_to(BLUEPRINTS, target_is_directory=True)
    assert await async_setup_component(hass, "persistent_notification", {})
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "id": "server_offline",
                "alias": "Server offline",
                "use_blueprint": {
                    "path": "nezha/server_offline.yaml",
                    "input": {
                        "servers": [ONLINE],
                        "minutes": 5,
                        "notify_entities": ["notify.phone"],
                    },
                },
            }
        },
    )
    await hass.async_block_till_done()
    assert hass.states.get("automation.server_offline").state == STATE_ON


async def _advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: int) -> None:
    """Let time pass in Home Assistant; the coordinator refreshes every 30 s on the way."""
    for _ in range(seconds // 30):
        freezer.tick(timedelta(seconds=30))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)


async def _notifications(hass_ws_client: WebSocketGenerator) -> dict[str, dict[str, str]]:
    client = await hass_ws_client()
    await client.send_json_auto_id({"type": "persistent_notification/get"})
    response = await client.receive_json()
    assert response["success"]
    return {n["notification_id"]: n for n in response["result"]}


async def test_notifies_after_n_minutes_offline(
    hass: HomeAssistant,
    automation: None,
    dashboard: FakeDashboard,
    clock: Clock,
    freezer: FrozenDateTimeFactory,
    notify_calls: list[ServiceCall],
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Silent past the threshold: offline; five minutes later both notifications go out."""
    assert hass.states.get(ONLINE).state == STATE_ON
    clock.now += 60  # the agent stopped reporting a minute ago on the dashboard's clock
    await _advance(hass, freezer, 30)
    assert hass.states.get(ONLINE).state == STATE_OFF

    await _advance(hass, freezer, 4 * 60)
    assert await _notifications(hass_ws_client) == {}
    assert notify_calls == []

    await _advance(hass, freezer, 60)
    notifications = await _notifications(hass_ws_client)
    assert list(notifications) == [f"nezha_offline_{ONLINE}"]
    notification = notifications[f"nezha_offline_{ONLINE}"]
    assert notification["title"] == "Server offline"
    assert notification["message"].startswith("Server1 has been offline for 5 minutes (since ")
    assert len(notify_calls) == 1
    assert notify_calls[0].data["entity_id"] == ["notify.phone"]
    assert notify_calls[0].data["message"] == notification["message"]


async def test_no_notification_when_back_in_time(
    hass: HomeAssistant,
    automation: None,
    dashboard: FakeDashboard,
    clock: Clock,
    freezer: FrozenDateTimeFactory,
    notify_calls: list[ServiceCall],
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Offline for less than N minutes, then reporting again: nobody is bothered."""
    clock.now += 60
    await _advance(hass, freezer, 30)
    assert hass.states.get(ONLINE).state == STATE_OFF
    await _advance(hass, freezer, 3 * 60)
    dashboard.tick(0)  # the agent reports again
    await _advance(hass, freezer, 30)
    assert hass.states.get(ONLINE).state == STATE_ON
    await _advance(hass, freezer, 10 * 60)
    assert await _notifications(hass_ws_client) == {}
    assert notify_calls == []
