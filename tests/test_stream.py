"""Live push from the v1/v2 server stream: timing, throttling, dropping and coming back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import timedelta

from homeassistant.const import EVENT_STATE_CHANGED, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.nezha.api import stream as stream_module
from custom_components.nezha.const import DOMAIN
from custom_components.nezha.coordinator import NezhaDataUpdateCoordinator
from fake_dashboard import FakeDashboard
from tests.helpers import (
    CPU,
    ONLINE,
    SERVER,
    STREAM,
    V2_TOKEN,
    Clock,
    MakeEntry,
    SetupEntry,
    StopDashboard,
    start_dashboard,
    wait_for,
)


@pytest.fixture(params=["v1", "v2"])
async def streaming(
    request: pytest.FixtureRequest,
    clock: Clock,
    socket_enabled: None,
    stop_dashboard: StopDashboard,
) -> AsyncGenerator[FakeDashboard]:
    """A v1, then a v2 dashboard sending frames every 50 ms."""
    fake = await start_dashboard(clock, request.param)
    fake.frame_interval = 0.05
    yield fake
    await stop_dashboard(fake)


def _coordinator(hass: HomeAssistant) -> NezhaDataUpdateCoordinator:
    entry = hass.config_entries.async_entries("nezha")[0]
    return entry.runtime_data.coordinator


async def test_push_offline_and_back_within_5_s(
    hass: HomeAssistant,
    clock: Clock,
    socket_enabled: None,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
) -> None:
    """Real 2 s frames: an agent that disconnects shows offline within 5 s, with no polling."""
    fake = await start_dashboard(clock, "v2")
    entry = make_entry(fake)
    try:
        await setup_entry(entry)
        coordinator = _coordinator(hass)
        await wait_for(lambda: coordinator.stream_connected)
        assert coordinator.update_interval is None
        rest_before = fake.requests[SERVER]

        fake.agent_disconnect(1)
        off_delay = await wait_for(lambda: hass.states.get(ONLINE).state == STATE_OFF, 5.0)
        fake.agent_reconnect(1)
        on_delay = await wait_for(lambda: hass.states.get(ONLINE).state == STATE_ON, 5.0)

        rest_requests = fake.requests[SERVER] - rest_before
        assert off_delay < 5.0
        assert on_delay < 5.0
        assert rest_requests == 0
        assert fake.requests[STREAM] == 1
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await fake.stop()


async def test_numeric_sensors_throttled(
    hass: HomeAssistant, streaming: FakeDashboard, make_entry: MakeEntry, setup_entry: SetupEntry
) -> None:
    """Frames every 50 ms with moving values: numbers are not rewritten within the interval."""
    await setup_entry(make_entry(streaming))
    coordinator = _coordinator(hass)
    await wait_for(lambda: coordinator.stream_connected)
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


async def test_connectivity_not_throttled(
    hass: HomeAssistant, streaming: FakeDashboard, make_entry: MakeEntry, setup_entry: SetupEntry
) -> None:
    """While the numbers wait for their interval, an agent going away shows within 2 s."""
    await setup_entry(make_entry(streaming))
    coordinator = _coordinator(hass)
    await wait_for(lambda: coordinator.stream_connected)
    await asyncio.sleep(0.2)
    streaming.tick(1)
    streaming.agent_disconnect(1)
    await wait_for(lambda: hass.states.get(ONLINE).state == STATE_OFF, 2.0)


async def test_stream_drops_then_polls_then_comes_back(
    hass: HomeAssistant,
    streaming: FakeDashboard,
    monkeypatch: pytest.MonkeyPatch,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
) -> None:
    """The stream breaks and cannot be reopened: polling takes over until it is back."""
    # Reconnect attempts a second apart: the back-off's growth is tested on its own.
    monkeypatch.setattr(stream_module, "backoff_delay", lambda attempt, rng: 1.0)
    await setup_entry(make_entry(streaming))
    coordinator = _coordinator(hass)
    await wait_for(lambda: coordinator.stream_connected)

    # The stream breaks and cannot be reopened: polling takes over.
    streaming.stream_enabled = False
    await streaming.drop_streams()
    await wait_for(lambda: coordinator.update_interval is not None)
    assert coordinator.update_interval == timedelta(seconds=30)
    polled = streaming.requests[SERVER]
    streaming.agent_disconnect(1)

    def _polled() -> bool:
        # The poll may be scheduled only after a request in flight ends: move the clock past
        # the interval while waiting. The stream task never ends, so wait for the poll itself
        # rather than all background tasks (a refused handshake may add a request too).
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=31))
        return streaming.requests[SERVER] > polled

    await wait_for(_polled, 5.0)
    # The dashboard has the request; its answer may still be on the way back under load.
    await wait_for(lambda: hass.states.get(ONLINE).state == STATE_OFF, 5.0)

    # The stream is back: one new connection, polling stops, frames drive the state again.
    streaming.stream_enabled = True
    await wait_for(lambda: coordinator.stream_connected, 15)
    assert coordinator.update_interval is None
    streaming.agent_reconnect(1)
    await wait_for(lambda: hass.states.get(ONLINE).state == STATE_ON, 5.0)


async def test_v1_stream_never_takes_the_guest_view(
    hass: HomeAssistant,
    clock: Clock,
    socket_enabled: None,
    monkeypatch: pytest.MonkeyPatch,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
) -> None:
    """v1 streams to anyone: a JWT it forgot gets the guests' frames (hidden servers left out,
    versions blanked) instead of a refusal. Reopening the stream must not take that view, or
    the hidden server's device would be deleted."""
    monkeypatch.setattr(stream_module, "backoff_delay", lambda attempt, rng: 0.05)
    fake = await start_dashboard(clock, "v1")
    fake.frame_interval = 0.05
    fake.servers[1].hide_for_guest = True
    entry = make_entry(fake)
    try:
        await setup_entry(entry)
        coordinator = _coordinator(hass)
        await wait_for(lambda: coordinator.stream_connected)
        devices = dr.async_get(hass)
        identifier = (DOMAIN, f"{entry.entry_id}_1")
        device = devices.async_get_device_by_identifier(identifier, entry.entry_id)
        assert device is not None
        model = device.model

        # The dashboard forgets every session (its secret changed), and the stream drops.
        fake.expire_sessions()
        await fake.drop_streams()
        await wait_for(lambda: fake.requests[STREAM] >= 2 and coordinator.stream_connected)
        frames = fake.frames_sent
        await wait_for(lambda: fake.frames_sent >= frames + 3)
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


