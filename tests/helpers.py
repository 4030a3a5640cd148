"""What the tests share: credentials, fake dashboards per line, the real dashboards' captures.

Free of Home Assistant (tests/api/test_isolation.py checks it), so the library tests can use
it as well. What needs a running Home Assistant (config entries, setting one up, moving its
clock) is a fixture in tests/conftest.py instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import formatdate
import json
import logging
import os
from pathlib import Path
import re
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web
import pytest

from fake_dashboard import FakeDashboard
from fake_dashboard.server import FakeCycle, FakeService

if TYPE_CHECKING:
    # For the fixtures' types only: at run time this module needs no Home Assistant.
    from pytest_homeassistant_custom_component.common import MockConfigEntry

FIXTURES = Path(__file__).parent / "fixtures"

# What the fixtures of tests/conftest.py hand out.
type AddServers = Callable[..., None]
type MakeEntry = Callable[[FakeDashboard], MockConfigEntry]
type SetupEntry = Callable[[MockConfigEntry], Awaitable[None]]
type Refresh = Callable[..., Awaitable[None]]
type StopDashboard = Callable[[FakeDashboard], Awaitable[None]]

# --- credentials --------------------------------------------------------------------------

# v0's raw token.
TOKEN = "s3cr3t-T0ken-for-tests"
# v2's personal token.
V2_TOKEN = "nzp_0123456789abcdefFAKEtoken"
# v1's login.
USERNAME = "ha-reader"
PASSWORD = "correct horse battery staple"

# --- the docs example, as Home Assistant shows it ------------------------------------------

# The Date the docs example was taken at: Server1 reported two seconds earlier.
EXAMPLE_NOW = 1653015044.0
CPU = "sensor.server1_cpu_usage"
ONLINE = "binary_sensor.server1_online"
TOTAL = "sensor.127_0_0_1_servers"

# Routes whose requests the tests count.
DETAILS = "/api/v1/server/details"
SERVER = "/api/v1/server"
SERVICE = "/api/v1/service"
STREAM = "/api/v1/ws/server"


def load_fixture_json(name: str) -> Any:
    """A JSON file from tests/fixtures."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


class Clock:
    """The dashboard's wall clock, set by tests."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def start_dashboard(clock: Clock, flavor: str = "v0", **kwargs: Any) -> FakeDashboard:
    """A started fake dashboard of the given line, serving the docs example's servers.

    v0 reads the raw ``TOKEN``, v2 the personal ``V2_TOKEN``, v1 the login ``USERNAME`` and
    ``PASSWORD``. v1/v2 have server groups instead of tags; Server1 is in two.
    """
    fake = FakeDashboard(
        token=V2_TOKEN if flavor == "v2" else TOKEN,
        clock=clock,
        flavor=flavor,
        username=USERNAME,
        password=PASSWORD,
        **kwargs,
    )
    fake.load_v0_example(load_fixture_json("v0_details_example.json"))
    if flavor != "v0":
        fake.groups = {"Tag1": [1], "Edge": [1], "Tag2": [2], "Empty": []}
    await fake.start()
    return fake


def entry_data(fake: FakeDashboard) -> dict[str, Any]:
    """A config entry's data for the fake, as the config flow stores it for its line."""
    data: dict[str, Any] = {"url": fake.url, "verify_ssl": True, "flavor": fake.flavor}
    if fake.flavor == "v1":
        data |= {"token": "", "username": USERNAME, "password": PASSWORD}
    else:
        data["token"] = next(iter(fake.tokens))
    return data


# --- service monitors and traffic cycles (v1/v2) -------------------------------------------

GIB = 1024**3
CYCLE_START = EXAMPLE_NOW - 10 * 86400
CYCLE_END = EXAMPLE_NOW + 20 * 86400


def add_services(fake: FakeDashboard) -> None:
    """Two service monitors and two traffic rules, one of them without a quota."""
    fake.services = {
        3: FakeService(name="Blog HTTPS", current_up=30, total_up=8600, total_down=40),
        7: FakeService(
            name="Office ping",
            current_up=26,
            current_down=4,
            total_up=900,
            total_down=100,
            delay=[12.0] * 29 + [18.25],
        ),
    }
    fake.cycles = {
        1: FakeCycle(
            name="Monthly 1 TB",
            start=CYCLE_START,
            end=CYCLE_END,
            max=1024 * GIB,
            transfer={1: 256 * GIB, 2: 768 * GIB},
        ),
        # A rule with only a lower bound has no quota to show.
        2: FakeCycle(
            name="Keep-alive", start=CYCLE_START, end=CYCLE_END, min=GIB, transfer={1: GIB}
        ),
    }


