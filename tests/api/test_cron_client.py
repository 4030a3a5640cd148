"""The client's scheduled tasks and notification channels, against the fake dashboard."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from aiohttp import ClientSession
import pytest

from custom_components.nezha.api import DashboardFlavor, NezhaClient, NezhaResponseError
from custom_components.nezha.api.v1v2 import parse_cron
from fake_dashboard import FakeDashboard
from fake_dashboard.actions import ACTION_SCOPES, FakeGroup, FakeNotification
from fake_dashboard.server import SCOPE_INVENTORY

TOKEN = "nzp_0123456789abcdefCLIENTtoken"


@pytest.fixture
async def v2(socket_enabled: None) -> AsyncGenerator[FakeDashboard]:
    fake = FakeDashboard(token=TOKEN, flavor="v2")
    fake.add_personal_token(TOKEN, scopes=ACTION_SCOPES | {SCOPE_INVENTORY})
    fake.notification_groups = {1: FakeGroup("Ops", [7]), 2: FakeGroup("Nightly")}
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def client(v2: FakeDashboard) -> AsyncGenerator[NezhaClient]:
    async with ClientSession() as session:
        yield NezhaClient(session, v2.url, TOKEN, flavor=DashboardFlavor.V2)


def test_last_result_counts_only_after_a_run() -> None:
    """``last_result`` false is omitted: absent means failed once the task ran, else nothing."""
    never = parse_cron({"id": 1, "name": "a", "last_executed_at": "0001-01-01T00:00:00Z"})
    failed = parse_cron({"id": 2, "last_executed_at": "2026-01-01T00:00:00+08:00"})
    ok = parse_cron({"id": 3, "last_executed_at": "2026-01-01T00:00:00Z", "last_result": True})
    alert_only = parse_cron({"id": 4, "task_type": 1, "cover": 2})
    assert (never.last_executed_at, never.last_succeeded) == (None, None)
    assert failed.last_succeeded is False
    assert failed.name == "#2"
    assert ok.last_succeeded is True
    assert never.can_run_by_hand
    assert not alert_only.can_run_by_hand
    with pytest.raises(NezhaResponseError):
        parse_cron({"id": 5, "last_result": "yes"})


async def test_groups_are_read_modified_written(v2: FakeDashboard, client: NezhaClient) -> None:
    """PATCH replaces the member list: other channels stay, only changed groups are written."""
    # Channels made on the dashboard (not through the API, which would test-send).
    v2.notifications[7] = FakeNotification("Mail", "https://mail.example.com")
    v2.notifications[8] = FakeNotification("Home Assistant", "https://hooks.example.com")
    await client.async_set_group_channel(8, [1, 2])
    assert v2.notification_groups[1].members == [7, 8]
    assert v2.notification_groups[2].members == [8]
    patches = v2.requests["/api/v1/notification-group/1"]
    await client.async_set_group_channel(8, [2])
    assert v2.notification_groups[1].members == [7]
    assert v2.notification_groups[2].members == [8]
    # Group 2 already had it: not written again.
    assert v2.requests["/api/v1/notification-group/2"] == 1
    assert v2.requests["/api/v1/notification-group/1"] == patches + 1


async def test_v2_refuses_private_targets(v2: FakeDashboard, client: NezhaClient) -> None:
    """From v2.1.0 the dashboard's test message to a loopback address fails: no channel."""
    with pytest.raises(NezhaResponseError):
        await client.async_create_notification(
            "HA", "http://127.0.0.1:8123/api/webhook/x", headers={}, body="{}"
        )
    assert v2.notifications == {}
    assert v2.deliveries[-1].error == "HTTP URL target is not allowed"
