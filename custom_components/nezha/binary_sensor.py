"""Binary sensors: whether each server is online and each monitored service up."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from itertools import batched
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import CronTask, Server, ServiceStatus
from .budget import Pending, async_fit_budget, fit_budget
from .coordinator import NezhaConfigEntry, NezhaCronCoordinator, NezhaDataUpdateCoordinator
from .cron import async_add_cron_entities
from .entity import (
    ADD_CHUNK,
    NezhaCronEntity,
    NezhaDescriptionMixin,
    NezhaServerEntity,
    NezhaServiceEntity,
    async_add_chunked,
    async_add_soon,
    server_attributes,
)
from .identifiers import server_unique_id
from .notes import NoteEntities, server_billing

# One coordinator feeds every entity; nothing here makes its own requests.
PARALLEL_UPDATES = 0

ONLINE = BinarySensorEntityDescription(
    key="online",
    translation_key="online",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
)

SERVICE_UP = BinarySensorEntityDescription(
    key="up",
    translation_key="service_up",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
)

TASK_FAILED = BinarySensorEntityDescription(
    key="last_run_failed",
    translation_key="task_failed",
    device_class=BinarySensorDeviceClass.PROBLEM,
)


@dataclass(frozen=True, kw_only=True)
class NezhaNoteBinarySensorDescription(BinarySensorEntityDescription, NezhaDescriptionMixin):
    """A yes/no fact of a server's public note."""

    exists_fn: Callable[[Server], bool]
    is_on_fn: Callable[[NezhaDataUpdateCoordinator, Server], bool | None]
    attributes_fn: Callable[[Server], dict[str, Any]] | None = None


def _expiring_soon(coordinator: NezhaDataUpdateCoordinator, server: Server) -> bool | None:
    """Within the threshold of the note's end date (or past it), on the dashboard's clock."""
    billing = server_billing(server)
    if billing is None or billing.never_expires:
        return False
    if billing.end is None:
        return None
    left = billing.end - coordinator.data.dashboard_time
    return left <= timedelta(days=coordinator.expiring_days)


def _expiry(server: Server) -> dict[str, Any]:
    """The end date, for automations' messages (the Expires sensor may be over the cap)."""
    billing = server_billing(server)
    end = billing.end if billing is not None else None
    return {"expires": end.isoformat() if end is not None else None}


