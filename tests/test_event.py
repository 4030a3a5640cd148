"""Nezha's alerts as Home Assistant events: channel, groups, deliveries, removal.

The fake dashboard delivers over loopback to Home Assistant's real HTTP server (the test
client's), so the webhook, its secret check and the event entities run as in production.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import timedelta
import json
import logging
import time
from typing import Any
from unittest.mock import patch

from aiohttp import web
from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import automation
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from yarl import URL

from custom_components.nezha.alerts import (
    BODY_TEMPLATE,
    SECRET_HEADER,
    classify,
    is_private_url,
    parse_delivery,
)
from custom_components.nezha.const import (
    CONF_ALERT_GROUPS,
    CONF_ALERTS,
    CONF_TAGS,
    DATA_ALERTS,
    DOMAIN,
)
from custom_components.nezha.diagnostics import async_get_config_entry_diagnostics
from fake_dashboard import FakeDashboard
from fake_dashboard.actions import SCOPE_CRON_READ, FakeGroup
from tests.actions_support import ENTRY_ID, entity_id, make_entry, set_up, start_dashboard
from tests.helpers import Clock, StopDashboard, logged, logged_problems

type ClientFactory = Callable[[], Awaitable[TestClient[Any, Any]]]


async def _ha_base(hass: HomeAssistant, hass_client_no_auth: ClientFactory) -> URL:
    """Home Assistant's HTTP server on loopback; its URL is what the dashboard is given."""
    assert await async_setup_component(hass, "webhook", {})
    client = await hass_client_no_auth()
    return URL(str(client.make_url("/")))


async def _with_groups(fake: FakeDashboard) -> FakeDashboard:
    fake.notification_groups = {1: FakeGroup("Ops"), 2: FakeGroup("Nightly")}
    return fake


@pytest.fixture
async def v1(
    clock: Clock, socket_enabled: None, stop_dashboard: StopDashboard
) -> AsyncGenerator[FakeDashboard]:
    """A v1 dashboard (delivers to private addresses), in English."""
    fake = await _with_groups(await start_dashboard(clock, "v1"))
    fake.language = "en-US"
    yield fake
    await stop_dashboard(fake)


@pytest.fixture
async def v2(
    clock: Clock, socket_enabled: None, stop_dashboard: StopDashboard
) -> AsyncGenerator[FakeDashboard]:
    """A v2.3.7 dashboard (refuses private addresses), in Chinese."""
    fake = await _with_groups(await start_dashboard(clock, "v2"))
    yield fake
    await stop_dashboard(fake)


def _alert_entity(hass: HomeAssistant, server_id: int | None) -> str:
    unique = f"{ENTRY_ID}_alert" if server_id is None else f"{ENTRY_ID}_{server_id}_alert"
    found = entity_id(hass, "event", unique)
    assert found is not None
    return found


async def _automation(hass: HomeAssistant, entity: str) -> list[tuple[float, ServiceCall]]:
    """An automation on the event entity; each run is recorded with its monotonic time."""
    runs: list[tuple[float, ServiceCall]] = []

    async def _record(call: ServiceCall) -> None:
        runs.append((time.monotonic(), call))

    hass.services.async_register("test", "alert", _record)
    assert await async_setup_component(
        hass,
        automation.DOMAIN,
        {
            automation.DOMAIN: {
                "triggers": [{"trigger": "state", "entity_id": entity}],
                "conditions": [
                    "{{ trigger.to_state.attributes.event_type == 'incident' }}",
                ],
                "actions": [
                    {
                        "action": "test.alert",
                        "data": {
                            "message": "{{ trigger.to_state.attributes.message }}",
                            "server": "{{ trigger.to_state.attributes.server_name }}",
                        },
                    }
                ],
            }
        },
    )
    return runs