def _reauth_started(hass: HomeAssistant) -> bool:
    return any(
        flow["context"]["source"] == "reauth" for flow in hass.config_entries.flow.async_progress()
    )


async def test_deleted_token_starts_reauth_at_stream_speed(
    hass: HomeAssistant,
    clock: Clock,
    socket_enabled: None,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
) -> None:
    """v2 closes a deleted token's stream at once: one request right then finds the refusal,
    so reauth starts within seconds, not at the next poll 30 s later."""
    fake = await start_dashboard(clock, "v2")
    entry = make_entry(fake)
    try:
        await setup_entry(entry)
        coordinator = _coordinator(hass)
        await wait_for(lambda: coordinator.stream_connected)
        polled = fake.requests[SERVER]

        # The dashboard refuses the token from now on and closes its streams at once.
        await fake.revoke(V2_TOKEN)
        await wait_for(lambda: _reauth_started(hass), 5.0)

        # Found by the one request made when the stream closed; the poll timer never fired.
        assert fake.requests[SERVER] == polled + 1
        assert hass.states.get(CPU).state == STATE_UNAVAILABLE
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await fake.stop()


async def test_refused_handshake_refreshes_at_once(
    hass: HomeAssistant,
    clock: Clock,
    socket_enabled: None,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
) -> None:
    """The token goes while the stream is reconnecting: the refused handshake itself makes
    the integration ask right away."""
    fake = await start_dashboard(clock, "v2")
    entry = make_entry(fake)
    try:
        await setup_entry(entry)
        coordinator = _coordinator(hass)
        await wait_for(lambda: coordinator.stream_connected)
        # A network blip: the stream closes, the request made then still succeeds.
        polled = fake.requests[SERVER]
        await fake.drop_streams()
        await wait_for(lambda: fake.requests[SERVER] == polled + 1, 5.0)
        await wait_for(lambda: not coordinator.stream_connected)
        assert coordinator.last_update_success
        assert not _reauth_started(hass)

        # Deleted before the reconnect (1-2 s of back-off): the next handshake gets 401.
        del fake.personal_tokens[V2_TOKEN]
        await wait_for(lambda: _reauth_started(hass), 5.0)
        assert fake.requests[STREAM] >= 2
        assert fake.requests[SERVER] == polled + 2
        # Refused from then on: no further request until the user re-authenticates.
        await asyncio.sleep(2.5)
        assert fake.requests[SERVER] == polled + 2
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await fake.stop()


async def test_dashboard_restart_passes_quietly(
    hass: HomeAssistant,
    clock: Clock,
    socket_enabled: None,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
) -> None:
    """The dashboard restarts in a second: nothing turns unavailable meanwhile; the
    reconnected stream shows what the new process knows (nobody has reported to it yet),
    and the server comes online with its agent's next report."""
    fake = await start_dashboard(clock, "v2")
    entry = make_entry(fake)
    try:
        await setup_entry(entry)
        coordinator = _coordinator(hass)
        await wait_for(lambda: coordinator.stream_connected)
        assert hass.states.get(ONLINE).state == STATE_ON
        unavailable: list[str] = []

        @callback
        def _record(event: Event) -> None:
            if (new := event.data["new_state"]) is not None and new.state == STATE_UNAVAILABLE:
                unavailable.append(event.data["entity_id"])

        unsub = hass.bus.async_listen(EVENT_STATE_CHANGED, _record)
        await fake.go_down()
        await wait_for(lambda: not coordinator.stream_connected, 5.0)
        await asyncio.sleep(1)
        fake.restart()
        await fake.come_back()
        await wait_for(lambda: coordinator.stream_connected, 5.0)
        await wait_for(lambda: hass.states.get(ONLINE).state == STATE_OFF, 5.0)
        assert hass.states.get(CPU).state == STATE_UNAVAILABLE
        fake.agent_reconnect(1)
        await wait_for(lambda: hass.states.get(ONLINE).state == STATE_ON, 5.0)
        unsub()
        # Only the live readings of the server that had not reported yet, never the rest.
        assert set(unavailable) <= {
            entity_id for entity_id in hass.states.async_entity_ids() if "server1" in entity_id
        }
        assert ONLINE not in unavailable
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await fake.stop()