# Right after the online sensor in the entity budget (priority 0): what to be reminded of.
NOTE_BINARY_SENSORS: tuple[NezhaNoteBinarySensorDescription, ...] = (
    NezhaNoteBinarySensorDescription(
        key="billing_expiring_soon",
        translation_key="billing_expiring_soon",
        device_class=BinarySensorDeviceClass.PROBLEM,
        priority=1,
        exists_fn=lambda s: (b := server_billing(s)) is not None and b.has_expiry,
        is_on_fn=_expiring_soon,
        attributes_fn=_expiry,
    ),
    NezhaNoteBinarySensorDescription(
        key="billing_auto_renewal",
        translation_key="billing_auto_renewal",
        priority=2,
        exists_fn=lambda s: (b := server_billing(s)) is not None and b.auto_renewal is not None,
        is_on_fn=lambda _, s: b.auto_renewal if (b := server_billing(s)) is not None else None,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NezhaConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the online, service "up" and task "last run failed" sensors."""

    def _make_task(cron: NezhaCronCoordinator, task: CronTask) -> list[NezhaTaskFailedSensor]:
        return [NezhaTaskFailedSensor(cron, task, TASK_FAILED)]

    async_add_cron_entities(entry, async_add_entities, _make_task)
    coordinator = entry.runtime_data.coordinator
    servers_added: set[int] = set()

    notes: NoteEntities[BinarySensorEntityDescription] = NoteEntities(
        entry,
        Platform.BINARY_SENSOR,
        NOTE_BINARY_SENSORS,
        lambda d, s: isinstance(d, NezhaNoteBinarySensorDescription) and d.exists_fn(s),
        lambda d: d.priority if isinstance(d, NezhaNoteBinarySensorDescription) else 0,
    )

    def _pending(
        server_ids: Iterable[int] | None = None,
    ) -> dict[int, list[Pending[BinarySensorEntityDescription]]]:
        """Online sensors of new servers, by id (stable ids), and note sensors that appeared.

        Of ``server_ids`` only, when given. A server that left is forgotten here, and comes
        back whole.
        """
        servers = coordinator.data.servers
        servers_added.intersection_update(servers)
        ids = servers if server_ids is None else server_ids
        new = sorted(server_id for server_id in ids if server_id not in servers_added)
        servers_added.update(new)
        entry_id = entry.entry_id
        pending: dict[int, list[Pending[BinarySensorEntityDescription]]] = {
            server_id: [
                Pending(
                    servers[server_id], ONLINE, server_unique_id(entry_id, server_id, ONLINE.key), 0
                )
            ]
            for server_id in new
        }
        for server_id, appeared in notes.pending(servers, server_ids).items():
            pending.setdefault(server_id, []).extend(appeared)
        return pending

    def _built(
        fitting: Iterable[Pending[BinarySensorEntityDescription]],
    ) -> Iterator[NezhaOnlineSensor | NezhaNoteBinarySensor]:
        """What fits, built as it is taken."""
        for pending in fitting:
            description = pending.description
            if isinstance(description, NezhaNoteBinarySensorDescription):
                yield NezhaNoteBinarySensor(coordinator, pending.server, description)
            else:
                yield NezhaOnlineSensor(coordinator, pending.server, description)

    # The whole fleet at setup: gathered and weighed a batch of servers per step of the loop,
    # before the sensors (which wait for it: these rank first).
    try:
        first: dict[int, list[Pending[BinarySensorEntityDescription]]] = {}
        for batch in batched(sorted(coordinator.data.servers), ADD_CHUNK, strict=False):
            first.update(_pending(batch))
            await asyncio.sleep(0)
        fitting = await async_fit_budget(
            entry, Platform.BINARY_SENSOR, first, detailed=coordinator.detailed(first)
        )
    finally:
        entry.runtime_data.first_weighed.set()
    await async_add_chunked(async_add_entities, _built(fitting))

    @callback
    def _add_new_online_sensors() -> None:
        if coordinator.last_update_success and (new := _pending()):
            fitting = fit_budget(
                entry, Platform.BINARY_SENSOR, new, detailed=coordinator.detailed(new)
            )
            async_add_soon(entry, async_add_entities, list(_built(fitting)))

    entry.async_on_unload(coordinator.async_add_listener(_add_new_online_sensors))

    services = entry.runtime_data.services
    if services is None:
        return
    services_added: set[int] = set()

    @callback
    def _add_services() -> None:
        if not services.last_update_success:
            return
        current = services.data.services
        services_added.intersection_update(current)
        new = sorted(current.keys() - services_added)
        if new:
            services_added.update(new)
            async_add_entities(
                fit_budget(
                    entry,
                    Platform.BINARY_SENSOR,
                    {
                        -service_id: [
                            NezhaServiceUpSensor(services, current[service_id], SERVICE_UP)
                        ]
                        for service_id in new
                    },
                )
            )

    _add_services()
    entry.async_on_unload(services.async_add_listener(_add_services))


class NezhaOnlineSensor(NezhaServerEntity, BinarySensorEntity):
    """On while the server's agent reports within the online threshold."""

    # The point of this sensor is to say "offline", so it stays available then.
    _live = False

    @property
    def is_on(self) -> bool:
        """Online as judged on the dashboard's clock; never-reported servers are offline."""
        return self.coordinator.is_online(self.server_id)

    def state_value(self) -> object:
        """On or off is the whole state."""
        return self.is_on


class NezhaNoteBinarySensor(NezhaServerEntity, BinarySensorEntity):
    """A yes/no fact of the server's public note; it stays while the agent is silent."""

    entity_description: NezhaNoteBinarySensorDescription
    _live = False

    @property
    def is_on(self) -> bool | None:
        """What the note says, judged now."""
        return self.entity_description.is_on_fn(self.coordinator, self.server)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """What an automation's message needs (the end date)."""
        return server_attributes(self, self.entity_description.attributes_fn)

    def state_value(self) -> object:
        """On or off, and the attributes."""
        return self.is_on, self.extra_state_attributes


class NezhaServiceUpSensor(NezhaServiceEntity, BinarySensorEntity):
    """On while the latest checks of a service mostly succeed."""

    @property
    def is_on(self) -> bool | None:
        """Up unless the dashboard would show "down"; unknown before any check."""
        status = self.service.status
        if status is ServiceStatus.NO_DATA:
            return None
        return status is not ServiceStatus.DOWN


class NezhaTaskFailedSensor(NezhaCronEntity, BinarySensorEntity):
    """On when the task's last run failed on a server; unknown before its first run."""

    @property
    def is_on(self) -> bool | None:
        """The dashboard's result of the last run."""
        succeeded = self.task.last_succeeded
        return None if succeeded is None else not succeeded
