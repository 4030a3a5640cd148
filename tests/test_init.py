"""Setup, devices, refreshes and failures, through states and the registries."""

from __future__ import annotations

from datetime import timedelta
import logging
import threading
from typing import Any

from aiohttp import web
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_TOKEN, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    entity_platform,
    entity_registry as er,
    issue_registry as ir,
)
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.nezha import budget as nezha_budget
from custom_components.nezha.api import client as client_module, v0
from custom_components.nezha.const import CONF_FULL_DETAIL, DOMAIN
from fake_dashboard import FakeDashboard

from .conftest import Clock, setup_entry

DETAILS = "/api/v1/server/details"


async def _refresh(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    freezer.tick(timedelta(seconds=30))
    async_fire_time_changed(hass)
    # Interval refreshes run as background tasks doing real HTTP: wait for them too.
    await hass.async_block_till_done(wait_background_tasks=True)


def _errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.WARNING and record.name.startswith("custom_components.nezha")
    ]


async def test_docs_example_states(
    hass: HomeAssistant,
    entity_registry_enabled_by_default: None,
    dashboard: FakeDashboard,
    init_integration: MockConfigEntry,
) -> None:
    """The values of the docs page's example, as a user sees them (Last seen enabled)."""
    assert init_integration.state is ConfigEntryState.LOADED
    states = {
        "binary_sensor.server1_online": STATE_ON,
        "sensor.server1_cpu_usage": "17.33",
        "sensor.server1_memory_usage": "81.57",
        "sensor.server1_memory_used": "13.0514068603516",
        "sensor.server1_disk_used": "2174.68376541138",
        "sensor.server1_disk_usage": "94.4",
        "sensor.server1_swap_usage": "unknown",
        "sensor.server1_download_speed": "10.552734375",
        "sensor.server1_upload_speed": "5.1787109375",
        "sensor.server1_downloaded": "2.5241386462003",
        "sensor.server1_uploaded": "0.647692722268403",
        "sensor.server1_load_1_min": "5.23",
        "sensor.server1_tcp_connections": "195",
        "sensor.server1_udp_connections": "70",
        "sensor.server1_processes": "437",
        "sensor.server1_last_boot": "2022-05-16T06:52:42+00:00",
        "sensor.server1_last_seen": "2022-05-20T02:50:42+00:00",
        "sensor.server1_ipv4_address": "1.1.1.1",
        "sensor.127_0_0_1_servers_online": "1",
        "sensor.127_0_0_1_servers": "2",
    }
    assert {entity_id: hass.states.get(entity_id).state for entity_id in states} == states
    # One request per refresh: setup made exactly one.
    assert dashboard.requests[DETAILS] == 1


async def test_never_reported_server(
    hass: HomeAssistant, entity_registry_enabled_by_default: None, init_integration: MockConfigEntry
) -> None:
    """Server2 has never reported: offline, its live metrics unavailable."""
    assert hass.states.get("binary_sensor.server2_online").state == STATE_OFF
    assert hass.states.get("sensor.server2_cpu_usage").state == STATE_UNAVAILABLE
    assert hass.states.get("sensor.server2_download_speed").state == STATE_UNAVAILABLE
    assert hass.states.get("sensor.server2_last_seen").state == "unknown"
    assert hass.states.get("sensor.server2_last_boot").state == "unknown"


async def test_devices(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    dashboard: FakeDashboard,
) -> None:
    entry_id = init_integration.entry_id
    hub = device_registry.async_get_device_by_identifier((DOMAIN, entry_id), entry_id)
    assert hub is not None
    assert hub.entry_type is dr.DeviceEntryType.SERVICE
    assert hub.configuration_url == dashboard.url
    server1 = device_registry.async_get_device_by_identifier((DOMAIN, f"{entry_id}_1"), entry_id)
    assert server1 is not None
    assert (server1.name, server1.model, server1.hw_version, server1.sw_version) == (
        "Server1",
        "darwin 12.3.1",
        "arm64",
        None,
    )
    assert server1.via_device_id == hub.id
    assert server1.configuration_url == f"{dashboard.url}/server/1"
    assert len(dr.async_entries_for_config_entry(device_registry, entry_id)) == 3


async def test_one_request_per_refresh_whatever_the_server_count(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    config_entry: MockConfigEntry,
    add_servers: object,
    freezer: FrozenDateTimeFactory,
    clock: Clock,
) -> None:
    add_servers(*range(10, 210))  # type: ignore[operator]
    await setup_entry(hass, config_entry)
    assert dashboard.requests[DETAILS] == 1
    assert hass.states.get("sensor.127_0_0_1_servers").state == "202"
    for refresh in range(1, 4):
        clock.now += 30
        dashboard.tick(30)
        await _refresh(hass, freezer)
        assert dashboard.requests[DETAILS] == 1 + refresh
    assert sum(dashboard.requests.values()) == 4


