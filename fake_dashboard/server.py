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
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
import copy
from dataclasses import dataclass, field
from email.utils import formatdate
import json
import random
import time
from typing import Any

from aiohttp import web

GO_ZERO_TIME = -62135596800
FORBIDDEN = {"code": 403, "message": "访问此接口需要认证"}
NOT_FOUND_PAGE = (
    "<!DOCTYPE html><html><head><title>404 Not Found</title></head>"
    "<body><h1>404</h1><p>页面不存在</p></body></html>"
)
GIB = 1024**3

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
    server = FakeServer(
        id=server_id,
        name=name or f"server-{server_id}",
        tag=tag,
        display_index=server_id,
        host=empty_host(),
        status=empty_status(),
    )
    if not reported:
        return server
    rng = rng or random.Random(server_id)
    now = time.time() if now is None else now
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


class FakeDashboard:
    """A v0 Nezha dashboard on loopback that tests can inspect and break."""

    def __init__(
        self,
        *,
        token: str = "test-token",
        prefix: str = "",
        clock: Callable[[], float] = time.time,
        seed: int = 0,
    ) -> None:
        """Create an empty dashboard; ``prefix`` mounts it under a sub-path."""
        self.tokens: set[str] = {token}
        self.prefix = prefix.rstrip("/")
        self.clock = clock
        self.servers: dict[int, FakeServer] = {}
        self.requests: Counter[str] = Counter()
        self.bytes_sent = 0
        # Faults: a delay before answering, or a hook that may answer instead.
        self.delay = 0.0
        self.hook: Hook | None = None
        self._random = random.Random(seed)
        self._runner: web.AppRunner | None = None
        self.host = "127.0.0.1"
        self.port = 0

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

    def revoke(self, token: str) -> None:
        """Delete an API token."""
        self.tokens.discard(token)

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
        return f"http://{self.host}:{self.port}{self.prefix}"

    def make_app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get(f"{self.prefix}/api/v1/server/list", self._list)
        app.router.add_get(f"{self.prefix}/api/v1/server/details", self._details)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on loopback (a free port by default) and return the base URL."""
        self.host = host
        await self._listen(port)
        return self.url

    async def _listen(self, port: int) -> None:
        self._runner = web.AppRunner(self.make_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, port, reuse_address=True)
        await site.start()
        sockets = self._runner.server and site._server.sockets  # type: ignore[union-attr]  # noqa: SLF001
        self.port = sockets[0].getsockname()[1] if sockets else port

    async def go_down(self) -> None:
        """Stop listening and drop open connections: refused until ``come_back``."""
        await self.stop()

    async def come_back(self) -> None:
        """Listen again on the same port."""
        if self._runner is None:
            await self._listen(self.port)

    async def stop(self) -> None:
        """Shut everything down."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        path = request.path.removeprefix(self.prefix) or "/"
        self.requests[path] += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.hook is not None and (response := await self.hook(request)) is not None:
            return response
        try:
            response = await handler(request)
        except web.HTTPNotFound:
            response = web.Response(status=404, text=NOT_FOUND_PAGE, content_type="text/html")
        response.headers["Date"] = formatdate(self.clock(), usegmt=True)
        return response

    def _json(self, payload: dict[str, Any]) -> web.Response:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        self.bytes_sent += len(body)
        return web.Response(body=body, content_type="application/json")

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
