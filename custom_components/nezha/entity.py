"""The base entity, and what each kind of entity belongs to.

``NezhaEntity`` holds what every entity shares (description, unique id, device, a place in
Home Assistant's entity budget); one thin subclass per kind says which device it is on and
when it is available: the dashboard itself, a server, a service monitor, or a traffic cycle
counted on a server's device. Platforms give the values and add entities for what appears.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import batched
from typing import Any, Final

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import (
    BaseCoordinatorEntity,
    CoordinatorEntity,
    DataUpdateCoordinator,
)

from .api import CronTask, CycleUsage, Server, Service, TrafficCycle
from .const import MANUFACTURER
from .coordinator import (
    NezhaConfigEntry,
    NezhaCronCoordinator,
    NezhaDataUpdateCoordinator,
    NezhaServicesCoordinator,
)
from .identifiers import (
    cron_unique_id,
    cycle_unique_id,
    dashboard_device,
    dashboard_unique_id,
    server_device,
    server_unique_id,
    service_device,
    service_unique_id,
)
from .writer import PacedWriter


@dataclass(frozen=True, kw_only=True)
class NezhaDescriptionMixin:
    """What the integration adds to Home Assistant's descriptions."""

    # Where the entity stands when Home Assistant's cap on enabled entities is near (see
    # budget.py): lower stays enabled first.
    priority: int = 0


def description_priority(description: EntityDescription) -> int:
    """Rank in the entity budget: the description's, or first when it has none."""
    return description.priority if isinstance(description, NezhaDescriptionMixin) else 0


