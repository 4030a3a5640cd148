"""Scheduled tasks through Home Assistant: a button per task, its last run, its result."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.nezha.const import DOMAIN
from fake_dashboard import FakeDashboard
from fake_dashboard.actions import SCOPE_CRON_EXEC, SCOPE_CRON_READ, FakeCron
from tests.actions_support import ENTRY_ID, entity_id, make_entry, set_up, start_dashboard
from tests.helpers import Clock, StopDashboard


def _unique(task_id: int, key: str) -> str:
    return f"{ENTRY_ID}_cron_{task_id}_{key}"


def _add_tasks(fake: FakeDashboard) -> None:
    fake.crons = {
        1: FakeCron(name="Backup", servers=[1]),
        # Run by an alert rule on the alerting server: nothing to press.
        2: FakeCron(name="Restart on alert", task_type=1, cover=2),
        3: FakeCron(name="Cleanup", cover=1, last_executed_at=1653000000.0, last_result=True),
    }


@pytest.fixture
async def v2(
    clock: Clock, socket_enabled: None, stop_dashboard: StopDashboard
) -> AsyncGenerator[FakeDashboard]:
    """A v2 dashboard whose token may read and run tasks."""
    fake = await start_dashboard(clock, "v2")
    _add_tasks(fake)
    fake.cron_run_delay = 0.05
    yield fake
    await stop_dashboard(fake)


async def _next_cron_refresh(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float = 61
) -> None:
    """Move time on and wait until the tasks were read again (a background refresh)."""
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    cron = entry.runtime_data.cron
    assert cron is not None
    done = hass.loop.create_future()
    unsubscribe = cron.async_add_listener(lambda: done.done() or done.set_result(None))
    try:
        freezer.tick(timedelta(seconds=seconds))
        async_fire_time_changed(hass)
        await done
    finally:
        unsubscribe()
    await hass.async_block_till_done()


async def _press(hass: HomeAssistant, button: str) -> None:
    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: button}, blocking=True
    )


async def test_tasks_become_buttons_and_sensors(hass: HomeAssistant, v2: FakeDashboard) -> None:
    """Each task: a last-run sensor and a failed sensor; a button unless run on alerts only."""
    await set_up(hass, make_entry(v2))

    assert entity_id(hass, "button", _unique(1, "run")) is not None
    assert entity_id(hass, "button", _unique(3, "run")) is not None
    assert entity_id(hass, "button", _unique(2, "run")) is None
    for task_id in (1, 2, 3):
        assert entity_id(hass, "sensor", _unique(task_id, "last_run")) is not None
        assert entity_id(hass, "binary_sensor", _unique(task_id, "last_run_failed")) is not None

    backup = hass.states.get(entity_id(hass, "button", _unique(1, "run")) or "")
    assert backup is not None
    assert backup.attributes["friendly_name"] == "127.0.0.1 Run Backup"
    # Never ran: no time, and no result (the dashboard omits false).
    never = entity_id(hass, "sensor", _unique(1, "last_run")) or ""
    assert hass.states.get(never).state == STATE_UNKNOWN  # type: ignore[union-attr]
    failed = entity_id(hass, "binary_sensor", _unique(1, "last_run_failed")) or ""
    assert hass.states.get(failed).state == STATE_UNKNOWN  # type: ignore[union-attr]
    # Ran and succeeded.
    ran = entity_id(hass, "sensor", _unique(3, "last_run")) or ""
    assert hass.states.get(ran).state == "2022-05-19T22:40:00+00:00"  # type: ignore[union-attr]
    ok = entity_id(hass, "binary_sensor", _unique(3, "last_run_failed")) or ""
    assert hass.states.get(ok).state == STATE_OFF  # type: ignore[union-attr]


async def test_press_reaches_the_dashboard(
    hass: HomeAssistant, v2: FakeDashboard, freezer: FrozenDateTimeFactory, clock: Clock
) -> None:
    """A press runs the task there (POST on v2); its result shows after the next read."""
    v2.cron_failing = {1}
    await set_up(hass, make_entry(v2))
    button = entity_id(hass, "button", _unique(1, "run")) or ""
    clock.now += 60

    await _press(hass, button)
    assert v2.manual_runs == [1]
    assert v2.requests["/api/v1/cron/1/manual"] == 1
    # The agents report the run a moment later; the integration reads the tasks again 5 s
    # after the press.
    freezer.tick(timedelta(seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert v2.crons[1].last_executed_at == clock.now
    await _next_cron_refresh(hass, freezer, 5)

    last_run = hass.states.get(entity_id(hass, "sensor", _unique(1, "last_run")) or "")
    assert last_run is not None
    assert last_run.state == "2022-05-20T02:51:44+00:00"
    failed = hass.states.get(entity_id(hass, "binary_sensor", _unique(1, "last_run_failed")) or "")
    assert failed is not None
    assert failed.state == STATE_ON


async def test_v1_runs_tasks_with_get(
    hass: HomeAssistant, clock: Clock, socket_enabled: None
) -> None:
    """v1 (and v2.0 up to 2.0.13) answer the run route to GET only: the client switches."""
    fake = await start_dashboard(clock, "v1")
    try:
        _add_tasks(fake)
        await set_up(hass, make_entry(fake))
        button = entity_id(hass, "button", _unique(3, "run")) or ""
        await _press(hass, button)
        await _press(hass, button)
        assert fake.manual_runs == [3, 3]
        # One refused POST, then GET for good.
        assert fake.requests["/api/v1/cron/3/manual"] == 3
    finally:
        await fake.stop()


async def test_tasks_follow_the_dashboard(
    hass: HomeAssistant, v2: FakeDashboard, freezer: FrozenDateTimeFactory
) -> None:
    """A deleted task loses its entities; a new one gets them at the next read."""
    await set_up(hass, make_entry(v2))
    del v2.crons[3]
    v2.crons[4] = FakeCron(name="Rotate logs")
    await _next_cron_refresh(hass, freezer)

    for platform, key in (
        ("button", "run"),
        ("sensor", "last_run"),
        ("binary_sensor", "last_run_failed"),
    ):
        assert entity_id(hass, platform, _unique(3, key)) is None
        assert entity_id(hass, platform, _unique(4, key)) is not None
    assert entity_id(hass, "button", _unique(1, "run")) is not None


async def test_failed_press_raises(hass: HomeAssistant, v2: FakeDashboard) -> None:
    """The dashboard refuses (task deleted meanwhile): a translated error, nothing run."""
    await set_up(hass, make_entry(v2))
    button = entity_id(hass, "button", _unique(1, "run")) or ""
    del v2.crons[1]
    with pytest.raises(HomeAssistantError) as caught:
        await _press(hass, button)
    assert caught.value.translation_key == "run_task_failed"
    assert caught.value.translation_placeholders["task"] == "Backup"
    assert v2.manual_runs == []


async def test_token_without_exec_scope(
    hass: HomeAssistant, clock: Clock, socket_enabled: None, issue_registry: ir.IssueRegistry
) -> None:
    """Tasks are listed but a press is refused: a translated error and a repair."""
    fake = await start_dashboard(clock, "v2", scopes=frozenset({SCOPE_CRON_READ}))
    try:
        _add_tasks(fake)
        await set_up(hass, make_entry(fake))
        button = entity_id(hass, "button", _unique(1, "run")) or ""
        with pytest.raises(HomeAssistantError) as caught:
            await _press(hass, button)
        assert caught.value.translation_key == "run_task_scope"
        assert caught.value.translation_placeholders["scope"] == SCOPE_CRON_EXEC
        assert issue_registry.async_get_issue(DOMAIN, f"cron_scope_{ENTRY_ID}") is not None
        assert fake.manual_runs == []
    finally:
        await fake.stop()


async def test_token_without_cron_scope(
    hass: HomeAssistant, clock: Clock, socket_enabled: None, issue_registry: ir.IssueRegistry
) -> None:
    """No task entities and a repair; the servers load as always."""
    fake = await start_dashboard(clock, "v2", scopes=frozenset())
    try:
        _add_tasks(fake)
        await set_up(hass, make_entry(fake))
        assert issue_registry.async_get_issue(DOMAIN, f"cron_scope_{ENTRY_ID}") is not None
        assert entity_id(hass, "button", _unique(1, "run")) is None
        online = hass.states.get("binary_sensor.server1_online")
        assert online is not None
        assert online.state == STATE_ON
    finally:
        await fake.stop()


async def test_routes_the_dashboard_does_not_answer(
    hass: HomeAssistant,
    v2: FakeDashboard,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 404 for the tasks' and services' routes (an older release, a reverse proxy that
    forwards only some paths): those features are off, said once, and the servers load."""
    v2.missing_routes = {"/api/v1/cron", "/api/v1/service"}
    caplog.set_level("INFO", logger="custom_components.nezha")
    await set_up(hass, make_entry(v2))

    online = hass.states.get("binary_sensor.server1_online")
    assert online is not None
    assert online.state == STATE_ON
    assert entity_id(hass, "button", _unique(1, "run")) is None
    for issue in ("cron_scope", "service_scope"):
        assert issue_registry.async_get_issue(DOMAIN, f"{issue}_{ENTRY_ID}") is None
    await _next_cron_refresh(hass, freezer)
    await _next_cron_refresh(hass, freezer)

    assert v2.requests["/api/v1/cron"] >= 3
    nezha = [record for record in caplog.records if record.name.startswith("custom_components")]
    assert not [record for record in nezha if record.levelname in ("WARNING", "ERROR")]
    said = [record.getMessage() for record in nezha if "HTTP 404" in record.getMessage()]
    assert len(said) == 2, said
    assert any("scheduled tasks are off" in message for message in said)
    assert any("services are off" in message for message in said)

    # The route answers again (the proxy was fixed): the tasks appear without a reload.
    v2.missing_routes = set()
    await _next_cron_refresh(hass, freezer)
    assert entity_id(hass, "button", _unique(1, "run")) is not None


