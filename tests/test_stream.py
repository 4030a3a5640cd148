"""Live push from the v1/v2 server stream: timing, throttling, dropping and coming back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
import contextlib
from datetime import timedelta
import json
import random
import time

import aiohttp
from aiohttp import web
from homeassistant.const import EVENT_STATE_CHANGED, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
from hypothesis import given, settings, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.nezha.api import (
    DashboardFlavor,
    NezhaClient,
    NezhaError,
    stream as stream_module,
)
from custom_components.nezha.api.stream import BACKOFF_MAX, Watch, backoff_delay
from custom_components.nezha.api.v1v2 import parse_frame, parse_frame_activity
from custom_components.nezha.const import DOMAIN
from custom_components.nezha.coordinator import NezhaDataUpdateCoordinator
from fake_dashboard import FakeDashboard

from .conftest import Clock, setup_entry
from .test_v1v2 import V2_TOKEN, _entry, _start

ONLINE = "binary_sensor.server1_online"
CPU = "sensor.server1_cpu_usage"


async def _wait_for(predicate: Callable[[], bool], limit: float = 10.0) -> float:
    """Wait (real time) until ``predicate`` holds; return how long it took."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > limit:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)
    return time.monotonic() - start


@pytest.fixture(params=["v1", "v2"])
async def streaming(
    request: pytest.FixtureRequest, clock: Clock, socket_enabled: None
) -> AsyncGenerator[FakeDashboard]:
    fake = await _start(clock, request.param)
    fake.frame_interval = 0.05
    yield fake
    await fake.stop()


def _coordinator(hass: HomeAssistant) -> NezhaDataUpdateCoordinator:
    entry = hass.config_entries.async_entries("nezha")[0]
    return entry.runtime_data.coordinator


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    rng = random.Random(1)  # noqa: S311 - a seeded test of the jitter
    delays = [backoff_delay(attempt, rng) for attempt in range(12)]
    for attempt, delay in enumerate(delays):
        ceiling = min(BACKOFF_MAX, 2**attempt)
        assert ceiling / 2 <= delay <= ceiling
    assert len(set(delays)) == len(delays)


async def test_push_offline_and_back_within_5_s(
    hass: HomeAssistant, clock: Clock, socket_enabled: None
) -> None:
    """Real 2 s frames: an agent that disconnects shows offline within 5 s, with no polling."""
    fake = await _start(clock, "v2")
    entry = _entry(fake)
    try:
        await setup_entry(hass, entry)
        coordinator = _coordinator(hass)
        await _wait_for(lambda: coordinator.stream_connected)
        assert coordinator.update_interval is None
        rest_before = fake.requests["/api/v1/server"]

        fake.agent_disconnect(1)
        off_delay = await _wait_for(lambda: hass.states.get(ONLINE).state == STATE_OFF, 5.0)
        fake.agent_reconnect(1)
        on_delay = await _wait_for(lambda: hass.states.get(ONLINE).state == STATE_ON, 5.0)

        rest_requests = fake.requests["/api/v1/server"] - rest_before
        assert off_delay < 5.0
        assert on_delay < 5.0
        assert rest_requests == 0
        assert fake.requests["/api/v1/ws/server"] == 1
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await fake.stop()


async def test_numeric_sensors_throttled(hass: HomeAssistant, streaming: FakeDashboard) -> None:
    """Frames every 50 ms with moving values: numbers are not rewritten within the interval."""
    await setup_entry(hass, _entry(streaming))
    coordinator = _coordinator(hass)
    await _wait_for(lambda: coordinator.stream_connected)
    await asyncio.sleep(0.2)
    changes: list[str] = []

    @callback
    def _record(event: Event) -> None:
        if event.data["entity_id"] == CPU:
            changes.append(event.data["new_state"].state)

    unsub = hass.bus.async_listen(EVENT_STATE_CHANGED, _record)
    frames_before = streaming.frames_sent
    for _ in range(10):
        streaming.tick(1)
        await asyncio.sleep(0.06)
    unsub()
    assert streaming.frames_sent - frames_before >= 5
    assert changes == []
    # Connectivity is not throttled.
    streaming.agent_disconnect(1)
    await _wait_for(lambda: hass.states.get(ONLINE).state == STATE_OFF, 2.0)