async def test_offline_when_silent_past_threshold(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    clock: Clock,
) -> None:
    """Online is judged on the dashboard's clock, with the 30 s threshold."""
    clock.now += 28  # last report 30 s ago on the dashboard's clock
    await _refresh(hass, freezer)
    assert hass.states.get("binary_sensor.server1_online").state == STATE_ON
    clock.now += 1
    await _refresh(hass, freezer)
    assert hass.states.get("binary_sensor.server1_online").state == STATE_OFF
    assert hass.states.get("sensor.server1_cpu_usage").state == STATE_UNAVAILABLE
    assert hass.states.get("sensor.server1_memory_total").state != STATE_UNAVAILABLE
    assert hass.states.get("sensor.127_0_0_1_servers_online").state == "0"


async def test_dashboard_down_then_back(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Down: everything unavailable, logged once; back: recovered by itself, logged once,
    with the same entities and devices."""
    registries = (
        sorted(
            e.entity_id
            for e in er.async_entries_for_config_entry(
                er.async_get(hass), init_integration.entry_id
            )
        ),
        sorted(
            d.id
            for d in dr.async_entries_for_config_entry(
                dr.async_get(hass), init_integration.entry_id
            )
        ),
    )
    await dashboard.go_down()
    for _ in range(3):
        await _refresh(hass, freezer)
    assert hass.states.get("binary_sensor.server1_online").state == STATE_UNAVAILABLE
    assert hass.states.get("sensor.server1_cpu_usage").state == STATE_UNAVAILABLE
    assert hass.states.get("sensor.127_0_0_1_servers").state == STATE_UNAVAILABLE
    assert _errors_logged(caplog) == [
        "Error fetching nezha data: Cannot reach the Nezha dashboard: "
        "cannot connect to 127.0.0.1: ClientConnectorError"
    ]

    await dashboard.come_back()
    await _refresh(hass, freezer)
    await _refresh(hass, freezer)
    assert hass.states.get("binary_sensor.server1_online").state == STATE_ON
    assert hass.states.get("sensor.server1_cpu_usage").state == "17.33"
    assert caplog.text.count("Fetching nezha data recovered") == 1
    assert len(_errors_logged(caplog)) == 1
    assert registries == (
        sorted(
            e.entity_id
            for e in er.async_entries_for_config_entry(
                er.async_get(hass), init_integration.entry_id
            )
        ),
        sorted(
            d.id
            for d in dr.async_entries_for_config_entry(
                dr.async_get(hass), init_integration.entry_id
            )
        ),
    )


@pytest.mark.parametrize(
    "body",
    [b'{"code":0,"result":[{"id":1,', b"\x00\xff garbage", b'{"code":0,"result":"x"}'],
)
async def test_malformed_json_never_raises(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    body: bytes,
) -> None:
    async def garbage(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    dashboard.hook = garbage
    await _refresh(hass, freezer)
    coordinator = init_integration.runtime_data.coordinator
    assert not coordinator.last_update_success
    assert hass.states.get("sensor.server1_cpu_usage").state == STATE_UNAVAILABLE
    dashboard.hook = None
    await _refresh(hass, freezer)
    assert hass.states.get("sensor.server1_cpu_usage").state == "17.33"


async def test_setup_retries_when_dashboard_down(
    hass: HomeAssistant, dashboard: FakeDashboard, config_entry: MockConfigEntry
) -> None:
    await dashboard.go_down()
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY


async def test_revoked_token_starts_reauth(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Revoked mid-run: one reauth flow, polling stops (no log spam); the new token restores
    the same entities."""
    entity_ids = sorted(
        entity.entity_id
        for entity in er.async_entries_for_config_entry(entity_registry, init_integration.entry_id)
    )
    asked = dashboard.requests[DETAILS]
    dashboard.tokens.clear()
    for _ in range(5):
        await _refresh(hass, freezer)
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]
    assert hass.states.get("sensor.server1_cpu_usage").state == STATE_UNAVAILABLE
    # A refused token is not retried every interval: the dashboard was asked once.
    assert dashboard.requests[DETAILS] == asked + 1
    assert len(_errors_logged(caplog)) <= 1

    dashboard.tokens.add("rotated-token")
    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {CONF_TOKEN: "rotated-token"}
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.LOADED
    assert hass.states.get("sensor.server1_cpu_usage").state == "17.33"
    assert not hass.config_entries.flow.async_progress()
    assert (
        sorted(
            entity.entity_id
            for entity in er.async_entries_for_config_entry(
                entity_registry, init_integration.entry_id
            )
        )
        == entity_ids
    )


