"""Binary sensors: whether each server is online and each monitored service up."""

from __future__ import annotations

from collections.abc import Iterator

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import CronTask, ServiceStatus
from .budget import Pending, fit_budget
from .coordinator import NezhaConfigEntry, NezhaCronCoordinator
from .cron import async_add_cron_entities
from .entity import (
    NezhaCronEntity,
    NezhaServerEntity,
    NezhaServiceEntity,
    async_add_chunked,
    async_add_soon,
)
from .identifiers import server_unique_id

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

    def _pending() -> dict[int, list[Pending[BinarySensorEntityDescription]]]:
        """Servers listed without an online sensor yet, by id (stable ids for shared names).

        A server that left is forgotten here, and comes back whole.
        """
        servers = coordinator.data.servers
        servers_added.intersection_update(servers)
        new = sorted(servers.keys() - servers_added)
        servers_added.update(new)
        entry_id = entry.entry_id
        return {
            server_id: [
                Pending(
                    servers[server_id], ONLINE, server_unique_id(entry_id, server_id, ONLINE.key), 0
                )
            ]
            for server_id in new
        }

    def _built(
        new: dict[int, list[Pending[BinarySensorEntityDescription]]],
    ) -> Iterator[NezhaOnlineSensor]:
        """Only what fits, built as it is taken."""
        for pending in fit_budget(
            entry, Platform.BINARY_SENSOR, new, detailed=coordinator.detailed(new)
        ):
            yield NezhaOnlineSensor(coordinator, pending.server, pending.description)

    await async_add_chunked(async_add_entities, _built(_pending()))

    @callback
    def _add_new_online_sensors() -> None:
        if coordinator.last_update_success and (new := _pending()):
            async_add_soon(entry, async_add_entities, list(_built(new)))

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