class NezhaEntity[CoordinatorT: DataUpdateCoordinator[Any]](CoordinatorEntity[CoordinatorT]):
    """Description, unique id and device of one entity."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: CoordinatorT,
        description: EntityDescription,
        unique_id: str,
        device_info: DeviceInfo,
    ) -> None:
        """Attach the entity to its device."""
        super().__init__(coordinator)
        self.entity_description = description
        self._attr_unique_id = unique_id
        self._attr_device_info = device_info

    @property
    def priority(self) -> int:
        """Rank in the entity budget (the description's)."""
        return description_priority(self.entity_description)

    def _follow_name(self, key: str, name: str) -> bool:
        """Take the dashboard's new name of what the entity reads into its default name.

        Home Assistant caches the name made from the placeholders: the placeholders' setter
        drops its own cache, not the name's, so that goes too. The next state write updates
        the registry's original name and the friendly name; a name the user set is kept.
        """
        if self._attr_translation_placeholders.get(key) == name:
            return False
        self._attr_translation_placeholders = {key: name}
        self.__dict__.pop("name", None)
        return True


class NezhaListedEntity[CoordinatorT: DataUpdateCoordinator[Any]](NezhaEntity[CoordinatorT]):
    """An entity of something the dashboard lists (a service, a traffic rule, a task)."""

    def listed(self) -> bool:
        """Whether the dashboard's last answer still lists what this entity reads."""
        raise NotImplementedError

    @property
    def available(self) -> bool:
        """Available while the dashboard answers and still lists it."""
        return super().available and self.listed()


class NezhaDashboardEntity(NezhaEntity[NezhaDataUpdateCoordinator]):
    """An entity of the dashboard's own device."""

    def __init__(
        self, coordinator: NezhaDataUpdateCoordinator, description: EntityDescription
    ) -> None:
        """Attach the entity to the dashboard device."""
        entry_id = coordinator.config_entry.entry_id
        super().__init__(
            coordinator,
            description,
            dashboard_unique_id(entry_id, description.key),
            DeviceInfo(identifiers={dashboard_device(entry_id)}),
        )


def server_device_info(entry: NezhaConfigEntry, server: Server) -> DeviceInfo:
    """Device facts of a server, as the dashboard reports them."""
    host = server.host
    model = " ".join(part for part in (host.platform, host.platform_version) if part)
    return DeviceInfo(
        identifiers={server_device(entry.entry_id, server.id)},
        name=server.name,
        manufacturer=MANUFACTURER,
        model=model or None,
        sw_version=host.agent_version or None,
        hw_version=host.arch or None,
        configuration_url=entry.runtime_data.client.server_page_url(server.id),
        via_device_id=entry.runtime_data.dashboard_device_id,
    )


class NezhaPacedEntity[CoordinatorT: NezhaDataUpdateCoordinator | NezhaServicesCoordinator](
    NezhaEntity[CoordinatorT]
):
    """An entity of a server that the coordinator's writer writes, with the server's others.

    A large fleet changes thousands of these per refresh; the writer spreads them over loop
    steps and over time (writer.py), and each writes only what changed.
    """

    server_id: int
    # Availability and value as last written (two attributes rather than a tuple: no
    # allocation per entity and refresh).
    _written_available: bool | None = None
    _written_value: object = None

    @property
    def _writer(self) -> PacedWriter:
        return self.coordinator.writer

    async def async_added_to_hass(self) -> None:
        """Join the writer of this server instead of listening to the coordinator."""
        # Skips BaseCoordinatorEntity's step only: it would make this a coordinator listener.
        await super(BaseCoordinatorEntity, self).async_added_to_hass()
        self.async_on_remove(self._writer.async_add(self.server_id, self))

    async def async_update(self) -> None:
        """A refresh asked for on demand is written at once, not at the pace."""
        self._writer.async_write_next_at_once()
        await super().async_update()

    def state_value(self) -> object:
        """What the state is made of (the platform's value); read only while available."""
        raise NotImplementedError

    @callback
    def async_write_if_changed(self) -> None:
        """Write the state only when it changed.

        Many readings (totals, addresses, boot time) rarely move, and Home Assistant's state
        write is the bulk of a refresh's cost: unchanged ones are skipped.
        """
        available = self.available
        value = self.state_value() if available else None
        if available is self._written_available and value == self._written_value:
            return
        self._written_available = available
        self._written_value = value
        self.async_write_ha_state()


class NezhaServerEntity(NezhaPacedEntity[NezhaDataUpdateCoordinator]):
    """An entity of one server; it reads its server by id from the latest snapshot."""

    # Metrics that are meaningless while the agent is silent are unavailable then.
    _live = True

    def __init__(
        self,
        coordinator: NezhaDataUpdateCoordinator,
        server: Server,
        description: EntityDescription,
        device_info: DeviceInfo | None = None,
    ) -> None:
        """Attach the entity to its server's device (``device_info`` shared by its siblings)."""
        entry = coordinator.config_entry
        super().__init__(
            coordinator,
            description,
            server_unique_id(entry.entry_id, server.id, description.key),
            device_info or server_device_info(entry, server),
        )
        self.server_id = server.id

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


def server_attributes(
    entity: NezhaServerEntity, attributes_fn: Callable[[Server], dict[str, Any]] | None
) -> dict[str, Any] | None:
    """What ``attributes_fn`` reads of the entity's server; None without one or unavailable."""
    if attributes_fn is None or not entity.available:
        return None
    return attributes_fn(entity.server)


class NezhaServiceEntity(NezhaListedEntity[NezhaServicesCoordinator]):
    """An entity of one service monitor, on a device of its own under the dashboard."""

    def __init__(
        self,
        coordinator: NezhaServicesCoordinator,
        service: Service,
        description: EntityDescription,
    ) -> None:
        """Attach the entity to its service's device."""
        entry = coordinator.config_entry
        device = DeviceInfo(
            identifiers={service_device(entry.entry_id, service.id)},
            name=service.name,
            manufacturer=MANUFACTURER,
            model="Service monitor",
            entry_type=DeviceEntryType.SERVICE,
            configuration_url=entry.runtime_data.client.url + "/service",
            via_device_id=entry.runtime_data.dashboard_device_id,
        )
        unique_id = service_unique_id(entry.entry_id, service.id, description.key)
        super().__init__(coordinator, description, unique_id, device)
        self.service_id = service.id

    def listed(self) -> bool:
        """Whether the dashboard still lists the service."""
        return self.service_id in self.coordinator.data.services

    @property
    def service(self) -> Service:
        """This entity's service; only called while available."""
        return self.coordinator.data.services[self.service_id]


class NezhaCycleEntity(
    NezhaPacedEntity[NezhaServicesCoordinator], NezhaListedEntity[NezhaServicesCoordinator]
):
    """A figure of one traffic rule's current cycle, on the server's device."""

    def __init__(
        self,
        coordinator: NezhaServicesCoordinator,
        cycle: TrafficCycle,
        server_id: int,
        description: EntityDescription,
    ) -> None:
        """Attach the entity to the server it accounts for; the rule's name is in its own."""
        entry_id = coordinator.config_entry.entry_id
        super().__init__(
            coordinator,
            description,
            cycle_unique_id(entry_id, server_id, cycle.id, description.key),
            DeviceInfo(identifiers={server_device(entry_id, server_id)}),
        )
        self.cycle_id = cycle.id
        self.server_id = server_id
        self._attr_translation_placeholders = {"rule": cycle.name}

    def listed(self) -> bool:
        """Whether the rule is still listed and still covers the server."""
        cycle = self.coordinator.data.cycles.get(self.cycle_id)
        return cycle is not None and self.server_id in cycle.usage

    @callback
    def async_write_if_changed(self) -> None:
        """Write a renamed rule's new name at once, whatever the figures did."""
        if self.listed() and self._follow_name("rule", self.cycle.name):
            self._written_available = None
        super().async_write_if_changed()

    @property
    def cycle(self) -> TrafficCycle:
        """This entity's traffic rule; only called while available."""
        return self.coordinator.data.cycles[self.cycle_id]

    @property
    def usage(self) -> CycleUsage:
        """This server's use of the cycle; only called while available."""
        return self.cycle.usage[self.server_id]


# Home Assistant adds the entities of one call within one step of its event loop, a
# millisecond or two each (registry entry, entity id, first state): a large dashboard's
# thousands at once would hold it for seconds.
ADD_CHUNK: Final = 50


async def async_add_chunked(
    async_add_entities: AddConfigEntryEntitiesCallback, entities: Iterable[Entity]
) -> None:
    """Add ``entities`` a chunk at a time, letting the event loop run in between.

    A lazy iterable is built a chunk at a time too.
    """
    for chunk in batched(entities, ADD_CHUNK, strict=False):
        async_add_entities(chunk)
        await asyncio.sleep(0)


class NezhaCronEntity(NezhaListedEntity[NezhaCronCoordinator]):
    """An entity of one scheduled task, on the dashboard's device; the task's name in its own."""

    def __init__(
        self, coordinator: NezhaCronCoordinator, task: CronTask, description: EntityDescription
    ) -> None:
        """Attach the entity to the dashboard device."""
        entry_id = coordinator.config_entry.entry_id
        super().__init__(
            coordinator,
            description,
            cron_unique_id(entry_id, task.id, description.key),
            DeviceInfo(identifiers={dashboard_device(entry_id)}),
        )
        self.task_id = task.id
        self._attr_translation_placeholders = {"task": task.name}

    def listed(self) -> bool:
        """Whether the dashboard still lists the task."""
        return self.task_id in self.coordinator.data

    @callback
    def _handle_coordinator_update(self) -> None:
        """Follow a rename of the task on the dashboard, then write the state."""
        if self.listed():
            self._follow_name("task", self.task.name)
        super()._handle_coordinator_update()

    @property
    def task(self) -> CronTask:
        """This entity's task; only called while available."""
        return self.coordinator.data[self.task_id]


@callback
def async_add_soon(
    entry: NezhaConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    entities: Sequence[Entity],
) -> None:
    """From a listener: add a few ``entities`` at once, many a chunk per loop step."""
    if len(entities) <= ADD_CHUNK:
        async_add_entities(entities)
        return
    entry.async_create_task(
        entry.runtime_data.coordinator.hass,
        async_add_chunked(async_add_entities, entities),
        "nezha entities added in chunks",
    )
