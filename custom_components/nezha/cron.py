"""Scheduled tasks: each platform adds its entities for tasks as they appear on the dashboard."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from homeassistant.core import callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import CronTask
from .coordinator import NezhaConfigEntry, NezhaCronCoordinator
from .entity import NezhaEntity

type CronFactory = Callable[[NezhaCronCoordinator, CronTask], Iterable[NezhaEntity[Any]]]


@callback
def async_add_cron_entities(
    entry: NezhaConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback, make: CronFactory
) -> None:
    """Add ``make``'s entities for each task the dashboard lists, now and whenever one appears.

    A task that left loses its entities (``__init__``); forgotten here, it comes back whole.
    """
    cron = entry.runtime_data.cron
    if cron is None:
        return
    added: set[int] = set()

    @callback
    def _add() -> None:
        if not cron.last_update_success:
            return
        tasks = cron.data
        added.intersection_update(tasks)
        new = sorted(tasks.keys() - added)
        if new:
            added.update(new)
            async_add_entities([entity for task_id in new for entity in make(cron, tasks[task_id])])

    _add()
    entry.async_on_unload(cron.async_add_listener(_add))
