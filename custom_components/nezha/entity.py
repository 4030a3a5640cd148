"""Base entities: one device per server, under a device for the dashboard."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from homeassistant.core import callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import (
    MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY,
    AddConfigEntryEntitiesCallback,
)
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .api import CycleUsage, Server, Service, TrafficCycle
from .const import DOMAIN, LOGGER, MANUFACTURER
from .coordinator import (
    NezhaConfigEntry,
    NezhaDataUpdateCoordinator,
    NezhaServicesCoordinator,
)

# Room kept under Home Assistant's cap on enabled entities per entry for the dashboard's own
# and the service monitors' entities.
ENTITY_RESERVE = 200


def fit_entity_budget(
    entry: NezhaConfigEntry,
    domain: str,
    groups: dict[int, list[Entity]],
    slots_elsewhere: int = 0,
) -> int:
    """Start entities disabled where Home Assistant's cap would refuse them; the count.

    Home Assistant adds at most 10000 enabled entities per config entry and drops the rest,
    which a dashboard of a few hundred servers reaches. So when new entities would not fit,
    every group (a server) gets the same share, its first entities (in priority order)
    enabled and the rest disabled, which the user can enable one by one. ``slots_elsewhere``
    is what each group takes on another platform (the online binary sensor).
    """
    registry = er.async_get(entry.runtime_data.coordinator.hass)
    fresh = {
        key: [
            entity
            for entity in entities
            if entity.entity_registry_enabled_default
            and entity.unique_id is not None
            and registry.async_get_entity_id(domain, DOMAIN, entity.unique_id) is None
        ]
        for key, entities in groups.items()
    }
    fresh = {key: entities for key, entities in fresh.items() if entities}
    room = (
        MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY
        - ENTITY_RESERVE
        - registry.entities.get_enabled_count_for_config_entry_id(entry.entry_id)
    )
    wanted = sum(len(entities) for entities in fresh.values())
    if wanted + slots_elsewhere * len(fresh) <= room:
        return 0
    share = max(0, room // len(fresh) - slots_elsewhere) if fresh else 0
    disabled = 0
    for entities in fresh.values():
        for entity in entities[share:]:
            entity._attr_entity_registry_enabled_default = False  # noqa: SLF001
            disabled += 1
    LOGGER.warning(
        "%s: %s new %s entities start disabled to stay within Home Assistant's limit of %s"
        " enabled entities per integration entry; enable the ones you need",
        entry.title,
        disabled,
        domain,
        MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY,
    )
    return disabled


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
    # (available, value) as last written by a coordinator update.
    _written: tuple[bool, object] | None = None

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

    def state_value(self) -> object:
        """What the state is made of (the platform's value); read only while available."""
        raise NotImplementedError

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state only when it changed.

        A dashboard with thousands of servers refreshes tens of thousands of entities at once,
        and many readings (totals, addresses, boot time) rarely move; Home Assistant's state
        write is the bulk of a refresh's cost, so unchanged ones are skipped.
        """
        available = self.available
        current = (available, self.state_value() if available else None)
        if current == self._written:
            return
        self._written = current
        self.async_write_ha_state()


def _by_id(server: Server) -> int:
    return server.id


def async_add_server_entities[DescriptionT: EntityDescription](
    entry: NezhaConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    domain: str,
    descriptions: Iterable[DescriptionT],
    exists: Callable[[DescriptionT, Server], bool],
    factory: Callable[[NezhaDataUpdateCoordinator, Server, DescriptionT], Entity],
    slots_elsewhere: int = 0,
) -> None:
    """Add every server's entities now, and those of servers (or readings) that appear later.

    Each server keeps the descriptions it has no entity for yet, so a refresh costs one dict
    lookup per server once everything it reports has an entity. ``descriptions`` come in
    priority order: the first ones stay enabled when the entity budget is short.
    """
    coordinator = entry.runtime_data.coordinator
    all_descriptions = tuple(descriptions)
    pending: dict[int, tuple[DescriptionT, ...]] = {}

    @callback
    def _add_new() -> None:
        if not coordinator.last_update_success:
            return
        servers = coordinator.data.servers
        new: dict[int, list[Entity]] = {}
        # By id, so that servers sharing a name get the same entity ids on every install,
        # whatever order the dashboard lists them in; only servers with something to add.
        for server in sorted(
            (server for server in servers.values() if pending.get(server.id, all_descriptions)),
            key=_by_id,
        ):
            waiting = pending.get(server.id, all_descriptions)
            if not waiting:
                continue
            still_waiting: list[DescriptionT] = []
            for description in waiting:
                if exists(description, server):
                    new.setdefault(server.id, []).append(factory(coordinator, server, description))
                else:
                    still_waiting.append(description)
            pending[server.id] = tuple(still_waiting)
        if len(pending) > len(servers):
            # A server that left loses its device (and entities); forget it so that it
            # comes back whole if it returns.
            for server_id in pending.keys() - servers.keys():
                del pending[server_id]
        if new:
            fit_entity_budget(entry, domain, new, slots_elsewhere)
            async_add_entities([entity for entities in new.values() for entity in entities])

    _add_new()
    entry.async_on_unload(coordinator.async_add_listener(_add_new))


class NezhaServiceEntity(CoordinatorEntity[NezhaServicesCoordinator]):
    """An entity of one service monitor, on a device of its own under the dashboard."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: NezhaServicesCoordinator,
        service: Service,
        description: EntityDescription,
    ) -> None:
        """Attach the entity to its service's device."""
        super().__init__(coordinator)
        self.entity_description = description
        self.service_id = service.id
        entry = coordinator.config_entry
        self._attr_unique_id = f"{entry.entry_id}_service_{service.id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, f"{entry.entry_id}_service_{service.id}")},
            name=service.name,
            manufacturer=MANUFACTURER,
            model="Service monitor",
            entry_type=DeviceEntryType.SERVICE,
            configuration_url=entry.runtime_data.client.url + "/service",
            via_device_id=entry.runtime_data.dashboard_device_id,
        )

    @property
    def service(self) -> Service:
        """This entity's service; only called while available."""
        return self.coordinator.data.services[self.service_id]

    @property
    def available(self) -> bool:
        """Available while the dashboard answers and still lists the service."""
        return super().available and self.service_id in self.coordinator.data.services


