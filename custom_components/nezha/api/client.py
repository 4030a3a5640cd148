"""Async client for a Nezha dashboard."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
import logging
from typing import Any, Final

import aiohttp
import orjson
from yarl import URL

from . import v0
from .errors import (
    NezhaAuthError,
    NezhaConnectionError,
    NezhaInvalidUrlError,
    NezhaNotDashboardError,
    NezhaRateLimitError,
    NezhaResponseError,
    NezhaSSLError,
    NezhaTimeoutError,
)
from .models import DashboardFlavor, DashboardSnapshot

_LOGGER = logging.getLogger(__name__)

DEFAULT_TIMEOUT: Final = 10.0
# Far above what 5000 servers produce (~5 MB); protects memory from a runaway answer.
MAX_RESPONSE_BYTES: Final = 64 * 1024 * 1024

V0_DETAILS_PATH: Final = "/api/v1/server/details"
V0_LIST_PATH: Final = "/api/v1/server/list"


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
    except (TypeError, ValueError) as err:
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
    """Seconds from a Retry-After header (delta-seconds or HTTP date)."""
    value = headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = parsedate_to_datetime(value)
    except TypeError, ValueError:
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


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
        token: str,
        *,
        request_timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Prepare a client; ``url`` is normalised, an invalid one raises at once."""
        self._session = session
        self._base = URL(normalize_url(url))
        self._token = token
        self._timeout = request_timeout
        self.flavor = DashboardFlavor.V0

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
        params = self._filter_params(ids, tag)
        data, headers = await self._request(V0_DETAILS_PATH, params)
        return DashboardSnapshot(
            servers=v0.parse_servers(data),
            dashboard_time=_dashboard_time(headers),
            flavor=self.flavor,
        )

    async def async_list_servers(self, *, tag: str | None = None) -> DashboardSnapshot:
        """Fetch the server list without host and status (lighter, used for checks)."""
        data, headers = await self._request(V0_LIST_PATH, self._filter_params(None, tag))
        return DashboardSnapshot(
            servers=v0.parse_servers(data),
            dashboard_time=_dashboard_time(headers),
            flavor=self.flavor,
        )

    @staticmethod
    def _filter_params(ids: Iterable[int] | None, tag: str | None) -> dict[str, str]:
        params: dict[str, str] = {}
        if ids is not None:
            params["id"] = ",".join(str(int(server_id)) for server_id in ids)
        if tag:
            params["tag"] = tag
        return params

    async def _request(self, path: str, params: Mapping[str, str]) -> tuple[Any, Mapping[str, str]]:
        """GET a JSON document; map every failure to the client's own errors."""
        url = self._base.with_path(self._base.path.rstrip("/") + path, encoded=False)
        if params:
            url = url.with_query(params)
        # v0 takes the raw token, without a scheme.
        headers = {"Authorization": self._token, "Accept": "application/json"}
        host = self._base.host
        try:
            async with asyncio.timeout(self._timeout):
                async with self._session.get(
                    url, headers=headers, allow_redirects=False
                ) as response:
                    self._check_status(response)
                    body = await self._read_body(response)
                    response_headers = response.headers
        except TimeoutError as err:
            raise NezhaTimeoutError(f"{host} did not answer within {self._timeout:g} s") from err
        except aiohttp.ClientSSLError as err:
            raise NezhaSSLError(f"the TLS certificate of {host} could not be verified") from err
        except aiohttp.ClientError as err:
            raise NezhaConnectionError(f"cannot connect to {host}: {type(err).__name__}") from err
        try:
            data = orjson.loads(body)
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
