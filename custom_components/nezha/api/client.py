"""The async client: the only thing that talks to a Nezha dashboard.

It finds out the dashboard line, authenticates (``auth``), sends requests and holds the live
server stream, and hands over typed models (``models``) parsed by the line's parser (``v0``,
``v1v2``). Every failure becomes one of its own errors (``errors``). No Home Assistant import.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import partial
import logging
import random
import re
import time
from typing import Any, Final

import aiohttp
import orjson
from yarl import URL

from . import stream, v0, v1v2
from .auth import Answer, Credentials, Login, PersonalToken, RawToken
from .errors import (
    MetricsErrorReason,
    NezhaAuthError,
    NezhaConnectionError,
    NezhaError,
    NezhaInvalidUrlError,
    NezhaMetricsError,
    NezhaMissingScopeError,
    NezhaNotDashboardError,
    NezhaNotFoundError,
    NezhaRateLimitError,
    NezhaResponseError,
    NezhaSSLError,
    NezhaTimeoutError,
    NezhaTokenExpiredError,
    NezhaUnreachableError,
)
from .models import (
    CronTask,
    DashboardFlavor,
    DashboardSetting,
    DashboardSnapshot,
    NotificationChannel,
    NotificationGroup,
    Server,
    ServerMetrics,
    ServicesSnapshot,
)
from .parse import HostCache, dashboard_time
from .stream import FrameGate, Watch

_LOGGER = logging.getLogger(__name__)

DEFAULT_TIMEOUT: Final = 10.0
# Far above what 5000 servers produce (~5 MB); protects memory from a runaway answer.
MAX_RESPONSE_BYTES: Final = 64 * 1024 * 1024

V0_DETAILS_PATH: Final = "/api/v1/server/details"
V0_LIST_PATH: Final = "/api/v1/server/list"
SETTING_PATH: Final = "/api/v1/setting"
SERVER_PATH: Final = "/api/v1/server"
SERVER_GROUP_PATH: Final = "/api/v1/server-group"
STREAM_PATH: Final = "/api/v1/ws/server"
SERVICE_PATH: Final = "/api/v1/service"
CRON_PATH: Final = "/api/v1/cron"
NOTIFICATION_PATH: Final = "/api/v1/notification"
NOTIFICATION_DELETE_PATH: Final = "/api/v1/batch-delete/notification"
NOTIFICATION_GROUP_PATH: Final = "/api/v1/notification-group"
# v2 only: ``{SERVER_PATH}/<id>/metrics?metric=&period=``.
METRICS_SUFFIX: Final = "metrics"

# v2 personal API tokens start with this; they are sent as ``Bearer``.
PERSONAL_TOKEN_PREFIX: Final = "nzp_"  # noqa: S105 - a prefix, not a secret
# Server groups change rarely: re-read them at most this often, so a refresh stays one request.
GROUPS_MAX_AGE: Final = 300.0
_SCOPE_PREFIX: Final = "api token lacks scope "
# Bounds on a Retry-After the client passes on.
MIN_RETRY_AFTER: Final = 5.0
MAX_RETRY_AFTER: Final = 3600.0
# What a proxy answers while the dashboard behind it restarts (503 with Retry-After is a
# request to slow down instead).
_PROXY_DOWN: Final = frozenset({502, 503, 504})

# Above this size an answer is decoded and parsed in a worker thread: the event loop is shared
# with all of Home Assistant, and a few thousand servers take tens of milliseconds to parse.
OFFLOAD_BYTES: Final = 256 * 1024


async def offload[**P, T](size: int, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``func`` here for small inputs, in the default executor for large ones."""
    if size < OFFLOAD_BYTES:
        return func(*args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(None, partial(func, *args, **kwargs))


_CONTROL_CHARACTERS: Final = re.compile(r"[\x00-\x1f\x7f]")

# A snapshot of the stream's servers; whether frames arrive.
type SnapshotCallback = Callable[[DashboardSnapshot], None]
type StateCallback = Callable[[bool], None]


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


class NezhaClient:
    """Reads a Nezha dashboard of any line: servers, services, and the live server stream.

    The aiohttp session is the caller's (Home Assistant's shared one), so TLS verification is
    chosen where the session is made. The dashboard line is found out on the first request;
    what differs between lines stays in here (credentials in ``auth``, keys in ``v0`` and
    ``v1v2``), and callers ask capabilities such as ``supports_stream``.
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
        self.flavor: DashboardFlavor | None = None
        self._credentials: Credentials = RawToken(token)
        if flavor is not None:
            self._set_flavor(flavor)
        self.version = ""
        self._groups: dict[int, tuple[str, ...]] = {}
        self._groups_read_at: float | None = None
        # Addresses of the last REST answer by server id: frames carry none.
        self._addresses: dict[int, tuple[str, str]] = {}
        # Public notes by server id, as last read whole: from a REST answer or the first frame
        # of a stream connection. Later frames leave the note out, which does not remove it.
        self._notes: dict[int, str] = {}
        # Hosts rarely change: the last ones are reused (one cache for REST, one for frames,
        # as both may be parsed at once in worker threads).
        self._hosts = HostCache()
        self._frame_hosts = HostCache()
        # How this dashboard runs a task by hand: POST from v2.0.14 on, GET before.
        self._manual_method = "POST"
        # Whether the last request found nobody answering for the dashboard (unreachable, or
        # hanging): the stream then waits for the first answer instead of asking itself.
        self._unreachable = False
        self._answering_again: asyncio.Event | None = None

    @property
    def uses_login(self) -> bool:
        """Whether the client reads with a username/password login instead of a token."""
        return bool(self._username) and not self._token

    @property
    def supports_stream(self) -> bool:
        """Whether the dashboard pushes servers over a websocket (v1/v2)."""
        return self.flavor in (DashboardFlavor.V1, DashboardFlavor.V2)

    @property
    def supports_services(self) -> bool:
        """Whether the dashboard has an overview of service monitors and cycles (v1/v2)."""
        return self.flavor in (DashboardFlavor.V1, DashboardFlavor.V2)

    @property
    def supports_cron(self) -> bool:
        """Whether the dashboard lists scheduled tasks and runs them on request (v1/v2)."""
        return self.flavor in (DashboardFlavor.V1, DashboardFlavor.V2)

    @property
    def supports_alerts(self) -> bool:
        """Whether the dashboard's notification channels and groups can be managed (v1/v2)."""
        return self.flavor in (DashboardFlavor.V1, DashboardFlavor.V2)

    @property
    def supports_notes(self) -> bool:
        """Whether servers carry their public note (billing data of the themes; v1/v2)."""
        return self.flavor in (DashboardFlavor.V1, DashboardFlavor.V2)

    @property
    def supports_metrics(self) -> bool:
        """Whether the dashboard keeps a history of each server's metrics (v2)."""
        return self.flavor is DashboardFlavor.V2

    @property
    def url(self) -> str:
        """The normalised dashboard URL."""
        return str(self._base)

    def server_page_url(self, server_id: int) -> str:
        """The dashboard's own page for one server."""
        return str(self._base / "server" / str(server_id))

    def _set_flavor(self, flavor: DashboardFlavor) -> None:
        self.flavor = flavor
        if flavor is DashboardFlavor.V0:
            self._credentials = RawToken(self._token)
        elif self.uses_login:
            self._credentials = Login(
                self._username, self._password, renewable=flavor is DashboardFlavor.V1
            )
        else:
            self._credentials = PersonalToken(self._token)

    async def async_detect_flavor(self) -> DashboardFlavor:
        """Find out which API line the dashboard speaks (once; the answer is kept).

        ``GET /api/v1/setting`` needs no credentials and answers JSON on v1/v2, a 404 page on
        v0 (which then must answer its own routes, or it is not a dashboard at all).
        """
        if self.flavor is not None:
            return self.flavor
        try:
            answer = await self.async_request(SETTING_PATH)
            setting = v1v2.parse_envelope(answer.data)
        except NezhaNotDashboardError:
            self._set_flavor(DashboardFlavor.V0)
            return DashboardFlavor.V0
        self.version = v1v2.parse_setting_version(setting)
        major = self.version.removeprefix("v").split(".", 1)[0]
        if major == "1":
            flavor = DashboardFlavor.V1
        elif major.isascii() and major.isdecimal() and len(major) <= 4 and int(major) >= 2:
            # Bounded: int() refuses a hostile string of thousands of digits with ValueError.
            flavor = DashboardFlavor.V2
        elif v1v2.setting_shows_v2(setting) or self._token.startswith(PERSONAL_TOKEN_PREFIX):
            # The version is hidden from guests: a key only v2 sends, or a personal token
            # (those exist only from v2 on), tells v2.
            flavor = DashboardFlavor.V2
        else:
            flavor = DashboardFlavor.V1
        self._set_flavor(flavor)
        return flavor

    async def async_get_servers(
        self, *, ids: Iterable[int] | None = None, tag: str | None = None
    ) -> DashboardSnapshot:
        """Fetch every server with host and status, in one request.

        ``ids`` and (v0 only) ``tag`` filter on the dashboard's side; ``tag`` wins over
        ``ids`` there, as in its source.
        """
        flavor = await self.async_detect_flavor()
        if flavor is DashboardFlavor.V0:
            answer = await self._authed(V0_DETAILS_PATH, _filter_params(ids, tag))
            servers = await offload(answer.size, v0.parse_servers, answer.data, self._hosts)
        else:
            await self._async_read_groups()
            wanted = None if ids is None else {int(server_id) for server_id in ids}
            params = {} if wanted is None else {"id": ",".join(map(str, sorted(wanted)))}
            answer = await self._authed(SERVER_PATH, params)
            servers = await offload(
                answer.size,
                v1v2.parse_servers,
                v1v2.parse_envelope(answer.data),
                self._groups,
                self._hosts,
            )
            if wanted is not None:
                # An id filter that matches nothing returns every server: filter here too.
                servers = {key: value for key, value in servers.items() if key in wanted}
            self._addresses = {key: (s.ipv4, s.ipv6) for key, s in servers.items()}
            notes = {key: server.public_note for key, server in servers.items()}
            if wanted is None:
                self._notes = notes
            else:
                self._notes.update(notes)
        return DashboardSnapshot(
            servers=servers, dashboard_time=dashboard_time(answer.headers), flavor=flavor
        )

    async def async_list_servers(self, *, tag: str | None = None) -> DashboardSnapshot:
        """v0's lighter list of servers, without host and status."""
        answer = await self._authed(V0_LIST_PATH, _filter_params(None, tag))
        return DashboardSnapshot(
            servers=v0.parse_servers(answer.data),
            dashboard_time=dashboard_time(answer.headers),
            flavor=DashboardFlavor.V0,
        )

    async def async_get_services(self) -> ServicesSnapshot:
        """Fetch service monitors and traffic cycles in one request.

        v0 has no such overview (only a per-server history), so it reports none.
        """
        await self.async_detect_flavor()
        if not self.supports_services:
            return ServicesSnapshot()
        answer = await self._authed(SERVICE_PATH)
        return v1v2.parse_services(v1v2.parse_envelope(answer.data))

    async def async_get_setting(self) -> DashboardSetting:
        """The dashboard's language and version (the version only where it is shown)."""
        answer = await self._authed(SETTING_PATH)
        return v1v2.parse_setting(v1v2.parse_envelope(answer.data))

    async def async_get_cron(self) -> dict[int, CronTask]:
        """Every scheduled task the credentials may see (v1/v2; none on v0)."""
        await self.async_detect_flavor()
        if not self.supports_cron:
            return {}
        answer = await self._authed(CRON_PATH)
        return v1v2.parse_crons(v1v2.parse_envelope(answer.data))

    async def async_run_cron(self, task_id: int) -> None:
        """Run a task now, on the servers it covers.

        v2.0.14 made the route a POST; earlier dashboards (v1, v2.0.x) answer it to GET only
        and say 404 to a POST: the first such answer switches this client to GET for good.
        """
        path = f"{CRON_PATH}/{int(task_id)}/manual"
        try:
            answer = await self._authed(path, method=self._manual_method)
        except NezhaNotDashboardError:
            if self._manual_method == "GET":
                raise
            _LOGGER.debug("%s runs tasks with GET", self.url)
            self._manual_method = "GET"
            answer = await self._authed(path, method="GET")
        v1v2.parse_envelope(answer.data)

    async def async_get_metrics(
        self, server_id: int, metric: str, period: str = "1d"
    ) -> ServerMetrics:
        """A server's history of one metric (v2) over ``period`` ("1d", "7d" or "30d").

        Refusals raise ``NezhaMetricsError`` with the reason (see ``METRICS`` and
        ``METRIC_PERIODS`` for what the dashboard accepts); v0 and v1 keep no history.
        """
        await self.async_detect_flavor()
        if not self.supports_metrics:
            raise NezhaMetricsError(
                "the dashboard keeps no metric history", MetricsErrorReason.UNSUPPORTED
            )
        answer = await self._authed(
            f"{SERVER_PATH}/{int(server_id)}/{METRICS_SUFFIX}",
            {"metric": metric, "period": period},
        )
        return v1v2.parse_metrics(answer.data)

    async def async_get_notifications(self) -> dict[int, NotificationChannel]:
        """The notification channels by id (names only: the dashboard hides their targets)."""
        answer = await self._authed(NOTIFICATION_PATH)
        return v1v2.parse_notifications(v1v2.parse_envelope(answer.data))

    async def async_create_notification(
        self, name: str, url: str, *, headers: Mapping[str, str], body: str
    ) -> int:
        """Create a JSON POST webhook channel and return its id.

        The dashboard first sends it a test message and refuses the channel when that fails
        (an unreachable or, from v2.1.0, a private address), so a channel that exists works.
        """
        answer = await self._authed(
            NOTIFICATION_PATH,
            method="POST",
            json_body={
                "name": name,
                "url": url,
                "request_method": 2,  # POST
                "request_type": 1,  # JSON
                "request_header": orjson.dumps(dict(headers)).decode(),
                "request_body": body,
                "verify_tls": True,
            },
        )
        return v1v2.parse_created_id(v1v2.parse_envelope(answer.data))

    async def async_delete_notification(self, channel_id: int) -> None:
        """Delete a channel; the dashboard drops it from every group with it."""
        answer = await self._authed(
            NOTIFICATION_DELETE_PATH, method="POST", json_body=[int(channel_id)]
        )
        v1v2.parse_envelope(answer.data)

    async def async_get_notification_groups(self) -> dict[int, NotificationGroup]:
        """The notification groups by id, with the channels in each."""
        answer = await self._authed(NOTIFICATION_GROUP_PATH)
        return v1v2.parse_notification_groups(v1v2.parse_envelope(answer.data))

    async def async_set_group_channel(self, channel_id: int, group_ids: Iterable[int]) -> None:
        """Make ``channel_id`` a member of exactly these groups, leaving other members alone.

        The dashboard's PATCH replaces a group's whole member list, so each changed group is
        read, changed and written back; unchanged groups are not written.
        """
        wanted = set(group_ids)
        for group in (await self.async_get_notification_groups()).values():
            members = [member for member in group.members if member != channel_id]
            if group.id in wanted:
                members.append(channel_id)
            if members == list(group.members):
                continue
            answer = await self._authed(
                f"{NOTIFICATION_GROUP_PATH}/{group.id}",
                method="PATCH",
                json_body={"name": group.name, "notifications": members},
            )
            v1v2.parse_envelope(answer.data)

    async def _async_read_groups(self, *, force: bool = False) -> None:
        """Re-read the server groups when older than ``GROUPS_MAX_AGE``.

        They change rarely, so a refresh stays one request.
        """
        now = time.monotonic()
        if force or self._groups_read_at is None or now - self._groups_read_at >= GROUPS_MAX_AGE:
            answer = await self._authed(SERVER_GROUP_PATH)
            self._groups = v1v2.parse_groups(v1v2.parse_envelope(answer.data))
            self._groups_read_at = now

    async def listen(
        self, on_snapshot: SnapshotCallback, on_state: StateCallback, watch: Watch
    ) -> None:
        """Hold the live server stream (v1/v2) until cancelled.

        ``on_state(True)`` when frames start to arrive, ``on_state(False)`` when they stop or
        the dashboard refuses the handshake (a deleted token: the caller asks at once).
        Frames due by ``watch`` are handed over as snapshots. Reconnects with back-off.
        """
        rng = random.Random()  # noqa: S311 - jitter, not secrecy
        attempt = 0
        connected = False
        while True:
            delivering_since: list[float] = []
            refused = False
            try:
                await self._async_stream_once(
                    on_snapshot, on_state, FrameGate(watch), delivering_since
                )
            except (aiohttp.WSServerHandshakeError, NezhaAuthError) as err:
                # The dashboard answered and said no: a deleted token closes the stream and
                # refuses the next handshake (401) at once.
                refused = True
                _LOGGER.debug("Server stream of %s refused: %s", self.url, type(err).__name__)
            except (aiohttp.ClientError, TimeoutError, NezhaError, ValueError) as err:
                _LOGGER.debug("Server stream of %s failed: %s", self.url, type(err).__name__)
            if delivering_since:
                connected = True
                if time.monotonic() - delivering_since[0] >= stream.STABLE_AFTER:
                    # Only a connection that carried frames for a while earns a quick
                    # reconnect; one that breaks right after its first frame backs off.
                    attempt = 0
            if connected or refused:
                # Either is news the owner acts on at once, rather than at its next poll.
                connected = False
                on_state(False)
            delay = stream.backoff_delay(attempt, rng)
            attempt += 1
            _LOGGER.debug("Reconnecting the server stream in %.1f s", delay)
            await self._async_pause(delay)

    async def _async_pause(self, delay: float) -> None:
        """Wait ``delay`` before reconnecting, or until the dashboard answers again.

        While requests find nobody answering, the owner's requests (spaced as it decides)
        probe for the stream, which then waits for their news up to the back-off's ceiling:
        it reconnects as soon as the dashboard is back, and adds no requests meanwhile.
        """
        if self._unreachable:
            delay = stream.BACKOFF_MAX
        answering = self._answering_again = asyncio.Event()
        try:
            async with asyncio.timeout(delay):
                await answering.wait()
            _LOGGER.debug("%s answers again: reconnecting the server stream now", self.url)
        except TimeoutError:
            pass
        finally:
            self._answering_again = None

    async def _async_stream_once(
        self,
        on_snapshot: SnapshotCallback,
        on_state: StateCallback,
        gate: FrameGate,
        delivering_since: list[float],
    ) -> None:
        """One connection, until it closes or fails."""
        if self._credentials.uses_login:
            # A v1 dashboard streams to anyone: a JWT it forgot gets the guests' frames
            # (hidden servers left out) instead of a refusal. One request confirms the login
            # first, logging in again if needed; the frames need the groups anyway.
            await self._async_read_groups(force=True)
        headers = await self._credentials.async_headers(self)
        _check_header_values(headers)
        # The handshake keeps a request's deadline: a hanging dashboard would otherwise hold
        # it for the session's five minutes, out of reach of ``_async_pause``.
        async with asyncio.timeout(self._timeout):
            ws = await self._session.ws_connect(
                self.api_url(STREAM_PATH),
                headers=headers,
                timeout=aiohttp.ClientWSTimeout(ws_receive=stream.RECEIVE_TIMEOUT),
                autoping=True,
                max_msg_size=MAX_RESPONSE_BYTES,
            )
        async with ws:
            first = True
            async for message in ws:
                if message.type is not aiohttp.WSMsgType.TEXT:
                    break
                now, servers = await offload(
                    len(message.data), self._read_frame, message.data, gate
                )
                if not delivering_since:
                    delivering_since.append(time.monotonic())
                    on_state(True)
                if servers is not None:
                    servers = self._with_notes(servers, first=first)
                    first = False
                    on_snapshot(
                        DashboardSnapshot(
                            servers=self._with_addresses(servers),
                            dashboard_time=now,
                            flavor=self.flavor or DashboardFlavor.V2,
                        )
                    )

    def _read_frame(self, text: str, gate: FrameGate) -> tuple[datetime, dict[int, Server] | None]:
        """The frame's clock, and its servers when ``gate`` says the frame is due.

        A large fleet's frame is read in a worker thread, and its decoded JSON is built and
        dropped there too: every 2 s, most frames due for nothing.
        """
        data = orjson.loads(text)
        now, activity = v1v2.parse_frame_activity(data)
        if not gate.due(now, activity, self._groups):
            return now, None
        return v1v2.parse_frame(data, self._groups, self._frame_hosts)

    def _with_notes(self, servers: dict[int, Server], *, first: bool) -> dict[int, Server]:
        """A connection's first frame tells every note; later ones none: keep the known ones.

        Only a REST answer or a new connection can tell that a note changed or was removed.
        """
        if first:
            self._notes = {key: server.public_note for key, server in servers.items()}
            return servers
        known = self._notes
        for key, server in servers.items():
            if server.public_note:
                # Not what the dashboards send today, but a note sent is a note known.
                known[key] = server.public_note
        return {
            key: replace(server, public_note=note)
            if not server.public_note and (note := known.get(key, ""))
            else server
            for key, server in servers.items()
        }

    def _with_addresses(self, servers: dict[int, Server]) -> dict[int, Server]:
        """Frames carry no addresses: keep those of the last REST answer."""
        known = self._addresses
        return {
            key: replace(server, ipv4=known[key][0], ipv6=known[key][1])
            if key in known and not (server.ipv4 or server.ipv6)
            else server
            for key, server in servers.items()
        }

    async def _authed(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        method: str = "GET",
        json_body: Any = None,
    ) -> Answer:
        """A request with the line's credentials; a forgotten login is renewed once."""
        await self.async_detect_flavor()
        credentials = self._credentials
        sent = await credentials.async_headers(self)
        answer = await self.async_request(
            path, params, method=method, json_body=json_body, headers=sent
        )
        if await credentials.async_retry(self, sent, answer.data):
            answer = await self.async_request(
                path,
                params,
                method=method,
                json_body=json_body,
                headers=await credentials.async_headers(self),
            )
        return answer

    def api_url(self, path: str) -> URL:
        """The URL of an API path under the dashboard's base (sub-path kept)."""
        return self._base.with_path(self._base.path.rstrip("/") + path, encoded=False)

    async def async_request(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        method: str = "GET",
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """Send one request with exactly ``headers`` and decode its JSON.

        Every failure becomes one of the client's own errors.
        """
        url = self.api_url(path)
        if params:
            url = url.with_query(params)
        request_headers = {"Accept": "application/json", **(headers or {})}
        _check_header_values(request_headers)
        try:
            answer = await self._async_send(method, url, request_headers, json_body)
        except NezhaUnreachableError, NezhaTimeoutError:
            self._unreachable = True
            raise
        except NezhaSSLError:
            raise
        except NezhaError:
            # A refusal or a broken answer: still the dashboard answering.
            self._answered()
            raise
        self._answered()
        return answer

    def _answered(self) -> None:
        """The dashboard answered: a stream waiting after an outage reconnects now."""
        if self._unreachable:
            self._unreachable = False
            if self._answering_again is not None:
                self._answering_again.set()

    async def _async_send(
        self, method: str, url: URL, headers: Mapping[str, str], json_body: Any
    ) -> Answer:
        """The request itself; see ``async_request``."""
        host = self._base.host
        try:
            async with asyncio.timeout(self._timeout):
                async with self._session.request(
                    method,
                    url,
                    headers=headers,
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
        except aiohttp.ClientConnectionError as err:
            # Refused, reset, no address: the dashboard (or its host) is not there right now.
            raise NezhaUnreachableError(f"cannot connect to {host}: {type(err).__name__}") from err
        except aiohttp.ClientError as err:
            raise NezhaConnectionError(f"cannot connect to {host}: {type(err).__name__}") from err
        try:
            data = await offload(len(body), orjson.loads, body)
        except orjson.JSONDecodeError as err:
            if body.lstrip()[:1] == b"<":
                raise NezhaNotDashboardError(
                    "the URL serves an HTML page, not the Nezha API"
                ) from err
            raise NezhaResponseError("the dashboard sent invalid JSON") from err
        return Answer(data, response_headers, len(body))

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
            raise NezhaNotFoundError("no Nezha API at this URL (HTTP 404)")
        if status in _PROXY_DOWN:
            raise NezhaUnreachableError(f"the dashboard answered HTTP {status}")
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


def _check_header_values(headers: Mapping[str, str]) -> None:
    """Refuse credentials with control characters before aiohttp does with a bare ValueError.

    Such a credential (e.g. pasted with a line break inside) can never be right.
    """
    if any(_CONTROL_CHARACTERS.search(value) for value in headers.values()):
        raise NezhaAuthError("the credentials contain control characters")


def _filter_params(ids: Iterable[int] | None, tag: str | None) -> dict[str, str]:
    params: dict[str, str] = {}
    if ids is not None:
        params["id"] = ",".join(str(int(server_id)) for server_id in ids)
    if tag:
        params["tag"] = tag
    return params
