"""Benchmark: what a refresh costs inside a real Home Assistant, from 10 to 5000 servers.

    scripts/bench [--sizes 10 100 1000 5000] [--refreshes 11] [--stream-seconds 60]
                  [--rest-servers 100] [--slow-callback 0.1] [--strict-loop] [--uncapped]

For each size the fake dashboard serves that many servers over loopback (v0 API) and a real
Home Assistant instance loads the integration. Per refresh (values move between refreshes):
requests made, bytes received, parse time (JSON decode and models), and the refresh itself:
from the response's last byte to every state written, in CPU time (the process's, worker
threads included) and wall time. Each refresh is paired with two floors measured right after
it, for the same transition (previous values to these): the *floor*, the same states written
straight through ``hass.states.async_set``; and the *entity floor*, the integration's entities
writing their state themselves (``async_write_ha_state``) with no refresh around it, the least
any integration built on entities can cost. A ratio is taken per pair and the median of the
ratios is printed, so that a slow moment of a shared machine hits both sides of a pair.
Beside each figure, the garbage collector's share: every collection during the measured
windows is timed (``gc.callbacks``) and counted by generation. Every window starts after a full
collection and ends with one collection of the young generations, so that each pays for the
objects it leaves there (a floor's writes free about as many as they make and trigger none by
themselves).

Also: config entry setup time, the entity registry's size (entries of the config entry,
enabled and disabled), memory per server (tracemalloc, in a separate setup so timings stay
clean), the longest event-loop stall during setup and during a refresh, and for the v2 stream
the CPU time per minute at 1000 servers with 2-second frames.

Side by side with what users do without the integration: Home Assistant's RESTful integration
fetching the same servers (``--rest-servers``), one entity per value of the integration's
enabled entities, each selecting its server by id: either one REST sensor keeping the servers
in an attribute and template sensors reading it, or one REST sensor per value with its own
value template; the CPU time of a refresh on each side and the ratios.

Home Assistant's log (WARNING and above) is watched during every setup and refresh, and
blocking calls in the event loop are reported as a real Home Assistant reports them. The run
fails (exit status 1, the findings listed) when the integration's setup or refreshes log a
warning or when setup takes longer than Home Assistant's slow-setup limit; with
``--strict-loop`` also when a callback holds the event loop past asyncio's slow-callback
limit (what Home Assistant's debug mode logs as "Executing ... took"; always printed). A
callback is judged by the event loop thread's CPU time (on a
shared machine its wall time also counts moments the process was not scheduled); Home
Assistant's work runs in tasks of its own, the bench's own (floors, full collections) is not
judged. Not watched: the setup under tracemalloc (memory figure), unloading, the stream; the
REST ways' warnings are shown, not asserted (they are Home Assistant's own integrations).
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
import contextlib
from dataclasses import dataclass, field
import functools
import gc
import logging
import statistics
import sys
import tempfile
import time
import tracemalloc
from typing import Any

from aiohttp import web
from homeassistant import block_async_io, loader, setup as ha_setup
from homeassistant.const import (
    CONF_TOKEN,
    CONF_URL,
    CONF_VERIFY_SSL,
    EVENT_HOMEASSISTANT_FINAL_WRITE,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_platform, entity_registry as er, frame
from homeassistant.helpers.entity import Entity
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
)
import zeroconf

from custom_components.nezha import budget as nezha_budget, writer as writer_module
from custom_components.nezha.api import client as client_module, v0
from custom_components.nezha.const import CONF_FLAVOR, DOMAIN
from fake_dashboard import FakeDashboard, make_server

V0_TOKEN = "bench-token"
V2_TOKEN = "nzp_bench-token"

TIMES = "\N{MULTIPLICATION SIGN}"

# asyncio's default slow-callback limit: Home Assistant in debug mode logs every callback that
# holds the event loop longer ("Executing <...> took 0.123 seconds"). --slow-callback sets it.
SLOW_CALLBACK_SECONDS = 0.1

# Log records that are not findings, each with the reason.
HARMLESS_LOG = (
    (
        "homeassistant.loader",
        "We found a custom integration",
        "logged once for every custom integration Home Assistant loads; nothing to fix",
    ),
)


@dataclass
class Probe:
    """Timestamps the client's hot path: the end of the body read and the parse."""

    body_done: float = 0.0
    body_done_cpu: float = 0.0
    parse_seconds: float = 0.0
    _restore: list[Callable[[], None]] = field(default_factory=list)

    def install(self) -> None:
        """Wrap the body read, the JSON decode and the v0 parser with timers."""
        read_body = client_module.NezhaClient._read_body  # noqa: SLF001
        parse_v0 = v0.parse_servers
        loads = client_module.orjson.loads

        async def timed_read(response: Any) -> bytes:
            body = await read_body(response)
            self.body_done = time.perf_counter()
            self.body_done_cpu = time.process_time()
            return body

        def timed_loads(data: bytes) -> Any:
            start = time.perf_counter()
            try:
                return loads(data)
            finally:
                self.parse_seconds += time.perf_counter() - start

        def timed_parse(data: Any, *args: Any) -> Any:
            start = time.perf_counter()
            try:
                return parse_v0(data, *args)
            finally:
                self.parse_seconds += time.perf_counter() - start

        class _Orjson:
            JSONDecodeError = client_module.orjson.JSONDecodeError
            loads = staticmethod(timed_loads)

        client_module.NezhaClient._read_body = staticmethod(timed_read)  # type: ignore[method-assign]  # noqa: SLF001
        v0.parse_servers = timed_parse
        original_orjson = client_module.orjson
        client_module.orjson = _Orjson  # type: ignore[assignment]
        self._restore = [
            lambda: setattr(client_module.NezhaClient, "_read_body", staticmethod(read_body)),
            lambda: setattr(v0, "parse_servers", parse_v0),
            lambda: setattr(client_module, "orjson", original_orjson),
        ]

    def remove(self) -> None:
        """Put the client back as it was."""
        for restore in self._restore:
            restore()


