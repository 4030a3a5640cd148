"""The sensor platform: server figures, dashboard counts, service monitors, traffic cycles."""

from __future__ import annotations

from datetime import UTC, datetime

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from fake_dashboard import FakeDashboard
from tests.helpers import (
    CPU,
    CYCLE_END,
    CYCLE_START,
    DETAILS,
    MakeEntry,
    Refresh,
    SetupEntry,
)


@pytest.mark.parametrize("init_integration", [Platform.SENSOR], indirect=True)
@pytest.mark.usefixtures("entity_registry_enabled_by_default", "init_integration")
async def test_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    config_entry: MockConfigEntry,
) -> None:
    """Every sensor of the docs example, as registered and as shown."""
    await snapshot_platform(hass, entity_registry, snapshot, config_entry.entry_id)


# --- servers and the dashboard ----------------------------------------------------------------


async def test_docs_example_states(
    hass: HomeAssistant,
    entity_registry_enabled_by_default: None,
    dashboard: FakeDashboard,
    init_integration: MockConfigEntry,
) -> None:
    """The values of the docs page's example, as a user sees them (Last seen enabled)."""
    assert init_integration.state is ConfigEntryState.LOADED
    states = {
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
        # The fleet card's flag: the dashboard's lower-case code, upper-cased.
        "sensor.server1_country": "HK",
        "sensor.127_0_0_1_servers_online": "1",
        "sensor.127_0_0_1_servers": "2",
    }
    assert {entity_id: hass.states.get(entity_id).state for entity_id in states} == states
    # One request per refresh: setup made exactly one.
    assert dashboard.requests[DETAILS] == 1


async def test_never_reported_server(
    hass: HomeAssistant, entity_registry_enabled_by_default: None, init_integration: MockConfigEntry
) -> None:
    """Server2 has never reported: its live metrics unavailable, its times unknown."""
    assert hass.states.get("sensor.server2_cpu_usage").state == STATE_UNAVAILABLE
    assert hass.states.get("sensor.server2_download_speed").state == STATE_UNAVAILABLE
    assert hass.states.get("sensor.server2_last_seen").state == "unknown"
    assert hass.states.get("sensor.server2_last_boot").state == "unknown"


async def test_unique_ids_stable(
    hass: HomeAssistant, init_integration: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """A server's sensor is known by the entry, the server's id and the figure."""
    entry = entity_registry.async_get(CPU)
    assert entry is not None
    assert entry.unique_id == f"{init_integration.entry_id}_1_cpu"


# --- service monitors and traffic cycles (v1/v2) ------------------------------------------------


async def test_service_sensors(
    hass: HomeAssistant,
    with_services: FakeDashboard,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
) -> None:
    """Each service's status, availability and latency, as the dashboard's page shows them."""
    await setup_entry(make_entry(with_services))
    assert hass.states.get("sensor.blog_https_status").state == "good"
    assert hass.states.get("sensor.blog_https_availability_30_days").state == "99.54"
    latency = hass.states.get("sensor.blog_https_latency_today")
    assert latency.state == "42.5"
    assert latency.attributes["unit_of_measurement"] == "ms"
    # 26 of the last 30 checks: 86.7 %, which the dashboard calls low availability.
    assert hass.states.get("sensor.office_ping_status").state == "low_availability"
    assert hass.states.get("sensor.office_ping_latency_today").state == "18.25"


async def test_cycle_sensors(
    hass: HomeAssistant,
    with_services: FakeDashboard,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
) -> None:
    """Traffic cycles are figures of their servers: transfer, quota, share used, end."""
    entry = make_entry(with_services)
    await setup_entry(entry)
    transfer = hass.states.get("sensor.server1_monthly_1_tb_transfer")
    assert float(transfer.state) == pytest.approx(256.0)
    assert transfer.attributes["unit_of_measurement"] == "GiB"
    assert transfer.attributes["state_class"] == "total"
    assert float(hass.states.get("sensor.server1_monthly_1_tb_quota").state) == pytest.approx(
        1024.0
    )
    assert hass.states.get("sensor.server1_monthly_1_tb_quota_used").state == "25.0"
    assert hass.states.get("sensor.server2_monthly_1_tb_quota_used").state == "75.0"
    end = hass.states.get("sensor.server1_monthly_1_tb_cycle_end")
    assert datetime.fromisoformat(end.state) == datetime.fromtimestamp(CYCLE_END, UTC)
    transfer_entry = er.async_get(hass).async_get("sensor.server1_monthly_1_tb_transfer")
    assert transfer_entry is not None
    assert transfer_entry.unique_id == f"{entry.entry_id}_1_cycle_1_transfer"


async def test_cycle_without_quota(
    hass: HomeAssistant,
    with_services: FakeDashboard,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
) -> None:
    """The keep-alive rule has no quota: only its transfer and end are shown."""
    await setup_entry(make_entry(with_services))
    assert float(hass.states.get("sensor.server1_keep_alive_transfer").state) == 1.0
    assert hass.states.get("sensor.server1_keep_alive_quota") is None


async def test_last_reset_is_the_cycle_start(
    hass: HomeAssistant,
    with_services: FakeDashboard,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
) -> None:
    """A cycle's transfer starts over with the cycle: its last reset is the cycle's start."""
    await setup_entry(make_entry(with_services))
    transfer = hass.states.get("sensor.server1_monthly_1_tb_transfer")
    assert datetime.fromisoformat(transfer.attributes["last_reset"]) == datetime.fromtimestamp(
        CYCLE_START, UTC
    )


async def test_renamed_service_and_rule_follow(
    hass: HomeAssistant,
    with_services: FakeDashboard,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
    services_refresh: Refresh,
) -> None:
    """A service or traffic rule renamed on the dashboard renames its entities' default names
    live (state and registry); entity ids stay, and a name the user set is kept."""
    await setup_entry(make_entry(with_services))
    registry = er.async_get(hass)
    registry.async_update_entity("sensor.server1_monthly_1_tb_quota", name="My quota")

    with_services.services[3].name = "Blog (new)"
    with_services.cycles[1].name = "Monthly 2 TB"
    await services_refresh()

    status = hass.states.get("sensor.blog_https_status")
    assert status is not None
    assert status.attributes["friendly_name"] == "Blog (new) Status"
    for server in ("server1", "server2"):
        transfer = hass.states.get(f"sensor.{server}_monthly_1_tb_transfer")
        assert transfer is not None
        assert transfer.attributes["friendly_name"] == f"{server.title()} Monthly 2 TB transfer"
        entry = registry.async_get(f"sensor.{server}_monthly_1_tb_transfer")
        assert entry is not None
        assert entry.original_name == "Monthly 2 TB transfer"
    mine = registry.async_get("sensor.server1_monthly_1_tb_quota")
    assert mine is not None
    assert mine.name == "My quota"
    assert mine.original_name == "Monthly 2 TB quota"
    assert (
        hass.states.get("sensor.server1_monthly_1_tb_quota").attributes[  # type: ignore[union-attr]
            "friendly_name"
        ]
        == "My quota"
    )
