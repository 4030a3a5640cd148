"""How requests prove who is asking: one small strategy per dashboard line.

v0 takes its API token as the raw ``Authorization`` header; v2 takes a personal token
(``nzp_...``) as ``Bearer``; v1 has no API tokens, so a dashboard user's login gets a JWT that
is renewed before it expires and obtained again when the dashboard forgets it. The client asks
its strategy for headers and, when an answer refuses them, whether to try once more.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
import logging
import time
from typing import Any, Final, Protocol

from . import v1v2
from .errors import NezhaAuthError, NezhaNotDashboardError, NezhaResponseError
from .parse import dashboard_time

_LOGGER = logging.getLogger(__name__)

LOGIN_PATH: Final = "/api/v1/login"
REFRESH_PATH: Final = "/api/v1/refresh-token"
# Renew a JWT this long before it expires (the default lifetime is one hour), or halfway
# through a shorter lifetime.
JWT_RENEW_MARGIN: Final = 300.0
_UNAUTHORIZED: Final = "ApiErrorUnauthorized"


@dataclass(frozen=True, slots=True)
class Answer:
    """A decoded answer of the dashboard: its JSON, headers and size in bytes."""

    data: Any
    headers: Mapping[str, str]
    size: int


class Transport(Protocol):
    """What a strategy needs from the client: one request without credentials of its own.

    Only what logging in and renewing use (a path, a JSON body, the headers): the client's
    ``async_request`` takes more.
    """

    async def async_request(
        self,
        path: str,
        *,
        method: str = ...,
        json_body: Any = ...,
        headers: Mapping[str, str] = ...,
    ) -> Answer:
        """Send one request with exactly these headers (none when not given)."""


class Credentials:
    """The base strategy: fixed headers, a refusal is final."""

    # Whether the dashboard may hand out a guest's view instead of refusing (see Login).
    uses_login = False

    async def async_headers(self, transport: Transport) -> dict[str, str]:
        """The headers that authenticate one request."""
        raise NotImplementedError

    async def async_retry(self, transport: Transport, sent: Mapping[str, str], data: Any) -> bool:
        """Whether a request sent with ``sent`` and answered ``data`` is worth one more try."""
        return False


class RawToken(Credentials):
    """v0: the API token from the admin area, without a scheme."""

    def __init__(self, token: str) -> None:
        """Keep the token."""
        self._token = token

    async def async_headers(self, transport: Transport) -> dict[str, str]:
        """The raw token."""
        return {"Authorization": self._token}


class PersonalToken(Credentials):
    """v2: a personal API token (``nzp_...``) with scopes, sent as ``Bearer``."""

    def __init__(self, token: str) -> None:
        """Keep the token."""
        self._token = token

    async def async_headers(self, transport: Transport) -> dict[str, str]:
        """The token as a bearer."""
        return {"Authorization": f"Bearer {self._token}"}


class Login(Credentials):
    """v1 (and a v2 dashboard read with a login): a JWT from the user's login.

    The JWT is renewed before it expires, on the dashboard's clock; when the dashboard forgets
    it, the next refused answer logs in again. Only a refused login is an auth error.
    """

    uses_login = True

    def __init__(self, username: str, password: str, *, renewable: bool) -> None:
        """``renewable``: v1 renews a session with ``GET refresh-token``; v2 does not."""
        self._username = username
        self._password = password
        self._renewable = renewable
        self._jwt = ""
        # time.monotonic() after which the JWT must be renewed.
        self._renew_at = 0.0
        # A poll and the stream may find the session due together: one renews it.
        self._lock = asyncio.Lock()

    async def async_headers(self, transport: Transport) -> dict[str, str]:
        """The JWT, logging in or renewing it first when due."""
        if not self._jwt or time.monotonic() >= self._renew_at:
            async with self._lock:
                if not self._jwt:
                    await self._async_login(transport)
                elif time.monotonic() >= self._renew_at:
                    await self._async_renew(transport)
        return {"Authorization": f"Bearer {self._jwt}"}

    async def async_retry(self, transport: Transport, sent: Mapping[str, str], data: Any) -> bool:
        """v1 answers a forgotten session with HTTP 200 and an error: log in again, once."""
        if not _is_refusal(data):
            return False
        async with self._lock:
            if sent.get("Authorization") == f"Bearer {self._jwt}":
                # Not renewed meanwhile by a concurrent request.
                await self._async_login(transport)
        return True

    async def _async_login(self, transport: Transport) -> None:
        self._jwt = ""
        answer = await transport.async_request(
            LOGIN_PATH,
            method="POST",
            json_body={"username": self._username, "password": self._password},
        )
        self._store(answer)

    async def _async_renew(self, transport: Transport) -> None:
        """Renew the session; fall back to a new login when that is refused.

        v2 made ``refresh-token`` a CSRF-protected POST for browsers (a GET is not found), so
        a program logs in again there.
        """
        if self._renewable:
            try:
                answer = await transport.async_request(
                    REFRESH_PATH, headers={"Authorization": f"Bearer {self._jwt}"}
                )
                self._store(answer)
            except NezhaAuthError, NezhaResponseError, NezhaNotDashboardError:
                _LOGGER.debug("Renewing the session was refused; logging in again")
            else:
                return
        await self._async_login(transport)

    def _store(self, answer: Answer) -> None:
        token, expire = v1v2.parse_login(v1v2.parse_envelope(answer.data))
        self._jwt = token
        lifetime = 3600.0
        if expire is not None:
            # Measured on the dashboard's clock, so a skewed clock here does not matter.
            lifetime = (expire - dashboard_time(answer.headers)).total_seconds()
        margin = min(JWT_RENEW_MARGIN, lifetime / 2)
        self._renew_at = time.monotonic() + max(0.0, lifetime - margin)


def _is_refusal(data: Any) -> bool:
    """Whether a v1/v2 body is the "unauthorized" answer (v1 sends it with HTTP 200)."""
    if type(data) is not dict or data.get("success") is True:
        return False
    error = data.get("error")
    return type(error) is str and error.startswith(_UNAUTHORIZED)
