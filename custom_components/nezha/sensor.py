"""Sensors: per-server metrics and the dashboard's server counts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    Platform,
    UnitOfDataRate,
    UnitOfInformation,
    UnitOfTemperature,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .api import CycleUsage, DashboardSnapshot, Server, Service, ServiceStatus, TrafficCycle
from .coordinator import NezhaConfigEntry, NezhaDataUpdateCoordinator
from .entity import (
    NezhaCycleEntity,
    NezhaEntity,
    NezhaServerEntity,
    NezhaServiceEntity,
    async_add_server_entities,
    async_add_service_entities,
)

# One coordinator feeds every entity; nothing here makes its own requests.
PARALLEL_UPDATES = 0


def _percent(used: int, total: int) -> float | None:
    """Share of a total; unknown when the agent reported no total."""
    if total <= 0:
        return None
    return round(used * 100 / total, 2)


def _hottest(server: Server) -> float | None:
    temperatures = server.status.temperatures
    return max(t.celsius for t in temperatures) if temperatures else None


@dataclass(frozen=True, kw_only=True)
class NezhaServerSensorDescription(SensorEntityDescription):
    """A per-server sensor."""

    value_fn: Callable[[Server], StateType | datetime]
    # Readings only some agents send get an entity once a server reports them.
    exists_fn: Callable[[Server], bool] = lambda _: True
    # False for facts that stay true while the agent is silent (totals, boot time).
    live: bool = True


@dataclass(frozen=True, kw_only=True)
class NezhaDashboardSensorDescription(SensorEntityDescription):
    """A sensor of the dashboard device."""

    value_fn: Callable[[NezhaDataUpdateCoordinator, DashboardSnapshot], StateType]


@dataclass(frozen=True, kw_only=True)
class NezhaServiceSensorDescription(SensorEntityDescription):
    """A sensor of a service monitor."""

    value_fn: Callable[[Service], StateType]


@dataclass(frozen=True, kw_only=True)
class NezhaCycleSensorDescription(SensorEntityDescription):
    """A figure of a traffic rule's cycle for one server."""

    value_fn: Callable[[TrafficCycle, CycleUsage], StateType | datetime]
    # Quota figures exist only for rules with an upper bound.
    exists_fn: Callable[[TrafficCycle], bool] = lambda _: True


class _Shared(TypedDict, total=False):
    """Fields several descriptions share."""

    device_class: SensorDeviceClass
    native_unit_of_measurement: str
    suggested_unit_of_measurement: str
    suggested_display_precision: int
    state_class: SensorStateClass
    entity_category: EntityCategory
    live: bool


_BYTES: _Shared = {
    "device_class": SensorDeviceClass.DATA_SIZE,
    "native_unit_of_measurement": UnitOfInformation.BYTES,
    "suggested_unit_of_measurement": UnitOfInformation.GIBIBYTES,
    "suggested_display_precision": 2,
}
_BYTES_MEASURED: _Shared = {**_BYTES, "state_class": SensorStateClass.MEASUREMENT}
# Counters restart from zero with the agent: total_increasing treats a drop as a reset.
_BYTES_TOTAL: _Shared = {**_BYTES, "state_class": SensorStateClass.TOTAL_INCREASING}
_RATE: _Shared = {
    "device_class": SensorDeviceClass.DATA_RATE,
    "native_unit_of_measurement": UnitOfDataRate.BYTES_PER_SECOND,
    "suggested_unit_of_measurement": UnitOfDataRate.KIBIBYTES_PER_SECOND,
    "suggested_display_precision": 1,
    "state_class": SensorStateClass.MEASUREMENT,
}
_PERCENT: _Shared = {
    "native_unit_of_measurement": PERCENTAGE,
    "suggested_display_precision": 1,
    "state_class": SensorStateClass.MEASUREMENT,
}
_LOAD: _Shared = {"suggested_display_precision": 2, "state_class": SensorStateClass.MEASUREMENT}
_COUNT: _Shared = {"state_class": SensorStateClass.MEASUREMENT}
_DIAGNOSTIC_BYTES: _Shared = {**_BYTES, "entity_category": EntityCategory.DIAGNOSTIC, "live": False}