class NezhaCycleEntity(CoordinatorEntity[NezhaServicesCoordinator]):
    """A figure of one traffic rule's current cycle, on the server's device."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: NezhaServicesCoordinator,
        cycle: TrafficCycle,
        server_id: int,
        description: EntityDescription,
    ) -> None:
        """Attach the entity to the server it accounts for; the rule's name is in its own."""
        super().__init__(coordinator)
        self.entity_description = description
        self.cycle_id = cycle.id
        self.server_id = server_id
        entry = coordinator.config_entry
        self._attr_unique_id = f"{entry.entry_id}_{server_id}_cycle_{cycle.id}_{description.key}"
        self._attr_translation_placeholders = {"rule": cycle.name}
        self._attr_device_info = DeviceInfo(
            identifiers={server_device_identifier(entry, server_id)}
        )

    @property
    def cycle(self) -> TrafficCycle:
        """This entity's traffic rule; only called while available."""
        return self.coordinator.data.cycles[self.cycle_id]

    @property
    def usage(self) -> CycleUsage:
        """This server's use of the cycle; only called while available."""
        return self.cycle.usage[self.server_id]

    @property
    def available(self) -> bool:
        """Available while the rule still covers the server."""
        if not super().available:
            return False
        cycle = self.coordinator.data.cycles.get(self.cycle_id)
        return cycle is not None and self.server_id in cycle.usage


def async_add_service_entities[ServiceT: EntityDescription, CycleT: EntityDescription](
    entry: NezhaConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    domain: str,
    service_descriptions: Iterable[ServiceT],
    service_factory: Callable[[NezhaServicesCoordinator, Service, ServiceT], Entity],
    cycle_descriptions: Iterable[CycleT] = (),
    cycle_factory: Callable[[NezhaServicesCoordinator, TrafficCycle, int, CycleT], Entity]
    | None = None,
    cycle_exists: Callable[[CycleT, TrafficCycle], bool] = lambda _, __: True,
) -> None:
    """Add entities for service monitors and traffic cycles as the dashboard reports them.

    Cycle entities join a server's device only while that server has one; entities of a rule
    that no longer covers a server are removed, so nothing is left unavailable for good.
    """
    services = entry.runtime_data.services
    if services is None:
        return
    servers = entry.runtime_data.coordinator
    service_descriptions = tuple(service_descriptions)
    cycle_descriptions = tuple(cycle_descriptions)
    known_services: set[int] = set()
    known_cycles: dict[tuple[int, int], list[str]] = {}

    @callback
    def _add_new() -> None:
        if not services.last_update_success or services.data is None:
            return
        new: dict[int, list[Entity]] = {}
        for service in services.data.services.values():
            if service.id not in known_services:
                known_services.add(service.id)
                new[-service.id] = [
                    service_factory(services, service, d) for d in service_descriptions
                ]
        known_services.intersection_update(services.data.services)
        if cycle_factory is not None:
            present: set[tuple[int, int]] = set()
            for cycle in services.data.cycles.values():
                for server_id in cycle.usage:
                    pair = (cycle.id, server_id)
                    present.add(pair)
                    if pair in known_cycles or server_id not in servers.data.servers:
                        continue
                    entities = [
                        cycle_factory(services, cycle, server_id, d)
                        for d in cycle_descriptions
                        if cycle_exists(d, cycle)
                    ]
                    known_cycles[pair] = [e.unique_id for e in entities if e.unique_id]
                    new.setdefault(server_id, []).extend(entities)
            _remove_gone(known_cycles, present)
        if new:
            fit_entity_budget(entry, domain, new)
            async_add_entities([entity for entities in new.values() for entity in entities])

    @callback
    def _remove_gone(
        known: dict[tuple[int, int], list[str]], present: set[tuple[int, int]]
    ) -> None:
        registry = er.async_get(services.hass)
        for pair in known.keys() - present:
            for unique_id in known.pop(pair):
                # Cycle figures are sensors only.
                if entity_id := registry.async_get_entity_id("sensor", DOMAIN, unique_id):
                    registry.async_remove(entity_id)

    _add_new()
    entry.async_on_unload(services.async_add_listener(_add_new))
