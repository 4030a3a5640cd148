"""History: a v2 dashboard's metric history in Home Assistant's long-term statistics.

A v2 dashboard with its time-series store on keeps every server's metrics (30 days by
default). This copies them, as hourly mean/min/max, into the long-term statistics of the
matching sensors (each sensor's own statistic id and unit), so graphs and statistics cards
show the days before the entry existed and the hours Home Assistant or the dashboard missed.

It never competes with the recorder, which compiles an hour once, shortly after it ends, and
inserts without looking (an hour already there would make its whole compile fail):

- it starts once Home Assistant has started, so the recorder's catch-up of missed hours
  (queued before the recorder is ready) is ahead of every import in the recorder's queue;
- it imports only hours that ended at least an hour ago (compiled by then, if ever) and only
  hours the recorder holds nothing for: hours compiled (or imported before) are never touched.

The work is spread out: one run at start, then one an hour for new gaps, each in a background
task of the entry (cancelled on unload), one request at a time, at most 2 a second and 100
imported hours a second (the recorder looks up each imported row before writing it). A run
asks the dashboard only for what is missing: per sensor, the hours already checked are kept in
a store, and one request per (server, metric, period) covers the rest — ``1d`` (30 s buckets)
for the last day, ``7d`` (30 min) for the week, ``30d`` (2 h, each counted in both its hours)
beyond. Whatever stops a run (a restart,
the dashboard down) leaves the hours of the sensors not yet done unchecked; the next run picks
them up, and hours imported meanwhile are in the recorder, so never imported twice.
Only enabled sensors are filled; history costs no entity.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import time
from typing import Any, Final

from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import (
    STATISTIC_UNIT_TO_UNIT_CONVERTER,
    async_import_statistics,
    get_metadata,
    statistics_during_period,
)
from homeassistant.components.sensor.const import UNIT_CONVERTERS
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_UNIT_OF_MEASUREMENT,
    PERCENTAGE,
    Platform,
    UnitOfDataRate,
    UnitOfInformation,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.recorder import get_instance
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_conversion import BaseUnitConverter

from .api import (
    MetricsErrorReason,
    NezhaClient,
    NezhaError,
    NezhaMetricsError,
    NezhaMissingScopeError,
)
from .const import (
    CONF_HISTORY,
    CONF_HISTORY_DAYS,
    DEFAULT_HISTORY_DAYS,
    DOMAIN,
    LOGGER,
)
from .identifiers import server_unique_id

# Dashboard metric → (sensor key, the unit the dashboard counts it in; None: a plain number).
# "memory", "swap" and "disk" are bytes used (v2.3.7 pkg/tsdb/writer.go), not percentages.
# Left out: transfers and uptime (counters, kept as the bucket's last value), temperature and
# gpu (the sensors show the hottest sensor and the agent's figure, stored otherwise).
METRIC_SENSORS: Final[dict[str, tuple[str, str | None]]] = {
    "cpu": ("cpu", PERCENTAGE),
    "memory": ("memory_used", UnitOfInformation.BYTES),
    "swap": ("swap_used", UnitOfInformation.BYTES),
    "disk": ("disk_used", UnitOfInformation.BYTES),
    "net_in_speed": ("network_in_speed", UnitOfDataRate.BYTES_PER_SECOND),
    "net_out_speed": ("network_out_speed", UnitOfDataRate.BYTES_PER_SECOND),
    "load1": ("load_1", None),
    "load5": ("load_5", None),
    "load15": ("load_15", None),
    "tcp_conn": ("tcp_connections", None),
    "udp_conn": ("udp_connections", None),
    "process_count": ("processes", None),
}
# (period, window, bucket), finest first: each hour is taken from the finest that covers it.
PERIODS: Final = (
    ("1d", timedelta(days=1), 30),
    ("7d", timedelta(days=7), 1800),
    ("30d", timedelta(days=30), 7200),
)
HOUR: Final = 3600
RUN_INTERVAL: Final = timedelta(hours=1)
STORAGE_VERSION: Final = 1


def wanted(entry: ConfigEntry) -> bool:
    """Whether the user wants the history (on unless turned off)."""
    return bool(entry.options.get(CONF_HISTORY, True))


def depth(entry: ConfigEntry) -> timedelta:
    """How far back to fill (days; the dashboard keeps 30 by default)."""
    return timedelta(days=int(entry.options.get(CONF_HISTORY_DAYS, DEFAULT_HISTORY_DAYS)))


async def async_remove(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """The entry is deleted: forget which hours were checked."""
    await _store(hass, entry.entry_id).async_remove()


def _store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, list[int]]]:
    """Per sensor (entity id), the [first, end) hour starts already checked (unix s)."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.history.{entry_id}")