SERVER_SENSORS: tuple[NezhaServerSensorDescription, ...] = (
    NezhaServerSensorDescription(
        key="cpu", translation_key="cpu", value_fn=lambda s: s.status.cpu, **_PERCENT
    ),
    NezhaServerSensorDescription(
        key="memory_used",
        translation_key="memory_used",
        value_fn=lambda s: s.status.mem_used,
        **_BYTES_MEASURED,
    ),
    NezhaServerSensorDescription(
        key="memory_usage",
        translation_key="memory_usage",
        value_fn=lambda s: _percent(s.status.mem_used, s.host.mem_total),
        **_PERCENT,
    ),
    NezhaServerSensorDescription(
        key="swap_used",
        translation_key="swap_used",
        value_fn=lambda s: s.status.swap_used,
        **_BYTES_MEASURED,
    ),
    NezhaServerSensorDescription(
        key="swap_usage",
        translation_key="swap_usage",
        value_fn=lambda s: _percent(s.status.swap_used, s.host.swap_total),
        **_PERCENT,
    ),
    NezhaServerSensorDescription(
        key="disk_used",
        translation_key="disk_used",
        value_fn=lambda s: s.status.disk_used,
        **_BYTES_MEASURED,
    ),
    NezhaServerSensorDescription(
        key="disk_usage",
        translation_key="disk_usage",
        value_fn=lambda s: _percent(s.status.disk_used, s.host.disk_total),
        **_PERCENT,
    ),
    NezhaServerSensorDescription(
        key="network_in_speed",
        translation_key="network_in_speed",
        value_fn=lambda s: s.status.net_in_speed,
        **_RATE,
    ),
    NezhaServerSensorDescription(
        key="network_out_speed",
        translation_key="network_out_speed",
        value_fn=lambda s: s.status.net_out_speed,
        **_RATE,
    ),
    NezhaServerSensorDescription(
        key="network_in_traffic",
        translation_key="network_in_traffic",
        value_fn=lambda s: s.status.net_in_transfer,
        **_BYTES_TOTAL,
    ),
    NezhaServerSensorDescription(
        key="network_out_traffic",
        translation_key="network_out_traffic",
        value_fn=lambda s: s.status.net_out_transfer,
        **_BYTES_TOTAL,
    ),
    NezhaServerSensorDescription(
        key="load_1", translation_key="load_1", value_fn=lambda s: s.status.load_1, **_LOAD
    ),
    NezhaServerSensorDescription(
        key="load_5",
        translation_key="load_5",
        entity_registry_enabled_default=False,
        value_fn=lambda s: s.status.load_5,
        **_LOAD,
    ),
    NezhaServerSensorDescription(
        key="load_15",
        translation_key="load_15",
        entity_registry_enabled_default=False,
        value_fn=lambda s: s.status.load_15,
        **_LOAD,
    ),
    NezhaServerSensorDescription(
        key="tcp_connections",
        translation_key="tcp_connections",
        value_fn=lambda s: s.status.tcp_connections,
        **_COUNT,
    ),
    NezhaServerSensorDescription(
        key="udp_connections",
        translation_key="udp_connections",
        value_fn=lambda s: s.status.udp_connections,
        **_COUNT,
    ),
    NezhaServerSensorDescription(
        key="processes",
        translation_key="processes",
        value_fn=lambda s: s.status.processes,
        **_COUNT,
    ),
    NezhaServerSensorDescription(
        key="temperature",
        translation_key="temperature",
        device_class=SensorDeviceClass.TEMPERATURE,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        suggested_display_precision=1,
        state_class=SensorStateClass.MEASUREMENT,
        exists_fn=lambda s: bool(s.status.temperatures),
        value_fn=_hottest,
    ),
    NezhaServerSensorDescription(
        key="gpu",
        translation_key="gpu",
        exists_fn=lambda s: bool(s.host.gpu) and s.status.gpu is not None,
        value_fn=lambda s: s.status.gpu,
        **_PERCENT,
    ),
    # A timestamp rather than a growing uptime, so the state changes only on reboot.
    NezhaServerSensorDescription(
        key="last_boot",
        translation_key="last_boot",
        device_class=SensorDeviceClass.TIMESTAMP,
        live=False,
        value_fn=lambda s: s.host.boot_time,
    ),
    # Changes on every refresh of every server, and a timestamp has no unit that would keep
    # it out of the logbook: off by default. Online and Last boot say what automations need.
    NezhaServerSensorDescription(
        key="last_seen",
        translation_key="last_seen",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        live=False,
        value_fn=lambda s: s.last_active,
    ),
    NezhaServerSensorDescription(
        key="memory_total",
        translation_key="memory_total",
        value_fn=lambda s: s.host.mem_total or None,
        **_DIAGNOSTIC_BYTES,
    ),
    NezhaServerSensorDescription(
        key="swap_total",
        translation_key="swap_total",
        # Zero is a real answer (no swap) once the agent has reported its host.
        value_fn=lambda s: s.host.swap_total if s.host.mem_total else None,
        **_DIAGNOSTIC_BYTES,
    ),
    NezhaServerSensorDescription(
        key="disk_total",
        translation_key="disk_total",
        value_fn=lambda s: s.host.disk_total or None,
        **_DIAGNOSTIC_BYTES,
    ),
    NezhaServerSensorDescription(
        key="ipv4",
        translation_key="ipv4",
        entity_category=EntityCategory.DIAGNOSTIC,
        live=False,
        value_fn=lambda s: s.ipv4 or None,
    ),
    NezhaServerSensorDescription(
        key="ipv6",
        translation_key="ipv6",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        live=False,
        value_fn=lambda s: s.ipv6 or None,
    ),
)