async def test_stream_drops_then_polls_then_comes_back(
    hass: HomeAssistant, streaming: FakeDashboard, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reconnect attempts a second apart: the back-off's growth is tested on its own.
    monkeypatch.setattr(stream_module, "backoff_delay", lambda attempt, rng: 1.0)
    await setup_entry(hass, _entry(streaming))
    coordinator = _coordinator(hass)
    await _wait_for(lambda: coordinator.stream_connected)

    # The stream breaks and cannot be reopened: polling takes over.
    streaming.stream_enabled = False
    await streaming.drop_streams()
    await _wait_for(lambda: coordinator.update_interval is not None)
    assert coordinator.update_interval == timedelta(seconds=30)
    polled = streaming.requests["/api/v1/server"]
    streaming.agent_disconnect(1)

    def _polled() -> bool:
        # The poll may be scheduled only after a request in flight ends: move the clock past
        # the interval while waiting. The stream task never ends, so wait for the poll itself
        # rather than all background tasks (a refused handshake may add a request too).
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=31))
        return streaming.requests["/api/v1/server"] > polled

    await _wait_for(_polled, 5.0)
    # The dashboard has the request; its answer may still be on the way back under load.
    await _wait_for(lambda: hass.states.get(ONLINE).state == STATE_OFF, 5.0)

    # The stream is back: one new connection, polling stops, frames drive the state again.
    streaming.stream_enabled = True
    await _wait_for(lambda: coordinator.stream_connected, 15)
    assert coordinator.update_interval is None
    streaming.agent_reconnect(1)
    await _wait_for(lambda: hass.states.get(ONLINE).state == STATE_ON, 5.0)


async def test_v1_stream_never_takes_the_guest_view(
    hass: HomeAssistant, clock: Clock, socket_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """v1 streams to anyone: a JWT it forgot gets the guests' frames (hidden servers left out,
    versions blanked) instead of a refusal. Reopening the stream must not take that view, or
    the hidden server's device would be deleted."""
    monkeypatch.setattr(stream_module, "backoff_delay", lambda attempt, rng: 0.05)
    fake = await _start(clock, "v1")
    fake.frame_interval = 0.05
    fake.servers[1].hide_for_guest = True
    entry = _entry(fake)
    try:
        await setup_entry(hass, entry)
        coordinator = _coordinator(hass)
        await _wait_for(lambda: coordinator.stream_connected)
        devices = dr.async_get(hass)
        identifier = (DOMAIN, f"{entry.entry_id}_1")
        device = devices.async_get_device_by_identifier(identifier, entry.entry_id)
        assert device is not None
        model = device.model

        # The dashboard forgets every session (its secret changed), and the stream drops.
        fake.expire_sessions()
        await fake.drop_streams()
        await _wait_for(
            lambda: fake.requests["/api/v1/ws/server"] >= 2 and coordinator.stream_connected
        )
        frames = fake.frames_sent
        await _wait_for(lambda: fake.frames_sent >= frames + 3)
        await hass.async_block_till_done()

        assert set(coordinator.data.servers) == {1, 2}
        device = devices.async_get_device_by_identifier(identifier, entry.entry_id)
        assert device is not None
        assert device.model == model
        assert hass.states.get(ONLINE).state == STATE_ON
        # It logged in again rather than read as a guest.
        assert fake.logins == 2
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await fake.stop()


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**63), max_value=2**64 - 1)
        | st.floats(allow_nan=False)
        | st.text(max_size=30)
        | st.sampled_from(["2026-11-24T12:00:00.123456789+08:00", "0001-01-01T00:00:00Z"]),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(
                st.sampled_from(["now", "servers", "id", "last_active", "x"]), children, max_size=4
            )
        ),
        max_leaves=16,
    )
)
def test_frame_activity_agrees_with_the_full_parse(data: object) -> None:
    """The cheap reading of a frame fails exactly when the full one does, and agrees with it."""
    try:
        now, activity = parse_frame_activity(data)
    except NezhaError:
        activity = None
    try:
        full_now, servers = parse_frame(data, {})
    except NezhaError:
        return
    assert activity is not None
    assert now == full_now
    assert activity == {server_id: server.last_active for server_id, server in servers.items()}


