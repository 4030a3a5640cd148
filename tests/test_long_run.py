"""A simulated week against one dashboard, with time frozen and advanced an hour a step.

Servers join, leave (and some return), go offline and come back; the dashboard restarts and
goes down; the token is rotated twice, with reauthentication done through the flow. At the
end nothing is orphaned, nothing has grown, and every entity shows what the dashboard shows.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
import gc
import logging
import random

from _pytest.logging import LogCaptureHandler
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_TOKEN, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.nezha.api import NezhaClient
from custom_components.nezha.coordinator import NezhaDataUpdateCoordinator
from custom_components.nezha.entity import NezhaServerEntity
from fake_dashboard import FakeDashboard, make_server
from tests.helpers import Clock, SetupEntry

HOUR = 3600
WEEK_HOURS = 7 * 24
THRESHOLD = 30  # the default online threshold, seconds


def _instances(cls: type) -> int:
    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, cls))


def _server_of(entry: MockConfigEntry, unique_id: str) -> tuple[int, str] | None:
    """(server id, description key) of a server entity's unique id; None for the hub's."""
    head, _, key = unique_id.removeprefix(f"{entry.entry_id}_").partition("_")
    return (int(head), key) if head.isdecimal() else None


async def test_a_week(  # noqa: PLR0912 - one story, told in order
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    config_entry: MockConfigEntry,
    clock: Clock,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    setup_entry: SetupEntry,
) -> None:
    """A week of joins, departures, outages, restarts and rotated tokens leaves nothing
    behind: no orphan, no growth, every entity as the dashboard shows it."""
    rng = random.Random(7)  # noqa: S311 - a reproducible schedule, not security
    for server_id in range(10, 16):
        dashboard.add(make_server(server_id, now=clock.now, rng=random.Random(server_id)))  # noqa: S311
    await setup_entry(config_entry)
    entity_registry = er.async_get(hass)
    device_registry = dr.async_get(hass)

    def coordinator() -> NezhaDataUpdateCoordinator:
        return config_entry.runtime_data.coordinator

    def enabled_entities() -> int:
        return sum(
            1
            for entity in er.async_entries_for_config_entry(entity_registry, config_entry.entry_id)
            if entity.disabled_by is None
        )

    def listening() -> int:
        """Coordinator listeners, and the server entities its writer writes instead."""
        return len(coordinator()._listeners) + coordinator().writer.entity_count

    # Listeners beyond one per entity: the device sync and one "add new servers" per platform.
    extra_listeners = listening() - enabled_entities()
    bus_listeners = Counter(hass.bus.async_listeners())
    first_ids: dict[str, str] = {
        entity.unique_id: entity.entity_id
        for entity in er.async_entries_for_config_entry(entity_registry, config_entry.entry_id)
    }

    token_number = 0
    happened: Counter[str] = Counter()
    refreshes = 0
    left: list[int] = []
    next_id = 100
    down = False
    for hour in range(1, WEEK_HOURS + 1):
        clock.now += HOUR
        freezer.tick(timedelta(seconds=HOUR))
        dashboard.tick(HOUR)
        roll = rng.random()
        live = sorted(dashboard.servers)
        if down:
            await dashboard.come_back()
            down = False
        elif hour % 40 == 0:
            # Dashboard restart: nobody has reported since; agents reconnect within the hour.
            dashboard.restart()
            happened["restart"] += 1
        elif hour % 40 == 1:
            for server_id in dashboard.servers:
                dashboard.agent_reconnect(server_id)
        elif hour % 53 == 0:
            await dashboard.go_down()
            down = True
            happened["down"] += 1
        elif hour in (60, 130):
            token_number += 1
            dashboard.tokens = {f"rotated-{token_number}"}
        elif roll < 0.08:
            dashboard.add(make_server(next_id, now=clock.now, rng=random.Random(next_id)))  # noqa: S311
            next_id += 1
            happened["join"] += 1
        elif roll < 0.13 and len(live) > 3:
            gone = rng.choice(live)
            dashboard.remove(gone)
            left.append(gone)
            happened["leave"] += 1
        elif roll < 0.16 and left:
            # A server deleted by mistake is added back with its old id.
            back = left.pop(0)
            dashboard.add(make_server(back, now=clock.now, rng=random.Random(back)))  # noqa: S311
            happened["return"] += 1
        elif roll < 0.30:
            dashboard.silence(rng.choice(live), seconds_ago=rng.choice((0, 120)))
            happened["offline"] += 1
        elif roll < 0.45:
            quiet = [sid for sid, s in dashboard.servers.items() if not s.reporting]
            if quiet:
                dashboard.agent_reconnect(rng.choice(quiet))
                happened["online"] += 1

        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
        refreshes += 1

        flows = hass.config_entries.flow.async_progress()
        if flows:
            # The token was rotated: the user pastes the new one into the reauth form.
            assert [flow["context"]["source"] for flow in flows] == ["reauth"]
            result = await hass.config_entries.flow.async_configure(
                flows[0]["flow_id"], {CONF_TOKEN: f"rotated-{token_number}"}
            )
            assert result["reason"] == "reauth_successful"
            await hass.async_block_till_done()
            assert config_entry.state is ConfigEntryState.LOADED
            refreshes += 1
            # A reload builds a new coordinator: measure it afresh, it must be the same.
            assert listening() - enabled_entities() == extra_listeners

    # One last, quiet refresh, so the dashboard and Home Assistant agree.
    if down:
        await dashboard.come_back()
    clock.now += 30
    dashboard.tick(30)
    freezer.tick(timedelta(seconds=30))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert 150 < refreshes < 400
    assert token_number == 2
    # The schedule really did all of it.
    assert min(happened[key] for key in ("join", "leave", "return", "offline", "online")) >= 2
    assert happened["restart"] >= 3
    assert happened["down"] >= 2
    assert coordinator().last_update_success
    assert config_entry.data[CONF_TOKEN] == "rotated-2"

    # No orphans: a device per server the dashboard lists, plus the dashboard's own.
    entities = er.async_entries_for_config_entry(entity_registry, config_entry.entry_id)
    devices = dr.async_entries_for_config_entry(device_registry, config_entry.entry_id)
    assert len(devices) == len(dashboard.servers) + 1
    device_ids = {device.id for device in devices}
    assert all(entity.device_id in device_ids for entity in entities)
    server_ids = {
        parsed[0] for entity in entities if (parsed := _server_of(config_entry, entity.unique_id))
    }
    assert server_ids == set(dashboard.servers)
    unique_ids = [entity.unique_id for entity in entities]
    assert len(unique_ids) == len(set(unique_ids))
    nezha_states = [
        state
        for state in hass.states.async_all()
        if state.entity_id in {e.entity_id for e in entities}
    ]
    assert len(nezha_states) == enabled_entities()
    # An entity that existed on day one and still has its server kept its entity id.
    for entity in entities:
        if entity.unique_id in first_ids:
            assert entity.entity_id == first_ids[entity.unique_id]
    assert any(entity.unique_id in first_ids for entity in entities)

    # Every entity shows what the dashboard shows.
    checked = 0
    for entity in entities:
        parsed = _server_of(config_entry, entity.unique_id)
        if parsed is None or entity.disabled_by is not None:
            continue
        server = dashboard.servers[parsed[0]]
        online = server.last_active is not None and clock.now - server.last_active <= THRESHOLD
        state = hass.states.get(entity.entity_id).state
        if parsed[1] == "online":
            assert state == (STATE_ON if online else STATE_OFF), entity.entity_id
            checked += 1
        elif parsed[1] == "cpu":
            if online:
                assert float(state) == server.status["CPU"], entity.entity_id
            else:
                assert state == STATE_UNAVAILABLE, entity.entity_id
            checked += 1
    assert checked == 2 * len(dashboard.servers)
    assert hass.states.get("sensor.127_0_0_1_servers").state == str(len(dashboard.servers))

    # Nothing grew: listeners, and live objects of the integration.
    assert listening() - enabled_entities() == extra_listeners
    # Pending registry saves come and go; nothing may be more than at the start.
    assert Counter(hass.bus.async_listeners()) - bus_listeners == Counter()
    assert not [r for r in caplog.records if "deprecat" in r.getMessage().lower()]
    # Captured log records keep their exceptions, whose tracebacks reach old coordinators:
    # a leak of the test's log capture, not of the integration.
    for handler in logging.getLogger().handlers:
        if isinstance(handler, LogCaptureHandler):
            handler.clear()
    assert _instances(NezhaDataUpdateCoordinator) == 1
    assert _instances(NezhaClient) == 1
    assert _instances(NezhaServerEntity) == len(nezha_states) - sum(
        1 for state in nezha_states if state.entity_id.startswith("sensor.127_0_0_1")
    )
