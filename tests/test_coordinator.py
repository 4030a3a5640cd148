"""When the integration asks the dashboard, and what one answer updates.

Home Assistant's polling convention: the integration picks the interval, users ask for more.
Servers are read in one request whatever their number; service monitors on their own, slower
cadence. Faults of the dashboard are in test_faults.py, the live stream in test_stream.py.
"""

from __future__ import annotations

from datetime import timedelta
import threading
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_PASSWORD, CONF_TOKEN, CONF_URL, CONF_USERNAME, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nezha.api import client as client_module, v0
from custom_components.nezha.const import CONF_FLAVOR, DOMAIN, OUTAGE_GRACE
from fake_dashboard import FakeDashboard
from fake_dashboard.server import FakeService
from tests.helpers import (
    CPU,
    DETAILS,
    GIB,
    PASSWORD,
    SERVICE,
    TOTAL,
    USERNAME,
    AddServers,
    Clock,
    MakeEntry,
    Refresh,
    SetupEntry,
)

# --- servers ---------------------------------------------------------------------------------


async def test_v0_polls_every_30_seconds(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    config_entry: MockConfigEntry,
    setup_entry: SetupEntry,
    refresh: Refresh,
) -> None:
    """v0 has no stream: one request every 30 s, Home Assistant's default for polling."""
    await setup_entry(config_entry)
    asked = dashboard.requests[DETAILS]
    # Home Assistant aligns refreshes to the second, so one comes 29-31 s after the last.
    await refresh(28)
    assert dashboard.requests[DETAILS] == asked
    await refresh(3)
    assert dashboard.requests[DETAILS] == asked + 1
    await refresh(28)
    assert dashboard.requests[DETAILS] == asked + 1
    await refresh(3)
    assert dashboard.requests[DETAILS] == asked + 2


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
    refresh: Refresh,
) -> None:
    """With the entry's *Enable polling for changes* off, only update_entity asks."""
    assert await async_setup_component(hass, "homeassistant", {})
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(config_entry, pref_disable_polling=True)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    asked = dashboard.requests[DETAILS]
    for _ in range(4):
        await refresh(31)
    assert dashboard.requests[DETAILS] == asked

    await hass.services.async_call(
        "homeassistant", "update_entity", {"entity_id": CPU}, blocking=True
    )
    await hass.async_block_till_done()
    assert dashboard.requests[DETAILS] == asked + 1


async def test_one_request_per_refresh_whatever_the_server_count(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    config_entry: MockConfigEntry,
    add_servers: AddServers,
    setup_entry: SetupEntry,
    refresh: Refresh,
    clock: Clock,
) -> None:
    """202 servers: one request at setup, one per refresh, nothing else."""
    add_servers(*range(10, 210))
    await setup_entry(config_entry)
    assert dashboard.requests[DETAILS] == 1
    assert hass.states.get(TOTAL).state == "202"
    for count in range(1, 4):
        clock.now += 30
        dashboard.tick(30)
        await refresh()
        assert dashboard.requests[DETAILS] == 1 + count
    assert sum(dashboard.requests.values()) == 4


async def test_large_answers_are_parsed_off_the_event_loop(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    config_entry: MockConfigEntry,
    add_servers: AddServers,
    setup_entry: SetupEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Hundreds of servers are decoded and parsed in a worker thread, with the same result."""
    threads: list[str] = []
    parse = v0.parse_servers

    def recording_parse(data: object, *args: Any) -> object:
        threads.append(threading.current_thread().name)
        return parse(data, *args)

    monkeypatch.setattr(v0, "parse_servers", recording_parse)
    add_servers(*range(10, 350))
    await setup_entry(config_entry)
    assert dashboard.bytes_sent > client_module.OFFLOAD_BYTES
    assert threads
    assert threading.main_thread().name not in threads
    assert hass.states.get(TOTAL).state == str(len(dashboard.servers))
    assert hass.states.get("binary_sensor.server_349_online").state == "on"


async def test_v1_entry_keeps_working_once_the_dashboard_runs_v2(
    hass: HomeAssistant,
    v2: FakeDashboard,
    clock: Clock,
    freezer: FrozenDateTimeFactory,
    setup_entry: SetupEntry,
) -> None:
    """An entry set up with a v1 login, the dashboard since upgraded to v2 (which accepts the
    login too): v2 renews sessions only for browsers (its GET refresh-token is not found), so
    the session is renewed by logging in again rather than failing every hour."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="127.0.0.1",
        unique_id=v2.url,
        data={
            CONF_URL: v2.url,
            CONF_VERIFY_SSL: True,
            CONF_FLAVOR: "v1",
            CONF_TOKEN: "",
            CONF_USERNAME: USERNAME,
            CONF_PASSWORD: PASSWORD,
        },
    )
    await setup_entry(entry)
    assert entry.state is ConfigEntryState.LOADED
    coordinator = entry.runtime_data.coordinator
    logins = v2.logins

    # An hour later the session is due for renewal.
    freezer.tick(3600)
    clock.now += 3600
    v2.heartbeat()
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    assert v2.requests["/api/v1/refresh-token"] == 1
    assert v2.logins == logins + 1
    assert hass.states.get(CPU).state == "17.33"
    assert not hass.config_entries.flow.async_progress()
    await hass.config_entries.async_unload(entry.entry_id)


