"""The fake dashboard: aiohttp application, state and fault switches.

v0 behaviours reproduced (dashboard source, tag v0.20.13):
- the token is sent raw in ``Authorization``; a missing or wrong one gets HTTP 200 with
  ``{"code":403,"message":"访问此接口需要认证"}`` and no ``result``;
- ``host``/``status`` keys are PascalCase, empty lists are ``null``, counters are uint64;
- ``last_active`` of a server that has not reported since the dashboard started is
  -62135596800 (Go's zero time);
- unfiltered results come in random order (Go map iteration); ``tag`` wins over ``id``; a
  non-numeric id is skipped; an unknown tag gives ``[]``; ``display_index`` and
  ``hide_for_guest`` are only filled by the unfiltered details;
- routes it does not have (``/api/v1/setting`` among them) answer a 404 HTML page.

v1/v2 behaviours (``flavor="v1"``/``"v2"``; source tags v1.14.14 and v2.3.7), checked against
answers of the real dashboards by tests/api/test_fake_conformance.py:
- ``GET /api/v1/setting`` answers without credentials, with the version and the front-end
  templates only for a logged-in user (a personal token reads it as a guest); v2 adds
  ``tsdb_enabled``; the v0 routes answer 404 ``{"error":"404 Not Found"}``;
- envelope ``{"success":true,"data":...}`` (``success:false`` is omitted, so a refusal is only
  ``{"error":...}``); snake_case keys; fields omitempty as their Go tags say (zeros vanish, but
  not ``display_index`` or the timestamps); RFC 3339 ``last_active`` with nanoseconds and an
  offset, Go's zero time for never, and again when the agent goes away;
- ``POST /api/v1/login`` gives a JWT (``Authorization: Bearer``) with an expiry; a bad or
  expired JWT gets HTTP 200 ``{"error":"ApiErrorUnauthorized"}``; v1 renews it with
  ``GET /api/v1/refresh-token``;
- v2 personal tokens ``nzp_...``: unknown → 401 ``ApiErrorUnauthorized: invalid api token``,
  expired → 401 ``ApiErrorUnauthorized: api token expired``, missing scope → 403
  ``ApiErrorForbidden: api token lacks scope <scope>``; deleting one closes its streams;
- guests may read ``/api/v1/service`` and the websocket (no credentials, or a JWT that is not
  accepted; a bad personal token is refused): guest frames leave out hidden servers and the
  host's ``platform_version`` and ``version``; v1 lists only services shown on the service
  page, v2 all of them;
- ``GET /api/v1/server-group`` lists groups with their server ids (null when empty);
  ``GET /api/v1/server?id=`` returns everything when no id matches;
- ``PATCH /api/v1/server/:id`` (``nezha:server:write``) replaces the name, notes, display index
  and guest switch with the form's (what it leaves out becomes zero); ``public_note`` is sent
  as stored, a string, in the REST list and the first frame of each stream (guests too);
- ``GET /api/v1/profile`` gives the user's record to a login; a personal token is refused;
- v2 only: ``GET /api/v1/server/:id/metrics?metric=&period=`` (guests: ``period=1d`` only)
  answers the points in ``metric_samples`` averaged per bucket (30 s, 30 min, 2 h for 1d, 7d,
  30d; the last value for counters), ``null`` when there is none; with the TSDB off
  (``tsdb_enabled``) ``[]``. Its refusals come with HTTP 200. ``record_history`` fills
  ``metric_samples`` with days of plausible reports (the demo's ``--history-days``).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate
import json
import math
import random
import ssl
import time
from typing import Any

from aiohttp import WSMsgType, web

from .actions import ActionsMixin
from .gotime import GO_ZERO_TIME, rfc3339

FORBIDDEN = {"code": 403, "message": "访问此接口需要认证"}
NOT_FOUND_PAGE = (
    "<!DOCTYPE html><html><head><title>404 Not Found</title></head>"
    "<body><h1>404</h1><p>页面不存在</p></body></html>"
)
GIB = 1024**3
V1_VERSION = "1.14.14"
V2_VERSION = "2.3.7"
SCOPE_INVENTORY = "nezha:inventory:read"
SCOPE_SERVICE = "nezha:service:read"
SCOPE_SERVER_READ = "nezha:server:read"
SCOPE_SERVER_WRITE = "nezha:server:write"
# ``serverMetricMap`` of v2.3.7 and the bucket of each period (seconds).
METRICS = frozenset(
    {
        *("cpu", "memory", "swap", "disk", "net_in_speed", "net_out_speed"),
        *("net_in_transfer", "net_out_transfer", "load1", "load5", "load15", "tcp_conn"),
        *("udp_conn", "process_count", "temperature", "uptime", "gpu"),
    }
)
# Counters: a bucket keeps its last value, not the mean.
LAST_VALUE_METRICS = frozenset({"net_in_transfer", "net_out_transfer", "uptime"})
METRIC_PERIODS = {"1d": (86400, 30), "7d": (7 * 86400, 1800), "30d": (30 * 86400, 7200)}
# The status figure each metric records (temperature and gpu are left out here).
METRIC_STATUS_KEYS = {
    "cpu": "CPU",
    "memory": "MemUsed",
    "swap": "SwapUsed",
    "disk": "DiskUsed",
    "net_in_speed": "NetInSpeed",
    "net_out_speed": "NetOutSpeed",
    "net_in_transfer": "NetInTransfer",
    "net_out_transfer": "NetOutTransfer",
    "load1": "Load1",
    "load5": "Load5",
    "load15": "Load15",
    "tcp_conn": "TcpConnCount",
    "udp_conn": "UdpConnCount",
    "process_count": "ProcessCount",
    "uptime": "Uptime",
}
UNAUTHORIZED_JWT = {"error": "ApiErrorUnauthorized"}
# What /api/v1/setting adds for a logged-in user (the front ends a v1/v2 dashboard bundles).
FRONTEND_TEMPLATES = [
    {
        "path": "admin-dist",
        "name": "OfficialAdmin",
        "repository": "https://github.com/nezhahq/admin-frontend",
        "author": "nezhahq",
        "version": "v1.14.7",
        "is_admin": True,
        "is_official": True,
    },
    {
        "path": "user-dist",
        "name": "Official",
        "repository": "https://github.com/hamster1963/nezha-dash-v1",
        "author": "hamster1963",
        "version": "v1.33.0",
        "is_official": True,
    },
    {
        "path": "nazhua-dist",
        "name": "Nazhua",
        "repository": "https://github.com/hi2shark/nazhua",
        "author": "hi2hi",
        "version": "v0.9.0",
    },
    {
        "path": "nezha-ascii-dist",
        "name": "Nezha-ASCII",
        "repository": "https://github.com/hamster1963/nezha-ascii",
        "author": "hamster1963",
        "version": "v1.1.0",
    },
]
NOT_FOUND_JSON = {"error": "404 Not Found"}
# What nginx in front of a dashboard answers while the dashboard behind it is down.
BAD_GATEWAY_PAGE = (
    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1>"
    "</center><hr><center>nginx</center></body></html>"
)
# v0 PascalCase status/host keys → v1/v2 snake_case.
_HOST_KEYS = {
    "Platform": "platform",
    "PlatformVersion": "platform_version",
    "CPU": "cpu",
    "MemTotal": "mem_total",
    "DiskTotal": "disk_total",
    "SwapTotal": "swap_total",
    "Arch": "arch",
    "Virtualization": "virtualization",
    "BootTime": "boot_time",
    "Version": "version",
    "GPU": "gpu",
}
_STATE_KEYS = {
    "CPU": "cpu",
    "MemUsed": "mem_used",
    "SwapUsed": "swap_used",
    "DiskUsed": "disk_used",
    "NetInTransfer": "net_in_transfer",
    "NetOutTransfer": "net_out_transfer",
    "NetInSpeed": "net_in_speed",
    "NetOutSpeed": "net_out_speed",
    "Uptime": "uptime",
    "Load1": "load_1",
    "Load5": "load_5",
    "Load15": "load_15",
    "TcpConnCount": "tcp_conn_count",
    "UdpConnCount": "udp_conn_count",
    "ProcessCount": "process_count",
    "Temperatures": "temperatures",
}


def _omit_zero(fields: dict[str, Any]) -> dict[str, Any]:
    """Go's ``omitempty`` on one struct: zero numbers, "", empty lists and None vanish.

    Only this level: the structs inside (temperatures) have no tags and keep every field.
    """
    return {key: value for key, value in fields.items() if value not in (0, "", None, [], {})}


def omitempty(value: Any) -> Any:
    """Drop zero numbers, empty strings, empty lists/objects and None, recursively."""
    if isinstance(value, dict):
        cleaned = {key: omitempty(item) for key, item in value.items()}
        return {key: item for key, item in cleaned.items() if item not in (0, "", None, [], {})}
    if isinstance(value, list):
        return [omitempty(item) for item in value]
    return value


@dataclass
class PersonalToken:
    """A v2 personal API token."""

    scopes: frozenset[str] = frozenset({SCOPE_INVENTORY, SCOPE_SERVICE})
    # Dashboard clock (unix s) after which it is refused; None = never expires.
    expires: float | None = None


type Hook = Callable[[web.Request], Awaitable[web.StreamResponse | None]]


@dataclass
class FakeServer:
    """One server as the dashboard holds it in memory."""

    id: int
    name: str
    tag: str = ""
    ipv4: str = ""
    ipv6: str = ""
    display_index: int = 0
    hide_for_guest: bool = False
    # PascalCase, as v0 serialises its Go structs.
    host: dict[str, Any] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)
    # Unix seconds of the agent's last report; None = not since the dashboard started.
    last_active: float | None = None
    # False once the agent stops reporting (machine down); ``tick`` then leaves it alone.
    reporting: bool = True
    # v1/v2: when the server was added (unix s; None serialises as Go's zero time), and its
    # notes (the public one is shown to guests too).
    created_at: float | None = None
    note: str = ""
    public_note: str = ""

    def to_v0(self, *, details: bool, unfiltered: bool) -> dict[str, Any]:
        """The JSON object the v0 routes send for this server."""
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "tag": self.tag,
            "last_active": GO_ZERO_TIME if self.last_active is None else int(self.last_active),
            "ipv4": self.ipv4,
            "ipv6": self.ipv6,
            "valid_ip": self.ipv4 or self.ipv6,
            "display_index": self.display_index if unfiltered and details else 0,
            "hide_for_guest": self.hide_for_guest if unfiltered and details else False,
        }
        if details:
            data["host"] = self.host
            data["status"] = self.status
        return data

    def host_v1(self, *, guest: bool = False) -> dict[str, Any]:
        """``host`` in snake_case, zero values left out; guests do not see the versions."""
        host = _omit_zero({new: self.host.get(old) for old, new in _HOST_KEYS.items()})
        if guest:
            host.pop("platform_version", None)
            host.pop("version", None)
        return host

    def state_v1(self) -> dict[str, Any]:
        """``state`` in snake_case, zero values left out; one figure per GPU."""
        state = {new: self.status.get(old) for old, new in _STATE_KEYS.items()}
        gpu = self.status.get("GPU")
        state["gpu"] = [gpu] if gpu else []
        return _omit_zero(state)

    def to_v1(self, *, owner: dict[str, Any] | None = None) -> dict[str, Any]:
        """The object of ``GET /api/v1/server``, field by field as the Go struct tags say."""
        created = rfc3339(self.created_at)
        data: dict[str, Any] = {
            "id": self.id,
            "created_at": created,
            "updated_at": created,
            "name": self.name,
            "uuid": f"00000000-0000-4000-8000-{self.id:012d}",
        }
        if self.note:
            data["note"] = self.note
        if self.public_note:
            data["public_note"] = self.public_note
        # No omitempty on display_index: 0 is sent.
        data["display_index"] = self.display_index
        if self.hide_for_guest:
            data["hide_for_guest"] = True
        addresses = _omit_zero({"ipv4_addr": self.ipv4, "ipv6_addr": self.ipv6})
        data["host"] = self.host_v1()
        data["state"] = self.state_v1()
        data["geoip"] = {"ip": addresses} | _omit_zero(
            {"country_code": self.host.get("CountryCode", "")}
        )
        data["last_active"] = rfc3339(self.last_active)
        if owner is not None:
            data["owner"] = owner
        return data

    def to_frame(self, *, first: bool, guest: bool) -> dict[str, Any]:
        """A server of a websocket frame: every field omitempty, the public note only first."""
        data: dict[str, Any] = {"id": self.id, "name": self.name}
        if first and self.public_note:
            data["public_note"] = self.public_note
        if self.display_index:
            data["display_index"] = self.display_index
        data["host"] = self.host_v1(guest=guest)
        data["state"] = self.state_v1()
        if country := self.host.get("CountryCode"):
            data["country_code"] = country
        data["last_active"] = rfc3339(self.last_active)
        return data


@dataclass
class FakeService:
    """A service monitor with its check counters (v1/v2 ``/api/v1/service``)."""

    name: str
    current_up: int = 30
    current_down: int = 0
    total_up: int = 8640
    total_down: int = 0
    # The 30 daily average latencies in ms, oldest first; the last is today.
    # Go writes a whole float64 without a fraction: 0, not 0.0.
    delay: list[float] = field(default_factory=lambda: [0] * 29 + [42.5])
    # The service's *Show in service page* switch: v1 lists only services that have it on.
    show_in_service: bool = True

    def to_v1(self) -> dict[str, Any]:
        """As the dashboard serialises it: the counters have no omitempty, the rest has."""
        item: dict[str, Any] = {}
        if self.name:
            item["service_name"] = self.name
        item |= {
            "current_up": self.current_up,
            "current_down": self.current_down,
            "total_up": self.total_up,
            "total_down": self.total_down,
            "delay": self.delay,
            "up": [self.total_up // 30] * 30,
            "down": [self.total_down // 30] * 30,
        }
        return item


@dataclass
class FakeCycle:
    """A transfer alert rule and its current cycle (``cycle_transfer_stats``)."""

    name: str
    start: float
    end: float
    max: int = 0
    min: int = 0
    # server id → bytes in this cycle.
    transfer: dict[int, int] = field(default_factory=dict)

    def to_v1(self, servers: dict[int, FakeServer], now: float) -> dict[str, Any]:
        """No omitempty on the rule's own fields; the per-server maps have it."""
        item: dict[str, Any] = {
            "name": self.name,
            "from": rfc3339(self.start),
            "to": rfc3339(self.end),
            "max": self.max,
            "min": self.min,
        }
        if self.transfer:
            item["server_name"] = {
                str(sid): servers[sid].name if sid in servers else "" for sid in self.transfer
            }
            item["transfer"] = {str(sid): used for sid, used in self.transfer.items()}
            item["next_update"] = {str(sid): rfc3339(now + 600) for sid in self.transfer}
        return item