class StallMeter:
    """The longest time the event loop did not run a 1 ms ticker."""

    def __init__(self) -> None:
        """Not started yet."""
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.001)
            self.longest = max(self.longest, time.perf_counter() - before - 0.001)

    async def start(self) -> None:
        """Start the ticker."""
        self.longest = 0.0
        self._task = asyncio.get_running_loop().create_task(self._tick())
        # Let the ticker take its first timestamp before the measured work starts.
        await asyncio.sleep(0)
        await asyncio.sleep(0)

    async def stop(self) -> float:
        """Stop the ticker; the longest stall seen, in seconds."""
        # Let the ticker wake once more, so a stall that just ended is counted.
        await asyncio.sleep(0.005)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        return self.longest


@dataclass
class GcWindow:
    """Garbage collections during one measured window."""

    seconds: float = 0.0
    by_generation: Counter[int] = field(default_factory=Counter)


class GcMeter:
    """Times every collection of the cyclic garbage collector (CPU time) while active."""

    def __init__(self) -> None:
        """Not installed yet."""
        # (wall-clock start, generation, CPU seconds) of each collection while active.
        self.events: list[tuple[float, int, float]] = []
        self.active = False
        self._start = (0.0, 0.0)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = (time.perf_counter(), time.process_time())
        elif self.active:
            wall, cpu = self._start
            self.events.append((wall, info["generation"], time.process_time() - cpu))

    @contextlib.contextmanager
    def installed(self) -> Iterator[GcMeter]:
        """Hook into the collector for the duration of the block."""
        gc.callbacks.append(self._callback)
        try:
            yield self
        finally:
            gc.callbacks.remove(self._callback)

    @contextlib.contextmanager
    def window(self, since: Callable[[], float] | None = None) -> Iterator[GcWindow]:
        """Collections inside the block (starting at ``since()`` when given) into the window."""
        result = GcWindow()
        self.events = []
        self.active = True
        try:
            yield result
        finally:
            self.active = False
            begin = since() if since is not None else 0.0
            for wall, generation, seconds in self.events:
                if wall >= begin:
                    result.seconds += seconds
                    result.by_generation[generation] += 1


class SlowCallbacks:
    """Every event-loop callback that runs longer than asyncio's slow-callback limit.

    What asyncio's debug mode does for Home Assistant in debug mode, without the rest of the
    debug mode's overhead: each callback (a task step, a timer, a handle) is timed.
    """

    def __init__(self) -> None:
        """Not installed yet."""
        # (phase and callback, wall seconds, CPU seconds)
        self.found: list[tuple[str, float, float]] = []
        self.phase = ""
        # The bench's own task (its floors, snapshots and full collections are not Home
        # Assistant's work: Home Assistant's runs in tasks of its own, see ``in_task``).
        self.bench: asyncio.Task[Any] | None = None
        self.active = True
        self.limit = SLOW_CALLBACK_SECONDS

    @contextlib.contextmanager
    def installed(self) -> Iterator[SlowCallbacks]:
        """Time every callback for the duration of the block."""
        handle_class = asyncio.events.Handle
        original = handle_class._run  # noqa: SLF001
        meter = self

        def timed_run(handle: asyncio.Handle) -> None:
            start, start_cpu = time.perf_counter(), time.thread_time()
            original(handle)
            took, cpu = time.perf_counter() - start, time.thread_time() - start_cpu
            # By the event loop thread's CPU time: on a shared machine the wall time also
            # counts the moments the process was not scheduled at all.
            if cpu >= meter.limit and meter.active:
                callback = getattr(handle, "_callback", None)
                owner = getattr(callback, "__self__", None)
                if owner is meter.bench:
                    return
                name = repr(owner) if isinstance(owner, asyncio.Task) else repr(handle)
                meter.found.append((f"{meter.phase}: {name[:300]}", took, cpu))

        handle_class._run = timed_run  # type: ignore[method-assign,assignment]  # noqa: SLF001
        try:
            yield self
        finally:
            handle_class._run = original  # type: ignore[method-assign]  # noqa: SLF001


class LogWatch(logging.Handler):
    """Home Assistant's log at WARNING and above, labelled with the bench's current phase."""

    def __init__(self) -> None:
        """Collects nothing until ``phase`` is set."""
        super().__init__(logging.WARNING)
        self.phase = ""
        self.active = True
        self.records: list[tuple[str, logging.LogRecord]] = []
        self.harmless: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record with the phase it happened in."""
        if not self.active:
            return
        for logger, start, _reason in HARMLESS_LOG:
            if record.name == logger and record.getMessage().startswith(start):
                self.harmless[start] += 1
                return
        self.records.append((self.phase, record))

    def since(self, mark: int) -> list[str]:
        """The records kept after ``mark`` (a length of ``records``), as lines."""
        lines = []
        for phase, record in self.records[mark:]:
            line = f"{phase}: {record.levelname} {record.name}: {record.getMessage()[:400]}"
            if record.exc_info and record.exc_info[1] is not None:
                line += f" ({record.exc_info[1]!r})"[:400]
            lines.append(line)
        return lines


@dataclass
class Watch:
    """What the bench watches while Home Assistant runs."""

    log: LogWatch
    slow: SlowCallbacks
    gc: GcMeter

    def phase(self, name: str, *, watched: bool = True) -> None:
        """Label what follows; ``watched=False`` leaves it out of the findings."""
        self.log.phase = self.slow.phase = name
        self.log.active = self.slow.active = watched


async def in_task[T](work: Coroutine[Any, Any, T]) -> T:
    """Run Home Assistant's work in a task of its own, as Home Assistant runs it."""
    return await asyncio.get_running_loop().create_task(work)


