"""v0's answers (``/api/v1/server/details``) become the client's models."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import ClientSession, web
import pytest

from custom_components.nezha.api import (
    DashboardFlavor,
    NezhaClient,
    NezhaResponseError,
    Server,
    ServerHost,
    ServerStatus,
    v0 as v0_module,
)
from fake_dashboard import FakeDashboard
from tests.helpers import EXAMPLE_NOW, TOKEN


@pytest.fixture
def client(session: ClientSession, dashboard: FakeDashboard) -> NezhaClient:
    # As the integration builds it for a v0 entry: the line is known from setup.
    return NezhaClient(session, dashboard.url, TOKEN, flavor=DashboardFlavor.V0)


async def test_docs_example_parsed(client: NezhaClient) -> None:
    """The example of the docs page becomes exactly these models."""
    snapshot = await client.async_get_servers()

    assert snapshot.dashboard_time == datetime.fromtimestamp(EXAMPLE_NOW, UTC)
    assert snapshot.servers == {
        1: Server(
            id=1,
            name="Server1",
            tag="Tag1",
            last_active=datetime.fromtimestamp(1653015042, UTC),
            ipv4="1.1.1.1",
            display_index=0,
            host=ServerHost(
                platform="darwin",
                platform_version="12.3.1",
                cpu=("Apple M1 Pro 1 Physical Core",),
                mem_total=17179869184,
                disk_total=2473496842240,
                swap_total=0,
                arch="arm64",
                boot_time=datetime.fromtimestamp(1652683962, UTC),
                country_code="hk",
            ),
            status=ServerStatus(
                cpu=17.33,
                mem_used=14013841408,
                disk_used=2335048912896,
                net_in_transfer=2710273234,
                net_out_transfer=695454765,
                net_in_speed=10806,
                net_out_speed=5303,
                uptime=331080,
                load_1=5.23,
                load_5=4.87,
                load_15=3.99,
                tcp_connections=195,
                udp_connections=70,
                processes=437,
            ),
        ),
        2: Server(id=2, name="Server2", tag="Tag2", status=ServerStatus(gpu=None)),
    }
    assert snapshot.servers[1].valid_ip == "1.1.1.1"
    assert snapshot.servers[1].is_online(snapshot.dashboard_time, 10)
    # Go's zero time: never reported since the dashboard started.
    assert snapshot.servers[2].last_active is None
    assert not snapshot.servers[2].is_online(snapshot.dashboard_time, 10**9)
    assert snapshot.tags == {"Tag1", "Tag2"}


async def test_null_result_is_no_server(client: NezhaClient, dashboard: FakeDashboard) -> None:
    """Go's nil slice (``"result": null``): a dashboard without servers."""

    async def answer(request: web.Request) -> web.Response:
        return web.json_response({"code": 0, "message": "success", "result": None})

    dashboard.hook = answer
    assert (await client.async_get_servers()).servers == {}


async def test_missing_keys_read_as_defaults(client: NezhaClient, dashboard: FakeDashboard) -> None:
    """A server with only some keys: a name made of its id, the figures it has."""

    async def sparse(request: web.Request) -> web.Response:
        return web.json_response(
            {"code": 0, "result": [{"id": 9, "last_active": 1.7e9, "status": {"Load1": 1}}]}
        )

    dashboard.hook = sparse
    server = (await client.async_get_servers()).servers[9]
    assert server.name == "#9"
    assert server.status.load_1 == 1.0
    assert server.last_active == datetime.fromtimestamp(1.7e9, UTC)


async def test_uint64_counters_kept_exact(client: NezhaClient, dashboard: FakeDashboard) -> None:
    """Go's uint64 counters at their largest, not rounded through a float."""
    dashboard.servers[1].status["NetInTransfer"] = 2**64 - 1
    snapshot = await client.async_get_servers()
    assert snapshot.servers[1].status.net_in_transfer == 2**64 - 1


@pytest.mark.parametrize("code", [False, True, "0", 0.0, None])
def test_v0_code_must_be_an_integer(code: object) -> None:
    """JSON false equals 0 in Python; only the integer 0 is success."""
    with pytest.raises(NezhaResponseError):
        v0_module.parse_envelope({"code": code, "message": "success", "result": []})
    assert v0_module.parse_envelope({"code": 0, "result": []}) == []
