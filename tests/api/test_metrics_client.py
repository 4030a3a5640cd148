"""Metric histories (v2): the client against the fake dashboard's TSDB, as issue 19 will use them.

The fake buckets the agents' samples as v2.3.7 does (30 s for 1d, 30 min for 7d, 2 h for 30d,
aligned on the epoch; the mean, the last value for counters), and refuses as it does.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import ClientSession
import pytest

from custom_components.nezha.api import (
    DashboardFlavor,
    MetricPoint,
    MetricsErrorReason,
    NezhaClient,
    NezhaMetricsError,
    NezhaMissingScopeError,
)
from fake_dashboard import FakeDashboard
from fake_dashboard.server import SCOPE_INVENTORY, SCOPE_SERVER_READ
from tests.helpers import EXAMPLE_NOW, V2_TOKEN, Clock

READER = "nzp_metricsREADERtoken0123456789"


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _client(session: ClientSession, fake: FakeDashboard, token: str = READER) -> NezhaClient:
    return NezhaClient(session, fake.url, token)


@pytest.fixture
def history(v2: FakeDashboard) -> FakeDashboard:
    """Server1's CPU and transfer over the last minutes, a TSDB on and a reader token."""
    v2.add_personal_token(READER, scopes=frozenset({SCOPE_INVENTORY, SCOPE_SERVER_READ}))
    v2.tsdb_enabled = True
    bucket = EXAMPLE_NOW // 30 * 30
    v2.metric_samples[1, "cpu"] = [
        (bucket - 60, 10.0),
        (bucket - 50, 20.0),
        (bucket - 30, 5.0),
        # Older than a day: outside every 1d answer.
        (EXAMPLE_NOW - 2 * 86400, 99.0),
    ]
    v2.metric_samples[1, "net_in_transfer"] = [(bucket - 60, 1000.0), (bucket - 45, 1500.0)]
    return v2


async def test_points_are_bucket_means(history: FakeDashboard, session: ClientSession) -> None:
    metrics = await _client(session, history).async_get_metrics(1, "cpu", "1d")
    bucket = EXAMPLE_NOW // 30 * 30
    assert (metrics.server_id, metrics.server_name, metrics.metric) == (1, "Server1", "cpu")
    assert metrics.points == (
        MetricPoint(ts=_at(bucket - 60), value=15.0),
        MetricPoint(ts=_at(bucket - 30), value=5.0),
    )
    # 7 days reach the old sample too, in 30-minute buckets.
    week = await _client(session, history).async_get_metrics(1, "cpu", "7d")
    assert [point.value for point in week.points] == [99.0, pytest.approx(35 / 3)]


async def test_counters_keep_the_last_value(history: FakeDashboard, session: ClientSession) -> None:
    metrics = await _client(session, history).async_get_metrics(1, "net_in_transfer")
    assert [point.value for point in metrics.points] == [1500.0]


async def test_no_history(history: FakeDashboard, session: ClientSession) -> None:
    """No point yet (``null``) and no TSDB at all (``[]``) both read as no points."""
    assert (await _client(session, history).async_get_metrics(2, "cpu")).points == ()
    history.tsdb_enabled = False
    assert (await _client(session, history).async_get_metrics(1, "cpu")).points == ()


@pytest.mark.parametrize(
    ("server_id", "metric", "period", "guest", "reason"),
    [
        (1, "bogus", "1d", False, MetricsErrorReason.UNKNOWN_METRIC),
        (1, "cpu", "2h", False, MetricsErrorReason.BAD_PERIOD),
        (1, "cpu", "7d", True, MetricsErrorReason.GUESTS_ONE_DAY),
        (99, "cpu", "1d", False, MetricsErrorReason.SERVER),
    ],
)
async def test_refusals(
    history: FakeDashboard,
    session: ClientSession,
    server_id: int,
    metric: str,
    period: str,
    guest: bool,
    reason: MetricsErrorReason,
) -> None:
    """v2 refuses with HTTP 200 and an error; the client says why."""
    client = _client(session, history, "" if guest else READER)
    with pytest.raises(NezhaMetricsError) as refused:
        await client.async_get_metrics(server_id, metric, period)
    assert refused.value.reason is reason


