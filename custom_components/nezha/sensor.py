"""Sensors: servers' readings, the dashboard's counts, service and traffic cycle figures.

New ones are added as the dashboard reports them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
import contextlib
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from itertools import batched
from typing import Any

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
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .api import (
    CronTask,
    CycleUsage,
    DashboardSnapshot,
    Plan,
    Price,
    Server,
    Service,
    ServicesSnapshot,
    ServiceStatus,
    TrafficCycle,
)
from .budget import Deferred, Pending, async_fit_budget, fit_budget
from .const import DOMAIN
from .coordinator import NezhaConfigEntry, NezhaCronCoordinator, NezhaDataUpdateCoordinator
from .cron import async_add_cron_entities
from .entity import (
    ADD_CHUNK,
    NezhaCronEntity,
    NezhaCycleEntity,
    NezhaDashboardEntity,
    NezhaDescriptionMixin,
    NezhaEntity,
    NezhaServerEntity,
    NezhaServiceEntity,
    async_add_chunked,
    async_add_soon,
    description_priority,
    server_attributes,
    server_device_info,
)
from .identifiers import cycle_unique_id, server_unique_id, service_unique_id
from .notes import NoteEntities, server_billing, server_note

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
class NezhaServerSensorDescription(SensorEntityDescription, NezhaDescriptionMixin):
    """A per-server sensor."""

    value_fn: Callable[[Server], StateType | datetime]
    # Readings only some agents send get an entity once a server reports them.
    exists_fn: Callable[[Server], bool] = lambda _: True
    # False for facts that stay true while the agent is silent (totals, boot time).
    live: bool = True
    # Note sensors only: a unit and attributes that follow the note (a price's currency).
    unit_fn: Callable[[Server], str | None] | None = None
    attributes_fn: Callable[[Server], dict[str, Any]] | None = None


@dataclass(frozen=True, kw_only=True)
class NezhaDashboardSensorDescription(SensorEntityDescription):
    """A sensor of the dashboard device."""

    value_fn: Callable[[NezhaDataUpdateCoordinator, DashboardSnapshot], StateType]


@dataclass(frozen=True, kw_only=True)
class NezhaServiceSensorDescription(SensorEntityDescription):
    """A sensor of a service monitor."""

    value_fn: Callable[[Service], StateType]


@dataclass(frozen=True, kw_only=True)
class NezhaCycleSensorDescription(SensorEntityDescription, NezhaDescriptionMixin):
    """A figure of a traffic rule's cycle for one server."""

    value_fn: Callable[[TrafficCycle, CycleUsage], StateType | datetime]
    # Quota figures exist only for rules with an upper bound.
    exists_fn: Callable[[TrafficCycle], bool] = lambda _: True


