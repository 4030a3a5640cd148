"""Async client for a Nezha dashboard."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import partial
import logging
import re
import time
from typing import Any, Final

import aiohttp
import orjson
from yarl import URL

from . import v0, v1v2
from .errors import (
    NezhaAuthError,
    NezhaConnectionError,
    NezhaInvalidUrlError,
    NezhaMissingScopeError,
    NezhaNotDashboardError,
    NezhaRateLimitError,
    NezhaResponseError,
    NezhaSSLError,
    NezhaTimeoutError,
    NezhaTokenExpiredError,
)
from .models import DashboardFlavor, DashboardSnapshot, ServicesSnapshot

_LOGGER = logging.getLogger(__name__)

DEFAULT_TIMEOUT: Final = 10.0
# Far above what 5000 servers produce (~5 MB); protects memory from a runaway answer.
MAX_RESPONSE_BYTES: Final = 64 * 1024 * 1024

V0_DETAILS_PATH: Final = "/api/v1/server/details"
V0_LIST_PATH: Final = "/api/v1/server/list"
SETTING_PATH: Final = "/api/v1/setting"
SERVER_PATH: Final = "/api/v1/server"
SERVER_GROUP_PATH: Final = "/api/v1/server-group"
LOGIN_PATH: Final = "/api/v1/login"
REFRESH_PATH: Final = "/api/v1/refresh-token"
STREAM_PATH: Final = "/api/v1/ws/server"
SERVICE_PATH: Final = "/api/v1/service"

# v2 personal API tokens start with this; they are sent as ``Bearer``.
PERSONAL_TOKEN_PREFIX: Final = "nzp_"  # noqa: S105 - a prefix, not a secret
# Renew a JWT this long before it expires (the default lifetime is one hour), or halfway
# through a shorter lifetime.
JWT_RENEW_MARGIN: Final = 300.0
# Server groups change rarely: re-read them at most this often, so a refresh stays one request.
GROUPS_MAX_AGE: Final = 300.0
_SCOPE_PREFIX: Final = "api token lacks scope "
# Bounds on a Retry-After the client passes on.
MIN_RETRY_AFTER: Final = 5.0
MAX_RETRY_AFTER: Final = 3600.0

# Above this size an answer is decoded and parsed in a worker thread: the event loop is shared
# with all of Home Assistant, and a few thousand servers take tens of milliseconds to parse.
OFFLOAD_BYTES: Final = 256 * 1024


async def offload[**P, T](size: int, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``func`` here for small inputs, in the default executor for large ones."""
    if size < OFFLOAD_BYTES:
        return func(*args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(None, partial(func, *args, **kwargs))


_CONTROL_CHARACTERS: Final = re.compile(r"[\x00-\x1f\x7f]")

# Module level so tests can move it (the session lifetime is measured on it).
_monotonic = time.monotonic


def normalize_url(url: str) -> str:
    """Return the canonical form of a dashboard URL, or raise ``NezhaInvalidUrlError``.

    Scheme and host are lower-cased, a default port and trailing slashes are dropped, query and
    fragment are ignored, and a sub-path (a dashboard behind a reverse proxy) is kept.
    """
    text = url.strip()
    if any(char.isspace() for char in text):
        raise NezhaInvalidUrlError("the URL contains spaces")
    try:
        parsed = URL(text)
    except (TypeError, ValueError, IndexError) as err:
        # yarl raises IndexError on some broken authorities, e.g. "0://[]@".
        raise NezhaInvalidUrlError("not a URL") from err
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise NezhaInvalidUrlError("the URL must start with http:// or https:// and name a host")
    if parsed.user is not None or parsed.password is not None:
        raise NezhaInvalidUrlError("the URL must not contain a user name or password")
    try:
        normalized = URL.build(
            scheme=parsed.scheme,
            host=parsed.host.lower(),
            port=None if parsed.is_default_port() else parsed.explicit_port,
            path=parsed.path.rstrip("/"),
        )
    except (TypeError, ValueError) as err:
        raise NezhaInvalidUrlError("not a URL") from err
    return str(normalized)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), within sane bounds.

    The header comes from whatever stands in front of the dashboard: a "retry next year" must
    not stop polling for good, and "retry now" on every answer must not become a busy loop.
    """
    value = headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isascii() and value.isdecimal():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except TypeError, ValueError, IndexError, OverflowError:
            return None
        if when.tzinfo is None:
            # RFC 5322's "-0000": UTC, with nothing said about the sender's local time.
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, MIN_RETRY_AFTER), MAX_RETRY_AFTER)


def _dashboard_time(headers: Mapping[str, str]) -> datetime:
    """The dashboard's clock from the Date header, or ours when it sent none."""
    value = headers.get("Date")
    if value:
        try:
            when = parsedate_to_datetime(value)
        except TypeError, ValueError:
            pass
        else:
            if when.tzinfo is not None:
                return when
    return datetime.now(UTC)