DASHBOARD_SENSORS: tuple[NezhaDashboardSensorDescription, ...] = (
    NezhaDashboardSensorDescription(
        key="servers_online",
        translation_key="servers_online",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda coordinator, snapshot: sum(
            server.is_online(snapshot.dashboard_time, coordinator.online_threshold)
            for server in snapshot.servers.values()
        ),
    ),
    NezhaDashboardSensorDescription(
        key="servers_total",
        translation_key="servers_total",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda _, snapshot: len(snapshot.servers),
    ),
)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


SERVICE_SENSORS: tuple[NezhaServiceSensorDescription, ...] = (
    NezhaServiceSensorDescription(
        key="status",
        translation_key="service_status",
        device_class=SensorDeviceClass.ENUM,
        options=[status.value for status in ServiceStatus],
        value_fn=lambda service: service.status.value,
    ),
    NezhaServiceSensorDescription(
        key="availability",
        translation_key="service_availability",
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=2,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda service: _round(service.availability),
    ),
    NezhaServiceSensorDescription(
        key="latency",
        translation_key="service_latency",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MILLISECONDS,
        suggested_display_precision=1,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda service: _round(service.latency_today),
    ),
)

CYCLE_SENSORS: tuple[NezhaCycleSensorDescription, ...] = (
    NezhaCycleSensorDescription(
        key="transfer",
        translation_key="cycle_transfer",
        device_class=SensorDeviceClass.DATA_SIZE,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        suggested_unit_of_measurement=UnitOfInformation.GIBIBYTES,
        suggested_display_precision=2,
        # Restarts from zero with every cycle; last_reset tells statistics when.
        state_class=SensorStateClass.TOTAL,
        value_fn=lambda _, usage: usage.transfer,
    ),
    NezhaCycleSensorDescription(
        key="quota",
        translation_key="cycle_quota",
        device_class=SensorDeviceClass.DATA_SIZE,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        suggested_unit_of_measurement=UnitOfInformation.GIBIBYTES,
        suggested_display_precision=2,
        value_fn=lambda cycle, _: cycle.quota,
        exists_fn=lambda cycle: cycle.quota > 0,
    ),
    NezhaCycleSensorDescription(
        key="quota_used",
        translation_key="cycle_quota_used",
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=1,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda cycle, usage: _percent(usage.transfer, cycle.quota),
        exists_fn=lambda cycle: cycle.quota > 0,
    ),
    NezhaCycleSensorDescription(
        key="cycle_end",
        translation_key="cycle_end",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda cycle, _: cycle.end,
    ),
)