def _floor_hour(ts: float) -> int:
    return int(ts // HOUR) * HOUR


def _ceil_hour(ts: float) -> int:
    return -int(-ts // HOUR) * HOUR


def _unit_converter(source: str | None, target: str | None) -> Callable[[float], float] | None:
    """Dashboard unit → statistics unit; None when they do not convert.

    A plain count (``source`` None) takes whatever label the sensor shows ("connections"),
    unless that label is a real unit.
    """
    if source == target or (source is None and target not in STATISTIC_UNIT_TO_UNIT_CONVERTER):
        return float
    converter = STATISTIC_UNIT_TO_UNIT_CONVERTER.get(source)
    if converter is None or target not in converter.VALID_UNITS:
        return None
    return converter.converter_factory(source, target)


def _unit_class(device_class: str | None, unit: str | None) -> str | None:
    """The unit class the sensor recorder would give a new statistic (same rule)."""
    converter: type[BaseUnitConverter] | None = UNIT_CONVERTERS.get(device_class)
    if converter is not None and unit in converter.VALID_UNITS:
        return converter.UNIT_CLASS
    if (converter := STATISTIC_UNIT_TO_UNIT_CONVERTER.get(unit)) is not None:
        return converter.UNIT_CLASS
    return None


def hourly(
    points: Iterable[tuple[float, float]], bucket: int, hours: set[int]
) -> dict[int, tuple[float, float, float]]:
    """(mean, min, max) per hour start among ``hours``, from bucket means (start, value).

    A bucket counts in every hour it overlaps (a 2 h bucket in both of its hours).
    """
    values: dict[int, list[float]] = {}
    for start, value in points:
        first = _floor_hour(start)
        last = _floor_hour(start + bucket - 1)
        for hour in range(first, last + 1, HOUR):
            if hour in hours:
                values.setdefault(hour, []).append(value)
    return {
        hour: (sum(found) / len(found), min(found), max(found)) for hour, found in values.items()
    }


@dataclass(slots=True)
class _Target:
    """One enabled sensor to fill."""

    metric: str
    entity_id: str
    unit: str | None
    device_class: str | None


@dataclass(slots=True)
class _Pacer:
    """At most one request per ``interval`` seconds, and time for the recorder's writes."""

    interval: float
    row_interval: float
    _next: float = 0.0

    async def wait(self) -> None:
        now = time.monotonic()
        if self._next > now:
            await asyncio.sleep(self._next - now)
            now = time.monotonic()
        self._next = now + self.interval

    def imported(self, rows: int) -> None:
        """Leave the recorder time to write ``rows`` before the next request."""
        self._next += rows * self.row_interval


class _Stop(Exception):
    """The run cannot go on (the dashboard keeps no history at all)."""


class _SkipTarget(Exception):
    """The dashboard refused this sensor's server or metric: skip it this run."""


@dataclass(slots=True)
class HistoryStatus:
    """What the import did, for diagnostics."""

    state: str = "waiting"
    runs: int = 0
    last_started: datetime | None = None
    last_finished: datetime | None = None
    requests: int = 0
    sensors_checked: int = 0
    hours_imported: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)


class NezhaHistory:
    """Fills the sensors' long-term statistics from the dashboard's metric history."""

    # 2 requests a second at most, and 100 imported hours a second: the recorder writes an
    # imported row in about 2 ms on a slow machine (it looks each one up first), so this
    # keeps its thread mostly free for states. A 30-day backfill of 10 servers takes about
    # 13 minutes, of 1000 servers about a day (scripts/bench_history.py).
    request_interval: float = 0.5
    row_interval: float = 0.01

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        client: NezhaClient,
        server_ids: Callable[[], Iterable[int]],
    ) -> None:
        """Prepare; nothing runs before ``async_start``.

        ``server_ids`` gives the dashboard's servers as last read (the entry's plain
        ``ConfigEntry`` keeps this module from importing the coordinator's types back).
        """
        self.hass = hass
        self.entry = entry
        self.client = client
        self._server_ids = server_ids
        self.depth = depth(entry)
        self.status = HistoryStatus()
        self._store = _store(hass, entry.entry_id)
        self._checked: dict[str, list[int]] = {}
        self._running = False
        self._one_day_only = False

    @callback
    def async_start(self) -> None:
        """Run once Home Assistant has started, then every hour (never during setup)."""
        if "recorder" not in self.hass.config.components:
            self.status.state = "no_recorder"
            return
        self.entry.async_on_unload(async_at_started(self.hass, self._async_schedule))
        self.entry.async_on_unload(
            async_track_time_interval(self.hass, self._async_schedule, RUN_INTERVAL)
        )

    @callback
    def _async_schedule(self, *_: Any) -> None:
        if self._running:
            return
        self._running = True
        self.entry.async_create_background_task(
            self.hass, self._async_run(), f"{DOMAIN} history {self.entry.entry_id}"
        )

    async def _async_run(self) -> None:
        status = self.status
        status.state = "running"
        status.runs += 1
        status.last_started = dt_util.utcnow()
        try:
            await get_instance(self.hass).async_db_ready
            if status.runs == 1:
                self._checked = await self._store.async_load() or {}
            setting = await self.client.async_get_setting()
            if setting.tsdb_enabled is False:
                status.state = "store_off"
                return
            pacer = _Pacer(self.request_interval, self.row_interval)
            for server_id in list(self._server_ids()):
                await self._async_server(server_id, pacer)
            status.state = "idle"
        except asyncio.CancelledError:
            # Unloaded or stopping: the next start carries on.
            status.state = "stopped"
            raise
        except _Stop as err:
            status.state = str(err)
        except NezhaMissingScopeError:
            # The token lacks nezha:server:read: the hourly run tries again (a new token).
            status.state = "missing_scope"
        except NezhaError as err:
            status.errors[type(err).__name__] += 1
            status.state = "unreachable"
            LOGGER.debug("History import paused: %s", err)
        finally:
            self._running = False
            status.last_finished = dt_util.utcnow()
            self._store.async_delay_save(lambda: self._checked, 1)

    def _targets(self, server_id: int) -> list[_Target]:
        registry = er.async_get(self.hass)
        targets: list[_Target] = []
        for metric, (key, _) in METRIC_SENSORS.items():
            unique_id = server_unique_id(self.entry.entry_id, server_id, key)
            entity_id = registry.async_get_entity_id(Platform.SENSOR, DOMAIN, unique_id)
            if entity_id is None or (entity := registry.async_get(entity_id)) is None:
                continue
            if entity.disabled:
                continue
            state = self.hass.states.get(entity_id)
            unit = entity.unit_of_measurement
            device_class = entity.device_class or entity.original_device_class
            if state is not None:
                unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT, unit)
                device_class = state.attributes.get(ATTR_DEVICE_CLASS, device_class)
            targets.append(_Target(metric, entity_id, unit, device_class))
        return targets

    async def _async_server(self, server_id: int, pacer: _Pacer) -> None:
        targets = self._targets(server_id)
        if not targets:
            return
        now = dt_util.utcnow().timestamp()
        # Hours that ended an hour ago at least: the recorder has compiled them if it ever will.
        end = _floor_hour(now) - HOUR
        first = _ceil_hour(now - self.depth.total_seconds())
        if first >= end:
            return
        ids = {target.entity_id for target in targets}
        recorder = get_instance(self.hass)
        start_dt, end_dt = dt_util.utc_from_timestamp(first), dt_util.utc_from_timestamp(end)
        existing = await recorder.async_add_executor_job(
            statistics_during_period, self.hass, start_dt, end_dt, ids, "hour", None, {"mean"}
        )
        metadata = await recorder.async_add_executor_job(
            lambda: get_metadata(self.hass, statistic_ids=ids)
        )
        for target in targets:
            held = {int(row["start"]) for row in existing.get(target.entity_id, [])}
            checked_from, checked_end = self._checked.get(target.entity_id, (end, end))
            missing = {
                hour
                for hour in range(first, end, HOUR)
                if hour not in held and not checked_from <= hour < checked_end
            }
            if missing:
                meta = metadata.get(target.entity_id)
                try:
                    await self._async_fill(
                        server_id, target, missing, now, pacer, None if meta is None else meta[1]
                    )
                except _SkipTarget:
                    continue
            self.status.sensors_checked += 1
            # The checked span grows to [first, end) when it touched or overlapped it.
            if checked_end >= first and checked_from <= end:
                first_checked = min(first, checked_from)
            else:
                first_checked = first
            self._checked[target.entity_id] = [first_checked, end]
        self._store.async_delay_save(lambda: self._checked, 10)

    async def _async_fill(
        self,
        server_id: int,
        target: _Target,
        missing: set[int],
        now: float,
        pacer: _Pacer,
        old: StatisticMetaData | None,
    ) -> None:
        """Ask the dashboard for the missing hours of one sensor and import what it has."""
        if old is not None:
            # The recorder's own: same unit and class, or the import would change them.
            metadata = StatisticMetaData(
                mean_type=StatisticMeanType.ARITHMETIC,
                has_sum=False,
                name=old["name"],
                source=old["source"],
                statistic_id=target.entity_id,
                unit_class=old["unit_class"],
                unit_of_measurement=old["unit_of_measurement"],
            )
        else:
            metadata = StatisticMetaData(
                mean_type=StatisticMeanType.ARITHMETIC,
                has_sum=False,
                name=None,
                source="recorder",
                statistic_id=target.entity_id,
                unit_class=_unit_class(target.device_class, target.unit),
                unit_of_measurement=target.unit,
            )
        convert = _unit_converter(METRIC_SENSORS[target.metric][1], metadata["unit_of_measurement"])
        if convert is None:
            self.status.errors["unit_mismatch"] += 1
            return
        # Each hour from the finest period that covers it whole.
        by_period: dict[str, tuple[int, set[int]]] = {}
        for hour in sorted(missing):
            for period, window, bucket in PERIODS:
                if self._one_day_only and period != "1d":
                    break
                if hour >= _ceil_hour(now - window.total_seconds()):
                    by_period.setdefault(period, (bucket, set()))[1].add(hour)
                    break
        rows: dict[int, tuple[float, float, float]] = {}
        for period, (bucket, hours) in by_period.items():
            await pacer.wait()
            self.status.requests += 1
            try:
                answer = await self.client.async_get_metrics(server_id, target.metric, period)
            except NezhaMetricsError as err:
                self.status.errors[err.reason] += 1
                if err.reason is MetricsErrorReason.GUESTS_ONE_DAY:
                    # Without a token only the last day is served; ask for no more.
                    self._one_day_only = True
                    continue
                if err.reason is MetricsErrorReason.UNSUPPORTED:
                    raise _Stop("unsupported") from err
                # This server (gone, hidden) or this metric: the next run tries again.
                raise _SkipTarget from err
            points = ((point.ts.timestamp(), point.value) for point in answer.points)
            rows |= hourly(points, bucket, hours)
        if not rows:
            return
        statistics = [
            StatisticData(
                start=dt_util.utc_from_timestamp(hour),
                mean=convert(mean),
                min=convert(low),
                max=convert(high),
            )
            for hour, (mean, low, high) in sorted(rows.items())
        ]
        async_import_statistics(self.hass, metadata, statistics)
        pacer.imported(len(statistics))
        self.status.hours_imported[target.metric] += len(statistics)

    def as_dict(self) -> dict[str, Any]:
        """What diagnostics show."""
        status = self.status
        return {
            "depth_days": self.depth.days,
            "state": status.state,
            "runs": status.runs,
            "last_started": None
            if status.last_started is None
            else status.last_started.isoformat(),
            "last_finished": None
            if status.last_finished is None
            else status.last_finished.isoformat(),
            "requests": status.requests,
            "sensors_checked": status.sensors_checked,
            "hours_imported": dict(status.hours_imported),
            "errors": dict(status.errors),
            "sensors_known": len(self._checked),
        }