# --- service monitors (v1/v2) ------------------------------------------------------------------


async def test_no_service_requests_on_v0(
    hass: HomeAssistant, init_integration: MockConfigEntry, dashboard: FakeDashboard
) -> None:
    """v0 has no service overview: nothing is asked for, nothing is shown."""
    assert dashboard.requests[SERVICE] == 0
    assert all(not state.entity_id.endswith("_up") for state in hass.states.async_all())


async def test_services_follow_the_dashboard(
    hass: HomeAssistant,
    with_services: FakeDashboard,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
    services_refresh: Refresh,
) -> None:
    """A service going down, a new one, one removed, a rule dropped: all on the slow cadence."""
    entry = make_entry(with_services)
    await setup_entry(entry)
    before = with_services.requests[SERVICE]

    with_services.services[3].current_up = 2
    with_services.services[3].current_down = 28
    with_services.services[11] = FakeService(name="API")
    del with_services.services[7]
    del with_services.cycles[2]
    with_services.cycles[1].transfer[1] = 512 * GIB
    await services_refresh()

    assert with_services.requests[SERVICE] == before + 1
    assert hass.states.get("binary_sensor.blog_https_up").state == "off"
    assert hass.states.get("sensor.blog_https_status").state == "down"
    assert hass.states.get("binary_sensor.api_up").state == "on"
    devices = dr.async_get(hass)
    assert (
        devices.async_get_device_by_identifier(
            (DOMAIN, f"{entry.entry_id}_service_7"), entry.entry_id
        )
        is None
    )
    assert hass.states.get("binary_sensor.office_ping_up") is None
    assert er.async_get(hass).async_get("sensor.server1_keep_alive_transfer") is None
    assert hass.states.get("sensor.server1_monthly_1_tb_quota_used").state == "50.0"


async def test_renamed_service_keeps_its_device(
    hass: HomeAssistant,
    with_services: FakeDashboard,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
    services_refresh: Refresh,
) -> None:
    """A renamed service keeps its device and entities; the device follows the name."""
    entry = make_entry(with_services)
    await setup_entry(entry)
    with_services.services[3].name = "Blog"
    await services_refresh()
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"{entry.entry_id}_service_3"), entry.entry_id
    )
    assert device is not None
    assert device.name == "Blog"
    assert hass.states.get("binary_sensor.blog_https_up").state == "on"


async def test_services_unavailable_while_the_dashboard_is_down(
    hass: HomeAssistant,
    with_services: FakeDashboard,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
    services_refresh: Refresh,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Down past the outage grace and back: the service entities are unavailable meanwhile,
    then return by themselves."""
    entry = make_entry(with_services)
    await setup_entry(entry)
    coordinator = entry.runtime_data.coordinator
    await with_services.go_down()
    # The servers' coordinator notices, keeps its data through the grace, then reports it.
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    freezer.tick(timedelta(seconds=OUTAGE_GRACE + 1))
    await coordinator.async_refresh()
    assert not coordinator.last_update_success
    await services_refresh()
    assert hass.states.get("sensor.blog_https_status").state == "unavailable"
    assert hass.states.get("sensor.server1_monthly_1_tb_transfer").state == "unavailable"
    await with_services.come_back()
    # The servers' coordinator probes for all: its first answer brings the services back.
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get("sensor.blog_https_status").state == "good"