@contextlib.contextmanager
def blocking_call_detection() -> Iterator[None]:
    """Blocking calls in the event loop are reported, as Home Assistant does from start-up.

    Only while Home Assistant runs: the test harness that builds and stops the instance
    imports by name (``unittest.mock.patch``) inside the event loop, which is not Home
    Assistant's doing.
    """
    block_async_io.enable()
    try:
        yield
    finally:
        calls = block_async_io._BLOCKED_CALLS.calls  # noqa: SLF001
        for call in calls:
            setattr(call.object, call.function, call.original_func)
        calls.clear()


def _plain_new(cls: type, *_args: Any, **_kwargs: Any) -> Any:
    return object.__new__(cls)


@contextlib.asynccontextmanager
async def home_assistant() -> AsyncIterator[HomeAssistant]:
    """A real Home Assistant that loads this repository's integration."""
    # Each instance installs its own shared Zeroconf and a guard that hands any further
    # Zeroconf() to it; put the class back afterwards, so that the next instance gets its own
    # shared instance instead of the stopped one's (and no "another Zeroconf instance" report).
    original = {name: vars(zeroconf.Zeroconf).get(name) for name in ("__new__", "__init__")}
    try:
        # A configuration folder of its own: the test harness's shared one keeps every
        # registry an earlier run saved, and a heap carrying thousands of stale devices makes
        # every full garbage collection longer than a real install's.
        with tempfile.TemporaryDirectory(prefix="nezha-bench-") as config_dir:
            async with async_test_home_assistant(config_dir=config_dir) as hass:
                hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
                frame.async_setup(hass)
                with blocking_call_detection():
                    # The shared HTTP session picks its source address from "network".
                    if not await async_setup_component(hass, "network", {}):
                        raise SystemExit("network did not set up")
                    yield hass
                    await hass.async_stop(force=True)
    finally:
        for name, value in original.items():
            # Deleting an assigned __new__ leaves the class refusing arguments: put a plain one.
            setattr(zeroconf.Zeroconf, name, _plain_new if value is None else value)


def dashboard(size: int, flavor: str = "v0") -> FakeDashboard:
    """A fake dashboard with ``size`` reporting servers."""
    fake = FakeDashboard(token=V2_TOKEN if flavor == "v2" else V0_TOKEN, flavor=flavor)
    now = time.time()
    fake.add(*(make_server(server_id, now=now) for server_id in range(1, size + 1)))
    return fake


async def add_entry(hass: HomeAssistant, fake: FakeDashboard) -> MockConfigEntry:
    """Create and set up the entry for ``fake``."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="bench",
        unique_id=fake.url,
        data={
            CONF_URL: fake.url,
            CONF_TOKEN: next(iter(fake.tokens)),
            CONF_VERIFY_SSL: True,
            CONF_FLAVOR: fake.flavor,
        },
    )
    entry.add_to_hass(hass)
    if not await in_task(hass.config_entries.async_setup(entry.entry_id)):
        raise SystemExit("the entry did not set up")
    await hass.async_block_till_done()
    return entry


def entity_ids(hass: HomeAssistant, entry: MockConfigEntry) -> list[str]:
    """The entry's entities that have a state."""
    return [
        item.entity_id
        for item in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if hass.states.get(item.entity_id) is not None
    ]


def live_entities(hass: HomeAssistant) -> list[Entity]:
    """The integration's entities that Home Assistant added (the enabled ones)."""
    return [
        entity
        for platform in entity_platform.async_get_platforms(hass, DOMAIN)
        for entity in platform.entities.values()
    ]


def snapshot_states(hass: HomeAssistant, ids: list[str]) -> list[State]:
    """The current states of ``ids``."""
    states = [hass.states.get(entity_id) for entity_id in ids]
    return [state for state in states if state is not None]


def write_states(hass: HomeAssistant, states: list[State]) -> None:
    """The floor: states written straight into the state machine."""
    for state in states:
        hass.states.async_set(state.entity_id, state.state, state.attributes)


@dataclass
class Timed:
    """One measured window: CPU and wall seconds, and the collections inside it."""

    cpu: float
    wall: float
    gc: GcWindow


@dataclass
class SizeResult:
    """Figures for one dashboard size."""

    size: int
    entities: int = 0
    setup: float = 0.0
    setup_stall: float = 0.0
    registry_enabled: int = 0
    registry_disabled: int = 0
    memory_per_server: float = 0.0
    requests: list[int] = field(default_factory=list)
    received: list[int] = field(default_factory=list)
    parse: list[float] = field(default_factory=list)
    refresh: list[Timed] = field(default_factory=list)
    floor: list[Timed] = field(default_factory=list)
    entity_floor: list[Timed] = field(default_factory=list)
    stall: list[float] = field(default_factory=list)
    floor_stall: list[float] = field(default_factory=list)
    entity_floor_stall: list[float] = field(default_factory=list)