# --- waiting and logs ----------------------------------------------------------------------


async def wait_for(predicate: Callable[[], bool], limit: float = 10.0) -> float:
    """Wait (real time) until ``predicate`` holds; return how long it took."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > limit:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)
    return time.monotonic() - start


def logged(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    """The integration's messages of exactly this level."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno == level and record.name.startswith("custom_components.nezha")
    ]


def logged_problems(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The integration's warnings and errors."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.WARNING and record.name.startswith("custom_components.nezha")
    ]


# --- answers captured from real dashboards --------------------------------------------------

# The captures live in ``shared/reference/real-samples`` beside the project (their README gives
# the format): one JSON file per request, REST or websocket.
SAMPLES = Path(__file__).resolve().parents[1] / ".." / "shared" / "reference" / "real-samples"

# The dashboard line of each top-level folder.
LINES = {"v0.20.13": "v0", "v1.14.14": "v1", "v2.3.7": "v2"}


@dataclass(frozen=True)
class Sample:
    """One captured request and the dashboard's answer."""

    file: Path
    # The folder under real-samples, e.g. "v2.3.7/agents_stopped_40s".
    folder: str
    name: str
    path: str
    query: str
    request_headers: dict[str, str]
    # The HTTP status, or the websocket handshake's.
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    # Whether this is a websocket capture; its frames (decoded) when the handshake succeeded.
    stream: bool = False
    frames: list[Any] | None = None
    # The request's method and JSON body (captures of 2026-12-06 on; earlier ones are GETs).
    method: str = "GET"
    request_body: Any = None

    @property
    def id(self) -> str:
        """How a test names it: folder and file."""
        return f"{self.folder}/{self.name}"

    @property
    def line(self) -> str:
        """ "v0", "v1" or "v2"."""
        return LINES[self.folder.split("/", 1)[0]]


def _load(file: Path) -> Sample:
    raw = json.loads(file.read_text(encoding="utf-8"))
    # A capture of what the dashboard sent (a webhook delivery) has no request: load_deliveries.
    request = raw["request"]
    target = request.get("path") or request["url_path"]
    path, _, query = target.partition("?")
    folder = file.parent.relative_to(SAMPLES).as_posix()
    if "handshake_status" in raw:
        frames = [item["frame"] for item in raw.get("frames", [])]
        return Sample(
            file=file,
            folder=folder,
            name=file.stem,
            path=path,
            query=query,
            request_headers=request["headers"],
            status=raw["handshake_status"],
            body=raw.get("body"),
            stream=True,
            frames=frames if raw["handshake_status"] == 101 else None,
        )
    return Sample(
        file=file,
        folder=folder,
        name=file.stem,
        path=path,
        query=query,
        request_headers=request["headers"],
        status=raw["status"],
        headers=raw["headers"],
        body=raw["body"],
        method=request.get("method", "GET"),
        request_body=request.get("body"),
    )


def _captures() -> list[tuple[Path, dict[str, Any]]]:
    if not SAMPLES.is_dir():
        return []
    return [
        (file, json.loads(file.read_text(encoding="utf-8")))
        for file in sorted(SAMPLES.rglob("*.json"))
    ]


def load_samples() -> list[Sample]:
    """Every captured answer, sorted by folder and name; empty when the folder is not there."""
    return [_load(file) for file, raw in _captures() if "request" in raw]


def load_deliveries() -> dict[str, dict[str, Any]]:
    """What real dashboards sent to a webhook (path, headers, body), by folder and file name."""
    return {
        f"{file.parent.relative_to(SAMPLES).as_posix()}/{file.stem}": raw
        for file, raw in _captures()
        if "request" not in raw
    }


def sample_params(samples: Iterable[Sample]) -> list[Any]:
    """pytest parameters, one per sample.

    Without the captures (a checkout without ``shared/`` beside it) the tests are skipped
    visibly, except in CI, where the captures must be present.
    """
    params = [pytest.param(sample, id=sample.id) for sample in samples]
    if params:
        return params
    if os.environ.get("CI"):
        raise RuntimeError(f"the real dashboard captures are missing: {SAMPLES}")
    return [pytest.param(None, marks=pytest.mark.skip(reason=f"no captures at {SAMPLES}"))]