class NezhaClient:
    """Reads servers from a Nezha dashboard.

    The aiohttp session is the caller's (Home Assistant's shared one), so TLS verification is
    chosen where the session is made.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        token: str = "",
        *,
        username: str = "",
        password: str = "",
        flavor: DashboardFlavor | None = None,
        request_timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Prepare a client; ``url`` is normalised, an invalid one raises at once.

        ``token`` is a v0 API token or a v2 personal token (``nzp_...``); a v1 dashboard has
        no API tokens and is read with a login (``username``/``password``). ``flavor`` None
        means: find out on the first request.
        """
        self._session = session
        self._base = URL(normalize_url(url))
        self._token = token
        self._username = username
        self._password = password
        self._timeout = request_timeout
        self.flavor: DashboardFlavor | None = flavor
        self.version = ""
        self._jwt = ""
        # _monotonic() after which the JWT must be renewed.
        self._jwt_renew_at = 0.0
        self._session_lock = asyncio.Lock()
        self._groups: dict[int, tuple[str, ...]] = {}
        self._groups_read_at: float | None = None
        # Bytes of the last answer: decides whether parsing it is worth a worker thread.
        self._last_size = 0

    @property
    def uses_login(self) -> bool:
        """Whether the client reads with a username/password login instead of a token."""
        return bool(self._username) and not self._token

    @property
    def url(self) -> str:
        """The normalised dashboard URL."""
        return str(self._base)

    def server_page_url(self, server_id: int) -> str:
        """The dashboard's own page for one server."""
        return str(self._base / "server" / str(server_id))

    async def async_get_servers(
        self, *, ids: Iterable[int] | None = None, tag: str | None = None
    ) -> DashboardSnapshot:
        """Fetch every server with host and status, in one request.

        ``tag`` wins over ``ids`` on the dashboard side, as in its source.
        """
        flavor = await self.async_detect_flavor()
        if flavor is not DashboardFlavor.V0:
            return await self._async_get_servers_v1v2(flavor, ids)
        params = self._filter_params(ids, tag)
        data, headers = await self._request(V0_DETAILS_PATH, params)
        return DashboardSnapshot(
            servers=await offload(self._last_size, v0.parse_servers, data),
            dashboard_time=_dashboard_time(headers),
            flavor=flavor,
        )

    async def async_detect_flavor(self) -> DashboardFlavor:
        """Find out which API line the dashboard speaks (once; the answer is kept).

        ``GET /api/v1/setting`` needs no credentials and answers JSON on v1/v2, a 404 page on
        v0 (which then must answer its own routes, or it is not a dashboard at all).
        """
        if self.flavor is not None:
            return self.flavor
        try:
            data, _ = await self._request(SETTING_PATH, {}, auth=False)
            setting = v1v2.parse_envelope(data)
        except NezhaNotDashboardError:
            self.flavor = DashboardFlavor.V0
            return self.flavor
        self.version = v1v2.parse_setting_version(setting)
        major = self.version.removeprefix("v").split(".", 1)[0]
        if major == "1":
            self.flavor = DashboardFlavor.V1
        elif major.isascii() and major.isdecimal() and len(major) <= 4 and int(major) >= 2:
            # Bounded: int() refuses a hostile string of thousands of digits with ValueError.
            self.flavor = DashboardFlavor.V2
        elif v1v2.setting_shows_v2(setting) or self._token.startswith(PERSONAL_TOKEN_PREFIX):
            # The version is hidden from guests: a key only v2 sends, or a personal token
            # (those exist only from v2 on), tells v2.
            self.flavor = DashboardFlavor.V2
        else:
            self.flavor = DashboardFlavor.V1
        return self.flavor

    async def _async_get_servers_v1v2(
        self, flavor: DashboardFlavor, ids: Iterable[int] | None
    ) -> DashboardSnapshot:
        now = _monotonic()
        if self._groups_read_at is None or now - self._groups_read_at >= GROUPS_MAX_AGE:
            data, _ = await self._authed_request(SERVER_GROUP_PATH, {})
            self._groups = v1v2.parse_groups(v1v2.parse_envelope(data))
            self._groups_read_at = now
        params: dict[str, str] = {}
        wanted: set[int] | None = None
        if ids is not None:
            wanted = {int(server_id) for server_id in ids}
            params["id"] = ",".join(str(server_id) for server_id in sorted(wanted))
        data, headers = await self._authed_request(SERVER_PATH, params)
        servers = await offload(
            self._last_size, v1v2.parse_servers, v1v2.parse_envelope(data), self._groups
        )
        if wanted is not None:
            # An id filter that matches nothing returns every server: filter here too.
            servers = {key: value for key, value in servers.items() if key in wanted}
        return DashboardSnapshot(
            servers=servers, dashboard_time=_dashboard_time(headers), flavor=flavor
        )

    async def async_get_services(self) -> ServicesSnapshot:
        """Fetch service monitors and traffic cycles in one request (v1/v2 only).

        v0 has no such overview (only a per-server history), so it reports none.
        """
        if await self.async_detect_flavor() is DashboardFlavor.V0:
            return ServicesSnapshot()
        data, _ = await self._authed_request(SERVICE_PATH, {})
        return v1v2.parse_services(v1v2.parse_envelope(data))

    @property
    def groups(self) -> Mapping[int, tuple[str, ...]]:
        """The server groups read last, by server id (v1/v2)."""
        return self._groups

    async def async_stream_headers(self) -> dict[str, str]:
        """The credentials for opening the server stream, a login confirmed first.

        v1 (and v2 for a login) streams to anyone: a JWT the dashboard no longer accepts gets
        the guests' frames, without hidden servers, instead of a refusal. So one request
        checks the session (logging in again if it was forgotten); it reads the server
        groups, which the frames need too.
        """
        if self.uses_login:
            data, _ = await self._authed_request(SERVER_GROUP_PATH, {})
            self._groups = v1v2.parse_groups(v1v2.parse_envelope(data))
            self._groups_read_at = _monotonic()
        return await self.async_auth_headers()

    async def async_auth_headers(self) -> dict[str, str]:
        """The credentials for one request, logging in or renewing the JWT when due."""
        if self.flavor is DashboardFlavor.V0:
            # v0 takes the raw token, without a scheme.
            return {"Authorization": self._token}
        if not self.uses_login:
            return {"Authorization": f"Bearer {self._token}"}
        if not self._jwt or _monotonic() >= self._jwt_renew_at:
            # The stream and a poll may both find the session due: one renews it.
            async with self._session_lock:
                if not self._jwt:
                    await self._async_login()
                elif _monotonic() >= self._jwt_renew_at:
                    await self._async_renew()
        return {"Authorization": f"Bearer {self._jwt}"}

    async def _async_login(self) -> None:
        """Log in with username and password; a refusal here is a real auth error."""
        self._jwt = ""
        data, headers = await self._request(
            LOGIN_PATH,
            {},
            auth=False,
            method="POST",
            json_body={"username": self._username, "password": self._password},
        )
        self._store_jwt(v1v2.parse_envelope(data), headers)

    async def _async_renew(self) -> None:
        """Renew the JWT before it expires; fall back to a new login when refused.

        v1 renews with ``GET /api/v1/refresh-token``; v2 made that a CSRF-protected POST for
        browsers, so a program simply logs in again there. An entry made on v1 whose
        dashboard was upgraded to v2 still asks with GET: v2's 404 also means "log in again".
        """
        if self.flavor is DashboardFlavor.V1:
            try:
                data, headers = await self._request(
                    REFRESH_PATH, {}, auth=False, headers={"Authorization": f"Bearer {self._jwt}"}
                )
                self._store_jwt(v1v2.parse_envelope(data), headers)
            except NezhaAuthError, NezhaResponseError, NezhaNotDashboardError:
                _LOGGER.debug("Renewing the session was refused; logging in again")
            else:
                return
        await self._async_login()

    def _store_jwt(self, data: Any, headers: Mapping[str, str]) -> None:
        token, expire = v1v2.parse_login(data)
        self._jwt = token
        lifetime = 3600.0
        if expire is not None:
            # Measured on the dashboard's clock, so a skewed clock here does not matter.
            lifetime = (expire - _dashboard_time(headers)).total_seconds()
        margin = min(JWT_RENEW_MARGIN, lifetime / 2)
        self._jwt_renew_at = _monotonic() + max(0.0, lifetime - margin)

    async def _authed_request(
        self, path: str, params: Mapping[str, str]
    ) -> tuple[Any, Mapping[str, str]]:
        """A v1/v2 request with credentials; a refused session logs in once more."""
        headers = await self.async_auth_headers()
        data, response_headers = await self._request(path, params, auth=False, headers=headers)
        if self.uses_login and _is_refusal(data):
            async with self._session_lock:
                if headers["Authorization"] == f"Bearer {self._jwt}":
                    # Not renewed meanwhile by a concurrent request: log in again.
                    await self._async_login()
            data, response_headers = await self._request(
                path, params, auth=False, headers=await self.async_auth_headers()
            )
        return data, response_headers

    async def async_list_servers(self, *, tag: str | None = None) -> DashboardSnapshot:
        """Fetch the server list without host and status (lighter, used for checks)."""
        data, headers = await self._request(V0_LIST_PATH, self._filter_params(None, tag))
        return DashboardSnapshot(
            servers=v0.parse_servers(data),
            dashboard_time=_dashboard_time(headers),
            flavor=DashboardFlavor.V0,
        )

    @staticmethod
    def _filter_params(ids: Iterable[int] | None, tag: str | None) -> dict[str, str]:
        params: dict[str, str] = {}
        if ids is not None:
            params["id"] = ",".join(str(int(server_id)) for server_id in ids)
        if tag:
            params["tag"] = tag
        return params

    def api_url(self, path: str) -> URL:
        """The URL of an API path under the dashboard's base (sub-path kept)."""
        return self._base.with_path(self._base.path.rstrip("/") + path, encoded=False)

    async def _request(
        self,
        path: str,
        params: Mapping[str, str],
        *,
        auth: bool = True,
        method: str = "GET",
        json_body: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[Any, Mapping[str, str]]:
        """Send one request and decode its JSON; map every failure to the client's own errors.

        ``auth`` adds the v0 token; v1/v2 callers pass their ``headers``.
        """
        url = self.api_url(path)
        if params:
            url = url.with_query(params)
        request_headers = {"Accept": "application/json", **(headers or {})}
        if auth:
            request_headers["Authorization"] = self._token
        if any(_CONTROL_CHARACTERS.search(value) for value in request_headers.values()):
            # aiohttp would refuse the header with a bare ValueError; such a credential
            # (e.g. pasted with a line break inside) can never be right.
            raise NezhaAuthError("the credentials contain control characters")
        host = self._base.host
        try:
            async with asyncio.timeout(self._timeout):
                async with self._session.request(
                    method,
                    url,
                    headers=request_headers,
                    json=json_body,
                    allow_redirects=False,
                ) as response:
                    if response.status in (401, 403):
                        _raise_refusal(response.status, await self._read_body(response))
                    self._check_status(response)
                    body = await self._read_body(response)
                    response_headers = response.headers
        except TimeoutError as err:
            raise NezhaTimeoutError(f"{host} did not answer within {self._timeout:g} s") from err
        except aiohttp.ClientSSLError as err:
            raise NezhaSSLError(f"the TLS certificate of {host} could not be verified") from err
        except aiohttp.ClientError as err:
            raise NezhaConnectionError(f"cannot connect to {host}: {type(err).__name__}") from err
        self._last_size = len(body)
        try:
            data = await offload(len(body), orjson.loads, body)
        except orjson.JSONDecodeError as err:
            if body.lstrip()[:1] == b"<":
                raise NezhaNotDashboardError(
                    "the URL serves an HTML page, not the Nezha API"
                ) from err
            raise NezhaResponseError("the dashboard sent invalid JSON") from err
        return data, response_headers

    @staticmethod
    def _check_status(response: aiohttp.ClientResponse) -> None:
        status = response.status
        if status == 200:
            return
        if status in (401, 403):
            raise NezhaAuthError(f"the dashboard refused the credentials (HTTP {status})")
        if status == 429 or (status == 503 and "Retry-After" in response.headers):
            raise NezhaRateLimitError(
                f"the dashboard asked to slow down (HTTP {status})",
                _retry_after(response.headers),
            )
        if 300 <= status < 400:
            raise NezhaNotDashboardError(
                f"the URL redirects elsewhere (HTTP {status}), e.g. to a login page"
            )
        if status == 404:
            raise NezhaNotDashboardError("no Nezha API at this URL (HTTP 404)")
        if status >= 500:
            raise NezhaConnectionError(f"the dashboard answered HTTP {status}")
        raise NezhaResponseError(f"unexpected HTTP {status}")

    @staticmethod
    async def _read_body(response: aiohttp.ClientResponse) -> bytes:
        length = response.content_length
        if length is not None and length > MAX_RESPONSE_BYTES:
            raise NezhaResponseError(f"the answer is too large ({length} bytes)")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(1 << 16):
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                raise NezhaResponseError("the answer is too large")
            chunks.append(chunk)
        return b"".join(chunks)


def _is_refusal(data: Any) -> bool:
    """Whether a v1/v2 body is the "unauthorized" answer (v1 sends it with HTTP 200)."""
    if type(data) is not dict or data.get("success") is True:
        return False
    error = data.get("error")
    return type(error) is str and error.startswith("ApiErrorUnauthorized")


def _raise_refusal(status: int, body: bytes) -> None:
    """Raise the auth error a 401/403 body describes (v2 personal tokens say why)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        data = None
    error = data.get("error") if type(data) is dict else None
    if type(error) is str:
        reason = error.partition(": ")[2]
        if status == 401 and reason == "api token expired":
            raise NezhaTokenExpiredError("the API token has expired")
        if status == 403 and reason.startswith(_SCOPE_PREFIX):
            scope = reason.removeprefix(_SCOPE_PREFIX).strip()
            raise NezhaMissingScopeError(f"the API token lacks the scope {scope}", scope)
    raise NezhaAuthError(f"the dashboard refused the credentials (HTTP {status})")
