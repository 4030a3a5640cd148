"""Home Assistant's polling convention: the integration picks the interval, users ask for more.

Also the migration of entries made when the interval was an option (1.1 → 1.2).
"""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_TOKEN, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.nezha.const import CONF_ONLINE_THRESHOLD, CONF_TAGS, DOMAIN
from fake_dashboard import FakeDashboard

from .conftest import TOKEN, setup_entry

DETAILS = "/api/v1/server/details"
CPU = "sensor.server1_cpu_usage"


async def _tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


def _old_entry(dashboard: FakeDashboard, **kwargs: object) -> MockConfigEntry:
    """An entry as release 0.2 made it: version 1.1, the interval among its options."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="127.0.0.1",
        unique_id=dashboard.url,
        data={CONF_URL: dashboard.url, CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: True},
        entry_id="01JNEZHAENTRY0000000000000",
        version=1,
        minor_version=1,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_v0_polls_every_30_seconds(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """v0 has no stream: one request every 30 s, Home Assistant's default for polling."""
    await setup_entry(hass, config_entry)
    asked = dashboard.requests[DETAILS]
    # Home Assistant schedules the next refresh from the whole second of the last one (plus a
    # random fraction), so it can come up to a second early: none by 28 s, one by 31 s.
    await _tick(hass, freezer, 28)
    assert dashboard.requests[DETAILS] == asked
    await _tick(hass, freezer, 3)
    assert dashboard.requests[DETAILS] == asked + 1


async def test_update_entity_refreshes_on_demand(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    init_integration: MockConfigEntry,
) -> None:
    """homeassistant.update_entity on any entity asks the dashboard at once, as documented."""
    assert await async_setup_component(hass, "homeassistant", {})
    dashboard.servers[1].status["CPU"] = 55.5
    asked = dashboard.requests[DETAILS]
    await hass.services.async_call(
        "homeassistant", "update_entity", {"entity_id": CPU}, blocking=True
    )
    await hass.async_block_till_done()
    assert dashboard.requests[DETAILS] == asked + 1
    assert hass.states.get(CPU).state == "55.5"


async def test_polling_disabled_by_the_user(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """With the entry's *Enable polling for changes* off, only update_entity asks."""
    assert await async_setup_component(hass, "homeassistant", {})
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(config_entry, pref_disable_polling=True)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    asked = dashboard.requests[DETAILS]
    for _ in range(4):
        await _tick(hass, freezer, 31)
    assert dashboard.requests[DETAILS] == asked

    await hass.services.async_call(
        "homeassistant", "update_entity", {"entity_id": CPU}, blocking=True
    )
    await hass.async_block_till_done()
    assert dashboard.requests[DETAILS] == asked + 1


async def test_migration_drops_the_interval_option(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    entity_registry: er.EntityRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """1.1 → 1.2: the interval option goes, the others stay, polling follows the line."""
    entry = _old_entry(
        dashboard,
        options={"scan_interval": 5, CONF_ONLINE_THRESHOLD: 60, CONF_TAGS: ["Tag1"]},
    )
    await setup_entry(hass, entry)

    assert entry.state is ConfigEntryState.LOADED
    assert (entry.version, entry.minor_version) == (1, 2)
    assert entry.options == {CONF_ONLINE_THRESHOLD: 60, CONF_TAGS: ["Tag1"]}
    assert entry.runtime_data.coordinator.online_threshold == 60
    # The old 5 s is gone: nothing before 30 s.
    asked = dashboard.requests[DETAILS]
    await _tick(hass, freezer, 6)
    await _tick(hass, freezer, 6)
    assert dashboard.requests[DETAILS] == asked


async def test_migration_turns_last_seen_off(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    entity_registry: er.EntityRegistry,
) -> None:
    """Last seen, enabled by release 0.2 and writing the logbook on every refresh, starts
    disabled (the user may enable it again); nothing else changes."""
    entry = _old_entry(dashboard, options={"scan_interval": 30})
    entry.add_to_hass(hass)
    registered = {
        key: entity_registry.async_get_or_create(
            "sensor",
            DOMAIN,
            f"{entry.entry_id}_1_{key}",
            config_entry=entry,
            translation_key=key,
            suggested_object_id=f"server1_{key}",
        )
        for key in ("last_seen", "cpu", "last_boot")
    }
    assert hass.states.get("sensor.server1_last_seen") is None
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    last_seen = entity_registry.async_get(registered["last_seen"].entity_id)
    assert last_seen is not None
    assert last_seen.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    for key in ("cpu", "last_boot"):
        kept = entity_registry.async_get(registered[key].entity_id)
        assert kept is not None
        assert kept.disabled_by is None
        assert hass.states.get(kept.entity_id) is not None
    assert entry.options == {}


async def test_entry_from_a_newer_release_is_not_loaded(
    hass: HomeAssistant, dashboard: FakeDashboard
) -> None:
    """A version this release does not know is refused, not guessed at."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=dashboard.url,
        data={CONF_URL: dashboard.url, CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: True},
        version=2,
        minor_version=1,
    )
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.MIGRATION_ERROR
    assert dashboard.requests[DETAILS] == 0


async def test_new_entries_are_current(hass: HomeAssistant, dashboard: FakeDashboard) -> None:
    """The config flow creates 1.2 entries: nothing to migrate."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: dashboard.url, CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: True}
    )
    entry = result["result"]
    assert (entry.version, entry.minor_version) == (1, 2)
    assert entry.options == {}
