"""Service monitors and traffic cycles (v1/v2 ``/api/v1/service``), through Home Assistant."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er, issue_registry as ir
from hypothesis import given, settings, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.nezha.api import NezhaError, NezhaResponseError, ServiceStatus
from custom_components.nezha.api.v1v2 import parse_services
from custom_components.nezha.const import DOMAIN, SERVICES_SCAN_INTERVAL
from fake_dashboard import FakeDashboard
from fake_dashboard.server import SCOPE_INVENTORY, FakeCycle, FakeService, PersonalToken

from .conftest import EXAMPLE_NOW, Clock, setup_entry
from .test_v1v2 import V2_TOKEN, _entry, _start

SERVICE = "/api/v1/service"
GIB = 1024**3
CYCLE_START = EXAMPLE_NOW - 10 * 86400
CYCLE_END = EXAMPLE_NOW + 20 * 86400


def _add_services(fake: FakeDashboard) -> None:
    fake.services = {
        3: FakeService(name="Blog HTTPS", current_up=30, total_up=8600, total_down=40),
        7: FakeService(
            name="Office ping",
            current_up=26,
            current_down=4,
            total_up=900,
            total_down=100,
            delay=[12.0] * 29 + [18.25],
        ),
    }
    fake.cycles = {
        1: FakeCycle(
            name="Monthly 1 TB",
            start=CYCLE_START,
            end=CYCLE_END,
            max=1024 * GIB,
            transfer={1: 256 * GIB, 2: 768 * GIB},
        ),
        # A rule with only a lower bound has no quota to show.
        2: FakeCycle(
            name="Keep-alive", start=CYCLE_START, end=CYCLE_END, min=GIB, transfer={1: GIB}
        ),
    }


@pytest.fixture(params=["v1", "v2"])
async def with_services(
    request: pytest.FixtureRequest, clock: Clock, socket_enabled: None
) -> AsyncGenerator[FakeDashboard]:
    fake = await _start(clock, request.param)
    fake.stream_enabled = False
    _add_services(fake)
    yield fake
    await fake.stop()


async def _next_services_refresh(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Move time past the service cadence and wait until that refresh has been handled.

    The refresh runs as a background task, and so does the stream, which never ends; so wait
    for the coordinator to tell its listeners instead of for every background task.
    """
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    services = entry.runtime_data.services
    assert services is not None
    done = hass.loop.create_future()
    unsubscribe = services.async_add_listener(lambda: done.done() or done.set_result(None))
    try:
        freezer.tick(SERVICES_SCAN_INTERVAL + timedelta(seconds=1))
        async_fire_time_changed(hass)
        await done
    finally:
        unsubscribe()
    await hass.async_block_till_done()


def test_parse_services_quirks() -> None:
    """String map keys, counters without omitempty, a zero latency today read as unknown."""
    snapshot = parse_services(
        {
            "services": {
                "5": {"current_up": 0, "current_down": 0, "total_up": 0, "total_down": 0},
                "6": {
                    "service_name": "DNS",
                    "current_up": 0,
                    "current_down": 30,
                    "total_up": 10,
                    "total_down": 30,
                    "delay": [1.5] * 30,
                },
            },
            "cycle_transfer_stats": {
                "9": {
                    "name": "Rule",
                    "from": "2026-11-01T00:00:00+08:00",
                    "to": "0001-01-01T00:00:00Z",
                    "max": 0,
                    "min": 0,
                    "transfer": {"4": 5},
                }
            },
        }
    )
    unnamed, dns = snapshot.services[5], snapshot.services[6]
    assert unnamed.name == "#5"
    assert unnamed.status is ServiceStatus.NO_DATA
    assert unnamed.availability is None
    assert unnamed.latency_today is None
    # The dashboard's page says "No Data" for 0 %: a service whose checks all fail is down.
    assert dns.status is ServiceStatus.DOWN
    assert dns.availability == 25.0
    assert dns.latency_today == 1.5
    cycle = snapshot.cycles[9]
    assert cycle.start == datetime(2026, 10, 31, 16, tzinfo=UTC)
    assert cycle.end is None
    assert cycle.usage[4].transfer == 5
    assert cycle.usage[4].server_name == ""
    assert parse_services(None).services == {}
    for bad in (
        [],
        {"services": {"x": {}}},
        {"services": {"0": {}}},
        {"services": {"1": []}},
        {"cycle_transfer_stats": {"1": "rule"}},
        {"cycle_transfer_stats": {"1": {"transfer": {"1": "many"}}}},
        {"services": {"1": {"delay": "slow"}}},
    ):
        with pytest.raises(NezhaResponseError):
            parse_services(bad)