async def test_renamed_task_follows(
    hass: HomeAssistant, v2: FakeDashboard, freezer: FrozenDateTimeFactory
) -> None:
    """A task renamed on the dashboard renames its entities' default names live (state and
    registry); entity ids stay, and a name the user set is kept."""
    await set_up(hass, make_entry(v2))
    registry = er.async_get(hass)
    button = entity_id(hass, "button", _unique(1, "run")) or ""
    last_run = entity_id(hass, "sensor", _unique(1, "last_run")) or ""
    failed = entity_id(hass, "binary_sensor", _unique(1, "last_run_failed")) or ""
    registry.async_update_entity(failed, name="Backup broke")

    v2.crons[1].name = "Nightly backup"
    await _next_cron_refresh(hass, freezer)

    assert hass.states.get(button).attributes["friendly_name"] == "127.0.0.1 Run Nightly backup"  # type: ignore[union-attr]
    assert registry.async_get(button).original_name == "Run Nightly backup"  # type: ignore[union-attr]
    assert registry.async_get(last_run).original_name == "Nightly backup last run"  # type: ignore[union-attr]
    kept = registry.async_get(failed)
    assert kept is not None
    assert kept.name == "Backup broke"
    assert kept.original_name == "Nightly backup last run failed"
    assert hass.states.get(failed).attributes["friendly_name"] == "Backup broke"  # type: ignore[union-attr]
    assert entity_id(hass, "button", _unique(1, "run")) == button