async def test_v1_alert_reaches_an_automation(
    hass: HomeAssistant, v1: FakeDashboard, hass_client_no_auth: ClientFactory
) -> None:
    """Channel created and put in the chosen group; an incident fires the server's event."""
    base = await _ha_base(hass, hass_client_no_auth)
    await hass.config.async_update(internal_url=str(base))
    entry = make_entry(v1, **{CONF_ALERTS: True, CONF_ALERT_GROUPS: ["1"]})
    await set_up(hass, entry)

    # One channel, posting to this Home Assistant, member of "Ops" only.
    assert list(v1.notifications) == [1]
    channel = v1.notifications[1]
    assert channel.url.startswith(str(base).rstrip("/") + "/api/webhook/")
    assert channel.request_body == BODY_TEMPLATE
    assert json.loads(channel.request_header)[SECRET_HEADER] == entry.data[DATA_ALERTS]["secret"]
    assert v1.notification_groups[1].members == [1]
    assert v1.notification_groups[2].members == []
    # The dashboard's test message arrived and was not turned into an event.
    assert v1.deliveries[0].status == 200
    server_alert = _alert_entity(hass, 1)
    assert hass.states.get(server_alert).state == STATE_UNKNOWN  # type: ignore[union-attr]

    runs = await _automation(hass, server_alert)
    server = v1.servers[1]
    [delivery] = await v1.fire_alert(1, v1.alert_message("incident", server, "CPU > 90%"), server)
    await hass.async_block_till_done()
    assert delivery.status == 200

    state = hass.states.get(server_alert)
    assert state is not None
    assert state.attributes["event_type"] == "incident"
    assert state.attributes["message"] == f"[Incident] Server1({server.ipv4}) CPU > 90%"
    assert state.attributes["server_id"] == 1
    assert state.attributes["server_name"] == "Server1"
    assert len(runs) == 1
    triggered_at, call = runs[0]
    assert call.data["server"] == "Server1"
    # A figure for the record (pytest -s), not a timed assertion: the trigger came after the
    # dashboard sent.
    latency_ms = (triggered_at - delivery.sent_at) * 1000
    print(f"dashboard delivery -> automation trigger: {latency_ms:.1f} ms")  # noqa: T201
    assert triggered_at >= delivery.sent_at

    # A service alert has no server: it goes to the dashboard's event entity.
    await v1.fire_alert(1, "[Down] Website Reporter: Server1, Error: timeout")
    await hass.async_block_till_done()
    dashboard = hass.states.get(_alert_entity(hass, None))
    assert dashboard is not None
    assert dashboard.attributes["event_type"] == "service"
    assert dashboard.attributes["server_id"] is None


async def test_wrong_secret_is_refused(
    hass: HomeAssistant, v1: FakeDashboard, hass_client_no_auth: ClientFactory
) -> None:
    """Only the dashboard, which knows the secret, can fire events."""
    assert await async_setup_component(hass, "webhook", {})
    client = await hass_client_no_auth()
    await hass.config.async_update(internal_url=str(client.make_url("/")))
    entry = make_entry(v1, **{CONF_ALERTS: True, CONF_ALERT_GROUPS: ["1"]})
    await set_up(hass, entry)
    path = URL(v1.notifications[1].url).path
    body = {"message": "[Incident] Server1(1.1.1.1) CPU", "server_id": "1"}
    answer = await client.post(path, json=body, headers={SECRET_HEADER: "guess"})
    assert answer.status == 401
    answer = await client.post(
        path, data=b"not json", headers={SECRET_HEADER: entry.data[DATA_ALERTS]["secret"]}
    )
    assert answer.status == 400
    assert hass.states.get(_alert_entity(hass, 1)).state == STATE_UNKNOWN  # type: ignore[union-attr]


async def test_turning_off_and_removing_delete_the_channel(
    hass: HomeAssistant, v1: FakeDashboard, hass_client_no_auth: ClientFactory
) -> None:
    """Options off: channel gone from the dashboard and its groups; same on entry removal."""
    await hass.config.async_update(internal_url=str(await _ha_base(hass, hass_client_no_auth)))
    v1.notification_groups[1].members = []
    entry = make_entry(v1, **{CONF_ALERTS: True, CONF_ALERT_GROUPS: ["1", "2"]})
    await set_up(hass, entry)
    assert v1.notification_groups[1].members == [1]
    assert v1.notification_groups[2].members == [1]

    flow = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        flow["flow_id"], {"online_threshold": 30, CONF_ALERTS: False, CONF_ALERT_GROUPS: []}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert v1.notifications == {}
    assert v1.notification_groups[1].members == []
    assert DATA_ALERTS not in entry.data

    # On again, then the entry is deleted: the new channel goes too.
    hass.config_entries.async_update_entry(
        entry, options=entry.options | {CONF_ALERTS: True, CONF_ALERT_GROUPS: ["2"]}
    )
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert list(v1.notifications) == [2]
    assert v1.notification_groups[2].members == [2]
    started = time.monotonic()
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    print(f"entry removed -> channel deleted in {(time.monotonic() - started) * 1000:.1f} ms")  # noqa: T201
    assert v1.notifications == {}
    assert v1.notification_groups[2].members == []