@pytest.mark.parametrize(("stable_after", "expected"), [(30.0, [0, 1, 2, 3]), (0.0, [0, 0, 0, 0])])
async def test_backoff_resets_only_after_a_stable_connection(
    clock: Clock,
    socket_enabled: None,
    monkeypatch: pytest.MonkeyPatch,
    stable_after: float,
    expected: list[int],
) -> None:
    """A stream that closes right after its first frame (or a bad one) keeps backing off."""
    fake = await _start(clock, "v2")

    connections = 0

    async def one_good_frame_then_close(request: web.Request) -> web.StreamResponse | None:
        nonlocal connections
        if not request.path.endswith("/ws/server"):
            return None
        connections += 1
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"now": int(clock.now * 1000), "servers": []}))
        if connections % 2:
            await ws.send_str("garbage")
        await ws.close()
        return ws

    fake.hook = one_good_frame_then_close
    attempts: list[int] = []

    def recording_backoff(attempt: int, rng: random.Random) -> float:
        attempts.append(attempt)
        return 0.01

    monkeypatch.setattr(stream_module, "backoff_delay", recording_backoff)
    monkeypatch.setattr(stream_module, "STABLE_AFTER", stable_after)
    async with aiohttp.ClientSession() as session:
        client = NezhaClient(session, fake.url, V2_TOKEN, flavor=DashboardFlavor.V2)
        task = asyncio.get_running_loop().create_task(
            client.listen(lambda _: None, lambda _: None, Watch(30, 30))
        )
        try:
            await _wait_for(lambda: len(attempts) >= 4)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    await fake.stop()
    assert attempts[:4] == expected
    assert connections >= 4


def _reauth_started(hass: HomeAssistant) -> bool:
    return any(
        flow["context"]["source"] == "reauth" for flow in hass.config_entries.flow.async_progress()
    )


async def test_deleted_token_starts_reauth_at_stream_speed(
    hass: HomeAssistant, clock: Clock, socket_enabled: None
) -> None:
    """v2 closes a deleted token's stream at once: one request right then finds the refusal,
    so reauth starts within seconds, not at the next poll 30 s later."""
    fake = await _start(clock, "v2")
    entry = _entry(fake)
    try:
        await setup_entry(hass, entry)
        coordinator = _coordinator(hass)
        await _wait_for(lambda: coordinator.stream_connected)
        polled = fake.requests["/api/v1/server"]

        # The dashboard refuses the token from now on and closes its streams at once.
        await fake.revoke(V2_TOKEN)
        await _wait_for(lambda: _reauth_started(hass), 5.0)

        # Found by the one request made when the stream closed; the poll timer never fired.
        assert fake.requests["/api/v1/server"] == polled + 1
        assert hass.states.get(CPU).state == STATE_UNAVAILABLE
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await fake.stop()


async def test_refused_handshake_refreshes_at_once(
    hass: HomeAssistant, clock: Clock, socket_enabled: None
) -> None:
    """The token goes while the stream is reconnecting: the refused handshake itself makes
    the integration ask right away."""
    fake = await _start(clock, "v2")
    entry = _entry(fake)
    try:
        await setup_entry(hass, entry)
        coordinator = _coordinator(hass)
        await _wait_for(lambda: coordinator.stream_connected)
        # A network blip: the stream closes, the request made then still succeeds.
        polled = fake.requests["/api/v1/server"]
        await fake.drop_streams()
        await _wait_for(lambda: fake.requests["/api/v1/server"] == polled + 1, 5.0)
        await _wait_for(lambda: not coordinator.stream_connected)
        assert coordinator.last_update_success
        assert not _reauth_started(hass)

        # Deleted before the reconnect (1-2 s of back-off): the next handshake gets 401.
        del fake.personal_tokens[V2_TOKEN]
        await _wait_for(lambda: _reauth_started(hass), 5.0)
        assert fake.requests["/api/v1/ws/server"] >= 2
        assert fake.requests["/api/v1/server"] == polled + 2
        # Refused from then on: no further request until the user re-authenticates.
        await asyncio.sleep(2.5)
        assert fake.requests["/api/v1/server"] == polled + 2
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await fake.stop()


async def test_dashboard_restart_leaves_nothing_stale(
    hass: HomeAssistant, clock: Clock, socket_enabled: None
) -> None:
    """The dashboard goes down: entities turn unavailable at once (not 30 s of old values);
    it comes back restarted: the reconnected stream shows what it now knows."""
    fake = await _start(clock, "v2")
    entry = _entry(fake)
    try:
        await setup_entry(hass, entry)
        coordinator = _coordinator(hass)
        await _wait_for(lambda: coordinator.stream_connected)
        assert hass.states.get(ONLINE).state == STATE_ON

        await fake.go_down()
        await _wait_for(lambda: hass.states.get(CPU).state == STATE_UNAVAILABLE, 5.0)
        assert hass.states.get(ONLINE).state == STATE_UNAVAILABLE

        # Back after a restart: no agent has reported to the new process yet.
        fake.restart()
        await fake.come_back()
        await _wait_for(lambda: coordinator.stream_connected, 15)
        await _wait_for(lambda: hass.states.get(ONLINE).state == STATE_OFF, 5.0)
        fake.agent_reconnect(1)
        await _wait_for(lambda: hass.states.get(ONLINE).state == STATE_ON, 5.0)
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await fake.stop()
