"""What a real install pays, over minutes: loop steps, collections, screens.

    python -m scripts.bench_loop [--sizes 100 1000 5000] [--seconds 150] [--flavors v0 v2]
                                 [--strict-loop]

A real Home Assistant with the recorder (SQLite in a scratch folder: every state change becomes
an event, whose context refers back to it — reference cycles that only the garbage collector
frees), Home Assistant's websocket API with one screen subscribed to all entities the way the
frontend is and reading at about 125 kB/s (a phone on a weak link), and the integration against
the fake dashboard, in a process of its own, whose servers all move every second: polled every
30 s (v0) or streamed (v2, a frame every 2 s). Nothing is collected by hand; the clock is real.
A collection run by another thread (the recorder's) holds the event loop too, through the
interpreter lock: the longest collection is shown beside the longest step.

Per phase (setup, until the registries are saved and the recorder has written the first states;
then the refreshes or frames) it prints the longest single step of the event
loop (its thread's CPU time: a garbage collection inside a step counts in it), how many steps
took longer than 50 ms, the most state changes written in one step and in one second, the
collections per refresh by generation and the longest one, the process's CPU per refresh, and
whether the screen stayed connected. ``--strict-loop`` fails the run (exit status 1) on any
step over 50 ms during refreshes or over 100 ms during setup.

Then, for v0, the *floor* over as long (``--no-floor`` skips it): in the same Home Assistant, with
the same entities, recorder and screen, the integration's refreshes stop, and as many of the
entry's numeric readings as a refresh changed move once per refresh interval, written through
``hass.states.async_set`` at the writer's pace (the same slices per second). It is what the
house pays for the same state changes with none of the integration's code running: its
collections beside the integration's tell which of them the integration causes.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
import contextlib
from dataclasses import dataclass, field
import gc
import math
import sys
import tempfile
import threading
import time
from types import SimpleNamespace
from typing import Any, cast

import aiohttp
from aiohttp.test_utils import TestServer
from homeassistant.auth.const import GROUP_ID_ADMIN
from homeassistant.components.recorder import get_instance
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, recorder as recorder_helper
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.registry import SAVE_DELAY as REGISTRY_SAVE_DELAY
from homeassistant.setup import async_setup_component

from custom_components.nezha import writer
from custom_components.nezha.const import POLL_INTERVAL
from scripts.bench import add_entry, home_assistant, in_task
from scripts.e2e import free_port

REFRESH_LIMIT = 0.05
SETUP_LIMIT = 0.1
# The screen's reading speed: about 1 Mbit/s.
SCREEN_BYTES_PER_SECOND = 125_000


@dataclass
class Phase:
    """What the event loop did during one phase."""

    longest: float = 0.0
    longest_what: str = ""
    # The longest step less the collections run inside it.
    longest_without_gc: float = 0.0
    over_50ms: int = 0
    most_changes_per_step: int = 0
    changes_per_second: Counter[int] = field(default_factory=Counter)
    collections: Counter[int] = field(default_factory=Counter)
    longest_collection: float = 0.0
    cpu: float = 0.0
    wall: float = 0.0
    # Monotonic clock at the phase's end (a screen closed by then counts against it).
    ended: float = math.inf


class LoopMeter:
    """Times every step of the event loop and counts state changes and collections."""

    def __init__(self) -> None:
        """Not installed yet."""
        self.phase = Phase()
        self.changes = 0
        self._gc_start = 0.0
        self._loop_thread = threading.get_ident()
        # Collection time inside the step being run (event loop thread only).
        self._step_gc = 0.0

    @callback
    def changed(self, _event: Event) -> None:
        """One state change."""
        self.changes += 1
        self.phase.changes_per_second[int(time.monotonic())] += 1

    def _gc(self, what: str, info: dict[str, int]) -> None:
        if what == "start":
            self._gc_start = time.thread_time()
            return
        took = time.thread_time() - self._gc_start
        self.phase.collections[info["generation"]] += 1
        self.phase.longest_collection = max(self.phase.longest_collection, took)
        if threading.get_ident() == self._loop_thread:
            self._step_gc += took

    @contextlib.contextmanager
    def installed(self) -> Iterator[LoopMeter]:
        """Time every callback of the event loop for the duration of the block."""
        handle_class = asyncio.events.Handle
        original = handle_class._run  # noqa: SLF001
        meter = self

        def timed_run(handle: asyncio.Handle) -> None:
            changes, start = meter.changes, time.thread_time()
            meter._step_gc = 0.0
            original(handle)
            took = time.thread_time() - start
            phase = meter.phase
            phase.longest_without_gc = max(phase.longest_without_gc, took - meter._step_gc)
            phase.most_changes_per_step = max(phase.most_changes_per_step, meter.changes - changes)
            if took > REFRESH_LIMIT:
                phase.over_50ms += 1
            if took > phase.longest:
                phase.longest = took
                owner = getattr(getattr(handle, "_callback", None), "__self__", None)
                what = owner if isinstance(owner, asyncio.Task) else handle
                phase.longest_what = repr(what)[:200]

        handle_class._run = timed_run  # type: ignore[method-assign,assignment]  # noqa: SLF001
        gc.callbacks.append(self._gc)
        try:
            yield self
        finally:
            gc.callbacks.remove(self._gc)
            handle_class._run = original  # type: ignore[method-assign]  # noqa: SLF001

    @contextlib.contextmanager
    def measuring(self) -> Iterator[Phase]:
        """A new phase, with its CPU and wall time."""
        self.phase = Phase()
        start, start_cpu = time.perf_counter(), time.process_time()
        try:
            yield self.phase
        finally:
            self.phase.cpu = time.process_time() - start_cpu
            self.phase.wall = time.perf_counter() - start
            self.phase.ended = time.monotonic()


class Screen:
    """One websocket subscribed to every entity, read at a phone's pace."""

    def __init__(self) -> None:
        """Not connected yet."""
        self.closed_at: float | None = None
        self.received = 0
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._server: TestServer | None = None

    async def connect(self, hass: HomeAssistant) -> None:
        """Log in with a long-lived token and subscribe like the frontend."""
        # An administrator sees every entity, as the owner's phone does.
        user = await hass.auth.async_create_system_user("bench screen", group_ids=[GROUP_ID_ADMIN])
        refresh = await hass.auth.async_create_refresh_token(user)
        token = hass.auth.async_create_access_token(refresh)
        self._server = TestServer(hass.http.app)
        await self._server.start_server()
        self._session = aiohttp.ClientSession()
        ws = await self._session.ws_connect(self._server.make_url("/api/websocket"))
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": token})
        if (await ws.receive_json())["type"] != "auth_ok":
            raise SystemExit("the screen could not log in")
        await ws.send_json({"id": 1, "type": "subscribe_entities"})
        if not (await ws.receive_json())["success"]:
            raise SystemExit("the screen could not subscribe")
        self._task = asyncio.get_running_loop().create_task(self._read(ws))

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        # A connection Home Assistant closes may also end in a reset while answering its ping.
        with contextlib.suppress(aiohttp.ClientError):
            async for message in ws:
                if message.type is not aiohttp.WSMsgType.TEXT:
                    break
                self.received += 1
                # Reading slower holds the socket back, as a slow link does.
                await asyncio.sleep(len(message.data) / SCREEN_BYTES_PER_SECOND)
        self.closed_at = time.monotonic()

    async def close(self) -> None:
        """Leave (before the entry unloads)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()
        if self._server is not None:
            await self._server.close()


@dataclass
class Result:
    """One size and dashboard line."""

    size: int
    flavor: str
    setup: Phase
    running: Phase
    refreshes: int
    # Monotonic clock when Home Assistant closed the screen's connection, if it did.
    screen_closed_at: float | None
    screen_messages: int
    # The same changes written by the floor (v0 only), and its writes.
    floor: Phase | None = None
    floor_refreshes: int = 0


async def _with_recorder(hass: HomeAssistant, folder: str) -> None:
    recorder_helper.async_initialize_recorder(hass)
    db_url = f"sqlite:///{folder}/home-assistant_v2.db"
    if not await async_setup_component(hass, "recorder", {"recorder": {"db_url": db_url}}):
        raise SystemExit("the recorder did not set up")
    await hass.data[recorder_helper.DATA_RECORDER].db_connected
    # The integration's dependency too: the screen's server freezes the routes.
    for component in ("http", "websocket_api", "webhook"):
        if not await async_setup_component(hass, component, {}):
            raise SystemExit(f"{component} did not set up")


@contextlib.asynccontextmanager
async def dashboard_process(size: int, flavor: str) -> AsyncIterator[SimpleNamespace]:
    """The fake dashboard in a process of its own, as a real one is.

    Its work (a thousand servers' answers and frames) then does not hold Home Assistant's loop.
    """
    port = free_port()
    token = "nzp_bench-token" if flavor == "v2" else "bench-token"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "fake_dashboard",
        "--servers",
        str(size),
        "--flavor",
        flavor,
        "--port",
        str(port),
        "--token",
        token,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        stdout = process.stdout
        if stdout is None or b"Fake Nezha dashboard" not in await asyncio.wait_for(
            stdout.readline(), 60
        ):
            raise SystemExit("the fake dashboard did not start")
        yield SimpleNamespace(url=f"http://127.0.0.1:{port}", tokens={token}, flavor=flavor)
    finally:
        process.terminate()
        await process.wait()


def _numeric_entity_ids(hass: HomeAssistant, entry_id: str) -> list[str]:
    """The entry's entities whose state is a number (the readings a refresh moves)."""
    found = []
    for entity in er.async_entries_for_config_entry(er.async_get(hass), entry_id):
        state = hass.states.get(entity.entity_id)
        if state is None:
            continue
        try:
            float(state.state)
        except ValueError:
            continue
        found.append(entity.entity_id)
    return found


async def measure_floor(
    hass: HomeAssistant, entry_id: str, seconds: float, meter: LoopMeter, changes: int
) -> tuple[Phase, int]:
    """``changes`` numeric readings moved per interval by ``async_set``, at the writer's pace."""
    entity_ids = _numeric_entity_ids(hass, entry_id)[:changes]
    interval = POLL_INTERVAL.total_seconds()
    ticks = max(1, int(interval * writer.SPREAD / writer.TICK))
    chunk = max(1, math.ceil(len(entity_ids) / ticks))
    refreshes = 0

    async def _refresh() -> None:
        nonlocal refreshes
        refreshes += 1
        states = hass.states
        for start in range(0, len(entity_ids), chunk):
            for entity_id in entity_ids[start : start + chunk]:
                state = states.get(entity_id)
                if state is not None:
                    value = float(state.state) + (1 if refreshes % 2 else -1)
                    states.async_set(entity_id, str(value), state.attributes)
            await asyncio.sleep(writer.TICK)

    tasks: set[asyncio.Task[None]] = set()

    @callback
    def _start(_now: object) -> None:
        task = hass.async_create_background_task(_refresh(), "bench floor refresh")
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    unsub = async_track_time_interval(hass, _start, POLL_INTERVAL)
    try:
        with meter.measuring() as phase:
            await asyncio.sleep(seconds)
    finally:
        unsub()
        for task in tasks:
            task.cancel()
    return phase, refreshes


async def measure(
    size: int, flavor: str, seconds: float, meter: LoopMeter, *, floor: bool
) -> Result:
    """Setup, then ``seconds`` of refreshes (v0) or frames (v2) with every value moving."""
    screen = Screen()
    async with dashboard_process(size, flavor) as fake:
        with tempfile.TemporaryDirectory() as folder:
            async with home_assistant() as hass:
                await _with_recorder(hass, folder)
                await screen.connect(hass)
                unsub = hass.bus.async_listen(EVENT_STATE_CHANGED, meter.changed)
                with meter.measuring() as setup:
                    entry = await add_entry(hass, cast("Any", fake))
                    # What setup leaves behind is its own, not the first refreshes': Home
                    # Assistant's save of the registries (10 s after their last change; the
                    # final-write event would also stop the recorder) and the recorder's rows
                    # for every first state.
                    await asyncio.sleep(REGISTRY_SAVE_DELAY + 2)
                    await get_instance(hass).async_block_till_done()
                coordinator = entry.runtime_data.coordinator
                refreshes = 0

                @callback
                def _counted() -> None:
                    nonlocal refreshes
                    refreshes += 1

                unsub_refresh = coordinator.async_add_listener(_counted)
                with meter.measuring() as running:
                    # The dashboard's agents move every value each second meanwhile.
                    await asyncio.sleep(seconds)
                unsub_refresh()
                result = Result(size, flavor, setup, running, refreshes, None, 0)
                if floor and flavor == "v0":
                    # The integration stops asking; its entities and their states stay.
                    await coordinator.async_shutdown()
                    # The rest of its last refresh is written first: not the floor's.
                    while not coordinator.writer.idle:  # noqa: ASYNC110 - the writer has no event
                        await asyncio.sleep(0.1)
                    await hass.async_block_till_done()
                    changes = round(running.changes_per_second.total() / max(refreshes, 1))
                    result.floor, result.floor_refreshes = await measure_floor(
                        hass, entry.entry_id, seconds, meter, changes
                    )
                unsub()
                meter.phase = Phase()  # the unload below is not measured
                result.screen_closed_at = screen.closed_at
                result.screen_messages = screen.received
                await screen.close()
                await in_task(hass.config_entries.async_unload(entry.entry_id))
                await hass.async_block_till_done()
    return result


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def report(results: list[Result], seconds: float) -> None:
    """The table."""
    print()
    print(
        f"A real install over {seconds:g} s (recorder on, one screen at 125 kB/s, every value"
        " moving each second; steps in the event loop thread's CPU time, collections"
        " included)"
    )
    print(
        "| servers | line | phase | longest step ms (without collections) | steps > 50 ms"
        " | most changes in a step | most changes in a second | changes per refresh"
        " | collections gen 0/1/2 per refresh | longest collection ms"
        " | process CPU per refresh ms | screen |"
    )
    print("|---:|---|---|---:|---:|---:|---:|---:|---|---:|---:|---|")
    for item in results:
        phases = [
            ("setup", item.setup, 1),
            ("refreshes" if item.flavor == "v0" else "frames", item.running, item.refreshes),
        ]
        if item.floor is not None:
            phases.append(("floor, same pace", item.floor, item.floor_refreshes))
        for name, phase, count in phases:
            per = max(count, 1)
            collections = "/".join(
                f"{phase.collections[generation] / per:.1f}" for generation in (0, 1, 2)
            )
            busiest = max(phase.changes_per_second.values(), default=0)
            screen = "closed" if _closed_by(item, phase) else "connected"
            cpu = _ms(phase.cpu / per) if name != "setup" else f"{phase.cpu:.1f} s"
            print(
                f"| {item.size} | {item.flavor} | {name} ({count}) | {_ms(phase.longest)}"
                f" ({_ms(phase.longest_without_gc)}) |"
                f" {phase.over_50ms} | {phase.most_changes_per_step} | {busiest} |"
                f" {phase.changes_per_second.total() / per:.0f} |"
                f" {collections} | {_ms(phase.longest_collection)} | {cpu} | {screen} |"
            )
    print()
    for item in results:
        for name, phase in (("setup", item.setup), ("running", item.running)):
            print(f"longest step, {item.size} {item.flavor} {name}: {phase.longest_what}")
        print(f"screen, {item.size} {item.flavor}: {item.screen_messages:,} messages read")


def _closed_by(item: Result, phase: Phase) -> bool:
    """Whether Home Assistant had closed the screen by the end of ``phase``."""
    return item.screen_closed_at is not None and item.screen_closed_at <= phase.ended


def findings(results: list[Result]) -> list[str]:
    """Steps over the limits, and screens closed (the floor is the reference, not judged)."""
    found = []
    for item in results:
        if item.setup.longest > SETUP_LIMIT:
            found.append(f"{item.size} {item.flavor}: setup step {_ms(item.setup.longest)} ms")
        if item.running.longest > REFRESH_LIMIT:
            found.append(f"{item.size} {item.flavor}: step {_ms(item.running.longest)} ms")
        if _closed_by(item, item.running):
            found.append(f"{item.size} {item.flavor}: the screen was disconnected")
    return found


async def run(args: argparse.Namespace) -> int:
    """Measure every size and line; print the table."""
    meter = LoopMeter()
    results = []
    with meter.installed():
        for size in args.sizes:
            for flavor in args.flavors:
                print(f"measuring {size} servers ({flavor}) for {args.seconds:g} s ...", flush=True)
                results.append(await measure(size, flavor, args.seconds, meter, floor=args.floor))
    report(results, args.seconds)
    found = findings(results)
    interval = POLL_INTERVAL.total_seconds()
    print(
        f"(refreshes: one per {interval:g} s; frames: numbers handed over once per {interval:g} s)"
    )
    if found:
        print(("FAILED" if args.strict_loop else "over the limits") + f" ({len(found)}):")
        for line in found:
            print(f"  {line}")
        return 1 if args.strict_loop else 0
    print("no step over the limits; every screen stayed connected")
    return 0


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--flavors", nargs="+", default=["v0", "v2"], choices=["v0", "v2"])
    parser.add_argument("--seconds", type=float, default=150.0)
    parser.add_argument("--strict-loop", action="store_true")
    parser.add_argument(
        "--no-floor", dest="floor", action="store_false", help="skip the floor phase (v0)"
    )
    args = parser.parse_args()
    if math.isnan(args.seconds) or args.seconds <= 0:
        parser.error("--seconds must be positive")
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