def empty_host() -> dict[str, Any]:
    """The host of an agent that never reported."""
    return {
        "Platform": "",
        "PlatformVersion": "",
        "CPU": None,
        "MemTotal": 0,
        "DiskTotal": 0,
        "SwapTotal": 0,
        "Arch": "",
        "Virtualization": "",
        "BootTime": 0,
        "CountryCode": "",
        "Version": "",
        "GPU": None,
    }


def empty_status() -> dict[str, Any]:
    """The status of an agent that never reported."""
    return {
        "CPU": 0,
        "MemUsed": 0,
        "SwapUsed": 0,
        "DiskUsed": 0,
        "NetInTransfer": 0,
        "NetOutTransfer": 0,
        "NetInSpeed": 0,
        "NetOutSpeed": 0,
        "Uptime": 0,
        "Load1": 0,
        "Load5": 0,
        "Load15": 0,
        "TcpConnCount": 0,
        "UdpConnCount": 0,
        "ProcessCount": 0,
        "Temperatures": None,
        "GPU": 0,
    }


def make_server(
    server_id: int,
    name: str | None = None,
    *,
    tag: str = "",
    now: float | None = None,
    reported: bool = True,
    rng: random.Random | None = None,
) -> FakeServer:
    """A plausible Linux server; ``reported=False`` gives one that never reported."""
    now = time.time() if now is None else now
    server = FakeServer(
        id=server_id,
        name=name or f"server-{server_id}",
        tag=tag,
        display_index=server_id,
        host=empty_host(),
        status=empty_status(),
        created_at=now - 100 * 86400,
    )
    if not reported:
        return server
    rng = rng or random.Random(server_id)
    mem_total = rng.choice((1, 2, 4, 8, 16)) * GIB
    disk_total = rng.choice((20, 40, 80, 160)) * GIB
    uptime = rng.randint(3600, 90 * 86400)
    server.ipv4 = f"192.0.2.{server_id % 250 + 1}"
    server.ipv6 = f"2001:db8::{server_id:x}"
    server.host = {
        "Platform": "debian",
        "PlatformVersion": "12.8",
        "CPU": ["AMD EPYC 7B13 2 Virtual Core"],
        "MemTotal": mem_total,
        "DiskTotal": disk_total,
        "SwapTotal": GIB,
        "Arch": "x86_64",
        "Virtualization": "kvm",
        "BootTime": int(now) - uptime,
        "CountryCode": "de",
        "Version": "0.20.5",
        "GPU": None,
    }
    server.status = {
        "CPU": round(rng.uniform(1, 60), 2),
        "MemUsed": int(mem_total * rng.uniform(0.2, 0.8)),
        "SwapUsed": int(GIB * rng.uniform(0, 0.1)),
        "DiskUsed": int(disk_total * rng.uniform(0.1, 0.9)),
        "NetInTransfer": rng.randint(10**8, 10**12),
        "NetOutTransfer": rng.randint(10**8, 10**12),
        "NetInSpeed": rng.randint(1000, 2_000_000),
        "NetOutSpeed": rng.randint(1000, 2_000_000),
        "Uptime": uptime,
        "Load1": round(rng.uniform(0, 2), 2),
        "Load5": round(rng.uniform(0, 2), 2),
        "Load15": round(rng.uniform(0, 2), 2),
        "TcpConnCount": rng.randint(5, 500),
        "UdpConnCount": rng.randint(0, 50),
        "ProcessCount": rng.randint(80, 400),
        "Temperatures": None,
        "GPU": 0,
    }
    server.last_active = now - rng.uniform(0, 2)
    return server