def folder_params(samples: Iterable[Sample]) -> list[Any]:
    """pytest parameters, one per captured folder (skipped or failing as ``sample_params``)."""
    folders = sorted({sample.folder for sample in samples})
    if folders:
        return [pytest.param(folder, id=folder) for folder in folders]
    if os.environ.get("CI"):
        raise RuntimeError(f"the real dashboard captures are missing: {SAMPLES}")
    return [pytest.param("", marks=pytest.mark.skip(reason=f"no captures at {SAMPLES}"))]


def in_folder(samples: Iterable[Sample], folder: str) -> dict[str, Sample]:
    """The samples of one folder (not its sub-folders), by file name."""
    return {sample.name: sample for sample in samples if sample.folder == folder}


def _json_body(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


class Replay:
    """A web server that answers each path (and method) with the capture made for it.

    REST answers keep their status, body and the headers a client may read; a websocket capture
    replays its handshake status and then its frames, and closes. A method no capture was made
    for gets the dashboards' 404, as their router answers it.
    """

    def __init__(self, samples: Iterable[Sample], *, date: float | None = None) -> None:
        """Serve these captures (one per path); ``date`` (unix s) sets the Date header.

        The captures keep no Date header; the client takes its clock from it.
        """
        self.routes = {(sample.method, sample.path): sample for sample in samples}
        self.date = date
        # (path with query, Authorization or None, Origin or None) per request received.
        self.seen: list[tuple[str, str | None, str | None]] = []
        # (method, JSON body or None) per request received, in the same order.
        self.sent: list[tuple[str, Any]] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        """Listen on a free loopback port and return the base URL."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._answer)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        """Close the server and every connection."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(
            (request.path_qs, request.headers.get("Authorization"), request.headers.get("Origin"))
        )
        raw = await request.read()
        self.sent.append((request.method, json.loads(raw) if raw else None))
        sample = self.routes.get((request.method, request.path))
        if sample is None:
            return web.Response(status=404, body=_json_body({"error": "404 Not Found"}))
        if not sample.stream or sample.frames is None:
            headers = {
                key: value
                for key, value in sample.headers.items()
                if key.lower() in ("content-type", "www-authenticate")
            }
            if "Content-Type" not in headers:
                headers["Content-Type"] = "application/json; charset=utf-8"
            if self.date is not None:
                headers["Date"] = formatdate(self.date, usegmt=True)
            return web.Response(status=sample.status, body=_json_body(sample.body), headers=headers)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        for frame in sample.frames:
            await ws.send_str(json.dumps(frame, ensure_ascii=False))
        await ws.close()
        return ws


_GO_TIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)")


def go_time(text: str) -> datetime | None:
    """Go's RFC 3339 (nanoseconds) to microseconds; year 1 is Go's zero time: never."""
    match = _GO_TIME.fullmatch(text)
    assert match is not None, text
    clock, fraction, zone = match.groups()
    if clock.startswith("0001-"):
        return None
    micro = (fraction or "")[:6].ljust(6, "0")
    offset = "+00:00" if zone == "Z" else zone
    return datetime.fromisoformat(f"{clock}.{micro}{offset}").astimezone(UTC)


# --- public notes (billing and plan, v1/v2) --------------------------------------------

EXPIRES = "sensor.server1_expires"
PRICE = "sensor.server1_price"
BANDWIDTH = "sensor.server1_plan_bandwidth"
TRAFFIC = "sensor.server1_plan_traffic"
EXPIRING = "binary_sensor.server1_expiring_soon"
RENEWAL = "binary_sensor.server1_auto_renewal"
BILLING = (EXPIRES, PRICE, BANDWIDTH, TRAFFIC, EXPIRING, RENEWAL)
DAY = 86400


def note_end(days: float) -> str:
    """An end date ``days`` after the dashboard's clock starts, in China's time zone."""
    when = datetime.fromtimestamp(EXAMPLE_NOW + days * DAY, UTC)
    return when.astimezone(timezone(timedelta(hours=8))).isoformat()


def billing_note(**billing: Any) -> str:
    """The issue's note with ``billing`` replacing parts of its billing (None: left out)."""
    part: dict[str, Any] = {
        "startDate": "2022-04-20T00:00:00+08:00",
        "endDate": note_end(20),
        "autoRenewal": "1",
        "cycle": "月",
        "amount": "$3.99",
    }
    part.update(billing)
    return json.dumps(
        {
            "billingDataMod": {key: value for key, value in part.items() if value is not None},
            "planDataMod": {"bandwidth": "30Mbps", "trafficVol": "1TB/月", "trafficType": "1"},
        },
        ensure_ascii=False,
    )
