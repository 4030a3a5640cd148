"""Home Assistant's cap on enabled entities per entry, shared fairly between servers.

Home Assistant adds at most 10000 enabled entities per config entry and silently drops the
rest, which a dashboard of a few hundred servers reaches. When new entities would not fit,
every server gets the same share: its entities in priority order (the descriptions') are
enabled up to the share and the rest start disabled, which the user can enable one by one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY

from .const import DOMAIN, LOGGER

if TYPE_CHECKING:
    from .coordinator import NezhaConfigEntry
    from .entity import NezhaEntity

# Room kept under the cap for the dashboard's own and the service monitors' entities.
ENTITY_RESERVE = 200


def fit_budget(
    entry: NezhaConfigEntry,
    domain: str,
    groups: Mapping[int, Sequence[NezhaEntity[Any]]],
    slots_elsewhere: int = 0,
) -> list[NezhaEntity[Any]]:
    """All entities of ``groups`` (new ones, per server), those past the share disabled.

    ``slots_elsewhere`` is what each server takes on another platform (its online sensor).
    Entities already registered keep whatever the user or an earlier setup chose.
    """
    registry = er.async_get(entry.runtime_data.coordinator.hass)
    fresh = {
        key: sorted(
            (
                entity
                for entity in entities
                if entity.entity_registry_enabled_default
                and entity.unique_id is not None
                and registry.async_get_entity_id(domain, DOMAIN, entity.unique_id) is None
            ),
            key=lambda entity: entity.priority,
        )
        for key, entities in groups.items()
    }
    fresh = {key: entities for key, entities in fresh.items() if entities}
    room = (
        MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY
        - ENTITY_RESERVE
        - registry.entities.get_enabled_count_for_config_entry_id(entry.entry_id)
    )
    wanted = sum(len(entities) for entities in fresh.values())
    if wanted + slots_elsewhere * len(fresh) > room:
        share = max(0, room // len(fresh) - slots_elsewhere)
        disabled = 0
        for entities in fresh.values():
            for entity in entities[share:]:
                entity.start_disabled()
                disabled += 1
        LOGGER.warning(
            "%s: %s new %s entities start disabled to stay within Home Assistant's limit of"
            " %s enabled entities per integration entry; enable the ones you need",
            entry.title,
            disabled,
            domain,
            MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY,
        )
    return [entity for entities in groups.values() for entity in entities]
