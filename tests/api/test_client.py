"""The dashboard client against the fake dashboard over real HTTP: routes, lines, errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import ClientSession, web
import pytest

from custom_components.nezha.api import (
    DashboardFlavor,
    NezhaAuthError,
    NezhaClient,
    NezhaConnectionError,
    NezhaError,
    NezhaNotDashboardError,
    NezhaRateLimitError,
    NezhaResponseError,
    NezhaTimeoutError,
    ServerHost,
)
from fake_dashboard import FakeDashboard
from tests.helpers import SERVER, TOKEN, V2_TOKEN


@pytest.fixture
def client(session: ClientSession, dashboard: FakeDashboard) -> NezhaClient:
    # As the integration builds it for a v0 entry: the line is known from setup.
    return NezhaClient(session, dashboard.url, TOKEN, flavor=DashboardFlavor.V0)


# --- which line ----------------------------------------------------------------------------


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


@pytest.mark.parametrize(
    ("version", "flavor"),
    [
        pytest.param("v1.14.14", DashboardFlavor.V1, id="v1"),
        pytest.param("2.3.7", DashboardFlavor.V2, id="v2"),
        pytest.param("9" * 5000, DashboardFlavor.V1, id="5000_digits"),
        pytest.param("\u0662.0", DashboardFlavor.V1, id="arabic_digit"),
        pytest.param("", DashboardFlavor.V1, id="empty"),
    ],
)
async def test_hostile_version_in_setting(
    session: ClientSession, dashboard: FakeDashboard, version: str, flavor: DashboardFlavor
) -> None:
    """Flavor detection reads a version string from an unauthenticated route: never a crash."""

    async def setting(request: web.Request) -> web.Response:
        return web.json_response({"success": True, "data": {"version": version}})

    dashboard.hook = setting
    client = NezhaClient(session, dashboard.url, "not-a-personal-token")
    assert await client.async_detect_flavor() is flavor


# --- routes and filters ----------------------------------------------------------------------


async def test_list_route(client: NezhaClient) -> None:
    """v0's list route names the servers, without host or status."""
    snapshot = await client.async_list_servers()
    assert {s.name for s in snapshot.servers.values()} == {"Server1", "Server2"}
    assert snapshot.servers[1].host == ServerHost()


@pytest.mark.parametrize(
    ("route", "query", "expected"),
    [
        pytest.param("details", {"ids": [2]}, {2}, id="by_id"),
        pytest.param("details", {"tag": "Tag1"}, {1}, id="by_tag"),
        pytest.param("details", {"ids": [2], "tag": "Tag1"}, {1}, id="tag_wins_over_id"),
        pytest.param("details", {"tag": "nope"}, set(), id="unknown_tag"),
        pytest.param("list", {"tag": "Tag2"}, {2}, id="list_by_tag"),
    ],
)
async def test_filters_follow_the_dashboard(
    client: NezhaClient, route: str, query: dict[str, Any], expected: set[int]
) -> None:
    """The servers asked for, filtered as the dashboard filters them."""
    read = client.async_get_servers if route == "details" else client.async_list_servers
    assert set((await read(**query)).servers) == expected


@pytest.mark.parametrize(
    ("ids", "expected"),
    [pytest.param([1, 99], {1}, id="one_known"), pytest.param([99], set(), id="none_known")],
)
async def test_v2_ids_filtered_by_the_client(
    v2: FakeDashboard, session: ClientSession, ids: list[int], expected: set[int]
) -> None:
    """v2 answers every server when no id it knows is asked for: the client filters."""
    client = NezhaClient(session, v2.url, V2_TOKEN)
    assert set((await client.async_get_servers(ids=ids)).servers) == expected


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