# In priority order: what dashboards and automations watch most stays enabled first when
# Home Assistant's entity cap is near (budget.py).
SERVER_SENSORS: tuple[NezhaServerSensorDescription, ...] = (
    NezhaServerSensorDescription(
        key="cpu",
        translation_key="cpu",
        priority=0,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=1,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: s.status.cpu,
    ),
    NezhaServerSensorDescription(
        key="memory_usage",
        translation_key="memory_usage",
        priority=1,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=1,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: _percent(s.status.mem_used, s.host.mem_total),
    ),
    NezhaServerSensorDescription(
        key="disk_usage",
        translation_key="disk_usage",
        priority=2,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=1,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: _percent(s.status.disk_used, s.host.disk_total),
    ),
    NezhaServerSensorDescription(
        key="network_in_speed",
        translation_key="network_in_speed",
        priority=3,
        device_class=SensorDeviceClass.DATA_RATE,
        native_unit_of_measurement=UnitOfDataRate.BYTES_PER_SECOND,
        suggested_unit_of_measurement=UnitOfDataRate.KIBIBYTES_PER_SECOND,
        suggested_display_precision=1,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: s.status.net_in_speed,
    ),
    NezhaServerSensorDescription(
        key="network_out_speed",
        translation_key="network_out_speed",
        priority=4,
        device_class=SensorDeviceClass.DATA_RATE,
        native_unit_of_measurement=UnitOfDataRate.BYTES_PER_SECOND,
        suggested_unit_of_measurement=UnitOfDataRate.KIBIBYTES_PER_SECOND,
        suggested_display_precision=1,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: s.status.net_out_speed,
    ),
    NezhaServerSensorDescription(
        key="load_1",
        translation_key="load_1",
        priority=5,
        suggested_display_precision=2,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: s.status.load_1,
    ),
    NezhaServerSensorDescription(
        key="memory_used",
        translation_key="memory_used",
        priority=6,
        device_class=SensorDeviceClass.DATA_SIZE,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        suggested_unit_of_measurement=UnitOfInformation.GIBIBYTES,
        suggested_display_precision=2,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: s.status.mem_used,
    ),
    NezhaServerSensorDescription(
        key="disk_used",
        translation_key="disk_used",
        priority=7,
        device_class=SensorDeviceClass.DATA_SIZE,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        suggested_unit_of_measurement=UnitOfInformation.GIBIBYTES,
        suggested_display_precision=2,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: s.status.disk_used,
    ),
    NezhaServerSensorDescription(
        key="swap_usage",
        translation_key="swap_usage",
        priority=8,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=1,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: _percent(s.status.swap_used, s.host.swap_total),
    ),
    # The agent's counters restart from zero with it: total_increasing reads a drop as a reset.
    NezhaServerSensorDescription(
        key="network_in_traffic",
        translation_key="network_in_traffic",
        priority=9,
        device_class=SensorDeviceClass.DATA_SIZE,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        suggested_unit_of_measurement=UnitOfInformation.GIBIBYTES,
        suggested_display_precision=2,
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda s: s.status.net_in_transfer,
    ),
    NezhaServerSensorDescription(
        key="network_out_traffic",
        translation_key="network_out_traffic",
        priority=10,
        device_class=SensorDeviceClass.DATA_SIZE,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        suggested_unit_of_measurement=UnitOfInformation.GIBIBYTES,
        suggested_display_precision=2,
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda s: s.status.net_out_transfer,
    ),
    # Readings only some agents send get an entity once a server reports them.
    NezhaServerSensorDescription(
        key="temperature",
        translation_key="temperature",
        priority=11,
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
        priority=12,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=1,
        state_class=SensorStateClass.MEASUREMENT,
        exists_fn=lambda s: bool(s.host.gpu) and s.status.gpu is not None,
        value_fn=lambda s: s.status.gpu,
    ),
    NezhaServerSensorDescription(
        key="tcp_connections",
        translation_key="tcp_connections",
        priority=13,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: s.status.tcp_connections,
    ),
    NezhaServerSensorDescription(
        key="udp_connections",
        translation_key="udp_connections",
        priority=14,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: s.status.udp_connections,
    ),
    NezhaServerSensorDescription(
        key="processes",
        translation_key="processes",
        priority=15,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: s.status.processes,
    ),
    # A timestamp rather than a growing uptime, so the state changes only on reboot.
    NezhaServerSensorDescription(
        key="last_boot",
        translation_key="last_boot",
        priority=16,
        device_class=SensorDeviceClass.TIMESTAMP,
        live=False,
        value_fn=lambda s: s.host.boot_time,
    ),
    # Changes on every refresh of every server, and a timestamp has no unit that would keep
    # it out of the logbook: off by default. Online and Last boot say what automations need.
    NezhaServerSensorDescription(
        key="last_seen",
        translation_key="last_seen",
        priority=17,
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        live=False,
        value_fn=lambda s: s.last_active,
    ),
    NezhaServerSensorDescription(
        key="swap_used",
        translation_key="swap_used",
        priority=18,
        device_class=SensorDeviceClass.DATA_SIZE,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        suggested_unit_of_measurement=UnitOfInformation.GIBIBYTES,
        suggested_display_precision=2,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: s.status.swap_used,
    ),
    NezhaServerSensorDescription(
        key="memory_total",
        translation_key="memory_total",
        priority=19,
        device_class=SensorDeviceClass.DATA_SIZE,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        suggested_unit_of_measurement=UnitOfInformation.GIBIBYTES,
        suggested_display_precision=2,
        entity_category=EntityCategory.DIAGNOSTIC,
        live=False,
        value_fn=lambda s: s.host.mem_total or None,
    ),
    # Zero is a real answer (no swap) once the agent has reported its host.
    NezhaServerSensorDescription(
        key="swap_total",
        translation_key="swap_total",
        priority=20,
        device_class=SensorDeviceClass.DATA_SIZE,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        suggested_unit_of_measurement=UnitOfInformation.GIBIBYTES,
        suggested_display_precision=2,
        entity_category=EntityCategory.DIAGNOSTIC,
        live=False,
        value_fn=lambda s: s.host.swap_total if s.host.mem_total else None,
    ),
    NezhaServerSensorDescription(
        key="disk_total",
        translation_key="disk_total",
        priority=21,
        device_class=SensorDeviceClass.DATA_SIZE,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        suggested_unit_of_measurement=UnitOfInformation.GIBIBYTES,
        suggested_display_precision=2,
        entity_category=EntityCategory.DIAGNOSTIC,
        live=False,
        value_fn=lambda s: s.host.disk_total or None,
    ),
    NezhaServerSensorDescription(
        key="ipv4",
        translation_key="ipv4",
        priority=22,
        entity_category=EntityCategory.DIAGNOSTIC,
        live=False,
        value_fn=lambda s: s.ipv4 or None,
    ),
    NezhaServerSensorDescription(
        key="load_5",
        translation_key="load_5",
        priority=23,
        suggested_display_precision=2,
        state_class=SensorStateClass.MEASUREMENT,
        entity_registry_enabled_default=False,
        value_fn=lambda s: s.status.load_5,
    ),
    NezhaServerSensorDescription(
        key="load_15",
        translation_key="load_15",
        priority=24,
        suggested_display_precision=2,
        state_class=SensorStateClass.MEASUREMENT,
        entity_registry_enabled_default=False,
        value_fn=lambda s: s.status.load_15,
    ),
    NezhaServerSensorDescription(
        key="ipv6",
        translation_key="ipv6",
        priority=25,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        live=False,
        value_fn=lambda s: s.ipv6 or None,
    ),
    # The dashboard's GeoIP guess (ISO 3166 code), the flag of the fleet card. Last in priority:
    # on dashboards past the entity cap the card simply shows no flag.
    NezhaServerSensorDescription(
        key="country_code",
        translation_key="country_code",
        priority=26,
        entity_category=EntityCategory.DIAGNOSTIC,
        live=False,
        exists_fn=lambda s: bool(s.host.country_code),
        value_fn=lambda s: s.host.country_code.upper() or None,
    ),
)