async def test_guests_read_one_day(history: FakeDashboard, session: ClientSession) -> None:
    assert len((await _client(session, history, "").async_get_metrics(1, "cpu")).points) == 2


async def test_token_without_server_read(history: FakeDashboard, session: ClientSession) -> None:
    """The personal token needs ``nezha:server:read`` for metric histories."""
    with pytest.raises(NezhaMissingScopeError) as refused:
        await _client(session, history, V2_TOKEN).async_get_metrics(1, "cpu")
    assert refused.value.scope == SCOPE_SERVER_READ


async def test_older_lines_keep_no_history(
    dashboard: FakeDashboard, v1: FakeDashboard, session: ClientSession
) -> None:
    """v0 and v1 have no such route (v1 answers 404): the client does not ask."""
    for fake, flavor in ((dashboard, DashboardFlavor.V0), (v1, DashboardFlavor.V1)):
        client = NezhaClient(session, fake.url, next(iter(fake.tokens)), flavor=flavor)
        with pytest.raises(NezhaMetricsError) as refused:
            await client.async_get_metrics(1, "cpu")
        assert refused.value.reason is MetricsErrorReason.UNSUPPORTED
        assert fake.requests == {}


async def test_reports_fill_the_history(
    v2: FakeDashboard, clock: Clock, session: ClientSession
) -> None:
    """With the TSDB on, each report the agents send is stored and answered."""
    v2.add_personal_token(READER, scopes=frozenset({SCOPE_INVENTORY, SCOPE_SERVER_READ}))
    v2.tsdb_enabled = True
    client = _client(session, v2)
    assert (await client.async_get_metrics(1, "cpu")).points == ()
    figures = []
    for _ in range(3):
        clock.now += 30
        v2.tick(30)
        figures.append(v2.servers[1].status["CPU"])
    points = (await client.async_get_metrics(1, "cpu")).points
    assert [point.value for point in points] == figures
    uptime = (await client.async_get_metrics(1, "uptime")).points
    assert uptime[-1].value == v2.servers[1].status["Uptime"]
    # Server 2 never reported: nothing stored.
    assert (await client.async_get_metrics(2, "cpu")).points == ()


async def test_days_of_history(v2: FakeDashboard, clock: Clock, session: ClientSession) -> None:
    """The demo's ``--history-days``: days of every figure up to each server's last report."""
    v2.add_personal_token(READER, scopes=frozenset({SCOPE_INVENTORY, SCOPE_SERVER_READ}))
    v2.record_history(3)
    assert v2.tsdb_enabled
    client = _client(session, v2)
    server = v2.servers[1]
    assert server.last_active is not None
    week = (await client.async_get_metrics(1, "cpu", "7d")).points
    span = week[-1].ts.timestamp() - week[0].ts.timestamp()
    assert 2.9 * 86400 < span <= 3 * 86400
    assert week[-1].ts.timestamp() <= server.last_active
    # Busy by day, quiet by night, never over 100 %.
    values = [point.value for point in week]
    assert 0 <= min(values) < max(values) / 2
    assert max(values) <= 100
    memory = (await client.async_get_metrics(1, "memory", "1d")).points
    assert memory[-1].value == pytest.approx(server.status["MemUsed"], rel=0.01)
    # Live reports follow the history.
    clock.now += 30
    v2.tick(30)
    day = (await client.async_get_metrics(1, "cpu", "1d")).points
    assert day[-1].value == server.status["CPU"]
    # Server 2 never reported: no history either.
    assert (await client.async_get_metrics(2, "cpu", "7d")).points == ()