async def _floor(
    hass: HomeAssistant,
    watch: Watch,
    meter: StallMeter,
    before: list[State],
    write: Callable[[], None],
) -> tuple[Timed, float]:
    """Put ``before`` back, then time ``write`` and Home Assistant's work it causes."""
    write_states(hass, before)
    await hass.async_block_till_done()
    gc.collect()
    await meter.start()
    with watch.gc.window() as collections:
        start, start_cpu = time.perf_counter(), time.process_time()
        write()
        await hass.async_block_till_done()
        _collect_young()
        cpu, wall = time.process_time() - start_cpu, time.perf_counter() - start
    return Timed(cpu, wall, collections), await meter.stop()


def _collect_young() -> None:
    """End a window with one collection of what it left in the young generations.

    Each window starts with them empty (a full collection before it). A collection is due
    when allocations outnumber frees: state writes that replace as many objects as they make
    (a floor) trigger none, and the collection of what they made would be paid after the
    window; a refresh, which also builds a snapshot, pays it inside. This charges every window
    the same way for its own objects.
    """
    gc.collect(1)


async def _written(coordinator: Any) -> None:
    """Until the writer has written the whole refresh (it paces moved figures over time)."""
    writer = getattr(coordinator, "writer", None)
    while writer is not None and not writer.idle:  # noqa: ASYNC110 - the writer has no event
        await asyncio.sleep(0.01)


async def measure_size(size: int, refreshes: int, watch: Watch) -> SizeResult:  # noqa: PLR0915
    """Setup, paired refreshes and floors for one dashboard size."""
    result = SizeResult(size)
    fake = dashboard(size)
    await fake.start()
    # The writer spreads a refresh over 24 s at 1000 servers; the CPU it costs does not depend
    # on the pace, so here its ticks follow each other at once (bench_loop.py measures the real
    # pace). A longer window would also charge the refresh for the stall meter's 1 ms ticker,
    # which its floors, written in one go, hardly pay.
    if hasattr(writer_module, "TICK"):
        writer_module.TICK = 1e-6
    probe = Probe()
    probe.install()
    meter = StallMeter()
    try:
        async with home_assistant() as hass:
            watch.phase(f"{size} servers, setup")
            gc.collect()
            await meter.start()
            start = time.perf_counter()
            entry = await add_entry(hass, fake)
            result.setup = time.perf_counter() - start
            result.setup_stall = await meter.stop()
            # Home Assistant saves its registries 10 s after their last change, serialising
            # every device and entity in a worker thread: not in a refresh's window.
            hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
            await hass.async_block_till_done()
            registry = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
            result.registry_disabled = sum(item.disabled_by is not None for item in registry)
            result.registry_enabled = len(registry) - result.registry_disabled
            coordinator = entry.runtime_data.coordinator
            ids = entity_ids(hass, entry)
            result.entities = len(ids)
            entities = live_entities(hass)
            watch.phase(f"{size} servers, refreshes")
            for _ in range(refreshes):
                fake.tick(1)
                before = snapshot_states(hass, ids)
                requests, sent = fake.requests.total(), fake.bytes_sent
                probe.parse_seconds = 0.0
                gc.collect()
                await meter.start()
                with watch.gc.window(since=lambda: probe.body_done) as collections:
                    await in_task(coordinator.async_refresh())
                    await hass.async_block_till_done()
                    await _written(coordinator)
                    _collect_young()
                    cpu, done = time.process_time(), time.perf_counter()
                result.refresh.append(
                    Timed(cpu - probe.body_done_cpu, done - probe.body_done, collections)
                )
                result.stall.append(await meter.stop())
                result.requests.append(fake.requests.total() - requests)
                result.received.append(fake.bytes_sent - sent)
                result.parse.append(probe.parse_seconds)

                # The floor: the same transition (previous values to these) written directly.
                after = snapshot_states(hass, ids)
                timed, stall = await _floor(
                    hass, watch, meter, before, functools.partial(write_states, hass, after)
                )
                result.floor.append(timed)
                result.floor_stall.append(stall)

                # Home Assistant's entity floor: the same transition written by the entities
                # themselves, without the integration's refresh around it.
                def write_entities() -> None:
                    for entity in entities:
                        entity.async_write_ha_state()

                timed, stall = await _floor(hass, watch, meter, before, write_entities)
                result.entity_floor.append(timed)
                result.entity_floor_stall.append(stall)
            # Not part of what is asserted: setup and refreshes are.
            watch.phase(f"{size} servers, unload", watched=False)
            await in_task(hass.config_entries.async_unload(entry.entry_id))
    finally:
        probe.remove()
        await fake.stop()

    # Memory in a setup of its own: tracemalloc slows everything down (so much that what
    # Home Assistant logs there, or how long it holds the loop, says nothing).
    watch.phase(f"{size} servers, setup for the memory figure", watched=False)
    fake = dashboard(size)
    await fake.start()
    try:
        async with home_assistant() as hass:
            gc.collect()
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
            entry = await add_entry(hass, fake)
            gc.collect()
            used = tracemalloc.get_traced_memory()[0] - base
            tracemalloc.stop()
            result.memory_per_server = used / size
            await in_task(hass.config_entries.async_unload(entry.entry_id))
    finally:
        await fake.stop()
    return result


# --- Side by side: the RESTful integration with template sensors -------------------------

REST_SENSOR = "sensor.nezha_servers"
# Where the servers are: in the attribute of one REST sensor (for template sensors), or in
# the answer each REST sensor of the resource renders its own template against.
IN_ATTRIBUTE = f"state_attr('{REST_SENSOR}', 'result')"
IN_ANSWER = "value_json.result"


