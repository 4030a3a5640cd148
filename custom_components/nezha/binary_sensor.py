"""Binary sensors: whether each server is online and each monitored service up."""

from __future__ import annotations

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import ServiceStatus
from .coordinator import NezhaConfigEntry
from .entity import (
    NezhaServerEntity,
    NezhaServiceEntity,
    async_add_server_entities,
    async_add_service_entities,
)

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


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NezhaConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up one online sensor per server and one "up" sensor per service monitor."""
    async_add_server_entities(
        entry,
        async_add_entities,
        Platform.BINARY_SENSOR,
        (ONLINE,),
        lambda _, __: True,
        NezhaOnlineSensor,
    )
    async_add_service_entities(
        entry, async_add_entities, Platform.BINARY_SENSOR, (SERVICE_UP,), NezhaServiceUpSensor
    )


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