class FakeDashboard(ActionsMixin):
    """A v0 Nezha dashboard on loopback that tests can inspect and break."""

    def __init__(
        self,
        *,
        token: str = "test-token",
        prefix: str = "",
        clock: Callable[[], float] = time.time,
        seed: int = 0,
        flavor: str = "v0",
        username: str = "admin",
        password: str = "admin-password",
        jwt_lifetime: float = 3600.0,
        version: str | None = None,
    ) -> None:
        """Create an empty dashboard; ``prefix`` mounts it under a sub-path.

        ``flavor`` "v1"/"v2" serves the current API instead of v0; on v2 ``token`` is a
        personal token with every read scope (add others to ``personal_tokens``). ``version``
        stands in for another release of the line (e.g. "2.0.13").
        """
        self.flavor = flavor
        self.version = version or (V1_VERSION if flavor == "v1" else V2_VERSION)
        self.init_actions()
        self.tokens: set[str] = {token}
        self.personal_tokens: dict[str, PersonalToken] = (
            {token: PersonalToken()} if flavor == "v2" else {}
        )
        self.username = username
        self.password = password
        self.jwt_lifetime = jwt_lifetime
        # JWT → dashboard clock (unix s) when it expires.
        self.jwts: dict[str, float] = {}
        self.logins = 0
        # Server groups: name → server ids.
        self.groups: dict[str, list[int]] = {}
        # v1/v2 service monitors and transfer rules, by id.
        self.services: dict[int, FakeService] = {}
        self.cycles: dict[int, FakeCycle] = {}
        # v2's metric history: whether the TSDB is on, and (server id, metric) → the
        # agents' samples (dashboard clock in unix s, value), oldest first.
        self.tsdb_enabled = False
        self.metric_samples: dict[tuple[int, str], list[tuple[float, float]]] = {}
        # The live stream: wall-clock seconds between frames (2 on a real dashboard), whether
        # the handshake succeeds, and the open websockets.
        self.frame_interval = 2.0
        self.stream_enabled = True
        self.streams: set[web.WebSocketResponse] = set()
        # The personal token (or JWT) each authorised stream was opened with.
        self._stream_holders: dict[web.WebSocketResponse, str] = {}
        # Set while stopping: a stream whose handshake is still in flight closes itself.
        self._stopping = False
        self.frames_sent = 0
        # Raw text sent instead of the next frames, one each (a broken or hostile stream).
        self.raw_frames: list[str] = []
        # CPU seconds spent building and sending frames, so a benchmark can leave them out.
        self.frame_cpu_seconds = 0.0
        self.prefix = prefix.rstrip("/")
        self.clock = clock
        self.servers: dict[int, FakeServer] = {}
        self.requests: Counter[str] = Counter()
        self.bytes_sent = 0
        # Faults: a delay before answering, or a hook that may answer instead.
        self.delay = 0.0
        self.hook: Hook | None = None
        # Paths (under the prefix) answered as unknown routes: an older release without them,
        # or a reverse proxy that forwards only some paths.
        self.missing_routes: set[str] = set()
        # Set before ``start`` to serve HTTPS (e.g. with a self-signed certificate).
        self.ssl_context: ssl.SSLContext | None = None
        self._random = random.Random(seed)
        self._runner: web.AppRunner | None = None
        self.host = "127.0.0.1"
        self.port = 0
        # Down behind a reverse proxy: the port still answers, with the proxy's 502 page.
        self.behind_proxy_down = False

    # --- state -------------------------------------------------------------------------

    def add(self, *servers: FakeServer) -> None:
        """Add (or replace) servers."""
        for server in servers:
            self.servers[server.id] = server

    def remove(self, server_id: int) -> None:
        """Delete a server, as an admin does in the dashboard."""
        del self.servers[server_id]

    def load_v0_example(self, payload: dict[str, Any]) -> None:
        """Serve the servers of a v0 ``details`` response exactly as given."""
        for item in payload["result"]:
            last_active = item["last_active"]
            self.add(
                FakeServer(
                    id=item["id"],
                    name=item["name"],
                    tag=item["tag"],
                    ipv4=item["ipv4"],
                    ipv6=item["ipv6"],
                    host=copy.deepcopy(item["host"]),
                    status=copy.deepcopy(item["status"]),
                    last_active=None if last_active == GO_ZERO_TIME else last_active,
                )
            )

    def restart(self) -> None:
        """The dashboard process restarts: nobody has reported since."""
        for server in self.servers.values():
            server.last_active = None

    def agent_restart(self, server_id: int) -> None:
        """An agent restarts: its cumulative counters start again from zero."""
        status = self.servers[server_id].status
        status["NetInTransfer"] = 0
        status["NetOutTransfer"] = 0
        status["Uptime"] = 0

    def silence(self, server_id: int, seconds_ago: float) -> None:
        """The agent stopped reporting ``seconds_ago`` (the machine went down)."""
        server = self.servers[server_id]
        server.reporting = False
        server.last_active = self.clock() - seconds_ago

    async def revoke(self, token: str) -> None:
        """Delete an API token (v0) or a personal token (v2).

        As on v2, every stream the personal token holds is closed at once.
        """
        self.tokens.discard(token)
        self.personal_tokens.pop(token, None)
        held = [ws for ws, holder in self._stream_holders.items() if holder == token]
        await asyncio.gather(*(ws.close() for ws in held))

    def tick(self, seconds: float = 1.0) -> None:
        """Move the values as live agents would; servers that never reported stay silent."""
        now = self.clock()
        rng = self._random
        for server in self.servers.values():
            if server.last_active is None or not server.reporting:
                continue
            status = server.status
            status["CPU"] = round(min(100.0, max(0.0, status["CPU"] + rng.uniform(-5, 5))), 2)
            mem_total = server.host["MemTotal"] or GIB
            status["MemUsed"] = int(
                min(mem_total, max(0, status["MemUsed"] + rng.uniform(-0.01, 0.01) * mem_total))
            )
            for key in ("NetInSpeed", "NetOutSpeed"):
                status[key] = max(
                    0, int(status[key] * rng.uniform(0.7, 1.3)) + rng.randint(0, 5000)
                )
            status["NetInTransfer"] += int(status["NetInSpeed"] * seconds)
            status["NetOutTransfer"] += int(status["NetOutSpeed"] * seconds)
            status["Uptime"] += int(seconds)
            status["Load1"] = round(max(0.0, status["Load1"] + rng.uniform(-0.2, 0.2)), 2)
            status["TcpConnCount"] = max(0, status["TcpConnCount"] + rng.randint(-5, 5))
            server.last_active = now
            self.record_metrics(server)

    def record_metrics(self, server: FakeServer) -> None:
        """Store a report in the TSDB (when on), as the dashboard does; keep 30 days."""
        if not self.tsdb_enabled:
            return
        now = self.clock()
        for metric, key in METRIC_STATUS_KEYS.items():
            samples = self.metric_samples.setdefault((server.id, metric), [])
            samples.append((now, float(server.status.get(key) or 0)))
            while samples and samples[0][0] < now - METRIC_PERIODS["30d"][0]:
                samples.pop(0)

    def record_history(self, days: float, step: float = 300.0) -> None:
        """Fill the TSDB with ``days`` of past reports of every server that reported.

        Each figure ends near its current value: busy by day and quiet by night (CPU, load,
        network, connections), memory that creeps up until a restart every few days, a disk
        that slowly fills, counters that grow. One report per ``step`` seconds keeps the
        demo's memory small (the 1d answer then has one point per 5 min, not per 30 s).
        """
        self.tsdb_enabled = True
        for server in self.servers.values():
            if server.last_active is None:
                continue
            rng = random.Random(server.id)
            end = server.last_active
            start = end - days * 86400
            restart_every = rng.uniform(2.5, 4) * 86400
            for metric, key in METRIC_STATUS_KEYS.items():
                current = float(server.status.get(key) or 0)
                samples = []
                when = start
                while when < end:
                    ago = end - when
                    # 1 at 14:00 UTC, 0 at 02:00.
                    day = 0.5 + 0.5 * math.sin(2 * math.pi * ((when % 86400) / 86400 - 0.333))
                    noise = rng.uniform(0.85, 1.15)
                    if metric in LAST_VALUE_METRICS:
                        rate = 1.0 if metric == "uptime" else current / max(1.0, end - start)
                        value = max(0.0, current - rate * ago)
                    elif metric in ("memory", "swap"):
                        value = current * (0.7 + 0.3 * (1 - (ago % restart_every) / restart_every))
                    elif metric == "disk":
                        value = current * (1 - 0.02 * ago / 86400)
                    else:
                        value = current * (0.35 + 0.9 * day) * noise
                    if metric == "cpu":
                        value = min(100.0, value)
                    samples.append((when, round(value, 2)))
                    when += step
                # Older than any live report: the live ones follow in order.
                self.metric_samples[server.id, metric] = [
                    *samples,
                    *self.metric_samples.get((server.id, metric), []),
                ]

    def heartbeat(self) -> None:
        """Agents report again with unchanged values (a still demo for exact comparisons)."""
        now = self.clock()
        for server in self.servers.values():
            if server.last_active is not None and server.reporting:
                server.last_active = now

    # --- HTTP --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL of the dashboard, sub-path included."""
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{self.host}:{self.port}{self.prefix}"

    def make_app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application(middlewares=[self._middleware])
        api = f"{self.prefix}/api/v1"
        if self.flavor == "v0":
            app.router.add_get(f"{api}/server/list", self._list)
            app.router.add_get(f"{api}/server/details", self._details)
            return app
        app.router.add_get(f"{api}/setting", self._setting)
        app.router.add_post(f"{api}/login", self._login)
        if self.flavor == "v1":
            app.router.add_get(f"{api}/refresh-token", self._refresh)
        app.router.add_get(f"{api}/server", self._server_v1)
        app.router.add_patch(f"{api}/server/{{id}}", self._server_update)
        app.router.add_get(f"{api}/profile", self._profile)
        if self.flavor == "v2":
            app.router.add_get(f"{api}/server/{{id}}/metrics", self._metrics)
        app.router.add_get(f"{api}/server-group", self._server_group)
        app.router.add_get(f"{api}/ws/server", self._stream)
        app.router.add_get(f"{api}/service", self._service)
        self.add_actions_routes(app, api)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on loopback (a free port by default) and return the base URL."""
        self.host = host
        await self._listen(port)
        return self.url

    async def _listen(self, port: int) -> None:
        self._runner = web.AppRunner(self.make_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(
            self._runner, self.host, port, reuse_address=True, ssl_context=self.ssl_context
        )
        await site.start()
        sockets = self._runner.server and site._server.sockets  # type: ignore[union-attr]  # noqa: SLF001
        self.port = sockets[0].getsockname()[1] if sockets else port

    async def go_down(self, *, behind_proxy: bool = False) -> None:
        """The dashboard stops (a restart, an upgrade) until ``come_back``.

        Open connections drop; then connections are refused, or, ``behind_proxy``, a reverse
        proxy keeps the port and answers every request (websocket handshakes too) with its
        502 page.
        """
        if behind_proxy:
            self.behind_proxy_down = True
            await self.drop_streams()
        else:
            await self.stop()

    async def come_back(self) -> None:
        """Answer again: listen on the same port, or the proxy passes requests through."""
        self.behind_proxy_down = False
        if self._runner is None:
            await self._listen(self.port)

    async def stop(self) -> None:
        """Shut everything down."""
        self._stopping = True
        try:
            await self.stop_actions()
            await self.drop_streams()
            if self._runner is not None:
                await self._runner.cleanup()
                self._runner = None
        finally:
            self._stopping = False

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        path = request.path.removeprefix(self.prefix) or "/"
        self.requests[path] += 1
        if self.behind_proxy_down:
            return web.Response(status=502, text=BAD_GATEWAY_PAGE, content_type="text/html")
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.hook is not None and (response := await self.hook(request)) is not None:
            return response
        try:
            if path in self.missing_routes:
                raise web.HTTPNotFound
            response = await handler(request)
        except web.HTTPNotFound, web.HTTPMethodNotAllowed:
            # The dashboard's router answers a wrong method like an unknown path.
            if self.flavor == "v0":
                response = web.Response(status=404, text=NOT_FOUND_PAGE, content_type="text/html")
            else:
                response = self._json(NOT_FOUND_JSON, status=404)
        response.headers["Date"] = formatdate(self.clock(), usegmt=True)
        return response

    def _json(self, payload: dict[str, Any], status: int = 200) -> web.Response:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        self.bytes_sent += len(body)
        return web.Response(
            body=body, status=status, content_type="application/json", charset="utf-8"
        )

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization", "") in self.tokens

    def _select(self, request: web.Request) -> tuple[list[FakeServer], bool]:
        """Apply ``tag`` and ``id`` the way v0 does: tag first, bad ids skipped."""
        tag = request.query.get("tag", "")
        ids = request.query.get("id", "")
        if tag:
            return [s for s in self.servers.values() if s.tag == tag], False
        if ids:
            wanted = [int(part) for part in ids.split(",") if part.strip().isdigit()]
            return [self.servers[i] for i in wanted if i in self.servers], False
        servers = list(self.servers.values())
        self._random.shuffle(servers)
        return servers, True

    async def _list(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._json(FORBIDDEN)
        servers, unfiltered = self._select(request)
        return self._json(
            {
                "code": 0,
                "message": "success",
                "result": [s.to_v0(details=False, unfiltered=unfiltered) for s in servers],
            }
        )

    async def _details(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._json(FORBIDDEN)
        servers, unfiltered = self._select(request)
        return self._json(
            {
                "code": 0,
                "message": "success",
                "result": [s.to_v0(details=True, unfiltered=unfiltered) for s in servers],
            }
        )

    # --- v1/v2 -------------------------------------------------------------------------

    def add_personal_token(
        self, token: str, *, scopes: frozenset[str], expires: float | None = None
    ) -> None:
        """Create a v2 personal token with these scopes."""
        self.personal_tokens[token] = PersonalToken(scopes=scopes, expires=expires)

    def expire_sessions(self) -> None:
        """Forget every JWT (e.g. the dashboard's secret changed)."""
        self.jwts.clear()

    def _issue_jwt(self) -> dict[str, Any]:
        token = f"jwt-{self._random.getrandbits(64):016x}"
        expires = self.clock() + self.jwt_lifetime
        self.jwts[token] = expires
        when = datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"success": True, "data": {"token": token, "expire": when}}

    def _check_auth(self, request: web.Request, scope: str) -> web.Response | None:
        """None when allowed, else the answer the dashboard gives."""
        raw = request.headers.get("Authorization", "").strip()
        bearer = raw.removeprefix("Bearer ").strip() if raw.startswith("Bearer ") else ""
        if self.flavor == "v2" and bearer.startswith("nzp_"):
            personal = self.personal_tokens.get(bearer)
            if personal is None:
                return self._json({"error": "ApiErrorUnauthorized: invalid api token"}, status=401)
            if personal.expires is not None and self.clock() >= personal.expires:
                return self._json({"error": "ApiErrorUnauthorized: api token expired"}, status=401)
            if scope not in personal.scopes:
                return self._json(
                    {"error": f"ApiErrorForbidden: api token lacks scope {scope}"}, status=403
                )
            return None
        if not self._logged_in(request):
            return self._json(UNAUTHORIZED_JWT)
        return None

    def _logged_in(self, request: web.Request) -> bool:
        """Whether the request carries a JWT the dashboard issued and still accepts."""
        raw = request.headers.get("Authorization", "").strip()
        if not raw.startswith("Bearer "):
            return False
        expires = self.jwts.get(raw.removeprefix("Bearer ").strip())
        return expires is not None and self.clock() < expires

    def _optional_auth(self, request: web.Request, scope: str) -> tuple[web.Response | None, bool]:
        """Routes guests may read: (a refusal to send, whether the request is authorised).

        No credentials, or a JWT the dashboard does not accept, read as a guest; a v2 personal
        token that is unknown, expired or lacks the scope is refused.
        """
        if not request.headers.get("Authorization"):
            return None, False
        refusal = self._check_auth(request, scope)
        if refusal is not None and refusal.status != 200:
            return refusal, False
        return None, refusal is None

    async def _setting(self, request: web.Request) -> web.Response:
        # Guests (a personal token too) are not told the version or the templates.
        config: dict[str, Any] = {"language": self.language, "site_name": "哪吒监控"}
        data: dict[str, Any] = {"config": config}
        if self._logged_in(request):
            config |= {"user_template": "user-dist", "admin_template": "admin-dist"}
            data["version"] = self.version
            data["frontend_templates"] = FRONTEND_TEMPLATES
        # No omitempty on these.
        config |= {"ip_change_notification_group_id": 0, "cover": 0}
        if self.flavor == "v2":
            data["tsdb_enabled"] = self.tsdb_enabled
        return self._json({"success": True, "data": data})

    async def _login(self, request: web.Request) -> web.Response:
        try:
            form = await request.json()
        except ValueError:
            return self._json(UNAUTHORIZED_JWT)
        if (
            type(form) is not dict
            or form.get("username") != self.username
            or form.get("password") != self.password
        ):
            return self._json(UNAUTHORIZED_JWT)
        self.logins += 1
        return self._json(self._issue_jwt())

    async def _refresh(self, request: web.Request) -> web.Response:
        raw = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        expires = self.jwts.get(raw)
        if expires is None or self.clock() >= expires:
            return self._json(UNAUTHORIZED_JWT)
        return self._json(self._issue_jwt())

    def _groups_of(self, server_id: int) -> list[str]:
        return [name for name, ids in self.groups.items() if server_id in ids]

    async def _server_v1(self, request: web.Request) -> web.Response:
        if (refusal := self._check_auth(request, SCOPE_INVENTORY)) is not None:
            return refusal
        wanted = [
            int(part) for part in request.query.get("id", "").split(",") if part.strip().isdigit()
        ]
        servers = [self.servers[i] for i in wanted if i in self.servers]
        if not servers:
            # As in the source: an id filter that matches nothing returns everything.
            servers = sorted(self.servers.values(), key=lambda s: -s.display_index)
        owner = {"id": 1, "username": self.username} if self.flavor == "v2" else None
        payload: dict[str, Any] = {"success": True}
        if servers:
            payload["data"] = [server.to_v1(owner=owner) for server in servers]
        return self._json(payload)

    async def _server_update(self, request: web.Request) -> web.Response:
        if (refusal := self._check_auth(request, SCOPE_SERVER_WRITE)) is not None:
            return refusal
        raw_id = request.match_info["id"]
        server = self.servers.get(int(raw_id)) if raw_id.isdigit() else None
        if server is None:
            return self._json({"error": f"server id {raw_id} does not exist"})
        form = await request.json()
        # As updateServer: every field of the form replaces the server's, absent ones with zero.
        server.name = form.get("name", "")
        server.note = form.get("note", "")
        server.public_note = form.get("public_note", "")
        server.display_index = form.get("display_index", 0)
        server.hide_for_guest = form.get("hide_for_guest", False)
        return self._json({"success": True})

    async def _profile(self, request: web.Request) -> web.Response:
        raw = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if self.flavor == "v2" and raw.startswith("nzp_"):
            return self._json(
                {"error": "ApiErrorForbidden: this endpoint is not accessible by api token"},
                status=403,
            )
        if not self._logged_in(request):
            return self._json(UNAUTHORIZED_JWT)
        created = rfc3339(min((s.created_at or 0.0 for s in self.servers.values()), default=None))
        user = {"id": 1, "created_at": created, "updated_at": created, "username": self.username}
        # The bcrypt hash is sent (no json:"-" on v1's Password); the secret is the agents'.
        user |= {"password": "$2a$10$" + "x" * 53, "agent_secret": "fake-agent-secret"}
        return self._json({"success": True, "data": user})

    async def _metrics(self, request: web.Request) -> web.Response:
        refusal, member = self._optional_auth(request, SCOPE_SERVER_READ)
        if refusal is not None:
            return refusal
        raw_id = request.match_info["id"]
        server = self.servers.get(int(raw_id)) if raw_id.isdigit() else None
        if server is None or (server.hide_for_guest and not member):
            return self._json({"error": "server not found" if server is None else "unauthorized"})
        metric = request.query.get("metric", "")
        if metric not in METRICS:
            return self._json({"error": "invalid metric name"})
        period = request.query.get("period") or "1d"
        if period not in METRIC_PERIODS:
            return self._json({"error": f"invalid period: {period}, expected 1d, 7d, or 30d"})
        if not member and period != "1d":
            return self._json({"error": "unauthorized: only 1d data available for guests"})
        data: dict[str, Any] = {"server_id": server.id, "server_name": server.name}
        data |= {"metric": metric, "data_points": []}
        if self.tsdb_enabled:
            data["data_points"] = self._metric_points(server.id, metric, period)
        return self._json({"success": True, "data": data})

    def _metric_points(self, server_id: int, metric: str, period: str) -> list[Any] | None:
        """The samples of the window [now - period, now], one point per bucket (None: none)."""
        length, bucket = METRIC_PERIODS[period]
        now = self.clock()
        buckets: dict[int, list[float]] = {}
        for when, value in self.metric_samples.get((server_id, metric), []):
            if now - length <= when <= now:
                buckets.setdefault(int(when // bucket) * bucket, []).append(value)
        if not buckets:
            return None
        points = []
        for start, values in sorted(buckets.items()):
            value = values[-1] if metric in LAST_VALUE_METRICS else sum(values) / len(values)
            # Go writes a whole float64 without a fraction.
            points.append(
                {"ts": start * 1000, "value": int(value) if value.is_integer() else value}
            )
        return points

    async def _server_group(self, request: web.Request) -> web.Response:
        if (refusal := self._check_auth(request, SCOPE_INVENTORY)) is not None:
            return refusal
        data = [
            {
                "group": {"id": index, "name": name},
                "servers": ids or None,
            }
            for index, (name, ids) in enumerate(self.groups.items(), start=1)
        ]
        return self._json(omitempty({"success": True, "data": data}))

    async def _service(self, request: web.Request) -> web.Response:
        refusal, _ = self._optional_auth(request, SCOPE_SERVICE)
        if refusal is not None:
            return refusal
        data: dict[str, Any] = {}
        # v1 lists only the services shown on its service page; v2 every one.
        services = {
            sid: item
            for sid, item in self.services.items()
            if item.show_in_service or self.flavor != "v1"
        }
        if services:
            data["services"] = {str(sid): item.to_v1() for sid, item in services.items()}
        now = self.clock()
        cycles = {
            str(rid): item.to_v1(self.servers, now)
            for rid, item in self.cycles.items()
            if item.transfer  # as in the source: a rule with no server left is dropped
        }
        if cycles:
            data["cycle_transfer_stats"] = cycles
        return self._json({"success": True, "data": data})

    def agent_disconnect(self, server_id: int) -> None:
        """An agent's connection closes: v1/v2 reset its ``last_active`` to the zero time."""
        server = self.servers[server_id]
        server.reporting = False
        server.last_active = None

    def agent_reconnect(self, server_id: int) -> None:
        """The agent is back and reports again."""
        server = self.servers[server_id]
        server.reporting = True
        server.last_active = self.clock()

    async def drop_streams(self) -> None:
        """Close every open websocket (a proxy restart, a network blip)."""
        for ws in list(self.streams):
            await ws.close()
        self.streams.clear()
        self._stream_holders.clear()

    def _frame_text(self, frame: dict[str, Any]) -> str:
        if self.raw_frames:
            return self.raw_frames.pop(0)
        return json.dumps(frame, ensure_ascii=False)

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        if not self.stream_enabled:
            return web.Response(status=502, text="Bad Gateway")
        origin = request.headers.get("Origin")
        if origin is not None and origin.split("://", 1)[-1].rstrip("/") != request.host:
            return web.Response(status=403, text="Forbidden")
        # A v2 personal token that is not accepted is refused (401 with a JSON body); no
        # credentials, or a JWT that is not (any more), get the guests' stream.
        refusal, authorised = self._optional_auth(request, SCOPE_INVENTORY)
        if refusal is not None:
            return refusal
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        if self._stopping:
            await ws.close()
            return ws
        self.streams.add(ws)
        if authorised:
            self._stream_holders[ws] = (
                request.headers["Authorization"].strip().removeprefix("Bearer ").strip()
            )
        count = 0
        try:
            while not ws.closed:
                cpu_start = time.process_time()
                servers = [s for s in self.servers.values() if authorised or not s.hide_for_guest]
                frame = {
                    "now": int(self.clock()) * 1000,
                    "online": len(self.streams),
                    "servers": [
                        s.to_frame(first=count == 0, guest=not authorised) for s in servers
                    ],
                }
                await ws.send_str(self._frame_text(frame))
                self.frame_cpu_seconds += time.process_time() - cpu_start
                self.frames_sent += 1
                count += 1
                if count % 4 == 0:
                    await ws.ping()
                # The dashboard ignores client messages; reading only notices a close at once.
                try:
                    message = await ws.receive(timeout=self.frame_interval)
                except TimeoutError:
                    continue
                if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                    break
        except ConnectionResetError:
            pass
        finally:
            self.streams.discard(ws)
            self._stream_holders.pop(ws, None)
        return ws
