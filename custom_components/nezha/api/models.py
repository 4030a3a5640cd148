"""Typed, immutable models of what a Nezha dashboard reports.

Every dashboard line (v0, v1, v2) is parsed into these, so nothing outside ``api/`` depends on
which line the user runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

# What the package re-exports (the models the integration reads).
__all__ = [
    "Billing",
    "CronTask",
    "CycleUsage",
    "DashboardFlavor",
    "DashboardSetting",
    "DashboardSnapshot",
    "MetricPoint",
    "NotificationChannel",
    "NotificationGroup",
    "Plan",
    "Price",
    "PublicNote",
    "Server",
    "ServerHost",
    "ServerMetrics",
    "ServerStatus",
    "Service",
    "ServiceStatus",
    "ServicesSnapshot",
    "Temperature",
    "TrafficCycle",
]


class DashboardFlavor(StrEnum):
    """The API line a dashboard speaks."""

    V0 = "v0"
    V1 = "v1"
    V2 = "v2"


@dataclass(frozen=True, slots=True, kw_only=True)
class Temperature:
    """One temperature sensor reported by an agent."""

    name: str
    celsius: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerHost:
    """Static facts about a server, sent by its agent at start-up."""

    platform: str = ""
    platform_version: str = ""
    cpu: tuple[str, ...] = ()
    mem_total: int = 0
    disk_total: int = 0
    swap_total: int = 0
    arch: str = ""
    virtualization: str = ""
    boot_time: datetime | None = None
    country_code: str = ""
    agent_version: str = ""
    gpu: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerStatus:
    """The latest live figures of a server.

    Traffic counters are cumulative since the agent started and reset when it restarts.
    """

    cpu: float = 0.0
    mem_used: int = 0
    swap_used: int = 0
    disk_used: int = 0
    net_in_transfer: int = 0
    net_out_transfer: int = 0
    net_in_speed: int = 0
    net_out_speed: int = 0
    uptime: int = 0
    load_1: float = 0.0
    load_5: float = 0.0
    load_15: float = 0.0
    tcp_connections: int = 0
    udp_connections: int = 0
    processes: int = 0
    temperatures: tuple[Temperature, ...] = ()
    gpu: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Server:
    """One server watched by the dashboard."""

    id: int
    name: str
    tag: str = ""
    # v1/v2 server groups (a server may be in several); they play the role of v0's tag.
    groups: tuple[str, ...] = ()
    # None when the agent has not reported since the dashboard started.
    last_active: datetime | None = None
    ipv4: str = ""
    ipv6: str = ""
    display_index: int = 0
    host: ServerHost = field(default_factory=ServerHost)
    status: ServerStatus = field(default_factory=ServerStatus)
    # v1/v2: the note the dashboard shows to everyone, as stored (often JSON written by a
    # front end, e.g. billing data); "" when none. A stream sends it in a connection's first
    # frame only.
    public_note: str = ""

    @property
    def tags(self) -> tuple[str, ...]:
        """The v0 tag or the v1/v2 groups this server belongs to."""
        if self.groups:
            return self.groups
        return (self.tag,) if self.tag else ()

    @property
    def valid_ip(self) -> str:
        """The address the dashboard shows: IPv4 when known, else IPv6."""
        return self.ipv4 or self.ipv6

    def is_online(self, now: datetime, threshold_seconds: float) -> bool:
        """Whether the agent reported within the threshold, judged on the dashboard's clock."""
        if self.last_active is None:
            return False
        return (now - self.last_active).total_seconds() <= threshold_seconds


@dataclass(frozen=True, slots=True, kw_only=True)
class Price:
    """An amount read from a note: the figure and its ISO 4217 currency."""

    value: float
    currency: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Billing:
    """The ``billingDataMod`` part of a public note, as the community's themes write it.

    Every part is optional; what cannot be read is left at its empty value.
    """

    start: datetime | None = None
    # None when the note gives no readable end, or when it never expires.
    end: datetime | None = None
    never_expires: bool = False
    # None when the note does not say (or says it in a way that cannot be read).
    auto_renewal: bool | None = None
    # The billing cycle as written ("月", "Month", "年", ...).
    cycle: str = ""
    # The amount as written ("$3.99"), and what could be read of it.
    amount: str = ""
    price: Price | None = None

    @property
    def has_expiry(self) -> bool:
        """Whether the note says when (or that never) the server expires."""
        return self.end is not None or self.never_expires


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """The ``planDataMod`` part of a public note: the plan's facts, as written."""

    bandwidth: str = ""
    traffic_volume: str = ""
    traffic_type: str = ""
    ipv4: bool | None = None
    ipv6: bool | None = None
    network_route: str = ""
    extra: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicNote:
    """What a server's public note says in the themes' billing convention.

    Both parts None for a note that is empty, not JSON, or JSON of another shape.
    """

    billing: Billing | None = None
    plan: Plan | None = None


def in_tags(tags: frozenset[str], server_tags: Iterable[str]) -> bool:
    """Whether a server with ``server_tags`` is wanted when ``tags`` are chosen (none: all)."""
    return not tags or not tags.isdisjoint(server_tags)


