"""Credentials per line: v0's raw token, v2's personal token, v1's login and its renewal."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientSession, web
from freezegun.api import FrozenDateTimeFactory
import pytest

from custom_components.nezha.api import (
    DashboardFlavor,
    NezhaAuthError,
    NezhaClient,
    NezhaMissingScopeError,
    NezhaTokenExpiredError,
)
from fake_dashboard import FakeDashboard
from fake_dashboard.server import SCOPE_SERVICE
from tests.helpers import PASSWORD, TOKEN, USERNAME, Clock

REFRESH_TOKEN = "/api/v1/refresh-token"


async def test_v0_one_request_sends_the_raw_token(
    session: ClientSession, dashboard: FakeDashboard
) -> None:
    """v0 takes the token as it is, in one request per read."""
    client = NezhaClient(session, dashboard.url, TOKEN, flavor=DashboardFlavor.V0)
    seen: list[str | None] = []

    async def spy(request: web.Request) -> None:
        seen.append(request.headers.get("Authorization"))

    dashboard.hook = spy
    await client.async_get_servers()
    assert seen == [TOKEN]
    assert dashboard.requests["/api/v1/server/details"] == 1


async def test_v0_wrong_token_is_auth_error(
    session: ClientSession, dashboard: FakeDashboard
) -> None:
    """v0 answers HTTP 200 with code 403; the token stays out of the message."""
    client = NezhaClient(session, dashboard.url, "wrong-token-value")
    with pytest.raises(NezhaAuthError) as err:
        await client.async_get_servers()
    assert "wrong-token-value" not in str(err.value)


@pytest.mark.parametrize(
    ("token", "setup", "error"),
    [
        pytest.param("nzp_unknown", None, NezhaAuthError, id="unknown"),
        pytest.param(
            "nzp_expired",
            {"scopes": frozenset({"nezha:inventory:read"}), "expires": 0.0},
            NezhaTokenExpiredError,
            id="expired",
        ),
        pytest.param(
            "nzp_services",
            {"scopes": frozenset({SCOPE_SERVICE})},
            NezhaMissingScopeError,
            id="no_inventory_scope",
        ),
    ],
)
async def test_v2_token_refusals(
    v2: FakeDashboard,
    session: ClientSession,
    token: str,
    setup: dict[str, Any] | None,
    error: type[Exception],
) -> None:
    """Each way v2 refuses a personal token is its own error, without the token in it."""
    if setup is not None:
        v2.add_personal_token(token, **setup)
    with pytest.raises(error) as caught:
        await NezhaClient(session, v2.url, token).async_get_servers()
    assert token not in str(caught.value)
    if error is NezhaMissingScopeError:
        assert isinstance(caught.value, NezhaMissingScopeError)
        assert caught.value.scope == "nezha:inventory:read"


async def test_v1_session_renewed_before_it_expires(
    v1: FakeDashboard, clock: Clock, freezer: FrozenDateTimeFactory, session: ClientSession
) -> None:
    """The one-hour session is used as it is, and renewed five minutes before it expires,
    without a new login."""
    client = NezhaClient(session, v1.url, username=USERNAME, password=PASSWORD)
    await client.async_get_servers()
    assert v1.logins == 1
    # 50 minutes later the one-hour session is still used as it is.
    freezer.tick(3000)
    await client.async_get_servers()
    assert v1.requests[REFRESH_TOKEN] == 0
    # Five minutes before it expires it is renewed, without a new login.
    freezer.tick(301)
    clock.now += 3301
    await client.async_get_servers()
    assert v1.requests[REFRESH_TOKEN] == 1
    assert v1.logins == 1


async def test_v1_renewal_refused_logs_in_again(
    v1: FakeDashboard, clock: Clock, freezer: FrozenDateTimeFactory, session: ClientSession
) -> None:
    """The dashboard forgot every session: the renewal is refused, a new login follows."""
    client = NezhaClient(session, v1.url, username=USERNAME, password=PASSWORD)
    await client.async_get_servers()
    freezer.tick(3301)
    clock.now += 3301
    v1.expire_sessions()
    await client.async_get_servers()
    assert v1.requests[REFRESH_TOKEN] == 1
    assert v1.logins == 2


async def test_v1_changed_password_is_auth_error(v1: FakeDashboard, session: ClientSession) -> None:
    """Only a refused login is an auth error; the password stays out of it."""
    client = NezhaClient(session, v1.url, username=USERNAME, password=PASSWORD)
    await client.async_get_servers()
    v1.password = "changed"
    v1.expire_sessions()
    with pytest.raises(NezhaAuthError) as caught:
        await client.async_get_servers()
    assert PASSWORD not in str(caught.value)


async def test_v1_refused_request_logs_in_again(v1: FakeDashboard, session: ClientSession) -> None:
    """A JWT the dashboard no longer accepts (HTTP 200 error body) leads to one new login."""
    client = NezhaClient(session, v1.url, username=USERNAME, password=PASSWORD)
    await client.async_get_servers()
    v1.expire_sessions()
    snapshot = await client.async_get_servers()
    assert v1.logins == 2
    assert set(snapshot.servers) == {1, 2}
