"""A thousand servers never knock Home Assistant's own screens offline.

Every open screen (browser, phone, wall tablet) holds one websocket subscribed to all entities;
Home Assistant queues a message per state change for each, inside the step that writes it, and
closes a connection whose queue reaches 4096. Here a screen subscribes like the frontend, the
fleet refreshes with every figure moving, and the state changes of each loop iteration are
counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from homeassistant.const import EVENT_STATE_CHANGED, STATE_OFF, STATE_ON
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.typing import MockHAClientWebSocket, WebSocketGenerator

from custom_components.nezha.api import stream as stream_module
from custom_components.nezha.writer import SLICE
from fake_dashboard import FakeDashboard, make_server
from tests.helpers import Clock, MakeEntry, SetupEntry, StopDashboard, start_dashboard, wait_for

FLEET = 1000
# What the issue allows in one loop iteration: far below the 4096 pending messages at which
# Home Assistant closes a screen's connection.
MOST_PER_ITERATION = 1000


class LoopMeter:
    """The most state changes written within one iteration of the event loop."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Count from now on."""
        self.count = 0
        self.most = 0
        self.total = 0
        self._unsub = hass.bus.async_listen(EVENT_STATE_CHANGED, self._changed)
        self._task = hass.loop.create_task(self._tick())

    @callback
    def _changed(self, _event: Event) -> None:
        self.count += 1
        self.total += 1

    async def _tick(self) -> None:
        # One turn per loop iteration: what was counted since the last turn is one iteration's.
        while True:
            self.most = max(self.most, self.count)
            self.count = 0
            await asyncio.sleep(0)

    async def stop(self) -> None:
        """Stop counting (again: nothing more)."""
        if self._task.done():
            return
        self._unsub()
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self.most = max(self.most, self.count)


@pytest.fixture
async def start_meter(hass: HomeAssistant) -> AsyncGenerator[Callable[[], LoopMeter]]:
    """A meter counting from the moment the test starts it, stopped whatever the outcome."""
    meters: list[LoopMeter] = []

    def _start() -> LoopMeter:
        meters.append(LoopMeter(hass))
        return meters[-1]

    yield _start
    for item in meters:
        await item.stop()


@pytest.fixture(params=["v0", "v2"])
async def fleet(
    request: pytest.FixtureRequest,
    clock: Clock,
    socket_enabled: None,
    stop_dashboard: StopDashboard,
) -> AsyncGenerator[FakeDashboard]:
    """A v0 (polled), then a v2 (streamed) dashboard of a thousand reporting servers."""
    fake = await start_dashboard(clock, request.param)
    for server_id in range(10, 10 + FLEET - len(fake.servers)):
        fake.add(make_server(server_id, now=clock.now))
    # A frame a second (the real dashboard sends one every 2 s): a thousand servers' frames
    # are built by the fake in the same event loop as Home Assistant.
    fake.frame_interval = 1.0
    yield fake
    await stop_dashboard(fake)


async def _later(hass: HomeAssistant, seconds: float, *, polled: bool = False) -> None:
    """Run what Home Assistant scheduled within ``seconds`` (its clock is not frozen here:
    the screen and the stream need real time) and wait for what that set off: the polled
    refresh too, a background task (the stream is one that never ends)."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))
    await hass.async_block_till_done(wait_background_tasks=polled)


async def _screen_messages(client: MockHAClientWebSocket) -> list[dict[str, Any]]:
    """What the screen has been sent so far (it reads at full speed)."""
    messages = []
    while True:
        try:
            messages.append(await asyncio.wait_for(client.receive_json(), 0.2))
        except TimeoutError:
            return messages


async def test_a_thousand_servers_never_close_a_screen(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    fleet: FakeDashboard,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
    start_meter: Callable[[], LoopMeter],
) -> None:
    """Three refreshes with every figure moving: the screen stays connected and gets them all,
    never more than a slice of changes in one loop iteration, spread over the interval."""
    # The stream hands numbers over once per interval, on its own clock: moved by the test.
    gate_clock = [0.0]
    monkeypatch.setattr(stream_module, "time", SimpleNamespace(monotonic=lambda: gate_clock[0]))
    entry = make_entry(fleet)
    await setup_entry(entry)
    coordinator = entry.runtime_data.coordinator
    if fleet.flavor == "v2":
        await wait_for(lambda: coordinator.stream_connected, 30)
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "subscribe_entities"})
    assert (await client.receive_json())["success"]
    await _screen_messages(client)  # the full state every subscription starts with

    meter = start_meter()
    received = 0
    busiest_second = 0
    for _ in range(3):
        clock.now += 30
        fleet.tick(30)
        before = meter.total
        if fleet.flavor == "v2":
            gate_clock[0] += 30
            await wait_for(lambda before=before: meter.total > before, 60)
        else:
            await _later(hass, 31, polled=True)
        # The writer's pace: a slice a second over the interval.
        for _ in range(30):
            second = meter.total
            await _later(hass, 1.1)
            busiest_second = max(busiest_second, meter.total - second)
            received += sum(
                len(message["event"].get("c", {}))
                for message in await _screen_messages(client)
                if message.get("type") == "event"
            )
    await meter.stop()
    # What is still on its way to the screen (a loaded machine delays it).
    while received < meter.total:
        message = await asyncio.wait_for(client.receive_json(), 10)
        if message.get("type") == "event":
            received += len(message["event"].get("c", {}))

    assert not client.closed
    assert "Client unable to keep up" not in caplog.text
    # The screen leaves before the entry unloads: Home Assistant's unload marks all 9000
    # entities unavailable in one step of its own.
    await client.close()
    assert meter.most <= MOST_PER_ITERATION
    # Spread: no second of the interval carries the bulk of a refresh.
    assert busiest_second <= SLICE
    # Every change written reached the screen.
    assert received == meter.total
    assert meter.total > 3 * FLEET * 4
    # And what is shown is what the dashboard shows.
    data = coordinator.data
    for server_id in (10, 500, FLEET):
        server = fleet.servers[server_id]
        cpu = hass.states.get(f"sensor.server_{server_id}_cpu_usage")
        assert float(cpu.state) == server.status["CPU"]
        assert data.servers[server_id].status.cpu == server.status["CPU"]


async def test_offline_is_written_at_once_in_slices(
    hass: HomeAssistant,
    fleet: FakeDashboard,
    clock: Clock,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
    start_meter: Callable[[], LoopMeter],
) -> None:
    """Half the fleet goes silent: every online sensor turns off in the refresh that saw it,
    without waiting for the pace, and still no more than a slice per loop iteration."""
    entry = make_entry(fleet)
    await setup_entry(entry)
    coordinator = entry.runtime_data.coordinator
    if fleet.flavor == "v2":
        await wait_for(lambda: coordinator.stream_connected, 30)
    silent = [server_id for server_id in fleet.servers if server_id % 2 == 0]
    meter = start_meter()
    for server_id in silent:
        fleet.silence(server_id, seconds_ago=120)
    if fleet.flavor == "v2":
        await wait_for(
            lambda: all(
                hass.states.get(f"binary_sensor.server_{server_id}_online").state == STATE_OFF
                for server_id in silent
                if server_id >= 10
            )
        )
    else:
        clock.now += 30
        fleet.tick(30)
        await _later(hass, 31, polled=True)
    await meter.stop()
    for server_id in fleet.servers:
        if server_id < 10:
            continue
        state = hass.states.get(f"binary_sensor.server_{server_id}_online").state
        assert state == (STATE_OFF if server_id in silent else STATE_ON)
    assert meter.most <= MOST_PER_ITERATION
