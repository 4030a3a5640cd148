"""Answers captured from real Nezha dashboards, and a server that replays them.

The captures live in ``shared/reference/real-samples`` beside the project (their README gives
the format): one JSON file per request, REST or websocket.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate
import json
import os
from pathlib import Path
import re
import time
from typing import Any

from aiohttp import web
import pytest

SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "real-samples"

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
    )


def load_samples() -> list[Sample]:
    """Every capture, sorted by folder and name; empty when the folder is not there."""
    if not SAMPLES.is_dir():
        return []
    return [_load(file) for file in sorted(SAMPLES.rglob("*.json"))]


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
    """A web server that answers each path with the capture made for it.

    REST answers keep their status, body and the headers a client may read; a websocket capture
    replays its handshake status and then its frames, and closes.
    """

    def __init__(self, samples: Iterable[Sample], *, date: float | None = None) -> None:
        """Serve these captures (one per path); ``date`` (unix s) sets the Date header.

        The captures keep no Date header; the client takes its clock from it.
        """
        self.routes = {sample.path: sample for sample in samples}
        self.date = date
        # (path with query, Authorization or None, Origin or None) per request received.
        self.seen: list[tuple[str, str | None, str | None]] = []
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
        sample = self.routes.get(request.path)
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


async def wait_for(predicate: Callable[[], bool], limit: float = 10.0) -> None:
    """Wait (real time) until ``predicate`` holds."""
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)
