"""The device page's *Activity* (the logbook) shows events, not every refresh."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from fake_dashboard import FakeDashboard
from tests.helpers import Clock, SetupEntry


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: object, enable_custom_integrations: None
) -> None:
    """The recorder must start before Home Assistant itself (so before custom integrations)."""


async def test_refreshes_write_no_logbook_entries(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    dashboard: FakeDashboard,
    config_entry: MockConfigEntry,
    clock: Clock,
    freezer: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
    setup_entry: SetupEntry,
) -> None:
    """Ten refreshes with every value moving log nothing; a server going offline logs once.

    What users see on the device page's *Activity*: before, *Last seen* wrote an entry for
    every server on every refresh."""
    assert await async_setup_component(hass, "logbook", {})
    await setup_entry(config_entry)
    start = dt_util.utcnow()
    ours = {
        entity.entity_id
        for entity in er.async_entries_for_config_entry(entity_registry, config_entry.entry_id)
    }
    seen: dict[str, set[str]] = {entity_id: set() for entity_id in ours}

    for _ in range(10):
        clock.now += 30
        dashboard.tick(30)
        freezer.tick(timedelta(seconds=30))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
        for entity_id in ours:
            if (state := hass.states.get(entity_id)) is not None:
                seen[entity_id].add(state.state)
    # The values did move: what follows is not quiet for want of changes.
    assert len(seen["sensor.server1_cpu_usage"]) > 5
    assert len(seen["sensor.server1_uploaded"]) > 5

    # One real event: server 1 stops reporting.
    assert hass.states.get("binary_sensor.server1_online").state == "on"
    dashboard.silence(1, seconds_ago=0)
    clock.now += 60
    dashboard.tick(60)
    freezer.tick(timedelta(seconds=30))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get("binary_sensor.server1_online").state == "off"
    await async_wait_recording_done(hass)

    client = await hass_ws_client()
    await client.send_json_auto_id(
        {
            "type": "logbook/get_events",
            "start_time": start.isoformat(),
            # The logbook's end is exclusive, and the clock is frozen at the last change.
            "end_time": (dt_util.utcnow() + timedelta(seconds=1)).isoformat(),
        }
    )
    response = await client.receive_json()
    assert response["success"]
    logged = Counter(
        event["entity_id"] for event in response["result"] if event.get("entity_id") in ours
    )
    assert logged == Counter({"binary_sensor.server1_online": 1})
