"""The dashboard's metric history (v2) in the sensors' long-term statistics, through the recorder.

The fake dashboard's time-series store holds samples from before the entry existed; after
setup, the sensors' hourly statistics for those hours equal the hourly means of the samples
(in the sensor's own unit), an interrupted import resumes without importing anything twice,
and an hour the recorder already holds is never overwritten.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
import time
from typing import Any
from unittest.mock import patch

from homeassistant.components.recorder.models import StatisticMeanType, StatisticMetaData
from homeassistant.components.recorder.statistics import (
    async_import_statistics,
    statistics_during_period,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.nezha.const import CONF_HISTORY, CONF_HISTORY_DAYS, DOMAIN
from custom_components.nezha.diagnostics import async_get_config_entry_diagnostics
from custom_components.nezha.history import METRIC_SENSORS, NezhaHistory
from custom_components.nezha.identifiers import server_unique_id
from fake_dashboard import FakeDashboard
from fake_dashboard.server import SCOPE_SERVER_READ
from tests.helpers import V2_TOKEN, Clock, MakeEntry, SetupEntry

CPU = "sensor.server1_cpu_usage"
DOWNLOAD = "sensor.server1_download_speed"
METRICS = "/api/v1/server/1/metrics"
HOUR = 3600


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: object, enable_custom_integrations: None
) -> None:
    """The recorder must start before Home Assistant itself (so before custom integrations)."""


@pytest.fixture(autouse=True)
def fast_requests() -> Any:
    """The real pace is 2 requests a second; tests ask at 50 a second."""
    with patch.object(NezhaHistory, "request_interval", 0.02):
        yield


@pytest.fixture(autouse=True)
async def not_at_the_hour() -> None:
    """What may be filled moves on the hour: keep a test from straddling one."""
    if (left := HOUR - time.time() % HOUR) < 60:
        await asyncio.sleep(left + 1)


@pytest.fixture
def store(v2: FakeDashboard, clock: Clock) -> dict[str, list[tuple[float, float]]]:
    """Server1's CPU (%) and download speed (B/s) every 10 minutes over the last 40 hours.

    The dashboard's clock is the real one here: the recorder works in real time.
    """
    clock.now = time.time()
    token = v2.personal_tokens[V2_TOKEN]
    v2.add_personal_token(V2_TOKEN, scopes=token.scopes | {SCOPE_SERVER_READ})
    v2.tsdb_enabled = True
    v2.stream_enabled = False
    # On the hour: each 30-minute bucket of the week's answer holds three samples, so an
    # hour's mean of bucket means is the mean of its samples.
    start = (clock.now // HOUR) * HOUR - 40 * HOUR
    cpu = [(start + i * 600, float((i * 7) % 90)) for i in range(240)]
    speed = [(start + i * 600, float(1024 * (i % 13) + 512)) for i in range(240)]
    v2.metric_samples[1, "cpu"] = cpu
    v2.metric_samples[1, "net_in_speed"] = speed
    return {CPU: cpu, DOWNLOAD: speed}


def _expected(
    samples: list[tuple[float, float]], scale: float = 1.0
) -> dict[float, tuple[float, float, float]]:
    """Hourly (mean, min, max) of what the dashboard answers, for hours the import may fill.

    Only hours that ended an hour ago at least (the recorder may still compile later ones).
    The last day's hours from its 30 s buckets (here one sample each), older ones from the
    week's 30-minute buckets (three samples each): the mean is the samples' mean either way;
    min and max are those of the bucket means, all the dashboard tells.
    """
    now = time.time()
    end = (now // HOUR) * HOUR - HOUR
    day = -(-(now - 86400) // HOUR) * HOUR
    buckets: dict[float, list[float]] = {}
    for when, value in samples:
        size = 30 if when >= day else 1800
        buckets.setdefault((when // size) * size, []).append(value / scale)
    hours: dict[float, list[float]] = {}
    for start, values in buckets.items():
        hour = (start // HOUR) * HOUR
        if hour + HOUR <= end:
            hours.setdefault(hour, []).append(sum(values) / len(values))
    return {hour: (sum(v) / len(v), min(v), max(v)) for hour, v in hours.items()}


async def _statistics(hass: HomeAssistant, entity_id: str) -> dict[float, tuple[float, ...]]:
    await async_wait_recording_done(hass)
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        dt_util.utcnow() - timedelta(days=30),
        None,
        {entity_id},
        "hour",
        None,
        {"mean", "min", "max"},
    )
    return {row["start"]: (row["mean"], row["min"], row["max"]) for row in rows.get(entity_id, [])}


async def _until(check: Callable[[], bool], what: Any = None) -> None:
    """Wait (real time, 30 s at most) until ``check`` holds: the import runs in the background."""
    deadline = time.monotonic() + 30
    while not check():
        assert time.monotonic() < deadline, f"timed out: {what}"
        await asyncio.sleep(0.02)


def _history(entry: MockConfigEntry) -> NezhaHistory:
    history = entry.runtime_data.history
    assert history is not None
    return history


async def _import_done(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    history = _history(entry)
    await _until(
        lambda: history.status.runs > 0 and history.status.state == "idle", what=history.status
    )
    await async_wait_recording_done(hass)


def _enabled(hass: HomeAssistant, entry: MockConfigEntry) -> list[str]:
    """Server1's enabled sensors that have a history."""
    registry = er.async_get(hass)
    found = []
    for key, _ in METRIC_SENSORS.values():
        unique_id = server_unique_id(entry.entry_id, 1, key)
        entity_id = registry.async_get_entity_id("sensor", DOMAIN, unique_id)
        if entity_id is not None and not registry.async_get(entity_id).disabled:
            found.append(entity_id)
    assert CPU in found
    assert DOWNLOAD in found
    return found