def select_server(servers: str, server_id: int) -> str:
    """What a user writes to pick one server; v0 returns the servers in random order."""
    return f"{{% set s = {servers} | selectattr('id', 'eq', {server_id}) | first %}}"


# The template, after select_server, for each of the integration's per-server entities (by key).
SERVER_TEMPLATES = {
    "online": "{{ now().timestamp() - s.last_active < 10 }}",
    "cpu": "{{ s.status.CPU }}",
    "memory_usage": "{{ (s.status.MemUsed * 100 / s.host.MemTotal) | round(2) }}",
    "disk_usage": "{{ (s.status.DiskUsed * 100 / s.host.DiskTotal) | round(2) }}",
    "swap_usage": "{{ (s.status.SwapUsed * 100 / s.host.SwapTotal) | round(2) }}",
    "network_in_speed": "{{ s.status.NetInSpeed }}",
    "network_out_speed": "{{ s.status.NetOutSpeed }}",
    "load_1": "{{ s.status.Load1 }}",
    "load_5": "{{ s.status.Load5 }}",
    "load_15": "{{ s.status.Load15 }}",
    "memory_used": "{{ s.status.MemUsed }}",
    "disk_used": "{{ s.status.DiskUsed }}",
    "swap_used": "{{ s.status.SwapUsed }}",
    "network_in_traffic": "{{ s.status.NetInTransfer }}",
    "network_out_traffic": "{{ s.status.NetOutTransfer }}",
    "tcp_connections": "{{ s.status.TcpConnCount }}",
    "udp_connections": "{{ s.status.UdpConnCount }}",
    "processes": "{{ s.status.ProcessCount }}",
    "last_boot": "{{ as_datetime(s.host.BootTime) }}",
    "last_seen": "{{ as_datetime(s.last_active) }}",
    "memory_total": "{{ s.host.MemTotal }}",
    "swap_total": "{{ s.host.SwapTotal }}",
    "disk_total": "{{ s.host.DiskTotal }}",
    "ipv4": "{{ s.ipv4 }}",
    "ipv6": "{{ s.ipv6 }}",
    "country_code": "{{ s.host.CountryCode | upper }}",
    "gpu": "{{ s.status.GPU }}",
    "temperature": (
        "{{ s.status.Temperatures | map(attribute='Temperature') | max"
        " if s.status.Temperatures else none }}"
    ),
}
# The dashboard-wide entities; SERVERS stands for where the servers are.
DASHBOARD_TEMPLATES = {
    "servers_total": "{{ SERVERS | count }}",
    "servers_online": (
        "{{ SERVERS | selectattr('last_active', 'gt', now().timestamp() - 10) | list | count }}"
    ),
}


def value_entities(entities: list[Entity], servers: str) -> list[tuple[str, dict[str, Any]]]:
    """For each of the integration's entities one alike, its value a template on ``servers``.

    As (platform, configuration without the template's key); the template is under "state".
    """
    alike = []
    unknown = set()
    for entity in entities:
        description = entity.entity_description
        server_id = getattr(entity, "server_id", None)
        if server_id is not None and description.key in SERVER_TEMPLATES:
            name = f"rest {server_id} {description.key}"
            state = select_server(servers, server_id) + SERVER_TEMPLATES[description.key]
        elif server_id is None and description.key in DASHBOARD_TEMPLATES:
            name = f"rest {description.key}"
            state = DASHBOARD_TEMPLATES[description.key].replace("SERVERS", servers)
        else:
            unknown.add(description.key)
            continue
        config: dict[str, Any] = {"name": name, "unique_id": name.replace(" ", "_"), "state": state}
        if description.device_class is not None:
            config["device_class"] = str(description.device_class)
        if entity.platform.domain == "sensor":
            for option in ("native_unit_of_measurement", "state_class"):
                if (value := getattr(description, option, None)) is not None:
                    config[option.removeprefix("native_")] = str(value)
        alike.append((entity.platform.domain, config))
    if unknown:
        raise SystemExit(f"no template for the integration's entities {sorted(unknown)}")
    return alike


def rest_resource(fake: FakeDashboard) -> dict[str, Any]:
    """The REST resource of the dashboard's servers, refreshed by the bench only."""
    return {
        "resource": f"{fake.url}/api/v1/server/details",
        "headers": {"Authorization": V0_TOKEN},
        "scan_interval": 86400,
    }


def with_templates(fake: FakeDashboard, entities: list[Entity]) -> dict[str, Any]:
    """One REST sensor keeps the servers in an attribute; one template sensor per value."""
    alike = value_entities(entities, IN_ATTRIBUTE)
    holder = {
        "name": "nezha servers",
        "value_template": "{{ value_json.code }}",
        "json_attributes": ["result"],
    }
    return {
        "rest": [{**rest_resource(fake), "sensor": [holder]}],
        "template": [
            {
                platform: [config for domain, config in alike if domain == platform]
                for platform in ("sensor", "binary_sensor")
            }
        ],
    }


def with_rest_sensors(fake: FakeDashboard, entities: list[Entity]) -> dict[str, Any]:
    """One REST sensor per value, each rendering its template on the resource's answer."""
    alike = value_entities(entities, IN_ANSWER)
    platforms: dict[str, list[dict[str, Any]]] = {"sensor": [], "binary_sensor": []}
    for domain, config in alike:
        platforms[domain].append(
            {
                **{key: value for key, value in config.items() if key != "state"},
                "value_template": config["state"],
            }
        )
    return {"rest": [{**rest_resource(fake), **platforms}]}


