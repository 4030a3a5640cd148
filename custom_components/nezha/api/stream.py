"""The policy of the v1/v2 server stream: when to reconnect, and which frames to hand over.

The client holds the websocket (``NezhaClient.listen``); this module decides. The dashboard
sends a frame every 2 s. Online changes must reach the listener at once, while numbers need
not come faster than its interval: a frame is read in full (built into models) only when it
is the first, the interval is over, or who is listed or online changed — which its clock and
each server's last report tell at a fraction of the cost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
import random
import time
from typing import Final

from .models import in_tags

# Frames come every 2 s: silence this long means the stream is dead even if TCP is not.
RECEIVE_TIMEOUT: Final = 10.0
BACKOFF_MIN: Final = 1.0
BACKOFF_MAX: Final = 300.0
# A connection that delivered frames this long resets the back-off.
STABLE_AFTER: Final = 30.0


def backoff_delay(attempt: int, rng: random.Random) -> float:
    """Exponential back-off with full jitter in its upper half: 1, 2, 4, ... 300 s."""
    ceiling = min(BACKOFF_MAX, BACKOFF_MIN * 2**attempt)
    delay: float = ceiling * rng.uniform(0.5, 1.0)
    return delay


@dataclass(frozen=True, slots=True)
class Watch:
    """What a listener wants delivered.

    Numbers at most every ``interval`` seconds, online changes at once (judged by
    ``online_threshold``), for the servers with any of ``tags`` (all when empty).
    """

    interval: float
    online_threshold: float
    tags: frozenset[str] = frozenset()


class FrameGate:
    """Tells which frames are due, from their clock and each server's last report."""

    def __init__(self, watch: Watch) -> None:
        """Nothing handed over yet: the first frame is due."""
        self._watch = watch
        self._handed_at: float | None = None
        self._listed: set[int] = set()
        self._online: set[int] = set()

    def due(
        self,
        now: datetime,
        activity: Mapping[int, datetime | None],
        groups: Mapping[int, tuple[str, ...]],
    ) -> bool:
        """Whether this frame must be read in full; if so it counts as handed over."""
        watch = self._watch
        listed = {key for key in activity if in_tags(watch.tags, groups.get(key, ()))}
        online = {
            key
            for key in listed
            if (last := activity[key]) is not None
            and (now - last).total_seconds() <= watch.online_threshold
        }
        clock = time.monotonic()
        if (
            self._handed_at is not None
            and clock - self._handed_at < watch.interval
            and listed == self._listed
            and online == self._online
        ):
            return False
        self._handed_at, self._listed, self._online = clock, listed, online
        return True
