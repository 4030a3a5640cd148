"""Entities read from a server's public note (billing and plan): which exist, at each refresh.

A note is edited on the dashboard at any time: its entities appear when it starts to say
something, and are removed (not left unavailable) when it stops. Each platform keeps one
``NoteEntities`` for its descriptions; the note is only read again when its text changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from homeassistant.const import Platform
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity import EntityDescription

from .api import Billing, PublicNote, Server, parse_public_note
from .budget import Pending
from .const import DOMAIN
from .identifiers import server_unique_id

if TYPE_CHECKING:
    from .coordinator import NezhaConfigEntry


def server_note(server: Server) -> PublicNote:
    """What the server's public note says (parsed once per distinct text)."""
    return parse_public_note(server.public_note)


def server_billing(server: Server) -> Billing | None:
    """The billing part of the server's public note, if any."""
    return parse_public_note(server.public_note).billing


class NoteEntities[DescriptionT: EntityDescription]:
    """The note entities of one platform, per server: what appeared, what must go."""

    def __init__(
        self,
        entry: NezhaConfigEntry,
        platform: Platform,
        descriptions: Iterable[DescriptionT],
        exists: Callable[[DescriptionT, Server], bool],
        priority: Callable[[DescriptionT], int],
    ) -> None:
        """Track ``descriptions``, each of which exists for a server when ``exists`` says so."""
        self._entry = entry
        self._platform = platform
        self._descriptions = tuple(descriptions)
        self._exists = exists
        self._priority = priority
        # Per server: the note last looked at, and the descriptions that have an entity.
        self._notes: dict[int, str] = {}
        self._built: dict[int, frozenset[str]] = {}

    def pending(
        self, servers: Mapping[int, Server], server_ids: Iterable[int] | None = None
    ) -> dict[int, list[Pending[DescriptionT]]]:
        """The note entities that appeared, by server; those whose part went are removed.

        Only ``server_ids`` are looked at when given (a fleet's setup goes a batch at a
        time). Servers that left are forgotten (their device goes with them, see __init__.py).
        """
        for server_id in self._notes.keys() - servers.keys():
            del self._notes[server_id]
            self._built.pop(server_id, None)
        registry: er.EntityRegistry | None = None
        entry_id = self._entry.entry_id
        new: dict[int, list[Pending[DescriptionT]]] = {}
        for server_id in servers if server_ids is None else server_ids:
            server = servers[server_id]
            note = server.public_note
            if self._notes.get(server_id) == note:
                continue
            self._notes[server_id] = note
            built = self._built.get(server_id, frozenset())
            wanted = frozenset(d.key for d in self._descriptions if self._exists(d, server))
            self._built[server_id] = wanted
            for key in built - wanted:
                registry = registry or er.async_get(self._entry.runtime_data.coordinator.hass)
                if entity_id := registry.async_get_entity_id(
                    self._platform, DOMAIN, server_unique_id(entry_id, server_id, key)
                ):
                    registry.async_remove(entity_id)
            if appeared := [d for d in self._descriptions if d.key in wanted - built]:
                new[server_id] = [
                    Pending(
                        server,
                        d,
                        server_unique_id(entry_id, server_id, d.key),
                        self._priority(d),
                    )
                    for d in appeared
                ]
        return new