class FakeCpu:
    """The CPU time the fake dashboard spends building its answers (not Home Assistant's)."""

    def __init__(self, fake: FakeDashboard) -> None:
        """Answer ``server/details`` through a timer."""
        self.seconds = 0.0
        self._fake = fake
        fake.hook = self._hook

    async def _hook(self, request: web.Request) -> web.StreamResponse | None:
        if not request.path.endswith("/server/details"):
            return None
        start = time.process_time()
        try:
            return await self._fake._details(request)  # noqa: SLF001
        finally:
            self.seconds += time.process_time() - start


async def _cpu_per_refresh(
    hass: HomeAssistant,
    fake: FakeDashboard,
    fake_cpu: FakeCpu,
    refresh: Callable[[], Any],
    refreshes: int,
) -> list[float]:
    """Home Assistant's CPU seconds of each refresh, the fake's answer left out."""
    spent = []
    for _ in range(refreshes):
        fake.tick(1)
        gc.collect()
        start, fake_start = time.process_time(), fake_cpu.seconds
        await in_task(refresh())
        await hass.async_block_till_done()
        spent.append(time.process_time() - start - (fake_cpu.seconds - fake_start))
    return spent


@dataclass
class RestWay:
    """One way of doing it with the RESTful integration."""

    name: str
    entities: int = 0
    cpu: list[float] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class RestResult:
    """The integration against the RESTful integration, for the same servers and entities."""

    servers: int
    integration_entities: int = 0
    integration: list[float] = field(default_factory=list)
    ways: list[RestWay] = field(default_factory=list)


REST_WAYS = (
    ("1 REST sensor holding the servers + one template sensor per value", with_templates),
    ("one REST sensor per value, each with its value_template", with_rest_sensors),
)


async def measure_rest(size: int, refreshes: int, watch: Watch) -> RestResult:
    """CPU per refresh: the integration, then each REST way, for the same servers."""
    result = RestResult(size)
    fake = dashboard(size)
    await fake.start()
    fake_cpu = FakeCpu(fake)
    try:
        async with home_assistant() as hass:
            watch.phase(f"REST comparison, {size} servers, the integration")
            entry = await add_entry(hass, fake)
            entities = live_entities(hass)
            result.integration_entities = len(entities)
            configs = [(name, build(fake, entities)) for name, build in REST_WAYS]
            coordinator = entry.runtime_data.coordinator
            result.integration = await _cpu_per_refresh(
                hass, fake, fake_cpu, coordinator.async_refresh, refreshes
            )
            watch.phase(f"REST comparison, {size} servers, unload", watched=False)
            await in_task(hass.config_entries.async_unload(entry.entry_id))

        for name, config in configs:
            way = RestWay(name)
            async with home_assistant() as hass:
                watch.phase(f"REST comparison, {size} servers, {name}")
                mark, slow_mark = len(watch.log.records), len(watch.slow.found)
                for domain, domain_config in config.items():
                    if not await in_task(
                        async_setup_component(hass, domain, {domain: domain_config})
                    ):
                        raise SystemExit(f"{domain} did not set up")
                await hass.async_block_till_done()
                rest_coordinator = hass.data["rest"]["coordinator"][0]
                way.cpu = await _cpu_per_refresh(
                    hass, fake, fake_cpu, rest_coordinator.async_refresh, refreshes
                )
                way.entities = _check_rest_values(hass, fake, result.integration_entities)
                way.warnings = watch.log.since(mark)
                if slow := watch.slow.found[slow_mark:]:
                    callback, took, cpu = max(slow, key=lambda found: found[2])
                    way.warnings.append(
                        f"{len(slow)} callbacks held the event loop past the limit, the longest"
                        f" {took:.3f} s ({cpu:.3f} s CPU): {callback[:160]}"
                    )
                # Home Assistant's own integrations: shown, not asserted.
                del watch.log.records[mark:], watch.slow.found[slow_mark:]
            result.ways.append(way)
    finally:
        await fake.stop()
    return result


def _check_rest_values(hass: HomeAssistant, fake: FakeDashboard, expected: int) -> int:
    """Every value entity has a value, the dashboard's latest; their number (and the holder's)."""
    states = [
        state
        for domain in ("sensor", "binary_sensor")
        for state in hass.states.async_all(domain)
        if state.entity_id.startswith(f"{domain}.rest_")
    ]
    broken = [s.entity_id for s in states if s.state in ("unknown", STATE_UNAVAILABLE)]
    if len(states) != expected or broken:
        raise SystemExit(
            f"REST side: {len(states)} value entities of {expected}, without a value: {broken[:10]}"
        )
    server = fake.servers[1]
    cpu = hass.states.get("sensor.rest_1_cpu")
    online = hass.states.get("binary_sensor.rest_1_online")
    if cpu is None or float(cpu.state) != server.status["CPU"] or online is None:
        raise SystemExit(f"REST side: server 1 shows {cpu} while the dashboard has {server}")
    if online.state != "on":
        raise SystemExit(f"REST side: server 1 is not online: {online}")
    return len(states) + (hass.states.get(REST_SENSOR) is not None)


# --- The v2 stream -------------------------------------------------------------------------


