"""The binary sensor platform: whether each server is online, whether each service is up."""

from __future__ import annotations

from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from fake_dashboard import FakeDashboard
from tests.helpers import (
    CPU,
    EXAMPLE_NOW,
    ONLINE,
    Clock,
    MakeEntry,
    Refresh,
    SetupEntry,
)


@pytest.mark.parametrize("init_integration", [Platform.BINARY_SENSOR], indirect=True)
@pytest.mark.usefixtures("entity_registry_enabled_by_default", "init_integration")
async def test_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    config_entry: MockConfigEntry,
) -> None:
    """Every binary sensor of the docs example, as registered and as shown."""
    await snapshot_platform(hass, entity_registry, snapshot, config_entry.entry_id)


# --- servers online ---------------------------------------------------------------------------


async def test_docs_example_online(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Server1 reported two seconds before the dashboard's answer: online."""
    assert hass.states.get(ONLINE).state == STATE_ON


async def test_never_reported_server_offline(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Server2 has never reported: offline."""
    assert hass.states.get("binary_sensor.server2_online").state == STATE_OFF


async def test_offline_when_silent_past_threshold(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    init_integration: MockConfigEntry,
    refresh: Refresh,
    clock: Clock,
) -> None:
    """Online is judged on the dashboard's clock, with the 30 s threshold; offline, the live
    figures are unavailable and the static ones stay."""
    clock.now += 28  # last report 30 s ago on the dashboard's clock
    await refresh()
    assert hass.states.get(ONLINE).state == STATE_ON
    clock.now += 1
    await refresh()
    assert hass.states.get(ONLINE).state == STATE_OFF
    assert hass.states.get(CPU).state == STATE_UNAVAILABLE
    assert hass.states.get("sensor.server1_memory_total").state != STATE_UNAVAILABLE
    assert hass.states.get("sensor.127_0_0_1_servers_online").state == "0"


async def test_dashboard_clock_drives_online_on_v2(
    hass: HomeAssistant,
    v2: FakeDashboard,
    clock: Clock,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
) -> None:
    """v2 dates its answers too: its 2022 clock, not ours, makes Server1 online."""
    await setup_entry(make_entry(v2))
    assert hass.states.get(ONLINE).state == STATE_ON
    assert clock.now == EXAMPLE_NOW


# --- services up (v1/v2) ----------------------------------------------------------------------


async def test_services_up(
    hass: HomeAssistant,
    with_services: FakeDashboard,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
) -> None:
    """A service is up while more than 80 % of its last checks pass (26 of 30 do)."""
    await setup_entry(make_entry(with_services))
    assert hass.states.get("binary_sensor.blog_https_up").state == "on"
    assert hass.states.get("binary_sensor.office_ping_up").state == "on"
