"""v1 and v2 answers become the same models as v0's; their own quirks are read as meant."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import ClientSession
import pytest

from custom_components.nezha.api import (
    DashboardFlavor,
    NezhaClient,
    NezhaResponseError,
    ServiceStatus,
)
from custom_components.nezha.api.v1v2 import parse_services, parse_time
from fake_dashboard import FakeDashboard
from tests.helpers import PASSWORD, TOKEN, USERNAME, V2_TOKEN, Clock, start_dashboard


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "2025-01-10T12:00:00.123456789+08:00",
            "2025-01-10T04:00:00.123456+00:00",
            id="nanoseconds_and_offset",
        ),
        pytest.param("2025-01-10T04:00:00Z", "2025-01-10T04:00:00+00:00", id="utc"),
        pytest.param("0001-01-01T00:00:00Z", None, id="go_zero_time"),
        pytest.param("", None, id="empty"),
    ],
)
def test_rfc3339_as_go_writes_it(text: str, expected: str | None) -> None:
    """Go's RFC 3339 with nanoseconds, in UTC; its zero time and nothing at all are never."""
    when = parse_time(text)
    assert (None if when is None else when.isoformat()) == expected


def test_time_in_another_format_is_refused() -> None:
    with pytest.raises(NezhaResponseError):
        parse_time("10 Jan 2025")


@pytest.mark.parametrize("flavor", ["v1", "v2"])
async def test_same_models_as_v0(
    clock: Clock, session: ClientSession, socket_enabled: None, flavor: str
) -> None:
    """Every line yields the same servers from the same dashboard state."""
    v0_fake = await start_dashboard(clock, "v0")
    other = await start_dashboard(clock, flavor)
    try:
        v0_snapshot = await NezhaClient(session, v0_fake.url, TOKEN).async_get_servers()
        client = NezhaClient(
            session,
            other.url,
            V2_TOKEN if flavor == "v2" else "",
            username=USERNAME,
            password=PASSWORD,
        )
        snapshot = await client.async_get_servers()
    finally:
        await v0_fake.stop()
        await other.stop()
    assert snapshot.flavor is DashboardFlavor(flavor)
    assert v0_snapshot.flavor is DashboardFlavor.V0
    assert set(snapshot.servers) == {1, 2}
    for server_id, v0_server in v0_snapshot.servers.items():
        server = snapshot.servers[server_id]
        assert server.host == v0_server.host
        assert server.status == v0_server.status
        assert server.last_active == v0_server.last_active
        assert (server.name, server.ipv4, server.ipv6) == (
            v0_server.name,
            v0_server.ipv4,
            v0_server.ipv6,
        )
    # Groups take the place of the tag; a server may be in several.
    assert snapshot.servers[1].groups == ("Tag1", "Edge")
    assert snapshot.servers[1].tag == "Tag1"
    assert snapshot.tags == {"Tag1", "Edge", "Tag2"}
    # Never reported: zero time → None, offline.
    assert snapshot.servers[2].last_active is None


async def test_v2_omitempty_and_gpu_list(v2: FakeDashboard, session: ClientSession) -> None:
    """Absent keys read as zero; several GPUs give the busiest."""
    server = v2.servers[1]
    server.status["CPU"] = 0
    server.status["GPU"] = 37.5
    server.ipv6 = ""
    client = NezhaClient(session, v2.url, V2_TOKEN)
    snapshot = await client.async_get_servers(ids=[1, 99])
    assert snapshot.servers[1].status.cpu == 0.0
    assert snapshot.servers[1].status.gpu == 37.5
    assert snapshot.servers[1].ipv6 == ""
    assert snapshot.servers[1].host.country_code == server.host["CountryCode"]


# --- service monitors and traffic cycles (``/api/v1/service``) ---------------------------------


def test_service_without_name_or_checks() -> None:
    """String map keys; counters without omitempty; no check yet: no data, nothing known."""
    snapshot = parse_services(
        {"services": {"5": {"current_up": 0, "current_down": 0, "total_up": 0, "total_down": 0}}}
    )
    unnamed = snapshot.services[5]
    assert unnamed.name == "#5"
    assert unnamed.status is ServiceStatus.NO_DATA
    assert unnamed.availability is None
    assert unnamed.latency_today is None


def test_service_whose_checks_all_fail_is_down() -> None:
    """The dashboard's page says "No Data" for 0 %: a service whose checks all fail is down."""
    snapshot = parse_services(
        {
            "services": {
                "6": {
                    "service_name": "DNS",
                    "current_up": 0,
                    "current_down": 30,
                    "total_up": 10,
                    "total_down": 30,
                    "delay": [1.5] * 30,
                },
            }
        }
    )
    dns = snapshot.services[6]
    assert dns.status is ServiceStatus.DOWN
    assert dns.availability == 25.0
    assert dns.latency_today == 1.5


def test_cycle_without_end() -> None:
    """A traffic rule whose end is Go's zero time; a server the rule names no name for."""
    snapshot = parse_services(
        {
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
    cycle = snapshot.cycles[9]
    assert cycle.start == datetime(2026, 10, 31, 16, tzinfo=UTC)
    assert cycle.end is None
    assert cycle.usage[4].transfer == 5
    assert cycle.usage[4].server_name == ""


def test_no_services() -> None:
    """Go's nil map: nothing monitored."""
    assert parse_services(None).services == {}


@pytest.mark.parametrize(
    "data",
    [
        pytest.param([], id="list"),
        pytest.param({"services": {"x": {}}}, id="key_not_a_number"),
        pytest.param({"services": {"0": {}}}, id="id_0"),
        pytest.param({"services": {"1": []}}, id="service_list"),
        pytest.param({"cycle_transfer_stats": {"1": "rule"}}, id="cycle_text"),
        pytest.param(
            {"cycle_transfer_stats": {"1": {"transfer": {"1": "many"}}}}, id="transfer_text"
        ),
        pytest.param({"services": {"1": {"delay": "slow"}}}, id="delay_text"),
    ],
)
def test_broken_services_refused(data: object) -> None:
    with pytest.raises(NezhaResponseError):
        parse_services(data)