async def measure_stream(size: int, seconds: float) -> tuple[float, float, int]:
    """CPU seconds per minute of the v2 stream: Home Assistant's side, and the fake's own."""
    fake = dashboard(size, "v2")
    await fake.start()
    try:
        async with home_assistant() as hass:
            entry = await add_entry(hass, fake)
            coordinator = entry.runtime_data.coordinator
            deadline = time.monotonic() + 15
            while not coordinator.stream_connected:
                if time.monotonic() > deadline:
                    raise SystemExit("the stream did not connect")
                await asyncio.sleep(0.1)
            await asyncio.sleep(2)
            frames = fake.frames_sent
            fake_cpu = fake.frame_cpu_seconds
            ticking = [0.0]
            moving = asyncio.get_running_loop().create_task(_move(fake, ticking))
            start = time.process_time()
            await asyncio.sleep(seconds)
            total_cpu = time.process_time() - start
            moving.cancel()
            frames = fake.frames_sent - frames
            # The fake's side: building and sending frames, and moving its agents' values.
            fake_cpu = fake.frame_cpu_seconds - fake_cpu + ticking[0]
            await in_task(hass.config_entries.async_unload(entry.entry_id))
    finally:
        await fake.stop()
    per_minute = 60 / seconds
    return (total_cpu - fake_cpu) * per_minute, fake_cpu * per_minute, frames


async def _move(fake: FakeDashboard, spent: list[float]) -> None:
    """Agents report every second, as live ones do; ``spent`` gets the CPU this takes."""
    while True:
        await asyncio.sleep(1)
        start = time.process_time()
        fake.tick(1)
        spent[0] += time.process_time() - start


# --- Printing --------------------------------------------------------------------------------


def _ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def _paired(top: list[float], bottom: list[float]) -> float:
    """The median of the ratios of each pair."""
    return statistics.median(a / b for a, b in zip(top, bottom, strict=True))


def _paired_mean(top: list[float], bottom: list[float]) -> float:
    """The mean of the ratios of each pair: a refresh that paid a collection counts."""
    return statistics.fmean(a / b for a, b in zip(top, bottom, strict=True))


def _gc(windows: list[Timed]) -> str:
    """GC ms per window, its share of the CPU time, and the collections by generation."""
    seconds = sum(window.gc.seconds for window in windows)
    cpu = sum(window.cpu for window in windows)
    counts: Counter[int] = Counter()
    for window in windows:
        counts.update(window.gc.by_generation)
    generations = "/".join(str(counts[generation]) for generation in range(3))
    return f"{seconds / len(windows) * 1000:.1f} ({seconds / cpu:.0%}) {generations}"


def print_tables(results: list[SizeResult], refreshes: int) -> None:
    """The per-size tables."""
    print()
    print(
        f"Refresh against both floors, Home Assistant CPU time (v0 API over loopback;"
        f" {refreshes} paired refreshes; ms are medians, {TIMES} is the median of the per-pair"
        " ratios; GC: ms per refresh, share of the CPU time, collections of generation"
        f" 0/1/2 over all {refreshes})"
    )
    print(
        f"| servers | entities | refresh ms | floor ms | {TIMES} floor | entity floor ms"
        f" | {TIMES} entity floor | GC refresh | GC floor | GC entity floor |"
    )
    print("|---:" * 10 + "|")
    for item in results:
        cpu = [t.cpu for t in item.refresh]
        floor = [t.cpu for t in item.floor]
        entity_floor = [t.cpu for t in item.entity_floor]
        print(
            f"| {item.size} | {item.entities} | {_ms(cpu):.1f} | {_ms(floor):.1f} |"
            f" {_paired(cpu, floor):.2f} | {_ms(entity_floor):.1f} |"
            f" {_paired(cpu, entity_floor):.2f} ({_paired_mean(cpu, entity_floor):.2f}) |"
            f" {_gc(item.refresh)} | {_gc(item.floor)} |"
            f" {_gc(item.entity_floor)} |"
        )

    print()
    print(
        f"The same refreshes in wall time (medians of {refreshes}; {TIMES} per pair as above;"
        " total runs from the answer's last byte to every state written)"
    )
    print(
        f"| servers | requests | bytes received | parse ms | total ms | floor ms | {TIMES} floor"
        f" | entity floor ms | {TIMES} entity floor | per server µs"
        " | longest stall ms (floor, entity floor) |"
    )
    print("|---:" * 11 + "|")
    for item in results:
        wall = [t.wall for t in item.refresh]
        floor = [t.wall for t in item.floor]
        entity_floor = [t.wall for t in item.entity_floor]
        print(
            f"| {item.size} | {statistics.median(item.requests):g} |"
            f" {statistics.median(item.received):,.0f} | {_ms(item.parse):.1f} |"
            f" {_ms(wall):.1f} | {_ms(floor):.1f} | {_paired(wall, floor):.2f} |"
            f" {_ms(entity_floor):.1f} | {_paired(wall, entity_floor):.2f} |"
            f" {statistics.median(wall) / item.size * 1e6:.0f} |"
            f" {max(item.stall) * 1000:.1f} ({max(item.floor_stall) * 1000:.1f},"
            f" {max(item.entity_floor_stall) * 1000:.1f}) |"
        )

    print()
    print(
        "| servers | setup s | longest stall in setup ms | memory per server KiB"
        " | registry entries | enabled | disabled |"
    )
    print("|---:" * 7 + "|")
    for item in results:
        print(
            f"| {item.size} | {item.setup:.2f} | {item.setup_stall * 1000:.0f} |"
            f" {item.memory_per_server / 1024:.1f} |"
            f" {item.registry_enabled + item.registry_disabled:,} |"
            f" {item.registry_enabled:,} | {item.registry_disabled:,} |"
        )
    by_size = {item.size: item for item in results}
    if 100 in by_size and 5000 in by_size:
        small, large = by_size[100], by_size[5000]
        ratio = (statistics.median(t.wall for t in large.refresh) / 5000) / (
            statistics.median(t.wall for t in small.refresh) / 100
        )
        print(f"\nper-server cost (wall) at 5000 / at 100: {ratio:.2f}")


