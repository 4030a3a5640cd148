"""Benchmark: what a refresh costs inside a real Home Assistant, from 10 to 5000 servers.

    scripts/bench [--sizes 10 100 1000 5000] [--refreshes 3] [--stream-seconds 60] [--uncapped]

For each size the fake dashboard serves that many servers over loopback (v0 API) and a real
Home Assistant instance loads the integration. Per refresh (values move between refreshes):
requests made, bytes received, parse time (JSON decode and models), the total from the
response's last byte to every state written, and in the same run the floor: the same states,
with the same values, written straight through ``hass.states.async_set``. A second floor,
"entity floor", is the same transition written by the integration's entities themselves
(``async_write_ha_state``) with no refresh around it: the least any integration built on
entities can cost. Also: config entry setup time, memory per server (tracemalloc, in a
separate setup so timings stay clean), the longest event-loop stall during a refresh, and for
the v2 stream the CPU time per minute at 1000 servers with 2-second frames. Prints tables;
asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib
from dataclasses import dataclass, field
import gc
import statistics
import time
import tracemalloc
from typing import Any

from homeassistant import loader
from homeassistant.const import CONF_TOKEN, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_platform, entity_registry as er, frame
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
)

from custom_components.nezha import budget as nezha_budget
from custom_components.nezha.api import client as client_module, v0
from custom_components.nezha.const import CONF_FLAVOR, DOMAIN
from fake_dashboard import FakeDashboard, make_server

V0_TOKEN = "bench-token"
V2_TOKEN = "nzp_bench-token"


@dataclass
class Probe:
    """Timestamps the client's hot path: the end of the body read and the parse."""

    body_done: float = 0.0
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


@contextlib.asynccontextmanager
async def home_assistant() -> AsyncIterator[HomeAssistant]:
    """A real Home Assistant that loads this repository's integration."""
    async with async_test_home_assistant() as hass:
        hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
        frame.async_setup(hass)
        # The shared HTTP session picks its source address from "network".
        if not await async_setup_component(hass, "network", {}):
            raise SystemExit("network did not set up")
        yield hass
        await hass.async_stop(force=True)


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
    if not await hass.config_entries.async_setup(entry.entry_id):
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


def snapshot_states(hass: HomeAssistant, ids: list[str]) -> list[State]:
    """The current states of ``ids``."""
    states = [hass.states.get(entity_id) for entity_id in ids]
    return [state for state in states if state is not None]


def write_states(hass: HomeAssistant, states: list[State]) -> None:
    """The floor: states written straight into the state machine."""
    for state in states:
        hass.states.async_set(state.entity_id, state.state, state.attributes)


@dataclass
class SizeResult:
    """Figures for one dashboard size."""

    size: int
    entities: int = 0
    setup: float = 0.0
    memory_per_server: float = 0.0
    requests: list[int] = field(default_factory=list)
    received: list[int] = field(default_factory=list)
    parse: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)
    stall: list[float] = field(default_factory=list)
    floor_stall: list[float] = field(default_factory=list)
    entity_floor: list[float] = field(default_factory=list)


