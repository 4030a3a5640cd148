"""The live server stream of v1/v2 dashboards (``GET /api/v1/ws/server``).

The dashboard sends one text frame every 2 s and a ping every 4 frames; it never reads what
the client sends. Credentials travel in the ``Authorization`` header of the handshake, never
in the URL. No ``Origin`` header is sent: the dashboard accepts that, and a wrong one is refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
import logging
import random
import time
from typing import Final

import aiohttp
import orjson

from . import v1v2
from .client import STREAM_PATH, NezhaClient, offload
from .errors import NezhaAuthError, NezhaError
from .models import Server

_LOGGER = logging.getLogger(__name__)

# Frames come every 2 s: silence this long means the stream is dead even if TCP is not.
RECEIVE_TIMEOUT: Final = 10.0
BACKOFF_MIN: Final = 1.0
BACKOFF_MAX: Final = 300.0
# A connection that delivered frames this long resets the back-off.
STABLE_AFTER: Final = 30.0

type FrameCallback = Callable[[datetime, dict[int, Server]], None]
# Given a frame's clock and each server's last report: whether the full frame is wanted.
type DueCallback = Callable[[datetime, dict[int, datetime | None]], bool]
# True when frames start to arrive; False when they stop or the handshake is refused.
type StateCallback = Callable[[bool], None]


def backoff_delay(attempt: int, rng: random.Random) -> float:
    """Exponential back-off with full jitter in its upper half: 1, 2, 4, ... 300 s."""
    ceiling = min(BACKOFF_MAX, BACKOFF_MIN * 2**attempt)
    delay: float = ceiling * rng.uniform(0.5, 1.0)
    return delay


class NezhaStream:
    """Holds one websocket to the dashboard and hands every frame over as models."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        client: NezhaClient,
        on_frame: FrameCallback,
        on_state: StateCallback,
        *,
        is_due: DueCallback = lambda _, __: True,
        receive_timeout: float = RECEIVE_TIMEOUT,
        rng: random.Random | None = None,
    ) -> None:
        """Prepare the stream; ``run`` connects."""
        self._session = session
        self._client = client
        self._on_frame = on_frame
        self._on_state = on_state
        self._is_due = is_due
        self._receive_timeout = receive_timeout
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy
        self.connected = False
        self.connects = 0
        # When the current connection delivered its first frame (monotonic), if it did.
        self._delivering_since: float | None = None

    async def run(self) -> None:
        """Connect, read frames, and reconnect with back-off until cancelled."""
        attempt = 0
        while True:
            self._delivering_since = None
            refused = False
            try:
                await self._run_once()
            except (aiohttp.WSServerHandshakeError, NezhaAuthError) as err:
                # The dashboard answered and said no: a deleted token closes the stream and
                # refuses the next handshake (401) at once.
                refused = True
                _LOGGER.debug(
                    "Server stream of %s refused: %s", self._client.url, type(err).__name__
                )
            except (aiohttp.ClientError, TimeoutError, NezhaError, ValueError) as err:
                _LOGGER.debug(
                    "Server stream of %s failed: %s", self._client.url, type(err).__name__
                )
            since = self.delivering_since()
            if since is not None and time.monotonic() - since >= STABLE_AFTER:
                # Only a connection that carried frames for a while earns a quick reconnect;
                # one that breaks right after its first frame keeps backing off.
                attempt = 0
            if self.connected or refused:
                # Either is news the owner acts on at once, rather than at its next poll.
                self.connected = False
                self._on_state(False)
            delay = backoff_delay(attempt, self._rng)
            attempt += 1
            _LOGGER.debug("Reconnecting the server stream in %.1f s", delay)
            await asyncio.sleep(delay)

    async def _run_once(self) -> None:
        """One connection, until it closes or fails."""
        headers = await self._client.async_stream_headers()
        async with self._session.ws_connect(
            self._client.api_url(STREAM_PATH),
            headers=headers,
            timeout=aiohttp.ClientWSTimeout(ws_receive=self._receive_timeout),
            autoping=True,
            max_msg_size=64 * 1024 * 1024,
        ) as ws:
            self.connects += 1
            async for message in ws:
                if message.type is not aiohttp.WSMsgType.TEXT:
                    break
                size = len(message.data)
                data = await offload(size, orjson.loads, message.data)
                now, activity = v1v2.parse_frame_activity(data)
                if self._delivering_since is None:
                    self._delivering_since = time.monotonic()
                if not self.connected:
                    self.connected = True
                    self._on_state(True)
                if self._is_due(now, activity):
                    now, servers = await offload(size, v1v2.parse_frame, data, self._client.groups)
                    self._on_frame(now, servers)

    def delivering_since(self) -> float | None:
        """When the current (or last) connection delivered its first frame, if it did."""
        return self._delivering_since