def print_rest(result: RestResult, refreshes: int) -> None:
    """The side-by-side table and the ratios."""
    integration = _ms(result.integration)
    print()
    print(
        f"The RESTful integration against this integration ({result.servers} servers, the same"
        " values; Home Assistant CPU time per refresh, request to every state written, the"
        f" fake dashboard's answer left out; median of {refreshes})"
    )
    print(f"| way | entities | CPU ms per refresh | {TIMES} this integration |")
    print("|---|---:|---:|---:|")
    print(f"| this integration | {result.integration_entities} | {integration:.1f} | 1 |")
    for way in result.ways:
        print(
            f"| {way.name} | {way.entities} | {_ms(way.cpu):.1f} |"
            f" {_ms(way.cpu) / integration:.1f} |"
        )
    for way in result.ways:
        print(
            f"the REST way ({way.name}) costs {_ms(way.cpu) / integration:.1f}{TIMES}"
            " the integration's CPU"
        )
        for line in way.warnings:
            print(f"  logged there (Home Assistant's own integrations; not asserted): {line}")


def findings(results: list[SizeResult], watch: Watch, *, strict_loop: bool) -> list[str]:
    """Everything that makes the run fail.

    What Home Assistant logs in normal operation, and with ``strict_loop`` also what its debug
    mode would (callbacks past the limit).
    """
    found = watch.log.since(0)
    slow = [
        f"{name}: held the event loop {took:.3f} s, {cpu:.3f} s of CPU (Home Assistant in"
        f" debug mode logs 'Executing ... took' past {watch.slow.limit:g} s)"
        for name, took, cpu in watch.slow.found
    ]
    if strict_loop:
        found += slow
    else:
        for line in slow:
            print(f"debug mode only (pass --strict-loop to fail on it): {line}")
    found += [
        f"{item.size} servers: setup took {item.setup:.1f} s (Home Assistant warns past"
        f" {ha_setup.SLOW_SETUP_WARNING} s)"
        for item in results
        if item.setup > ha_setup.SLOW_SETUP_WARNING
    ]
    return found


async def run(args: argparse.Namespace) -> int:
    """Measure every size, the REST comparison and the stream; print the tables."""
    if args.uncapped:
        # Every entity enabled, to see how the cost grows with servers alone.
        entity_platform.MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY = 10**9
        nezha_budget.MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY = 10**9
    watch = Watch(LogWatch(), SlowCallbacks(), GcMeter())
    watch.slow.bench = asyncio.current_task()
    watch.slow.limit = args.slow_callback
    root = logging.getLogger()
    root.addHandler(watch.log)
    results = []
    rest = None
    with watch.gc.installed(), watch.slow.installed():
        try:
            for size in args.sizes:
                print(f"measuring {size} servers ...", flush=True)
                results.append(await measure_size(size, args.refreshes, watch))
            if args.rest_servers > 0:
                print(f"measuring the REST ways at {args.rest_servers} servers ...", flush=True)
                rest = await measure_rest(args.rest_servers, args.refreshes, watch)
        except SystemExit:
            # What Home Assistant logged up to the failure is likely to say why.
            for line in watch.log.since(0):
                print(line, file=sys.stderr)
            raise
        finally:
            root.removeHandler(watch.log)

    print_tables(results, args.refreshes)
    if rest is not None:
        print_rest(rest, args.refreshes)

    if args.stream_seconds > 0:
        print(f"\nmeasuring the v2 stream at {args.stream_servers} servers ...", flush=True)
        ha_cpu, fake_cpu, frames = await measure_stream(args.stream_servers, args.stream_seconds)
        print(
            f"stream, {args.stream_servers} servers, 2 s frames, {args.stream_seconds:g} s window:"
            f" Home Assistant side {ha_cpu:.2f} CPU s/min"
            f" (the fake's own work excluded: {fake_cpu:.2f} CPU s/min),"
            f" {frames} frames"
        )

    print()
    for (_logger, start, reason), count in (
        (item, watch.log.harmless[item[1]]) for item in HARMLESS_LOG
    ):
        print(f"not counted: {count} {TIMES} {start!r}... ({reason})")
    longest = max((max(item.stall) for item in results), default=0.0)
    print(f"longest event-loop stall during refreshes: {longest * 1000:.1f} ms")
    found = findings(results, watch, strict_loop=args.strict_loop)
    if found:
        print(f"FAILED: Home Assistant's log is not clean ({len(found)}):")
        for line in found:
            print(f"  {line}")
        return 1
    print("Home Assistant's log is clean: no warning during setup or refreshes at any size")
    return 0


def main() -> None:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000, 5000])
    parser.add_argument("--refreshes", type=int, default=11)
    parser.add_argument("--stream-seconds", type=float, default=60.0)
    parser.add_argument("--stream-servers", type=int, default=1000)
    parser.add_argument(
        "--rest-servers",
        type=int,
        default=100,
        help="servers for the RESTful integration comparison (0 to leave it out)",
    )
    parser.add_argument(
        "--slow-callback",
        type=float,
        default=SLOW_CALLBACK_SECONDS,
        help="seconds of CPU one event-loop callback may take before the run fails"
        " (asyncio's default, which Home Assistant's debug mode uses)",
    )
    parser.add_argument(
        "--strict-loop",
        action="store_true",
        help="also fail on callbacks past --slow-callback (what only debug mode logs)",
    )
    parser.add_argument(
        "--uncapped",
        action="store_true",
        help="lift Home Assistant's 10000 enabled entities per entry, to measure scaling alone",
    )
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
