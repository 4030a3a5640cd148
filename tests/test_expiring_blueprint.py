"""The "server expiring soon → notify" blueprint, run by the automation integration."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    async_fire_time_changed,
    async_mock_service,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.nezha.const import DOMAIN
from fake_dashboard import FakeDashboard
from tests.helpers import (
    DAY,
    EXAMPLE_NOW,
    EXPIRES,
    EXPIRING,
    Clock,
    MakeEntry,
    SetupEntry,
    StopDashboard,
    billing_note,
    start_dashboard,
)

BLUEPRINTS = Path(__file__).parent.parent / "blueprints"


@pytest.fixture
async def notify_calls(hass: HomeAssistant) -> list[ServiceCall]:
    """Calls of notify.send_message (the action of the optional notify entities)."""
    return async_mock_service(hass, "notify", "send_message")


@pytest.fixture
async def noted(
    clock: Clock, socket_enabled: None, stop_dashboard: StopDashboard
) -> AsyncGenerator[FakeDashboard]:
    """A v2 dashboard whose Server1 expires in 20 days by its note; polled."""
    fake = await start_dashboard(clock, "v2")
    fake.stream_enabled = False
    fake.servers[1].public_note = billing_note()
    yield fake
    await stop_dashboard(fake)


@pytest.fixture
async def automation(
    hass: HomeAssistant,
    tmp_path: Path,
    noted: FakeDashboard,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
    notify_calls: list[ServiceCall],
) -> None:
    """An automation from the blueprint file in the repository, with one notify entity."""
    await setup_entry(make_entry(noted))
    hass.config.config_dir = str(tmp_path)
    (tmp_path / "blueprints").symlink_to(BLUEPRINTS, target_is_directory=True)
    assert await async_setup_component(hass, "persistent_notification", {})
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "id": "server_expiring",
                "alias": "Server expiring",
                "use_blueprint": {
                    "path": "nezha/server_expiring.yaml",
                    "input": {"servers": [EXPIRING], "notify_entities": ["notify.phone"]},
                },
            }
        },
    )
    await hass.async_block_till_done()
    assert hass.states.get("automation.server_expiring").state == STATE_ON


async def _days_pass(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    clock: Clock,
    dashboard: FakeDashboard,
    days: float,
) -> None:
    """Days pass on the dashboard's clock (by which expiry is judged); one refresh tells them.

    Home Assistant's clock moves by one polling interval only: its login tokens and the
    fake's websocket timers would not survive days.
    """
    clock.now += days * DAY
    dashboard.tick(0)
    coordinator = hass.config_entries.async_entries(DOMAIN)[0].runtime_data.coordinator
    done = hass.loop.create_future()
    unsubscribe = coordinator.async_add_listener(lambda: done.done() or done.set_result(None))
    try:
        freezer.tick(timedelta(seconds=30))
        async_fire_time_changed(hass)
        await done
    finally:
        unsubscribe()
    await hass.async_block_till_done()


async def _notifications(hass_ws_client: WebSocketGenerator) -> dict[str, dict[str, str]]:
    client = await hass_ws_client()
    await client.send_json_auto_id({"type": "persistent_notification/get"})
    response = await client.receive_json()
    assert response["success"]
    return {n["notification_id"]: n for n in response["result"]}


async def test_notifies_when_expiring_soon(
    hass: HomeAssistant,
    automation: None,
    noted: FakeDashboard,
    clock: Clock,
    freezer: FrozenDateTimeFactory,
    notify_calls: list[ServiceCall],
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Twenty days left: quiet; five days left: one notification with the date."""
    end = datetime.fromtimestamp(EXAMPLE_NOW + 20 * DAY, UTC)
    local_end = dt_util.as_local(end).strftime("%Y-%m-%d %H:%M")
    await _days_pass(hass, freezer, clock, noted, 0)
    assert hass.states.get(EXPIRES).state == end.isoformat()  # type: ignore[union-attr]
    assert hass.states.get(EXPIRING).state == STATE_OFF  # type: ignore[union-attr]
    await _days_pass(hass, freezer, clock, noted, 10)
    assert hass.states.get(EXPIRING).state == STATE_OFF  # type: ignore[union-attr]
    assert await _notifications(hass_ws_client) == {}

    await _days_pass(hass, freezer, clock, noted, 5)
    assert hass.states.get(EXPIRING).state == STATE_ON  # type: ignore[union-attr]
    notifications = await _notifications(hass_ws_client)
    assert list(notifications) == [f"nezha_expiring_{EXPIRING}"]
    notification = notifications[f"nezha_expiring_{EXPIRING}"]
    assert notification["title"] == "Server expiring soon"
    assert notification["message"] == f"Server1 expires on {local_end}."
    assert len(notify_calls) == 1
    assert notify_calls[0].data["entity_id"] == ["notify.phone"]
    assert notify_calls[0].data["message"] == notification["message"]

    # Still expiring at the next refreshes: no second notification.
    await _days_pass(hass, freezer, clock, noted, 1)
    assert len(notify_calls) == 1


async def test_never_expiring_is_never_notified(
    hass: HomeAssistant,
    automation: None,
    noted: FakeDashboard,
    clock: Clock,
    freezer: FrozenDateTimeFactory,
    notify_calls: list[ServiceCall],
    hass_ws_client: WebSocketGenerator,
) -> None:
    """A note that says "never": years pass without a word."""
    noted.servers[1].public_note = billing_note(endDate="0000-00-00T00:00:00+08:00")
    await _days_pass(hass, freezer, clock, noted, 400)
    assert hass.states.get(EXPIRING).state == STATE_OFF  # type: ignore[union-attr]
    assert await _notifications(hass_ws_client) == {}
    assert notify_calls == []