@dataclass(frozen=True, slots=True, kw_only=True)
class DashboardSnapshot:
    """Everything one refresh learned: the servers by id and the dashboard's clock."""

    servers: dict[int, Server]
    # The dashboard's time when it answered (HTTP Date header), so "online" does not depend
    # on Home Assistant's clock agreeing with the dashboard's.
    dashboard_time: datetime
    flavor: DashboardFlavor = DashboardFlavor.V0
    # The servers online by the threshold of ``judged``; empty until judged.
    online: frozenset[int] = frozenset()

    @property
    def tags(self) -> frozenset[str]:
        """The non-empty tags (server groups) present in this snapshot."""
        return frozenset(tag for server in self.servers.values() for tag in server.tags)

    def only(self, tags: frozenset[str]) -> DashboardSnapshot:
        """The servers with any of ``tags`` (all when none is chosen)."""
        if not tags:
            return self
        servers = {
            key: server for key, server in self.servers.items() if in_tags(tags, server.tags)
        }
        return replace(self, servers=servers)

    def judged(self, threshold_seconds: float) -> DashboardSnapshot:
        """The same servers, with those online by the threshold worked out once."""
        now = self.dashboard_time
        online = frozenset(
            key for key, server in self.servers.items() if server.is_online(now, threshold_seconds)
        )
        return replace(self, online=online)


class ServiceStatus(StrEnum):
    """A monitored service's state as the dashboard's service page names it."""

    GOOD = "good"
    LOW_AVAILABILITY = "low_availability"
    DOWN = "down"
    NO_DATA = "no_data"


@dataclass(frozen=True, slots=True, kw_only=True)
class Service:
    """One service monitor (HTTP, ICMP ping or TCP check) of a v1/v2 dashboard.

    ``current_up``/``current_down`` count the latest checks (about the last 15 minutes);
    ``total_up``/``total_down`` the last 30 days.
    """

    id: int
    name: str
    current_up: int = 0
    current_down: int = 0
    total_up: int = 0
    total_down: int = 0
    # Today's average latency in milliseconds; None before the first check of the day.
    latency_today: float | None = None

    @property
    def current_percent(self) -> float | None:
        """Share of the latest checks that succeeded; None when there were none."""
        checks = self.current_up + self.current_down
        return self.current_up * 100 / checks if checks else None

    @property
    def availability(self) -> float | None:
        """Share of the last 30 days' checks that succeeded; None when there were none."""
        checks = self.total_up + self.total_down
        return self.total_up * 100 / checks if checks else None

    @property
    def status(self) -> ServiceStatus:
        """The dashboard's thresholds: above 95 % good, above 80 % low availability."""
        percent = self.current_percent
        if percent is None:
            return ServiceStatus.NO_DATA
        if percent > 95:
            return ServiceStatus.GOOD
        if percent > 80:
            return ServiceStatus.LOW_AVAILABILITY
        return ServiceStatus.DOWN


@dataclass(frozen=True, slots=True, kw_only=True)
class CycleUsage:
    """One server's transfer within a traffic rule's current cycle."""

    server_name: str = ""
    transfer: int = 0
    next_update: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TrafficCycle:
    """A transfer alert rule with its current cycle, as the dashboard accounts it."""

    id: int
    name: str
    start: datetime | None = None
    end: datetime | None = None
    # Bytes per cycle; 0 when the rule sets no upper bound.
    quota: int = 0
    minimum: int = 0
    usage: dict[int, CycleUsage] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServicesSnapshot:
    """What ``GET /api/v1/service`` reported: service monitors and traffic cycles by id."""

    services: dict[int, Service] = field(default_factory=dict)
    cycles: dict[int, TrafficCycle] = field(default_factory=dict)


# A task the dashboard runs only when an alert rule triggers it, on the alerting server.
CRON_COVER_ALERT_TRIGGER = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class CronTask:
    """One scheduled (or alert-triggered) task of a v1/v2 dashboard."""

    id: int
    name: str
    # 0: runs on its schedule; 1: runs when an alert rule triggers it.
    task_type: int = 0
    scheduler: str = ""
    # 0: only the listed servers; 1: all but the listed; 2: the server that raised the alert.
    cover: int = 0
    # None until the task ran once since it was created.
    last_executed_at: datetime | None = None
    # Whether the last run succeeded; None before the first run (the dashboard omits false).
    last_succeeded: bool | None = None

    @property
    def can_run_by_hand(self) -> bool:
        """A task meant for the alerting server has no server to run on when pressed."""
        return self.cover != CRON_COVER_ALERT_TRIGGER


@dataclass(frozen=True, slots=True, kw_only=True)
class DashboardSetting:
    """What ``GET /api/v1/setting`` says about the dashboard itself."""

    # As the dashboard writes it ("en-US", "zh-CN", ...); its alerts are written in it.
    language: str = ""
    # "" when hidden (guests and personal tokens are not told).
    version: str = ""
    # v2: whether the time-series store (the metric history) is on; None where not said (v0/v1).
    tsdb_enabled: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NotificationGroup:
    """A notification group: the channels (notification ids) an alert is sent to."""

    id: int
    name: str
    members: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class NotificationChannel:
    """A notification channel (the dashboard calls it a notification), by id and name."""

    id: int
    name: str


# The metrics a v2 dashboard keeps a history of (``serverMetricMap``, v2.3.7) and the periods
# it answers for (guests: "1d" only).
METRICS: frozenset[str] = frozenset(
    {
        *("cpu", "memory", "swap", "disk", "net_in_speed", "net_out_speed"),
        *("net_in_transfer", "net_out_transfer", "load1", "load5", "load15", "tcp_conn"),
        *("udp_conn", "process_count", "temperature", "uptime", "gpu"),
    }
)
METRIC_PERIODS: tuple[str, ...] = ("1d", "7d", "30d")


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricPoint:
    """One point of a metric's history: the mean of its bucket (30 s, 30 min or 2 h)."""

    ts: datetime
    value: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerMetrics:
    """A metric's history of one server (``GET /api/v1/server/:id/metrics``, v2)."""

    server_id: int
    server_name: str
    metric: str
    # Oldest first; empty when the dashboard keeps no history (TSDB off) or has none yet.
    points: tuple[MetricPoint, ...] = ()