def _approx(rows: dict[float, tuple[float, float, float]]) -> dict[float, Any]:
    return {hour: pytest.approx(values) for hour, values in rows.items()}


async def test_backfill_before_the_entry_existed(
    hass: HomeAssistant,
    v2: FakeDashboard,
    store: dict[str, list[tuple[float, float]]],
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
) -> None:
    """Hours before the entry existed show the dashboard's hourly means, in the sensor's unit."""
    entry = make_entry(v2)
    created = time.time()
    await setup_entry(entry)
    await _import_done(hass, entry)

    cpu = await _statistics(hass, CPU)
    expected = _expected(store[CPU])
    # About 38 hours: the last day from 30 s buckets, the hours before from 30 min ones.
    assert len(expected) >= 36
    assert cpu == _approx(expected)
    assert max(cpu) < created
    # Download speed is stored in KiB/s (the sensor's suggested unit); the dashboard's in B/s.
    assert hass.states.get(DOWNLOAD).attributes["unit_of_measurement"] == "KiB/s"
    assert await _statistics(hass, DOWNLOAD) == _approx(_expected(store[DOWNLOAD], 1024))

    # One request per (metric, period) for the periods holding missing hours (1d, 7d, 30d),
    # for the enabled sensors only.
    history = _history(entry)
    assert v2.requests[METRICS] == 3 * len(_enabled(hass, entry)), history.status
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["history"]["hours_imported"] == {
        "cpu": len(expected),
        "net_in_speed": len(expected),
    }
    assert diagnostics["history"]["state"] == "idle"
    assert diagnostics["history"]["depth_days"] == 30

    # The next run (hourly) asks only for hours not checked yet: none before the hour turns.
    asked = v2.requests[METRICS]
    history._async_schedule()
    await _until(lambda: history.status.runs == 2 and history.status.state == "idle")
    assert v2.requests[METRICS] == asked
    assert await _statistics(hass, CPU) == cpu


async def test_interrupted_import_resumes_without_duplicates(
    hass: HomeAssistant,
    v2: FakeDashboard,
    store: dict[str, list[tuple[float, float]]],
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
) -> None:
    """Unloading mid-import stops it; the next setup imports the rest and nothing twice."""
    entry = make_entry(v2)
    with patch.object(NezhaHistory, "request_interval", 0.3):
        await setup_entry(entry)
        history = _history(entry)
        # CPU is done (its three requests); the download speed is not yet.
        await _until(lambda: "cpu" in history.status.hours_imported)
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert history.status.state == "stopped"
    assert "net_in_speed" not in history.status.hours_imported
    cpu = await _statistics(hass, CPU)
    assert cpu == _approx(_expected(store[CPU]))
    assert await _statistics(hass, DOWNLOAD) == {}

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await _import_done(hass, entry)
    # The rest came in; CPU's hours were neither asked for nor imported again.
    assert "cpu" not in _history(entry).status.hours_imported
    assert await _statistics(hass, DOWNLOAD) == _approx(_expected(store[DOWNLOAD], 1024))
    assert await _statistics(hass, CPU) == cpu