def _price(server: Server) -> Price | None:
    billing = server_billing(server)
    return billing.price if billing is not None else None


def _price_attributes(server: Server) -> dict[str, Any]:
    """The amount and cycle as written: the whole truth when the amount cannot be read."""
    billing = server_billing(server)
    if billing is None:
        return {}
    attributes = {"amount": billing.amount}
    if billing.cycle:
        attributes["cycle"] = billing.cycle
    return attributes


def _plan(server: Server) -> Plan:
    return server_note(server).plan or Plan()


# From the server's public note (billing and plan); they stay while the agent is silent, and
# come and go with the note (notes.py). Billing ranks right after the online sensor in the
# entity budget, before every reading; the plan's facts with the other diagnostics.
NOTE_SENSORS: tuple[NezhaServerSensorDescription, ...] = (
    NezhaServerSensorDescription(
        key="billing_expires",
        translation_key="billing_expires",
        priority=-2,
        device_class=SensorDeviceClass.TIMESTAMP,
        live=False,
        exists_fn=lambda s: (b := server_billing(s)) is not None and b.end is not None,
        value_fn=lambda s: b.end if (b := server_billing(s)) is not None else None,
    ),
    # A price is not a measurement: no state class, so no statistics.
    NezhaServerSensorDescription(
        key="billing_price",
        translation_key="billing_price",
        priority=-1,
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        live=False,
        exists_fn=lambda s: (b := server_billing(s)) is not None and bool(b.amount),
        value_fn=lambda s: p.value if (p := _price(s)) is not None else None,
        unit_fn=lambda s: p.currency if (p := _price(s)) is not None else None,
        attributes_fn=_price_attributes,
    ),
    NezhaServerSensorDescription(
        key="plan_bandwidth",
        translation_key="plan_bandwidth",
        priority=27,
        entity_category=EntityCategory.DIAGNOSTIC,
        live=False,
        exists_fn=lambda s: bool(_plan(s).bandwidth),
        value_fn=lambda s: _plan(s).bandwidth or None,
    ),
    NezhaServerSensorDescription(
        key="plan_traffic_volume",
        translation_key="plan_traffic_volume",
        priority=28,
        entity_category=EntityCategory.DIAGNOSTIC,
        live=False,
        exists_fn=lambda s: bool(_plan(s).traffic_volume),
        value_fn=lambda s: _plan(s).traffic_volume or None,
    ),
)