async def test_service_devices_and_cycle_sensors(
    hass: HomeAssistant, with_services: FakeDashboard
) -> None:
    """Every service is a device under the dashboard; cycles are figures of their servers."""
    entry = _entry(with_services)
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    assert with_services.requests[SERVICE] == 1

    devices = dr.async_get(hass)
    blog = devices.async_get_device_by_identifier(
        (DOMAIN, f"{entry.entry_id}_service_3"), entry.entry_id
    )
    assert blog is not None
    assert blog.name == "Blog HTTPS"
    assert blog.entry_type is dr.DeviceEntryType.SERVICE
    dashboard = devices.async_get_device_by_identifier((DOMAIN, entry.entry_id), entry.entry_id)
    assert dashboard is not None
    assert blog.via_device_id == dashboard.id

    assert hass.states.get("binary_sensor.blog_https_up").state == "on"
    assert hass.states.get("sensor.blog_https_status").state == "good"
    assert hass.states.get("sensor.blog_https_availability_30_days").state == "99.54"
    latency = hass.states.get("sensor.blog_https_latency_today")
    assert latency.state == "42.5"
    assert latency.attributes["unit_of_measurement"] == "ms"
    # 26 of the last 30 checks: 86.7 %, which the dashboard calls low availability.
    assert hass.states.get("binary_sensor.office_ping_up").state == "on"
    assert hass.states.get("sensor.office_ping_status").state == "low_availability"
    assert hass.states.get("sensor.office_ping_latency_today").state == "18.25"

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
    # The keep-alive rule has no quota: only its transfer and end are shown.
    assert float(hass.states.get("sensor.server1_keep_alive_transfer").state) == 1.0
    assert hass.states.get("sensor.server1_keep_alive_quota") is None
    registry = er.async_get(hass)
    transfer_entry = registry.async_get("sensor.server1_monthly_1_tb_transfer")
    assert transfer_entry is not None
    assert transfer_entry.unique_id == f"{entry.entry_id}_1_cycle_1_transfer"


async def test_last_reset_is_the_cycle_start(
    hass: HomeAssistant, with_services: FakeDashboard
) -> None:
    entry = _entry(with_services)
    await setup_entry(hass, entry)
    transfer = hass.states.get("sensor.server1_monthly_1_tb_transfer")
    assert datetime.fromisoformat(transfer.attributes["last_reset"]) == datetime.fromtimestamp(
        CYCLE_START, UTC
    )


async def test_services_follow_the_dashboard(
    hass: HomeAssistant, with_services: FakeDashboard, freezer: FrozenDateTimeFactory
) -> None:
    """A service going down, a new one, one removed, a rule dropped: all on the slow cadence."""
    entry = _entry(with_services)
    await setup_entry(hass, entry)
    before = with_services.requests[SERVICE]

    with_services.services[3].current_up = 2
    with_services.services[3].current_down = 28
    with_services.services[11] = FakeService(name="API")
    del with_services.services[7]
    del with_services.cycles[2]
    with_services.cycles[1].transfer[1] = 512 * GIB
    await _next_services_refresh(hass, freezer)

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

    # A renamed service keeps its device and entities; the device follows the name.
    with_services.services[3].name = "Blog"
    await _next_services_refresh(hass, freezer)
    device = devices.async_get_device_by_identifier(
        (DOMAIN, f"{entry.entry_id}_service_3"), entry.entry_id
    )
    assert device is not None
    assert device.name == "Blog"
    assert hass.states.get("binary_sensor.blog_https_up").state == "off"

    # Down and back: the service entities are unavailable meanwhile, then return by themselves.
    await with_services.go_down()
    await _next_services_refresh(hass, freezer)
    assert hass.states.get("sensor.blog_https_status").state == "unavailable"
    assert hass.states.get("sensor.server1_monthly_1_tb_transfer").state == "unavailable"
    await with_services.come_back()
    await _next_services_refresh(hass, freezer)
    assert hass.states.get("sensor.blog_https_status").state == "down"


async def test_token_without_service_scope(
    hass: HomeAssistant, clock: Clock, socket_enabled: None
) -> None:
    """Servers load; a repair explains the missing scope, and clears once it is granted."""
    fake = await _start(clock, "v2")
    try:
        _add_services(fake)
        fake.personal_tokens[V2_TOKEN] = PersonalToken(scopes=frozenset({SCOPE_INVENTORY}))
        entry = _entry(fake)
        await setup_entry(hass, entry)
        assert entry.state is ConfigEntryState.LOADED
        assert hass.states.get("binary_sensor.server1_online") is not None
        assert hass.states.get("binary_sensor.blog_https_up") is None
        issues = ir.async_get(hass)
        assert issues.async_get_issue(DOMAIN, f"service_scope_{entry.entry_id}") is not None

        fake.personal_tokens[V2_TOKEN] = PersonalToken()
        coordinator = entry.runtime_data.services
        assert coordinator is not None
        await coordinator.async_refresh()
        await hass.async_block_till_done()
        assert issues.async_get_issue(DOMAIN, f"service_scope_{entry.entry_id}") is None
        assert hass.states.get("binary_sensor.blog_https_up").state == "on"
    finally:
        await fake.stop()