async def measure_size(size: int, refreshes: int) -> SizeResult:  # noqa: PLR0915
    """Setup, refreshes and the floor for one dashboard size."""
    result = SizeResult(size)
    fake = dashboard(size)
    await fake.start()
    probe = Probe()
    probe.install()
    meter = StallMeter()
    try:
        async with home_assistant() as hass:
            gc.collect()
            start = time.perf_counter()
            entry = await add_entry(hass, fake)
            result.setup = time.perf_counter() - start
            coordinator = entry.runtime_data.coordinator
            ids = entity_ids(hass, entry)
            result.entities = len(ids)
            entities = [
                entity
                for platform in entity_platform.async_get_platforms(hass, DOMAIN)
                for entity in platform.entities.values()
            ]
            for _ in range(refreshes):
                fake.tick(1)
                before = snapshot_states(hass, ids)
                requests, sent = fake.requests.total(), fake.bytes_sent
                probe.parse_seconds = 0.0
                gc.collect()
                await meter.start()
                await coordinator.async_refresh()
                await hass.async_block_till_done()
                done = time.perf_counter()
                result.stall.append(await meter.stop())
                result.requests.append(fake.requests.total() - requests)
                result.received.append(fake.bytes_sent - sent)
                result.parse.append(probe.parse_seconds)
                result.total.append(done - probe.body_done)

                # The floor: the same transition (previous values to these) written directly.
                after = snapshot_states(hass, ids)
                write_states(hass, before)
                await hass.async_block_till_done()
                gc.collect()
                await meter.start()
                start = time.perf_counter()
                write_states(hass, after)
                await hass.async_block_till_done()
                result.floor.append(time.perf_counter() - start)
                result.floor_stall.append(await meter.stop())

                # Home Assistant's entity floor: the same transition written by the entities
                # themselves, without the integration's refresh around it.
                write_states(hass, before)
                await hass.async_block_till_done()
                gc.collect()
                start = time.perf_counter()
                for entity in entities:
                    entity.async_write_ha_state()
                await hass.async_block_till_done()
                result.entity_floor.append(time.perf_counter() - start)
            await hass.config_entries.async_unload(entry.entry_id)
    finally:
        probe.remove()
        await fake.stop()

    # Memory in a setup of its own: tracemalloc slows everything down.
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
            await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await fake.stop()
    return result


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
            await hass.config_entries.async_unload(entry.entry_id)
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


def _ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


async def run(args: argparse.Namespace) -> None:
    """Measure every size, then the stream; print the tables."""
    if args.uncapped:
        # Every entity enabled, to see how the cost grows with servers alone.
        entity_platform.MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY = 10**9
        nezha_budget.MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY = 10**9
    results = []
    for size in args.sizes:
        print(f"measuring {size} servers ...", flush=True)
        results.append(await measure_size(size, args.refreshes))

    print()
    print(f"Per refresh (median of {args.refreshes}; v0 API over loopback)")
    header = (
        "| servers | entities | requests | bytes received | parse ms | total ms | floor ms |"
        " ratio | entity floor ms | ratio to it | per server µs | longest stall ms (floor) |"
    )
    print(header)
    print("|---:" * 12 + "|")
    for item in results:
        total, floor = statistics.median(item.total), statistics.median(item.floor)
        entity_floor = statistics.median(item.entity_floor)
        print(
            f"| {item.size} | {item.entities} | {statistics.median(item.requests):g} |"
            f" {statistics.median(item.received):,.0f} | {_ms(item.parse):.1f} |"
            f" {total * 1000:.1f} | {floor * 1000:.1f} | {total / floor:.2f} |"
            f" {entity_floor * 1000:.1f} | {total / entity_floor:.2f} |"
            f" {total / item.size * 1e6:.0f} |"
            f" {_ms(item.stall):.1f} ({_ms(item.floor_stall):.1f}) |"
        )
    print()
    print("| servers | setup s | memory per server KiB |")
    print("|---:|---:|---:|")
    for item in results:
        print(f"| {item.size} | {item.setup:.2f} | {item.memory_per_server / 1024:.1f} |")
    by_size = {item.size: item for item in results}
    if 100 in by_size and 5000 in by_size:
        small, large = by_size[100], by_size[5000]
        ratio = (statistics.median(large.total) / 5000) / (statistics.median(small.total) / 100)
        print(f"\nper-server cost at 5000 / at 100: {ratio:.2f}")

    if args.stream_seconds > 0:
        print(f"\nmeasuring the v2 stream at {args.stream_servers} servers ...", flush=True)
        ha_cpu, fake_cpu, frames = await measure_stream(args.stream_servers, args.stream_seconds)
        print(
            f"stream, {args.stream_servers} servers, 2 s frames, {args.stream_seconds:g} s window:"
            f" Home Assistant side {ha_cpu:.2f} CPU s/min"
            f" (the fake's own work excluded: {fake_cpu:.2f} CPU s/min),"
            f" {frames} frames"
        )


def main() -> None:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000, 5000])
    parser.add_argument("--refreshes", type=int, default=3)
    parser.add_argument("--stream-seconds", type=float, default=60.0)
    parser.add_argument("--stream-servers", type=int, default=1000)
    parser.add_argument(
        "--uncapped",
        action="store_true",
        help="lift Home Assistant's 10000 enabled entities per entry, to measure scaling alone",
    )
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
