"""The live stream's policy (v1/v2): back-off, when it resets, and the cheap reading of frames."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random

from aiohttp import ClientSession, web
from hypothesis import given, settings, strategies as st
import pytest

from custom_components.nezha.api import (
    DashboardFlavor,
    NezhaClient,
    NezhaError,
    stream as stream_module,
)
from custom_components.nezha.api.stream import BACKOFF_MAX, Watch, backoff_delay
from custom_components.nezha.api.v1v2 import parse_frame, parse_frame_activity
from tests.helpers import V2_TOKEN, Clock, start_dashboard, wait_for


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    rng = random.Random(1)  # noqa: S311 - a seeded test of the jitter
    delays = [backoff_delay(attempt, rng) for attempt in range(12)]
    for attempt, delay in enumerate(delays):
        ceiling = min(BACKOFF_MAX, 2**attempt)
        assert ceiling / 2 <= delay <= ceiling
    assert len(set(delays)) == len(delays)


@pytest.mark.parametrize(
    ("stable_after", "expected"),
    [
        pytest.param(30.0, [0, 1, 2, 3], id="never_stable"),
        pytest.param(0.0, [0, 0, 0, 0], id="stable_at_once"),
    ],
)
async def test_backoff_resets_only_after_a_stable_connection(
    clock: Clock,
    socket_enabled: None,
    monkeypatch: pytest.MonkeyPatch,
    stable_after: float,
    expected: list[int],
) -> None:
    """A stream that closes right after its first frame (or a bad one) keeps backing off."""
    fake = await start_dashboard(clock, "v2")

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
    # A session of its own, closed before the dashboard stops.
    async with ClientSession() as session:
        client = NezhaClient(session, fake.url, V2_TOKEN, flavor=DashboardFlavor.V2)
        task = asyncio.get_running_loop().create_task(
            client.listen(lambda _: None, lambda _: None, Watch(30, 30))
        )
        try:
            await wait_for(lambda: len(attempts) >= 4)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    await fake.stop()
    assert attempts[:4] == expected
    assert connections >= 4


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
