"""Home Assistant's cap on enabled entities per entry, shared fairly between servers.

Home Assistant adds at most 10000 enabled entities per config entry and silently drops the
rest, which a dashboard of a few hundred servers reaches. When new entities would not fit,
the servers chosen for *full detail* (an option, by tag or group) get all their entities
first; every other server then gets the same share of what is left, its entities in
priority order (the descriptions'). What does not fit is not created at all: a registry of
entities that could never be enabled would only slow Home Assistant down. The share is worked
out again at each reload, e.g. after the options change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY

from .api import Server
from .const import LOGGER
from .repairs import async_set_issue

if TYPE_CHECKING:
    from .coordinator import NezhaConfigEntry


class Candidate(Protocol):
    """An entity to add, or what is known of it before it is built.

    A large fleet's first setup weighs tens of thousands, most of which may not fit.
    """

    @property
    def unique_id(self) -> str | None:
        """Its unique id."""

    @property
    def entity_registry_enabled_default(self) -> bool:
        """Whether its description enables it."""

    @property
    def priority(self) -> int:
        """Its rank: lower stays enabled first."""


@dataclass(frozen=True, slots=True)
class Pending[DescriptionT: EntityDescription]:
    """A server entity before it is built: what the budget needs to know of it.

    Only what fits is built, a chunk at a time (entity objects cost more than this).
    """

    server: Server
    description: DescriptionT
    unique_id: str
    priority: int

    @property
    def entity_registry_enabled_default(self) -> bool:
        """Whether its description enables it."""
        return self.description.entity_registry_enabled_default


@dataclass(frozen=True, slots=True)
class Deferred[EntityT: Entity]:
    """An entity of another kind (a service, a cycle figure) before it is built."""

    unique_id: str
    priority: int
    entity_registry_enabled_default: bool
    build: Callable[[], EntityT]


# Room kept under the cap for the dashboard's own and the service monitors' entities.
ENTITY_RESERVE = 200


def fit_budget[CandidateT: Candidate](
    entry: NezhaConfigEntry,
    domain: str,
    groups: Mapping[int, Sequence[CandidateT]],
    elsewhere: Callable[[int], str] | None = None,
    detailed: Collection[int] = (),
) -> list[CandidateT]:
    """The entities of ``groups`` (new ones, per server) that fit, in the order given.

    ``elsewhere`` gives the unique id of the one entity each server has on another platform
    (its online sensor), whose place counts in the share whichever platform weighs first;
    ``detailed`` are the groups (servers) chosen for full detail. Entities already registered
    keep whatever the user or an earlier setup chose, and always count.
    """
    steps = _fit(entry, domain, groups, elsewhere, detailed)
    while (fitting := _step(steps)) is None:
        pass
    return fitting


async def async_fit_budget[CandidateT: Candidate](
    entry: NezhaConfigEntry,
    domain: str,
    groups: Mapping[int, Sequence[CandidateT]],
    elsewhere: Callable[[int], str] | None = None,
    detailed: Collection[int] = (),
) -> list[CandidateT]:
    """``fit_budget``, letting the event loop run between batches of servers.

    A whole fleet's first setup weighs a hundred thousand candidates: in one step that would
    hold Home Assistant for a few hundred milliseconds.
    """
    steps = _fit(entry, domain, groups, elsewhere, detailed)
    while True:
        if (fitting := _step(steps)) is not None:
            return fitting
        await asyncio.sleep(0)


def _step[CandidateT: Candidate](
    steps: Generator[None, None, list[CandidateT]],
) -> list[CandidateT] | None:
    """One batch of ``_fit``: what fits once it is done, else None."""
    try:
        next(steps)
    except StopIteration as done:
        fitting: list[CandidateT] = done.value
        return fitting
    return None


# Groups (servers) weighed between two yields of ``_fit``: a few milliseconds of work.
FIT_BATCH = 200


def _fit[CandidateT: Candidate](
    entry: NezhaConfigEntry,
    domain: str,
    groups: Mapping[int, Sequence[CandidateT]],
    elsewhere: Callable[[int], str] | None,
    detailed: Collection[int],
) -> Generator[None, None, list[CandidateT]]:
    """The work of ``fit_budget``; it yields after each ``FIT_BATCH`` groups of a pass."""
    hass = entry.runtime_data.coordinator.hass
    registry = er.async_get(hass)
    known, enabled_ids = _registrations(entry, registry, domain)
    promised = entry.runtime_data.budget_promised
    slots_elsewhere = 0 if elsewhere is None else 1
    yield
    registered: set[int] = set()
    enabled: dict[int, list[CandidateT]] = {}
    for done, (key, entities) in enumerate(groups.items(), 1):
        waiting: list[CandidateT] = []
        for entity in entities:
            if entity.unique_id in known:
                registered.add(id(entity))
            elif entity.entity_registry_enabled_default:
                waiting.append(entity)
        waiting.sort(key=lambda entity: entity.priority)
        enabled[key] = waiting
        if done % FIT_BATCH == 0:
            yield
    room = MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY - ENTITY_RESERVE - len(enabled_ids) - len(promised)
    if elsewhere is not None:
        # Places elsewhere already given are in the room's count and in each share: once.
        room += sum(
            1
            for key, entities in enabled.items()
            if entities and ((uid := elsewhere(key)) in enabled_ids or uid in promised)
        )
    wanted = sum(len(entities) + slots_elsewhere for entities in enabled.values() if entities)
    if wanted <= room:
        promised.update(
            entity.unique_id
            for entities in enabled.values()
            for entity in entities
            if entity.unique_id
        )
        return [entity for entities in groups.values() for entity in entities]
    # In the same step as the room: no other platform's weighing sees it before the promise.
    whole = _share(enabled, registered, promised, room, slots_elsewhere, detailed)
    yield
    added: list[CandidateT] = []
    dropped = 0
    for done, (key, entities) in enumerate(groups.items(), 1):
        for entity in entities:
            # Disabled ones only beside a whole set: enabling one would not fit otherwise.
            if id(entity) in registered or (
                key in whole and not entity.entity_registry_enabled_default
            ):
                added.append(entity)
            else:
                dropped += 1
        if done % FIT_BATCH == 0:
            yield
    # Actionable and lasting (until the options change): a repair rather than a log warning
    # at every start-up of a large fleet.
    LOGGER.info(
        "%s: %s %s entities over the entity cap are not created", entry.title, dropped, domain
    )
    async_set_issue(
        hass,
        entry,
        "entity_cap",
        True,
        limit=str(MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY),
    )
    return added


def _registrations(
    entry: NezhaConfigEntry, registry: er.EntityRegistry, domain: str
) -> tuple[set[str], set[str]]:
    """The unique ids the entry registered in ``domain``, and those of all that are enabled.

    One pass over the entry's registrations rather than a registry lookup per candidate.
    Places given earlier (``budget_promised``) stop counting apart once registered: the
    platforms weigh at the same time, and the registry alone lags behind their chunked adds.
    """
    known: set[str] = set()
    registered: set[str] = set()
    enabled: set[str] = set()
    for item in registry.entities.get_entries_for_config_entry_id(entry.entry_id):
        registered.add(item.unique_id)
        if item.disabled_by is None:
            enabled.add(item.unique_id)
        if item.domain == domain:
            known.add(item.unique_id)
    entry.runtime_data.budget_promised -= registered
    return known, enabled


def _share[CandidateT: Candidate](
    enabled: Mapping[int, Sequence[CandidateT]],
    fitting: set[int],
    promised: set[str],
    room: int,
    slots_elsewhere: int,
    detailed: Collection[int],
) -> set[int]:
    """Give enabled entities their slots; return the groups that fit whole.

    The ids of those given a slot join ``fitting``, their unique ids ``promised``.
    """
    full = [key for key in enabled if key in detailed and enabled[key]]
    shared = [key for key in enabled if key not in detailed and enabled[key]]
    room_full = sum(len(enabled[key]) + slots_elsewhere for key in full)
    # No server chosen for full detail (or room for all of them): the others share what is left.
    if not full or room_full <= room:
        share_full = None  # all of them
        left = max(0, room - room_full)
    else:
        share_full = max(0, room // len(full) - slots_elsewhere)
        left = 0
    share = max(0, left // len(shared) - slots_elsewhere) if shared else 0
    whole: set[int] = set()
    for key in full + shared:
        limit = share_full if key in detailed else share
        chosen = enabled[key] if limit is None else enabled[key][:limit]
        fitting.update(id(entity) for entity in chosen)
        promised.update(entity.unique_id for entity in chosen if entity.unique_id)
        if len(chosen) == len(enabled[key]):
            whole.add(key)
    return whole