_NOTE_KEYS = frozenset(d.key for d in NOTE_SENSORS)

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


# Seconds the sensors wait for the binary sensors to be weighed at setup.
FIRST_WEIGHED_WAIT = 60

type _PendingSensors = dict[int, list[Pending[NezhaServerSensorDescription]]]


async def _async_setup_server_sensors(
    entry: NezhaConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Every server's sensors, and those of servers and readings that appear later."""
    coordinator = entry.runtime_data.coordinator
    # Per server, the descriptions it has no entity for yet: all of them for a new server,
    # then only readings it has not reported so far (temperature, GPU).
    waiting: dict[int, tuple[NezhaServerSensorDescription, ...]] = {}

    def _listed() -> list[int]:
        """The servers listed, by id: servers sharing a name get the same ids on every install.

        A server that left is forgotten here, and comes back whole.
        """
        servers = coordinator.data.servers
        for server_id in waiting.keys() - servers.keys():
            del waiting[server_id]
        return sorted(servers)

    def _pending(server_ids: Iterable[int]) -> _PendingSensors:
        """The sensors of these servers whose readings have appeared, not built yet."""
        servers = coordinator.data.servers
        new: _PendingSensors = {}
        for server_id in server_ids:
            left = waiting.setdefault(server_id, SERVER_SENSORS)
            if not left:
                continue
            server = servers[server_id]
            ready = [d for d in left if d.exists_fn(server)]
            if ready:
                waiting[server_id] = tuple(d for d in left if d not in ready)
                new[server_id] = [
                    Pending(
                        server,
                        d,
                        server_unique_id(entry.entry_id, server_id, d.key),
                        d.priority,
                    )
                    for d in ready
                ]
        return new

    notes = NoteEntities(
        entry, Platform.SENSOR, NOTE_SENSORS, lambda d, s: d.exists_fn(s), lambda d: d.priority
    )

    def _with_notes(
        new: _PendingSensors, server_ids: Iterable[int] | None = None
    ) -> _PendingSensors:
        """The note sensors that appeared join their server's others (one budget for both)."""
        for server_id, pending in notes.pending(coordinator.data.servers, server_ids).items():
            new.setdefault(server_id, []).extend(pending)
        return new

    def _built(
        fitting: Iterable[Pending[NezhaServerSensorDescription]],
    ) -> Iterator[NezhaServerSensor]:
        """What fits, built as it is taken, with one device description per server.

        Each server's online binary sensor comes first (one slot elsewhere).
        """
        infos: dict[int, DeviceInfo] = {}
        for pending in fitting:
            server = pending.server
            info = infos.get(server.id) or infos.setdefault(
                server.id, server_device_info(entry, server)
            )
            description = pending.description
            cls = NezhaNoteSensor if description.key in _NOTE_KEYS else NezhaServerSensor
            yield cls(coordinator, server, description, info)

    def online_id(server_id: int) -> str:
        """Each server's online binary sensor, weighed on its own platform, ranks first."""
        return server_unique_id(entry.entry_id, server_id, "online")

    def _fit(new: _PendingSensors) -> list[Pending[NezhaServerSensorDescription]]:
        return fit_budget(
            entry, Platform.SENSOR, new, online_id, detailed=coordinator.detailed(new)
        )

    # The whole fleet at setup: gathered and weighed a batch of servers per step of the event
    # loop, then built and added a chunk at a time.
    first: _PendingSensors = {}
    for batch in batched(_listed(), ADD_CHUNK, strict=False):
        first.update(_with_notes(_pending(batch), batch))
        await asyncio.sleep(0)
    # Online and billing binary sensors rank before these readings: weighed first (a failed
    # binary sensor setup holds nothing up for long).
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(FIRST_WEIGHED_WAIT):
            await entry.runtime_data.first_weighed.wait()
    fitting = await async_fit_budget(
        entry, Platform.SENSOR, first, online_id, detailed=coordinator.detailed(first)
    )
    await async_add_chunked(async_add_entities, _built(fitting))

    @callback
    def _add_new_server_sensors() -> None:
        if coordinator.last_update_success and (new := _with_notes(_pending(_listed()))):
            async_add_soon(entry, async_add_entities, list(_built(_fit(new))))

    entry.async_on_unload(coordinator.async_add_listener(_add_new_server_sensors))


def _deferred[EntityT: NezhaEntity[Any]](
    unique_id: str,
    description: SensorEntityDescription,
    build: Callable[[], EntityT],
) -> Deferred[EntityT]:
    return Deferred(
        unique_id,
        description_priority(description),
        description.entity_registry_enabled_default,
        build,
    )


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NezhaConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the sensors of the dashboard, of every server, service monitor, cycle and task."""
    async_add_cron_entities(
        entry, async_add_entities, lambda cron, task: [NezhaTaskLastRunSensor(cron, task)]
    )
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        NezhaDashboardSensor(coordinator, description) for description in DASHBOARD_SENSORS
    )
    await _async_setup_server_sensors(entry, async_add_entities)

    services = entry.runtime_data.services
    if services is None:
        return
    services_added: set[int] = set()
    # Unique ids of the figures of each (rule, server) pair that has entities.
    cycles_added: dict[tuple[int, int], list[str]] = {}
    entity_registry = er.async_get(hass)

    @callback
    def _add_services() -> None:
        """What the services' read brought: new monitors, and rules that cover new servers.

        Marked as added at once; built, weighed and added in the background, a batch per
        loop step (a rule covering a whole fleet brings thousands of figures).
        """
        if not services.last_update_success:
            return
        data = services.data
        services_added.intersection_update(data.services)
        new_services = sorted(data.services.keys() - services_added)
        services_added.update(data.services)
        # Cycle figures join a server's device only while that server has one.
        pairs = {
            (cycle.id, server_id)
            for cycle in data.cycles.values()
            for server_id in cycle.usage
            if server_id in coordinator.data.servers
        }
        new_pairs = sorted(pairs - cycles_added.keys())
        entry_id = entry.entry_id
        for pair in new_pairs:
            cycle_id, server_id = pair
            cycles_added[pair] = [
                cycle_unique_id(entry_id, server_id, cycle_id, d.key)
                for d in CYCLE_SENSORS
                if d.exists_fn(data.cycles[cycle_id])
            ]
        # A rule that no longer covers a server: its figures go, not left unavailable.
        for pair in cycles_added.keys() - pairs:
            for unique_id in cycles_added.pop(pair):
                if entity_id := entity_registry.async_get_entity_id(
                    Platform.SENSOR, DOMAIN, unique_id
                ):
                    entity_registry.async_remove(entity_id)
        if new_services or new_pairs:
            entry.async_create_task(
                hass,
                _async_add_services(data, new_services, new_pairs),
                "nezha service and cycle sensors added",
            )

    async def _async_add_services(
        data: ServicesSnapshot, new_services: list[int], new_pairs: list[tuple[int, int]]
    ) -> None:
        new: dict[int, list[Deferred[NezhaEntity[Any]]]] = {
            -service_id: [
                _deferred(
                    service_unique_id(entry.entry_id, service_id, d.key),
                    d,
                    partial(NezhaServiceSensor, services, data.services[service_id], d),
                )
                for d in SERVICE_SENSORS
            ]
            for service_id in new_services
        }
        for batch in batched(new_pairs, ADD_CHUNK, strict=False):
            for cycle_id, server_id in batch:
                cycle = data.cycles[cycle_id]
                new.setdefault(server_id, []).extend(
                    _deferred(
                        cycle_unique_id(entry.entry_id, server_id, cycle_id, d.key),
                        d,
                        partial(NezhaCycleSensor, services, cycle, server_id, d),
                    )
                    for d in CYCLE_SENSORS
                    if d.exists_fn(cycle)
                )
            await asyncio.sleep(0)
        fitting = await async_fit_budget(
            entry, Platform.SENSOR, new, detailed=coordinator.detailed(new)
        )
        await async_add_chunked(async_add_entities, (later.build() for later in fitting))

    _add_services()
    entry.async_on_unload(services.async_add_listener(_add_services))


class NezhaServerSensor(NezhaServerEntity, SensorEntity):
    """A metric of one server."""

    entity_description: NezhaServerSensorDescription

    def __init__(
        self,
        coordinator: NezhaDataUpdateCoordinator,
        server: Server,
        description: NezhaServerSensorDescription,
        device_info: DeviceInfo | None = None,
    ) -> None:
        """Bind the description's liveness to availability."""
        super().__init__(coordinator, server, description, device_info)
        self._live = description.live

    @property
    def native_value(self) -> StateType | datetime:
        """The reading from the latest snapshot."""
        return self.entity_description.value_fn(self.server)

    def state_value(self) -> object:
        """The reading is the whole state."""
        return self.native_value


class NezhaNoteSensor(NezhaServerSensor):
    """A fact from the server's public note: its unit and attributes may follow the note."""

    @property
    def native_unit_of_measurement(self) -> str | None:
        """The description's unit, or the one the note gives (a price's currency)."""
        unit_fn = self.entity_description.unit_fn
        if unit_fn is None:
            return super().native_unit_of_measurement
        return unit_fn(self.server) if self.available else None

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """What the note says beside the value (the amount as written)."""
        return server_attributes(self, self.entity_description.attributes_fn)

    def state_value(self) -> object:
        """The value, unit and attributes: any of them changes with the note."""
        return self.native_value, self.native_unit_of_measurement, self.extra_state_attributes


class NezhaDashboardSensor(NezhaDashboardEntity, SensorEntity):
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

    def state_value(self) -> object:
        """The figure and the start of the cycle it counts."""
        return self.native_value, self.last_reset


TASK_LAST_RUN = SensorEntityDescription(
    key="last_run",
    translation_key="task_last_run",
    device_class=SensorDeviceClass.TIMESTAMP,
)


class NezhaTaskLastRunSensor(NezhaCronEntity, SensorEntity):
    """When the task last ran (by schedule, alert or hand); unknown before its first run."""

    def __init__(self, coordinator: NezhaCronCoordinator, task: CronTask) -> None:
        """One per task."""
        super().__init__(coordinator, task, TASK_LAST_RUN)

    @property
    def native_value(self) -> datetime | None:
        """The dashboard's time of the last run."""
        return self.task.last_executed_at