async def test_v2_refuses_a_private_url(
    hass: HomeAssistant,
    v2: FakeDashboard,
    hass_client_no_auth: ClientFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    """v2.1+: with only a loopback URL the form explains, and an enabled option a repair."""
    await hass.config.async_update(internal_url=str(await _ha_base(hass, hass_client_no_auth)))
    entry = make_entry(v2)
    await set_up(hass, entry)
    flow = await hass.config_entries.options.async_init(entry.entry_id)
    assert flow["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(
        flow["flow_id"], {"online_threshold": 30, CONF_ALERTS: True, CONF_ALERT_GROUPS: ["1"]}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "alerts_need_external_url"}

    # Turned on anyway (e.g. before the URL went away): a repair, no channel tried.
    hass.config_entries.async_update_entry(
        entry, options={CONF_ALERTS: True, CONF_ALERT_GROUPS: ["1"]}
    )
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    issue = f"alerts_need_external_url_{ENTRY_ID}"
    assert issue_registry.async_get_issue(DOMAIN, issue) is not None
    assert v2.notifications == {}
    assert hass.states.get("binary_sensor.server1_online") is not None


async def test_v2_delivers_to_a_public_url(
    hass: HomeAssistant,
    v2: FakeDashboard,
    hass_client_no_auth: ClientFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    """An external URL the dashboard may reach: channel made, Chinese prefixes classified."""
    base = await _ha_base(hass, hass_client_no_auth)
    public = base.with_host("ha.example.com")
    v2.resolve = {"ha.example.com": "127.0.0.1"}
    await hass.config.async_update(internal_url=str(base), external_url=str(public))
    entry = make_entry(v2, **{CONF_ALERTS: True, CONF_ALERT_GROUPS: ["2"]})
    await set_up(hass, entry)
    assert v2.notifications[1].url.startswith(str(public).rstrip("/"))
    assert issue_registry.async_get_issue(DOMAIN, f"alerts_need_external_url_{ENTRY_ID}") is None

    server = v2.servers[1]
    message = v2.alert_message("task_failed", server, "Backup")
    await v2.fire_alert(2, message, server)
    await hass.async_block_till_done()
    state = hass.states.get(_alert_entity(hass, 1))
    assert state is not None
    assert state.attributes["event_type"] == "task_failed"
    assert state.attributes["message"] == message

    await v2.fire_alert(2, v2.alert_message("ip_changed", server))
    await hass.async_block_till_done()
    dashboard = hass.states.get(_alert_entity(hass, None))
    assert dashboard is not None
    assert dashboard.attributes["event_type"] == "ip_changed"


async def test_refused_channel_logged_once_then_its_end(
    hass: HomeAssistant,
    v2: FakeDashboard,
    hass_client_no_auth: ClientFactory,
    issue_registry: ir.IssueRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The dashboard refuses the channel (its test message cannot be sent): a repair, and
    the dashboard's own reason logged once as a warning, however often it is tried; once
    at info when a later attempt is accepted."""
    base = await _ha_base(hass, hass_client_no_auth)
    await hass.config.async_update(external_url=str(base.with_host("ha.example.com")))
    entry = make_entry(v2, **{CONF_ALERTS: True, CONF_ALERT_GROUPS: ["1"]})
    await set_up(hass, entry)
    issue = f"alerts_not_delivered_{ENTRY_ID}"
    assert issue_registry.async_get_issue(DOMAIN, issue) is not None
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    warnings = [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.WARNING and record.name.startswith("custom_components")
    ]
    assert warnings == [
        "127.0.0.1: the dashboard refused the alert channel: lookup ha.example.com: no such host"
    ]
    webhook_id = entry.data[DATA_ALERTS]["webhook_id"]
    assert webhook_id not in caplog.text

    v2.resolve = {"ha.example.com": "127.0.0.1"}
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue) is None
    infos = [
        record.getMessage()
        for record in caplog.records
        if record.levelno == logging.INFO and "alert channel" in record.getMessage()
    ]
    assert infos == ["127.0.0.1: the dashboard accepted the alert channel"]
    assert len(v2.notifications) == 1


async def test_token_without_notification_scopes(
    hass: HomeAssistant,
    clock: Clock,
    socket_enabled: None,
    hass_client_no_auth: ClientFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A repair naming the missing scope; servers and tasks work."""
    fake = await start_dashboard(clock, "v2", scopes=frozenset({SCOPE_CRON_READ}))
    try:
        base = await _ha_base(hass, hass_client_no_auth)
        fake.resolve = {"ha.example.com": "127.0.0.1"}
        await hass.config.async_update(external_url=str(base.with_host("ha.example.com")))
        await set_up(hass, make_entry(fake, **{CONF_ALERTS: True}))
        issue = issue_registry.async_get_issue(DOMAIN, f"alerts_scope_{ENTRY_ID}")
        assert issue is not None
        assert issue.translation_placeholders["scope"] == "nezha:notification:write"
        assert hass.states.get("binary_sensor.server1_online") is not None
    finally:
        await fake.stop()


def test_classify_by_language() -> None:
    """The bracketed prefix in the dashboard's language; the test message is no alert."""
    assert classify("en-US", "[Incident] a(1.1.1.1) CPU") == "incident"
    assert classify("zh-CN", "[恢复] a(1.1.1.1) CPU") == "resolved"
    assert classify("zh_TW", "[排程任務執行失敗] Backup, a\nerr") == "task_failed"
    assert classify("zh-CN", "[延迟告警] web 300.000000 > 200.000000\uff0c报告服务: a") == "latency"
    assert classify("en-US", "[TLS] Fetch cert info failed, Reporter: a, Error: x") == "tls"
    assert classify("en-US", "[Low Availability] web Reporter: a, Error: x") == "service"
    assert classify("de-DE", "[Incident] a(1.1.1.1) CPU") == "incident"
    assert classify("en-US", "[事件] a(1.1.1.1) CPU") == "other"
    assert classify("en-US", "no prefix") == "other"
    assert classify("zh-CN", "一条测试信息") is None
    assert classify("en-US", "a test message") is None


def test_delivery_without_server() -> None:
    """Placeholders the dashboard left unfilled mean: no server."""
    body = BODY_TEMPLATE.replace("#NEZHA#", "[IP Changed] a, 1 => 2")
    alert = parse_delivery("en-US", body.encode())
    assert alert is not None
    assert alert.kind == "ip_changed"
    assert alert.server_id is None
    assert alert.server_name == ""
    assert alert.datetime == ""
    with pytest.raises(ValueError, match="template"):
        parse_delivery("en-US", b"[1]")


@pytest.mark.parametrize(
    ("url", "private"),
    [
        ("http://127.0.0.1:8123", True),
        ("http://192.168.1.5:8123", True),
        ("http://100.100.1.1:8123", True),
        ("http://[::1]:8123", True),
        ("http://[::ffff:10.0.0.1]:8123", True),
        ("http://homeassistant.local:8123", True),
        ("http://homeassistant:8123", True),
        ("https://ha.example.com", False),
        ("https://8.8.8.8", False),
    ],
)
def test_private_urls(url: str, private: bool) -> None:
    """As v2.1+ dashboards judge an address (names by convention)."""
    assert is_private_url(url) is private


async def test_diagnostics_hide_the_webhook(
    hass: HomeAssistant,
    v1: FakeDashboard,
    hass_client_no_auth: ClientFactory,
) -> None:
    """The webhook id and secret would let anyone fire events: never in diagnostics."""
    await hass.config.async_update(internal_url=str(await _ha_base(hass, hass_client_no_auth)))
    entry = make_entry(v1, **{CONF_ALERTS: True, CONF_ALERT_GROUPS: ["1"]})
    await set_up(hass, entry)
    data = await async_get_config_entry_diagnostics(hass, entry)
    text = json.dumps(data, default=str)
    stored = entry.data[DATA_ALERTS]
    assert stored["secret"] not in text
    assert stored["webhook_id"] not in text
    assert data["alerts"] == {
        "language": "en-US",
        "received": 1,
        "refused": 0,
        "dropped_outside_tags": 0,
    }


async def test_alerts_of_servers_outside_the_tags_are_counted(
    hass: HomeAssistant, v1: FakeDashboard, hass_client_no_auth: ClientFactory
) -> None:
    """The dashboard alerts on every server of a group; those outside the chosen tags have
    no entity here: dropped, and counted in diagnostics."""
    await hass.config.async_update(internal_url=str(await _ha_base(hass, hass_client_no_auth)))
    v1.groups = {"Tag1": [1], "Tag2": [2]}
    # Reporting, so that the dashboard fills in the server's placeholders.
    v1.servers[2].last_active = v1.clock()
    entry = make_entry(v1, **{CONF_ALERTS: True, CONF_ALERT_GROUPS: ["1"], CONF_TAGS: ["Tag1"]})
    await set_up(hass, entry)
    assert entity_id(hass, "event", f"{ENTRY_ID}_2_alert") is None
    shown = _alert_entity(hass, 1)

    outside = v1.servers[2]
    [delivery] = await v1.fire_alert(1, v1.alert_message("incident", outside, "CPU"), outside)
    await hass.async_block_till_done()
    assert delivery.status == 200
    assert hass.states.get(shown).state == STATE_UNKNOWN  # type: ignore[union-attr]
    inside = v1.servers[1]
    await v1.fire_alert(1, v1.alert_message("resolved", inside, "CPU"), inside)
    await hass.async_block_till_done()
    assert hass.states.get(shown).attributes["event_type"] == "resolved"  # type: ignore[union-attr]

    alerts = (await async_get_config_entry_diagnostics(hass, entry))["alerts"]
    # The dashboard's test message, and the two alerts.
    assert alerts["received"] == 3
    assert alerts["dropped_outside_tags"] == 1


async def _next_poll(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Move time a minute on and wait until the servers were read again."""
    coordinator = hass.config_entries.async_entries(DOMAIN)[0].runtime_data.coordinator
    # The fake refuses the stream's handshake; an attempt still under way when the clock
    # jumps would fail on its deadline, and the refresh it asks for would too. Jump only once
    # the stream waits for its next attempt (on the frozen clock, or for the dashboard's news).
    for _ in range(100_000):
        if coordinator.client._answering_again is not None:
            break
        await asyncio.sleep(0)
    else:
        raise AssertionError("the stream never came to wait")
    await hass.async_block_till_done()
    done = hass.loop.create_future()
    unsubscribe = coordinator.async_add_listener(lambda: done.done() or done.set_result(None))
    try:
        freezer.tick(timedelta(seconds=61))
        async_fire_time_changed(hass)
        await done
    finally:
        unsubscribe()
    await hass.async_block_till_done()
    # Alerts that wait for the dashboard were tried again in the background: wait for that.
    alerts = hass.config_entries.async_entries(DOMAIN)[0].runtime_data.alerts
    if alerts is not None and alerts.retry is not None:
        await alerts.retry


async def test_alerts_set_up_when_the_dashboard_answers_again(
    hass: HomeAssistant,
    v1: FakeDashboard,
    hass_client_no_auth: ClientFactory,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The dashboard fails the channel's requests at load (a proxy's 502): servers load, one
    warning; alerts are tried again when the servers are read, and work without a reload."""
    await hass.config.async_update(internal_url=str(await _ha_base(hass, hass_client_no_auth)))
    caplog.set_level(logging.INFO, logger="custom_components.nezha")
    # Polled, so that each minute the servers are read once.
    v1.stream_enabled = False

    async def bad_gateway(request: web.Request) -> web.StreamResponse | None:
        if "notification" in request.path:
            return web.Response(status=502, text="<html>502 Bad Gateway</html>")
        return None

    v1.hook = bad_gateway
    entry = make_entry(v1, **{CONF_ALERTS: True, CONF_ALERT_GROUPS: ["1"]})
    await set_up(hass, entry)
    assert v1.notifications == {}
    online = hass.states.get("binary_sensor.server1_online")
    assert online is not None
    assert online.state == "on"
    [warning] = logged_problems(caplog)
    assert "alerts are not set up yet" in warning

    # Still failing at the next minute's read: tried again, not warned again.
    tries = v1.requests["/api/v1/notification"]
    await _next_poll(hass, freezer)
    assert v1.requests["/api/v1/notification"] > tries
    assert len(logged_problems(caplog)) == 1
    assert v1.notifications == {}

    # The proxy passes the dashboard through again: the channel is made at the next read.
    v1.hook = None
    await _next_poll(hass, freezer)
    assert v1.notification_groups[1].members == [1]
    assert list(v1.notifications) == [1]
    assert entry.data[DATA_ALERTS]["channel_id"] == 1
    assert "alerts are set up now" in logged(caplog, logging.INFO)[-1]
    assert len(logged_problems(caplog)) == 1

    # Set up: later reads ask nothing more of the channel.
    asked = v1.requests["/api/v1/notification"]
    await _next_poll(hass, freezer)
    assert v1.requests["/api/v1/notification"] == asked

    server = v1.servers[1]
    await v1.fire_alert(1, v1.alert_message("incident", server, "CPU > 90%"), server)
    await hass.async_block_till_done()
    state = hass.states.get(_alert_entity(hass, 1))
    assert state is not None
    assert state.attributes["event_type"] == "incident"


async def test_home_assistant_cloud_webhook(
    hass: HomeAssistant,
    v2: FakeDashboard,
    hass_client_no_auth: ClientFactory,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With Home Assistant Cloud and no external URL, the channel posts to a cloudhook; while
    Cloud is not connected yet, alerts wait for it quietly; removal deletes the cloudhook.

    Nabu Casa is out of reach: Cloud's functions are patched, and the cloudhook URL stands for
    its relay (a public name the fake dashboard resolves to Home Assistant's webhook).
    """
    base = await _ha_base(hass, hass_client_no_auth)
    await hass.config.async_update(internal_url=str(base))
    v2.resolve = {"hooks.nabu.casa": "127.0.0.1"}
    v2.stream_enabled = False
    hass.config.components.add("cloud")
    connected = False
    created: list[str] = []

    async def create_cloudhook(hass: HomeAssistant, webhook_id: str) -> str:
        created.append(webhook_id)
        return str(base.with_host("hooks.nabu.casa") / "api" / "webhook" / webhook_id)

    with (
        patch("homeassistant.components.cloud.async_active_subscription", return_value=True),
        patch("homeassistant.components.cloud.async_is_connected", side_effect=lambda _: connected),
        patch(
            "homeassistant.components.cloud.async_get_or_create_cloudhook",
            side_effect=create_cloudhook,
        ),
        patch("homeassistant.components.cloud.async_delete_cloudhook") as delete_cloudhook,
    ):
        # The options form accepts alerts: Cloud is a public URL (v2.3.7 refuses private ones).
        entry = make_entry(v2)
        await set_up(hass, entry)
        flow = await hass.config_entries.options.async_init(entry.entry_id)
        result = await hass.config_entries.options.async_configure(
            flow["flow_id"], {"online_threshold": 30, CONF_ALERTS: True, CONF_ALERT_GROUPS: ["1"]}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()

        # Reloaded while Cloud is still connecting: nothing made, nothing warned.
        assert created == []
        assert v2.notifications == {}
        assert logged_problems(caplog) == []
        assert (
            issue_registry.async_get_issue(DOMAIN, f"alerts_need_external_url_{ENTRY_ID}") is None
        )

        connected = True
        await _next_poll(hass, freezer)
        webhook_id = entry.data[DATA_ALERTS]["webhook_id"]
        assert created == [webhook_id]
        [channel] = v2.notifications.values()
        assert channel.url == f"http://hooks.nabu.casa:{base.port}/api/webhook/{webhook_id}"
        assert entry.data[DATA_ALERTS]["url"] == channel.url
        assert v2.notification_groups[1].members == [1]
        # The dashboard's test message went through the "relay" to the webhook.
        assert v2.deliveries[-1].status == 200

        server = v2.servers[1]
        await v2.fire_alert(1, v2.alert_message("incident", server, "CPU"), server)
        await hass.async_block_till_done()
        state = hass.states.get(_alert_entity(hass, 1))
        assert state is not None
        assert state.attributes["event_type"] == "incident"

        await hass.config_entries.async_remove(entry.entry_id)
        await hass.async_block_till_done()
        assert v2.notifications == {}
        delete_cloudhook.assert_awaited_once_with(hass, webhook_id)
    assert logged_problems(caplog) == []