async def test_no_service_requests_on_v0(
    hass: HomeAssistant, init_integration: object, dashboard: FakeDashboard
) -> None:
    """v0 has no service overview: nothing is asked for, nothing is shown."""
    assert dashboard.requests[SERVICE] == 0
    assert all(not state.entity_id.endswith("_up") for state in hass.states.async_all())


async def test_service_device_removal_rules(
    hass: HomeAssistant, with_services: FakeDashboard, freezer: FrozenDateTimeFactory
) -> None:
    """A service device can be deleted by hand only once the dashboard dropped the service."""
    assert await _remove_allowed(hass, with_services, freezer)


async def _remove_allowed(
    hass: HomeAssistant, fake: FakeDashboard, freezer: FrozenDateTimeFactory
) -> bool:
    from custom_components.nezha import async_remove_config_entry_device  # noqa: PLC0415

    entry = _entry(fake)
    await setup_entry(hass, entry)
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"{entry.entry_id}_service_3"), entry.entry_id
    )
    assert device is not None
    assert not await async_remove_config_entry_device(hass, entry, device)
    dashboard = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, entry.entry_id), entry.entry_id
    )
    assert dashboard is not None
    assert not await async_remove_config_entry_device(hass, entry, dashboard)
    # Dropped from the dashboard while its device lingers (as after a restart).
    del fake.services[3]
    services = entry.runtime_data.services
    assert services is not None
    await services.async_refresh()
    return await async_remove_config_entry_device(hass, entry, device)


async def test_diagnostics_carry_services_without_names(
    hass: HomeAssistant, with_services: FakeDashboard
) -> None:
    from custom_components.nezha.diagnostics import (  # noqa: PLC0415
        async_get_config_entry_diagnostics,
    )

    entry = _entry(with_services)
    await setup_entry(hass, entry)
    data = await async_get_config_entry_diagnostics(hass, entry)
    text = repr(data)
    services = data["services"]
    assert services["last_update_success"] is True
    assert {item["id"] for item in services["services"]} == {3, 7}
    assert services["cycles"][0]["usage"][1]["transfer"] == 256 * GIB
    for secret in ("Blog HTTPS", "Monthly 1 TB", "Server1", with_services.url, V2_TOKEN):
        assert secret not in text
    if entry.data.get("password"):
        assert entry.data["password"] not in text


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=16,
)
_ids = st.sampled_from(["1", "2", "42", "0", "-1", "x", "\uff10"])
_service_item = st.fixed_dictionaries(
    {},
    optional={
        key: _json | st.integers(min_value=0, max_value=2**64 - 1)
        for key in ("service_name", "current_up", "current_down", "total_up", "total_down")
    }
    | {"delay": st.lists(st.floats(min_value=0, max_value=1e6) | _json, max_size=30)},
)
_cycle_item = st.fixed_dictionaries(
    {},
    optional={
        "name": _json,
        "from": st.sampled_from(["2026-11-01T00:00:00+08:00", "0001-01-01T00:00:00Z"]) | _json,
        "to": _json,
        "max": st.integers(min_value=0, max_value=2**64 - 1) | _json,
        "min": _json,
        "server_name": st.dictionaries(_ids, _json, max_size=3),
        "transfer": st.dictionaries(
            _ids, st.integers(min_value=0, max_value=2**64 - 1), max_size=3
        ),
        "next_update": st.dictionaries(_ids, _json, max_size=3),
    },
)
_services_data = _json | st.fixed_dictionaries(
    {},
    optional={
        "services": st.dictionaries(_ids, _service_item | _json, max_size=3),
        "cycle_transfer_stats": st.dictionaries(_ids, _cycle_item | _json, max_size=3),
    },
)


@settings(max_examples=400, deadline=None)
@given(_services_data)
def test_parse_services_fuzz(data: object) -> None:
    """Any JSON gives a well-typed snapshot or the client's own error, nothing else."""
    try:
        snapshot = parse_services(data)
    except NezhaError:
        return
    for service_id, service in snapshot.services.items():
        assert type(service_id) is int
        assert service_id > 0
        assert type(service.name) is str
        assert service.name
        for count in (
            service.current_up,
            service.current_down,
            service.total_up,
            service.total_down,
        ):
            assert type(count) is int
            assert count >= 0
        assert service.latency_today is None or type(service.latency_today) is float
        assert service.status in ServiceStatus
        for share in (service.availability, service.current_percent):
            assert share is None or 0 <= share <= 100
    for rule_id, cycle in snapshot.cycles.items():
        assert type(rule_id) is int
        assert rule_id > 0
        assert type(cycle.quota) is int
        assert type(cycle.minimum) is int
        for when in (cycle.start, cycle.end):
            assert when is None or type(when) is datetime
            assert when is None or when.tzinfo is not None
        for server_id, usage in cycle.usage.items():
            assert type(server_id) is int
            assert server_id > 0
            assert type(usage.transfer) is int
            assert type(usage.server_name) is str