async def test_unload(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    assert init_integration.state is ConfigEntryState.NOT_LOADED


async def test_unique_ids_stable(
    hass: HomeAssistant, init_integration: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    entry = entity_registry.async_get("sensor.server1_cpu_usage")
    assert entry is not None
    assert entry.unique_id == f"{init_integration.entry_id}_1_cpu"


def _registered_by_key(
    hass: HomeAssistant, entry: MockConfigEntry
) -> dict[str, list[er.RegistryEntry]]:
    """The entry's server entities in the registry, by description key."""
    by_key: dict[str, list[er.RegistryEntry]] = {}
    for item in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id):
        _, server, key = item.unique_id.split("_", 2)
        if server.isdecimal():
            by_key.setdefault(key, []).append(item)
    return by_key


async def test_entity_budget_keeps_every_server_online_sensor(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    config_entry: MockConfigEntry,
    add_servers: object,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Past Home Assistant's cap on enabled entities, each server keeps its first sensors,
    and nothing that could never be enabled is registered.

    The cap (10000 in Home Assistant) is lowered to 500 here so 60 servers reach it; without
    the budget Home Assistant would drop every entity past the cap, whole servers included.
    """
    monkeypatch.setattr(entity_platform, "MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY", 500)
    monkeypatch.setattr(nezha_budget, "MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY", 500)
    add_servers(*range(10, 58))  # type: ignore[operator]
    await setup_entry(hass, config_entry)
    dashboard.tick(30)
    add_servers(*range(100, 110))  # type: ignore[operator]
    await _refresh(hass, freezer)

    registry = er.async_get(hass)
    entries = er.async_entries_for_config_entry(registry, config_entry.entry_id)
    enabled = [item for item in entries if item.disabled_by is None]
    assert len(enabled) <= 500 - nezha_budget.ENTITY_RESERVE
    # The registry holds what is enabled, not a disabled copy of everything that did not fit.
    assert all(item.disabled_by is None for item in entries)
    by_key = _registered_by_key(hass, config_entry)
    servers = {item.unique_id.split("_")[1] for item in by_key["online"]}
    assert len(servers) == len(dashboard.servers)
    # Every server keeps its online sensor and CPU; lower priorities are left out.
    assert len(by_key["cpu"]) == len(dashboard.servers)
    assert "ipv4" not in by_key
    assert "load_5" not in by_key
    assert "Reached the maximum" not in caplog.text
    assert ("nezha", f"entity_cap_{config_entry.entry_id}") in ir.async_get(hass).issues


async def test_full_detail_servers_get_every_entity(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    config_entry: MockConfigEntry,
    add_servers: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past the cap, servers of the tags chosen for full detail get all their entities; the
    others share what is left."""
    monkeypatch.setattr(entity_platform, "MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY", 500)
    monkeypatch.setattr(nezha_budget, "MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY", 500)
    add_servers(*range(10, 58))  # type: ignore[operator]
    add_servers(200, 201, tag="Core")  # type: ignore[operator]
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(config_entry, options={CONF_FULL_DETAIL: ["Core"]})
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    by_key = _registered_by_key(hass, config_entry)
    for key in ("ipv4", "memory_total", "processes", "load_5", "ipv6"):
        assert {item.unique_id.split("_")[1] for item in by_key[key]} == {"200", "201"}, key
    # Those chosen have their disabled-by-default ones too, still disabled.
    assert all(
        item.disabled_by is er.RegistryEntryDisabler.INTEGRATION for item in by_key["load_5"]
    )
    # Everyone else still has its online sensor and CPU.
    assert len(by_key["online"]) == len(dashboard.servers)
    assert len(by_key["cpu"]) == len(dashboard.servers)


async def test_large_answers_are_parsed_off_the_event_loop(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    config_entry: MockConfigEntry,
    add_servers: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Hundreds of servers are decoded and parsed in a worker thread, with the same result."""
    threads: list[str] = []
    parse = v0.parse_servers

    def recording_parse(data: object, *args: Any) -> object:
        threads.append(threading.current_thread().name)
        return parse(data, *args)

    monkeypatch.setattr(v0, "parse_servers", recording_parse)
    add_servers(*range(10, 350))  # type: ignore[operator]
    await setup_entry(hass, config_entry)
    assert dashboard.bytes_sent > client_module.OFFLOAD_BYTES
    assert threads
    assert threading.main_thread().name not in threads
    assert hass.states.get("sensor.127_0_0_1_servers").state == str(len(dashboard.servers))
    assert hass.states.get("binary_sensor.server_349_online").state == STATE_ON
