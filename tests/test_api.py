"""The dashboard client against the fake dashboard over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import UTC, datetime

from aiohttp import ClientSession, web
import pytest

from custom_components.nezha.api import (
    DashboardFlavor,
    NezhaAuthError,
    NezhaClient,
    NezhaConnectionError,
    NezhaError,
    NezhaInvalidUrlError,
    NezhaNotDashboardError,
    NezhaRateLimitError,
    NezhaResponseError,
    NezhaTimeoutError,
    Server,
    ServerHost,
    ServerStatus,
    normalize_url,
    v0 as v0_module,
)
from fake_dashboard import FakeDashboard

from .conftest import EXAMPLE_NOW, TOKEN


@pytest.fixture
async def session() -> AsyncGenerator[ClientSession]:
    async with ClientSession() as client_session:
        yield client_session


@pytest.fixture
def client(session: ClientSession, dashboard: FakeDashboard) -> NezhaClient:
    # As the integration builds it for a v0 entry: the line is known from setup.
    return NezhaClient(session, dashboard.url, TOKEN, flavor=DashboardFlavor.V0)


async def test_v0_detected_without_sending_the_token(
    session: ClientSession, dashboard: FakeDashboard
) -> None:
    """The line probe needs no credentials: the token only goes to the v0 route."""
    seen: list[tuple[str, str | None]] = []

    async def spy(request: web.Request) -> None:
        seen.append((request.path, request.headers.get("Authorization")))

    dashboard.hook = spy
    client = NezhaClient(session, dashboard.url, TOKEN)
    snapshot = await client.async_get_servers()
    assert client.flavor is DashboardFlavor.V0
    assert snapshot.flavor is DashboardFlavor.V0
    assert seen == [("/api/v1/setting", None), ("/api/v1/server/details", TOKEN)]


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


async def test_one_request_sends_raw_token(client: NezhaClient, dashboard: FakeDashboard) -> None:
    seen: list[str | None] = []

    async def spy(request: web.Request) -> None:
        seen.append(request.headers.get("Authorization"))

    dashboard.hook = spy
    await client.async_get_servers()
    assert seen == [TOKEN]
    assert dashboard.requests["/api/v1/server/details"] == 1


async def test_list_route(client: NezhaClient) -> None:
    snapshot = await client.async_list_servers()
    assert {s.name for s in snapshot.servers.values()} == {"Server1", "Server2"}
    assert snapshot.servers[1].host == ServerHost()


async def test_filters_follow_the_dashboard(client: NezhaClient) -> None:
    """Tag wins over id; a non-numeric id matches nothing; an unknown tag gives nothing."""
    assert set((await client.async_get_servers(ids=[2])).servers) == {2}
    assert set((await client.async_get_servers(tag="Tag1")).servers) == {1}
    assert set((await client.async_get_servers(ids=[2], tag="Tag1")).servers) == {1}
    assert (await client.async_get_servers(tag="nope")).servers == {}
    assert set((await client.async_list_servers(tag="Tag2")).servers) == {2}


async def test_sub_path(session: ClientSession, socket_enabled: None) -> None:
    """A dashboard behind a reverse proxy at /nezha/."""
    fake = FakeDashboard(token=TOKEN, prefix="/nezha")
    fake.load_v0_example({"result": []})
    await fake.start()
    try:
        client = NezhaClient(session, fake.url + "/", TOKEN)
        assert client.url.endswith("/nezha")
        assert (await client.async_get_servers()).servers == {}
        assert fake.requests["/api/v1/server/details"] == 1
        assert client.server_page_url(3) == fake.url + "/server/3"
    finally:
        await fake.stop()


async def test_wrong_token_is_auth_error(session: ClientSession, dashboard: FakeDashboard) -> None:
    """v0 answers HTTP 200 with code 403; the token stays out of the message."""
    client = NezhaClient(session, dashboard.url, "wrong-token-value")
    with pytest.raises(NezhaAuthError) as err:
        await client.async_get_servers()
    assert "wrong-token-value" not in str(err.value)


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (web.Response(status=502, text="<html>Bad Gateway</html>"), NezhaConnectionError),
        (web.Response(status=401), NezhaAuthError),
        (web.Response(status=429, headers={"Retry-After": "7"}), NezhaRateLimitError),
        (web.Response(status=302, headers={"Location": "/login"}), NezhaNotDashboardError),
        (web.Response(status=418), NezhaResponseError),
        (web.Response(text="<!DOCTYPE html><p>hello</p>"), NezhaNotDashboardError),
        (
            web.Response(text='{"code":0,"result":[{"id":1', content_type="application/json"),
            NezhaResponseError,
        ),
        (web.json_response({"status": "ok"}), NezhaNotDashboardError),
        (web.json_response([1, 2]), NezhaNotDashboardError),
        (web.json_response({"code": 500, "message": "x"}), NezhaResponseError),
        (web.json_response({"code": 0, "result": {"id": 1}}), NezhaResponseError),
        (web.json_response({"code": 0, "result": [{"id": "one"}]}), NezhaResponseError),
        (web.json_response({"code": 0, "result": [{"id": 0}]}), NezhaResponseError),
        (
            web.json_response({"code": 0, "result": [{"id": 1, "status": {"CPU": "high"}}]}),
            NezhaResponseError,
        ),
        (web.json_response({"code": 0, "result": [{"id": 1, "host": []}]}), NezhaResponseError),
        (
            web.json_response({"code": 0, "result": [{"id": 1, "host": {"CPU": [1]}}]}),
            NezhaResponseError,
        ),
    ],
)
async def test_bad_answers_raise_client_errors(
    client: NezhaClient,
    dashboard: FakeDashboard,
    response: web.Response,
    error: type[NezhaError],
) -> None:
    async def answer(request: web.Request) -> web.Response:
        return response

    dashboard.hook = answer
    with pytest.raises(error) as raised:
        await client.async_get_servers()
    assert TOKEN not in str(raised.value)
    if isinstance(raised.value, NezhaRateLimitError):
        assert raised.value.retry_after == 7


async def test_404_page_is_not_nezha(session: ClientSession, dashboard: FakeDashboard) -> None:
    client = NezhaClient(session, dashboard.url + "/some/page", TOKEN)
    with pytest.raises(NezhaNotDashboardError):
        await client.async_get_servers()


async def test_null_result_and_missing_keys(client: NezhaClient, dashboard: FakeDashboard) -> None:
    async def answer(request: web.Request) -> web.Response:
        return web.json_response({"code": 0, "message": "success", "result": None})

    dashboard.hook = answer
    assert (await client.async_get_servers()).servers == {}

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
    dashboard.servers[1].status["NetInTransfer"] = 2**64 - 1
    snapshot = await client.async_get_servers()
    assert snapshot.servers[1].status.net_in_transfer == 2**64 - 1


async def test_connection_refused(session: ClientSession, dashboard: FakeDashboard) -> None:
    client = NezhaClient(session, dashboard.url, TOKEN)
    await dashboard.go_down()
    with pytest.raises(NezhaConnectionError):
        await client.async_get_servers()
    await dashboard.come_back()
    assert len((await client.async_get_servers()).servers) == 2


async def test_timeout(session: ClientSession, dashboard: FakeDashboard) -> None:
    client = NezhaClient(session, dashboard.url, TOKEN, request_timeout=0.2)
    dashboard.delay = 2
    with pytest.raises(NezhaTimeoutError):
        await client.async_get_servers()


async def test_missing_date_header_uses_local_clock(
    client: NezhaClient, dashboard: FakeDashboard
) -> None:
    async def answer(request: web.Request) -> web.Response:
        response = web.json_response({"code": 0, "result": []})
        response.headers["Date"] = "not a date"
        return response

    dashboard.hook = answer
    before = datetime.now(UTC)
    snapshot = await client.async_get_servers()
    assert snapshot.dashboard_time >= before


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://Example.COM", "http://example.com"),
        (" https://example.com:443/nezha/ ", "https://example.com/nezha"),
        ("http://example.com:8008/", "http://example.com:8008"),
        ("https://example.com/a/b?x=1#y", "https://example.com/a/b"),
        ("http://[2001:db8::1]:8008", "http://[2001:db8::1]:8008"),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "example.com",
        "ftp://example.com",
        "http://user:pw@example.com",
        "http://",
        "",
        "http://a b",
        # yarl raises IndexError here.
        "0://[]@",
    ],
)
def test_invalid_urls(url: str) -> None:
    with pytest.raises(NezhaInvalidUrlError):
        normalize_url(url)


@pytest.mark.parametrize("code", [False, True, "0", 0.0, None])
def test_v0_code_must_be_an_integer(code: object) -> None:
    """JSON false equals 0 in Python; only the integer 0 is success."""
    with pytest.raises(NezhaResponseError):
        v0_module.parse_envelope({"code": code, "message": "success", "result": []})
    assert v0_module.parse_envelope({"code": 0, "result": []}) == []
