"""Base entities: one device per server, under a device for the dashboard."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .api import Server
from .const import DOMAIN, MANUFACTURER
from .coordinator import NezhaConfigEntry, NezhaDataUpdateCoordinator


def server_device_identifier(entry: NezhaConfigEntry, server_id: int) -> tuple[str, str]:
    """The device-registry identifier of one server."""
    return (DOMAIN, f"{entry.entry_id}_{server_id}")


def server_device_info(entry: NezhaConfigEntry, server: Server) -> DeviceInfo:
    """Device facts of a server, as the dashboard reports them."""
    host = server.host
    model = " ".join(part for part in (host.platform, host.platform_version) if part)
    return DeviceInfo(
        identifiers={server_device_identifier(entry, server.id)},
        name=server.name,
        manufacturer=MANUFACTURER,
        model=model or None,
        sw_version=host.agent_version or None,
        hw_version=host.arch or None,
        configuration_url=entry.runtime_data.client.server_page_url(server.id),
        via_device_id=entry.runtime_data.dashboard_device_id,
    )


class NezhaEntity(CoordinatorEntity[NezhaDataUpdateCoordinator]):
    """An entity of the dashboard device itself."""

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: NezhaDataUpdateCoordinator, description: EntityDescription
    ) -> None:
        """Attach the entity to the dashboard device."""
        super().__init__(coordinator)
        self.entity_description = description
        entry = coordinator.config_entry
        self._attr_unique_id = f"{entry.entry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, entry.entry_id)})


class NezhaServerEntity(CoordinatorEntity[NezhaDataUpdateCoordinator]):
    """An entity of one server; it reads its server by id from the latest snapshot."""

    _attr_has_entity_name = True
    # Metrics that are meaningless while the agent is silent are unavailable then.
    _live = True

    def __init__(
        self,
        coordinator: NezhaDataUpdateCoordinator,
        server: Server,
        description: EntityDescription,
    ) -> None:
        """Attach the entity to its server's device."""
        super().__init__(coordinator)
        self.entity_description = description
        self.server_id = server.id
        entry = coordinator.config_entry
        self._attr_unique_id = f"{entry.entry_id}_{server.id}_{description.key}"
        self._attr_device_info = server_device_info(entry, server)

    @property
    def server(self) -> Server:
        """This entity's server; only called while available."""
        return self.coordinator.data.servers[self.server_id]

    @property
    def available(self) -> bool:
        """Available while the dashboard answers, lists the server and, if live, it is online."""
        if not super().available or self.server_id not in self.coordinator.data.servers:
            return False
        return not self._live or self.coordinator.is_online(self.server_id)


def _by_id(server: Server) -> int:
    return server.id


def async_add_server_entities[DescriptionT: EntityDescription](
    entry: NezhaConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    descriptions: Iterable[DescriptionT],
    exists: Callable[[DescriptionT, Server], bool],
    factory: Callable[[NezhaDataUpdateCoordinator, Server, DescriptionT], Entity],
) -> None:
    """Add every server's entities now, and those of servers (or readings) that appear later.

    Each server keeps the descriptions it has no entity for yet, so a refresh costs one dict
    lookup per server once everything it reports has an entity.
    """
    coordinator = entry.runtime_data.coordinator
    all_descriptions = tuple(descriptions)
    pending: dict[int, tuple[DescriptionT, ...]] = {}

    @callback
    def _add_new() -> None:
        if not coordinator.last_update_success:
            return
        servers = coordinator.data.servers
        new: list[Entity] = []
        # By id, so that servers sharing a name get the same entity ids on every install,
        # whatever order the dashboard lists them in.
        for server in sorted(servers.values(), key=_by_id):
            waiting = pending.get(server.id, all_descriptions)
            if not waiting:
                continue
            still_waiting: list[DescriptionT] = []
            for description in waiting:
                if exists(description, server):
                    new.append(factory(coordinator, server, description))
                else:
                    still_waiting.append(description)
            pending[server.id] = tuple(still_waiting)
        if len(pending) > len(servers):
            # A server that left loses its device (and entities); forget it so that it
            # comes back whole if it returns.
            for server_id in pending.keys() - servers.keys():
                del pending[server_id]
        if new:
            async_add_entities(new)

    _add_new()
    entry.async_on_unload(coordinator.async_add_listener(_add_new))