# Which server sensors stay enabled first when Home Assistant's entity limit is near (see
# ``fit_entity_budget``): what dashboards and automations watch most.
PRIORITY: tuple[str, ...] = (
    "cpu",
    "memory_usage",
    "disk_usage",
    "network_in_speed",
    "network_out_speed",
    "load_1",
    "memory_used",
    "disk_used",
    "swap_usage",
    "network_in_traffic",
    "network_out_traffic",
    "temperature",
    "gpu",
    "tcp_connections",
    "udp_connections",
    "processes",
    "last_boot",
    "last_seen",
    "swap_used",
    "memory_total",
    "swap_total",
    "disk_total",
    "ipv4",
    "load_5",
    "load_15",
    "ipv6",
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NezhaConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the sensors of the dashboard and of every server."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        NezhaDashboardSensor(coordinator, description) for description in DASHBOARD_SENSORS
    )
    async_add_server_entities(
        entry,
        async_add_entities,
        Platform.SENSOR,
        sorted(SERVER_SENSORS, key=lambda description: PRIORITY.index(description.key)),
        lambda description, server: description.exists_fn(server),
        NezhaServerSensor,
        # Each server's online binary sensor comes first.
        slots_elsewhere=1,
    )
    async_add_service_entities(
        entry,
        async_add_entities,
        Platform.SENSOR,
        SERVICE_SENSORS,
        NezhaServiceSensor,
        CYCLE_SENSORS,
        NezhaCycleSensor,
        lambda description, cycle: description.exists_fn(cycle),
    )


class NezhaServerSensor(NezhaServerEntity, SensorEntity):
    """A metric of one server."""

    entity_description: NezhaServerSensorDescription

    def __init__(
        self,
        coordinator: NezhaDataUpdateCoordinator,
        server: Server,
        description: NezhaServerSensorDescription,
    ) -> None:
        """Bind the description's liveness to availability."""
        super().__init__(coordinator, server, description)
        self._live = description.live

    @property
    def native_value(self) -> StateType | datetime:
        """The reading from the latest snapshot."""
        return self.entity_description.value_fn(self.server)

    def state_value(self) -> object:
        """The reading is the whole state."""
        return self.native_value


class NezhaDashboardSensor(NezhaEntity, SensorEntity):
    """A figure about the whole dashboard."""

    entity_description: NezhaDashboardSensorDescription

    @property
    def native_value(self) -> StateType:
        """The figure from the latest snapshot."""
        return self.entity_description.value_fn(self.coordinator, self.coordinator.data)


class NezhaServiceSensor(NezhaServiceEntity, SensorEntity):
    """A figure of one service monitor."""

    entity_description: NezhaServiceSensorDescription

    @property
    def native_value(self) -> StateType:
        """The figure from the latest service overview."""
        return self.entity_description.value_fn(self.service)


class NezhaCycleSensor(NezhaCycleEntity, SensorEntity):
    """A traffic rule's cycle figure for one server."""

    entity_description: NezhaCycleSensorDescription

    @property
    def native_value(self) -> StateType | datetime:
        """The figure from the latest service overview."""
        return self.entity_description.value_fn(self.cycle, self.usage)

    @property
    def last_reset(self) -> datetime | None:
        """The cycle's start, for the transfer that restarts from zero each cycle."""
        if self.entity_description.state_class is not SensorStateClass.TOTAL:
            return None
        return self.cycle.start