async def test_hours_the_recorder_holds_are_kept(
    hass: HomeAssistant,
    v2: FakeDashboard,
    store: dict[str, list[tuple[float, float]]],
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
) -> None:
    """An hour already in the statistics (compiled by the recorder) is never overwritten."""
    held = (time.time() // HOUR) * HOUR - 5 * HOUR
    metadata = StatisticMetaData(
        mean_type=StatisticMeanType.ARITHMETIC,
        has_sum=False,
        name=None,
        source="recorder",
        statistic_id=CPU,
        unit_class=None,
        unit_of_measurement="%",
    )
    async_import_statistics(
        hass,
        metadata,
        [{"start": dt_util.utc_from_timestamp(held), "mean": 55.5, "min": 50.0, "max": 60.0}],
    )
    await async_wait_recording_done(hass)
    entry = make_entry(v2)
    await setup_entry(entry)
    await _import_done(hass, entry)

    cpu = await _statistics(hass, CPU)
    expected = _expected(store[CPU])
    assert cpu[held] == pytest.approx((55.5, 50.0, 60.0))
    assert expected[held] != pytest.approx((55.5, 50.0, 60.0))
    assert cpu == _approx(expected | {held: (55.5, 50.0, 60.0)})
    assert _history(entry).status.hours_imported["cpu"] == len(expected) - 1


async def test_store_off_asks_for_nothing(
    hass: HomeAssistant,
    v2: FakeDashboard,
    store: dict[str, list[tuple[float, float]]],
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
) -> None:
    """A dashboard with its time-series store off is asked for no server's history."""
    v2.tsdb_enabled = False
    entry = make_entry(v2)
    await setup_entry(entry)
    history = _history(entry)
    await _until(lambda: history.status.state == "store_off")
    assert v2.requests[METRICS] == 0
    assert await _statistics(hass, CPU) == {}


async def test_turned_off_and_depth(
    hass: HomeAssistant,
    v2: FakeDashboard,
    store: dict[str, list[tuple[float, float]]],
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
) -> None:
    """The option turns the import off; the depth limits how far back it fills."""
    entry = make_entry(v2)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options={CONF_HISTORY: False})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.runtime_data.history is None
    await asyncio.sleep(0.2)
    assert v2.requests[METRICS] == 0
    assert await hass.config_entries.async_unload(entry.entry_id)

    hass.config_entries.async_update_entry(entry, options={CONF_HISTORY_DAYS: 1})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await _import_done(hass, entry)
    day_ago = time.time() - 86400
    expected = {hour: values for hour, values in _expected(store[CPU]).items() if hour >= day_ago}
    assert await _statistics(hass, CPU) == _approx(expected)
    # Only the day's answers were needed.
    assert v2.requests[METRICS] == len(_enabled(hass, entry))


async def test_options_offer_history_on_v2_only(
    hass: HomeAssistant,
    v2: FakeDashboard,
    dashboard: FakeDashboard,
    config_entry: MockConfigEntry,
    store: dict[str, list[tuple[float, float]]],
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
) -> None:
    """v2's options end with the history switch and depth; saving off stops the import."""
    await setup_entry(config_entry)
    result = await hass.config_entries.options.async_init(config_entry.entry_id)
    assert CONF_HISTORY not in result["data_schema"].schema

    entry = make_entry(v2)
    await setup_entry(entry)
    await _import_done(hass, entry)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    keys = list(result["data_schema"].schema)
    assert keys[-2:] == [CONF_HISTORY, CONF_HISTORY_DAYS]
    defaults = {key: key.default() for key in keys[-2:]}
    assert defaults == {CONF_HISTORY: True, CONF_HISTORY_DAYS: 30}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_HISTORY: False, CONF_HISTORY_DAYS: 7}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options[CONF_HISTORY] is False
    assert entry.options[CONF_HISTORY_DAYS] == 7
    assert entry.runtime_data.history is None


async def test_token_without_server_read_pauses(
    hass: HomeAssistant,
    v2: FakeDashboard,
    store: dict[str, list[tuple[float, float]]],
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
) -> None:
    """A token without nezha:server:read: the import says so and imports nothing."""
    token = v2.personal_tokens[V2_TOKEN]
    v2.add_personal_token(V2_TOKEN, scopes=token.scopes - {SCOPE_SERVER_READ})
    entry = make_entry(v2)
    await setup_entry(entry)
    history = _history(entry)
    await _until(lambda: history.status.state == "missing_scope", what=history.status)
    assert v2.requests[METRICS] == 1
    assert await _statistics(hass, CPU) == {}
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["history"]["state"] == "missing_scope"
    assert V2_TOKEN not in str(diagnostics)
