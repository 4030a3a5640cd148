"""Paced state writes: a large fleet's refresh reaches Home Assistant in slices, at a steady pace.

Every state written is also a message to every open screen (browser, phone, wall tablet):
Home Assistant queues one per change for each websocket connection inside the step that writes
it, and closes a connection whose queue reaches 4096 messages or stays above 1024 for 10 s.
A refresh of a thousand servers changes about 9000 entities. So the coordinators do not call
these entities as listeners; a writer does, a whole server at a time (a card never shows half
a server), never more than ``SLICE`` entities in one step of the event loop:

- at once, slice after slice with a yield between, for what automations wait for (a server
  going on- or offline, appearing or leaving, the dashboard answering or not) and for a
  refresh asked for on demand;
- figures that merely moved, at a steady pace: spread over the first ``SPREAD`` of the
  period, a slice every ``TICK``, so that a thousand servers send a few hundred changes a
  second instead of all at once. What fits in ``BURST`` entities is written at once.

A server waiting for its turn is written with the data current at its turn, never older.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Collection, Iterable
import math
from typing import Final, Protocol

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

# The most entities written in one step of the event loop (each writes only if it changed).
SLICE: Final = 500
# What is written at once, without pacing: a small fleet's whole refresh.
BURST: Final = 250
# Seconds between paced slices, and the share of the period the figures are spread over
# (the rest is slack, so a refresh is written before the next one arrives).
TICK: Final = 1.0
SPREAD: Final = 0.8


class Writable(Protocol):
    """An entity that writes its state only when what it shows changed."""

    def async_write_if_changed(self) -> None:
        """Write the state if its availability or value changed since the last write."""


class PacedWriter:
    """Writes the entities of one coordinator, grouped by server, in slices and at a pace."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, period: float) -> None:
        """Spread moved figures over ``period`` seconds (the coordinator's interval)."""
        self._hass = hass
        self._entry = entry
        self._ticks = max(1, int(period * SPREAD / TICK))
        self._groups: dict[int, list[Writable]] = {}
        # Servers waiting to be written, oldest first: now, and at the pace.
        self._urgent: OrderedDict[int, None] = OrderedDict()
        self._paced: OrderedDict[int, None] = OrderedDict()
        self._quota = BURST
        # The coordinator's success at the last update, and whether the next is written at once.
        self._success = True
        self._at_once = False
        self._tick_job = HassJob(self._async_tick, cancel_on_shutdown=True)
        self._cancel_tick: CALLBACK_TYPE | None = None
        self._slicing: asyncio.Task[None] | None = None

    @property
    def keys(self) -> Collection[int]:
        """The servers that have entities to write."""
        return self._groups.keys()

    @property
    def idle(self) -> bool:
        """Whether every update taken so far has been written."""
        return not self._urgent and not self._paced

    @property
    def entity_count(self) -> int:
        """How many entities it writes."""
        return sum(len(group) for group in self._groups.values())

    @callback
    def async_add(self, key: int, entity: Writable) -> CALLBACK_TYPE:
        """Write ``entity`` with the rest of server ``key``; the returned callback stops it."""
        self._groups.setdefault(key, []).append(entity)

        @callback
        def remove() -> None:
            group = self._groups.get(key)
            if group is None or entity not in group:
                return
            group.remove(entity)
            if not group:
                del self._groups[key]
                self._urgent.pop(key, None)
                self._paced.pop(key, None)

        return remove

    @callback
    def async_write_next_at_once(self) -> None:
        """Write every server of the next update at once (a refresh asked for on demand)."""
        self._at_once = True

    @callback
    def async_update(self, success: bool, urgent: Iterable[int], moved: Iterable[int]) -> None:
        """Take one update: the ``urgent`` servers now, the ``moved`` ones at the pace.

        ``success`` is whether the coordinator's last update succeeded: when that flips,
        every entity's availability changes, and all of them are urgent.
        """
        if self._at_once or success is not self._success:
            urgent, moved = self._groups.keys(), ()
        self._success, self._at_once = success, False
        for key in urgent:
            if key in self._groups:
                self._paced.pop(key, None)
                self._urgent[key] = None
        for key in moved:
            if key in self._groups and key not in self._urgent:
                self._paced[key] = None
        groups = self._groups
        waiting = sum(len(groups[key]) for key in self._paced)
        self._quota = min(SLICE, max(BURST, math.ceil(waiting / self._ticks)))
        if self._urgent:
            # While slices are under way they go on at their pace: one slice per loop step.
            if self._slicing is None:
                self._write(self._urgent, SLICE)
            if self._urgent and self._slicing is None:
                self._slicing = self._entry.async_create_task(
                    self._hass, self._async_write_slices(), "nezha state slices"
                )
            return
        self._write(self._paced, self._quota)
        self._schedule()

    @callback
    def async_stop(self) -> None:
        """Write nothing more (the entry unloads)."""
        if self._cancel_tick is not None:
            self._cancel_tick()
            self._cancel_tick = None
        self._urgent.clear()
        self._paced.clear()

    async def _async_write_slices(self) -> None:
        """The urgent servers, a slice per step of the event loop."""
        try:
            while self._urgent:
                # Let the screens' websocket writers (and everything else) run in between.
                await asyncio.sleep(0)
                self._write(self._urgent, SLICE)
        finally:
            self._slicing = None
        self._schedule()

    @callback
    def _async_tick(self, _now: object) -> None:
        self._cancel_tick = None
        # Urgent slices own the loop's turns until they are done; they reschedule the pace.
        if self._slicing is None:
            self._write(self._paced, self._quota)
            self._schedule()

    def _schedule(self) -> None:
        if self._paced and self._cancel_tick is None:
            self._cancel_tick = async_call_later(self._hass, TICK, self._tick_job)

    def _write(self, queue: OrderedDict[int, None], limit: int) -> None:
        """Whole servers from the head of ``queue``: up to ``limit`` entities, one at least."""
        groups = self._groups
        written = 0
        while queue:
            key = next(iter(queue))
            group = groups.get(key, ())
            if written and written + len(group) > limit:
                return
            queue.popitem(last=False)
            for entity in group:
                entity.async_write_if_changed()
            written += len(group)