async def test_v2_groups_read_once(v2: FakeDashboard, session: ClientSession) -> None:
    """Server groups are read once, not on every refresh."""
    client = NezhaClient(session, v2.url, V2_TOKEN)
    await client.async_get_servers(ids=[1, 99])
    await client.async_get_servers(ids=[99])
    assert v2.requests["/api/v1/server-group"] == 1
    assert v2.requests[SERVER] == 2


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "error"),
    [
        pytest.param(
            web.Response(status=502, text="<html>Bad Gateway</html>"),
            NezhaConnectionError,
            id="502",
        ),
        pytest.param(web.Response(status=401), NezhaAuthError, id="401"),
        pytest.param(
            web.Response(status=429, headers={"Retry-After": "7"}), NezhaRateLimitError, id="429"
        ),
        pytest.param(
            web.Response(status=302, headers={"Location": "/login"}),
            NezhaNotDashboardError,
            id="302",
        ),
        pytest.param(web.Response(status=418), NezhaResponseError, id="418"),
        pytest.param(
            web.Response(text="<!DOCTYPE html><p>hello</p>"), NezhaNotDashboardError, id="html"
        ),
        pytest.param(
            web.Response(text='{"code":0,"result":[{"id":1', content_type="application/json"),
            NezhaResponseError,
            id="truncated_json",
        ),
        pytest.param(web.json_response({"status": "ok"}), NezhaNotDashboardError, id="other_api"),
        pytest.param(web.json_response([1, 2]), NezhaNotDashboardError, id="list_body"),
        pytest.param(
            web.json_response({"code": 500, "message": "x"}), NezhaResponseError, id="code_500"
        ),
        pytest.param(
            web.json_response({"code": 0, "result": {"id": 1}}),
            NezhaResponseError,
            id="result_object",
        ),
        pytest.param(
            web.json_response({"code": 0, "result": [{"id": "one"}]}),
            NezhaResponseError,
            id="id_text",
        ),
        pytest.param(
            web.json_response({"code": 0, "result": [{"id": 0}]}), NezhaResponseError, id="id_0"
        ),
        pytest.param(
            web.json_response({"code": 0, "result": [{"id": 1, "status": {"CPU": "high"}}]}),
            NezhaResponseError,
            id="cpu_text",
        ),
        pytest.param(
            web.json_response({"code": 0, "result": [{"id": 1, "host": []}]}),
            NezhaResponseError,
            id="host_list",
        ),
        pytest.param(
            web.json_response({"code": 0, "result": [{"id": 1, "host": {"CPU": [1]}}]}),
            NezhaResponseError,
            id="host_cpu_numbers",
        ),
    ],
)
async def test_bad_answers_raise_client_errors(
    client: NezhaClient,
    dashboard: FakeDashboard,
    response: web.Response,
    error: type[NezhaError],
) -> None:
    """Each broken answer is the client's own error, without the token in it."""

    async def answer(request: web.Request) -> web.Response:
        return response

    dashboard.hook = answer
    with pytest.raises(error) as raised:
        await client.async_get_servers()
    assert TOKEN not in str(raised.value)
    if isinstance(raised.value, NezhaRateLimitError):
        assert raised.value.retry_after == 7


async def test_404_page_is_not_nezha(session: ClientSession, dashboard: FakeDashboard) -> None:
    """A URL of the dashboard's host that is not its API."""
    client = NezhaClient(session, dashboard.url + "/some/page", TOKEN)
    with pytest.raises(NezhaNotDashboardError):
        await client.async_get_servers()


async def test_connection_refused(session: ClientSession, dashboard: FakeDashboard) -> None:
    """Refused while down; read again once it is back."""
    client = NezhaClient(session, dashboard.url, TOKEN)
    await dashboard.go_down()
    with pytest.raises(NezhaConnectionError):
        await client.async_get_servers()
    await dashboard.come_back()
    assert len((await client.async_get_servers()).servers) == 2


async def test_timeout(session: ClientSession, dashboard: FakeDashboard) -> None:
    """A dashboard slower than the client's timeout."""
    client = NezhaClient(session, dashboard.url, TOKEN, request_timeout=0.2)
    dashboard.delay = 2
    with pytest.raises(NezhaTimeoutError):
        await client.async_get_servers()


async def test_missing_date_header_uses_local_clock(
    client: NezhaClient, dashboard: FakeDashboard
) -> None:
    """Without a readable Date the dashboard's clock is taken to be ours."""

    async def answer(request: web.Request) -> web.Response:
        response = web.json_response({"code": 0, "result": []})
        response.headers["Date"] = "not a date"
        return response

    dashboard.hook = answer
    before = datetime.now(UTC)
    snapshot = await client.async_get_servers()
    assert snapshot.dashboard_time >= before
