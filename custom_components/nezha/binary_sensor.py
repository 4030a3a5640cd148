"""Binary sensors: whether each server is online."""

from __future__ import annotations

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import NezhaConfigEntry
from .entity import NezhaServerEntity, async_add_server_entities

PARALLEL_UPDATES = 0

ONLINE = BinarySensorEntityDescription(
    key="online",
    translation_key="online",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NezhaConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up one online sensor per server."""
    async_add_server_entities(
        entry, async_add_entities, (ONLINE,), lambda _, __: True, NezhaOnlineSensor
    )


class NezhaOnlineSensor(NezhaServerEntity, BinarySensorEntity):
    """On while the server's agent reports within the online threshold."""

    # The point of this sensor is to say "offline", so it stays available then.
    _live = False

    @property
    def is_on(self) -> bool:
        """Online as judged on the dashboard's clock; never-reported servers are offline."""
        return self.coordinator.is_online(self.server_id)
