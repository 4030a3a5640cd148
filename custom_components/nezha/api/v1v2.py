"""Parser for the v1/v2 dashboard API (``/api/v1/server``, ``/api/v1/server-group``, frames).

Most fields are ``omitempty`` on the dashboard side: zero numbers, empty strings and empty
lists are left out, so every missing key reads as its zero value. Keys are snake_case, except the
temperature objects (``Name``/``Temperature``), which keep the Go field names.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
import re
from typing import Any, Final

from .errors import (
    MetricsErrorReason,
    NezhaAuthError,
    NezhaMetricsError,
    NezhaNotDashboardError,
    NezhaResponseError,
)
from .models import (
    CronTask,
    CycleUsage,
    DashboardSetting,
    MetricPoint,
    NotificationChannel,
    NotificationGroup,
    Server,
    ServerHost,
    ServerMetrics,
    ServerStatus,
    Service,
    ServicesSnapshot,
    TrafficCycle,
)
from .parse import (
    HOST_READERS,
    STATUS_READERS,
    HostCache,
    JsonObject,
    get_float,
    get_int,
    get_object,
    get_object_list,
    get_str,
    label,
    read_fields,
    read_temperatures,
    wrong,
)

# RFC 3339 as Go writes it: up to nine fractional digits, ``Z`` or a numeric offset.
_RFC3339 = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$"
)
# Error bodies of refused credentials (the rest of the string is not parsed: it may be
# translated). v1 sends them with HTTP 200.
_UNAUTHORIZED_PREFIX = "ApiErrorUnauthorized"
# The dashboard's own reason in a refusal is kept for the log: one line, bounded.
MAX_REASON: Final = 200
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]+")
_ID_LIMIT = 2**64
_MAX_ID_DIGITS = len(str(_ID_LIMIT))


def parse_time(value: str) -> datetime | None:
    """Parse Go's RFC 3339 output; the zero time (year 1) and "" mean never."""
    if not value:
        return None
    match = _RFC3339.match(value)
    if match is None:
        raise NezhaResponseError("a timestamp is not RFC 3339")
    date, clock, fraction, offset = match.groups()
    if date.startswith("0001-"):
        return None
    # Python keeps microseconds: drop the nanosecond digits beyond six.
    micro = f".{(fraction or '0')[:6]:0<6}"
    zone = "+00:00" if offset in ("Z", "z") else offset
    try:
        # Converting can leave the calendar too (9999-12-31T23:59:59-01:00).
        return datetime.fromisoformat(f"{date}T{clock}{micro}{zone}").astimezone(UTC)
    except (ValueError, OverflowError) as err:
        raise NezhaResponseError("a timestamp is out of range") from err


def get_time(obj: JsonObject, key: str) -> datetime | None:
    """Read an RFC 3339 timestamp field."""
    value = obj.get(key)
    if value is None:
        return None
    if type(value) is not str:
        raise wrong("a timestamp", key)
    return parse_time(value)


def _gpu_percent(obj: JsonObject) -> float | None:
    """v1/v2 report one figure per GPU; the model keeps the busiest, absent when none."""
    value = obj.get("gpu")
    if value is None:
        return None
    if type(value) is not list:
        raise wrong("a list of numbers", "gpu")
    figures = [get_float({"gpu": item}, "gpu") for item in value]
    return max(figures) if figures else None


# Model field → JSON key (snake_case, all omitempty).
HOST_KEYS: Final = {
    "platform": "platform",
    "platform_version": "platform_version",
    "cpu": "cpu",
    "mem_total": "mem_total",
    "disk_total": "disk_total",
    "swap_total": "swap_total",
    "arch": "arch",
    "virtualization": "virtualization",
    "boot_time": "boot_time",
    "agent_version": "version",
    "gpu": "gpu",
}
STATE_KEYS: Final = {
    "cpu": "cpu",
    "mem_used": "mem_used",
    "swap_used": "swap_used",
    "disk_used": "disk_used",
    "net_in_transfer": "net_in_transfer",
    "net_out_transfer": "net_out_transfer",
    "net_in_speed": "net_in_speed",
    "net_out_speed": "net_out_speed",
    "uptime": "uptime",
    "load_1": "load_1",
    "load_5": "load_5",
    "load_15": "load_15",
    "tcp_connections": "tcp_conn_count",
    "udp_connections": "udp_conn_count",
    "processes": "process_count",
}


def parse_host(obj: JsonObject, country_code: str) -> ServerHost:
    """Parse a v1/v2 ``host`` object."""
    return ServerHost(**read_fields(obj, HOST_KEYS, HOST_READERS), country_code=country_code)


def parse_state(obj: JsonObject) -> ServerStatus:
    """Parse a v1/v2 ``state`` object."""
    return ServerStatus(
        **read_fields(obj, STATE_KEYS, STATUS_READERS),
        temperatures=read_temperatures(obj, "temperatures"),
        gpu=_gpu_percent(obj),
    )


def parse_server(
    obj: JsonObject, groups: tuple[str, ...] = (), hosts: HostCache | None = None
) -> Server:
    """Parse one server of ``GET /api/v1/server`` or of a websocket frame.

    The REST answer nests the country in ``geoip``; a frame has it at the top level.
    """
    server_id = get_int(obj, "id")
    if server_id <= 0:
        raise NezhaResponseError("server without a valid id")
    geoip = get_object(obj, "geoip")
    addresses = get_object(geoip, "ip")
    country = get_str(obj, "country_code") or get_str(geoip, "country_code")
    raw_host = get_object(obj, "host")
    return Server(
        id=server_id,
        name=label(obj, server_id),
        tag=groups[0] if groups else "",
        groups=groups,
        last_active=get_time(obj, "last_active"),
        ipv4=get_str(addresses, "ipv4_addr"),
        ipv6=get_str(addresses, "ipv6_addr"),
        display_index=get_int(obj, "display_index"),
        host=(
            parse_host(raw_host, country)
            if hosts is None
            else hosts.host(server_id, raw_host, country, lambda: parse_host(raw_host, country))
        ),
        status=parse_state(get_object(obj, "state")),
        public_note=get_str(obj, "public_note"),
    )


def parse_envelope(data: Any) -> Any:
    """Check the ``{"success","data","error"}`` envelope and return ``data`` (None if absent).

    ``success`` is omitempty too, so a refusal is only ``{"error": "..."}``.
    """
    if type(data) is not dict or not ({"success", "data", "error"} & data.keys()):
        raise NezhaNotDashboardError("the JSON answer is not a Nezha API envelope")
    if data.get("success") is True:
        return data.get("data")
    error = data.get("error")
    if type(error) is str and error.startswith(_UNAUTHORIZED_PREFIX):
        raise NezhaAuthError("the dashboard refused the credentials")
    reason = _CONTROL.sub(" ", error)[:MAX_REASON].strip() if type(error) is str else ""
    raise NezhaResponseError("the dashboard answered with an error", reason)


def parse_groups(data: Any) -> dict[int, tuple[str, ...]]:
    """Group names per server id from ``GET /api/v1/server-group`` data."""
    if data is None:
        return {}
    if type(data) is not list or not all(type(item) is dict for item in data):
        raise NezhaResponseError("server groups are not a list")
    names: dict[int, list[str]] = {}
    for item in data:
        name = get_str(get_object(item, "group"), "name")
        members = item.get("servers")
        if members is None or not name:
            continue
        if type(members) is not list or not all(type(member) is int for member in members):
            raise wrong("a list of ids", "servers")
        for member in members:
            names.setdefault(member, []).append(name)
    return {server_id: tuple(group) for server_id, group in names.items()}


def parse_servers(
    data: Any, groups: Mapping[int, tuple[str, ...]], hosts: HostCache | None = None
) -> dict[int, Server]:
    """Parse the data of ``GET /api/v1/server`` into servers by id."""
    if data is None:
        return {}
    if type(data) is not list or not all(type(item) is dict for item in data):
        raise NezhaResponseError("'data' is not a list of servers")
    return _servers(data, groups, hosts)


def parse_frame(
    data: Any, groups: Mapping[int, tuple[str, ...]], hosts: HostCache | None = None
) -> tuple[datetime, dict[int, Server]]:
    """Parse one websocket frame: the dashboard's clock (``now``, ms) and the servers."""
    now = _frame_now(data)
    return now, _servers(get_object_list(data, "servers"), groups, hosts)


def _servers(
    items: list[JsonObject], groups: Mapping[int, tuple[str, ...]], hosts: HostCache | None
) -> dict[int, Server]:
    servers: dict[int, Server] = {}
    for item in items:
        server = parse_server(item, groups.get(get_int(item, "id"), ()), hosts)
        servers[server.id] = server
    if hosts is not None:
        hosts.keep_only(servers)
    return servers


def _frame_now(data: Any) -> datetime:
    """The dashboard's clock of a frame (``now``, ms)."""
    if type(data) is not dict:
        raise NezhaResponseError("a stream frame is not an object")
    now_ms = get_int(data, "now")
    if now_ms <= 0:
        raise NezhaResponseError("a stream frame has no 'now'")
    try:
        return datetime.fromtimestamp(now_ms / 1000, UTC)
    except (OverflowError, OSError, ValueError) as err:
        raise NezhaResponseError("a stream frame's 'now' is out of range") from err


def parse_frame_activity(data: Any) -> tuple[datetime, dict[int, datetime | None]]:
    """Only the clock and each server's last report: enough to tell who is online.

    Most frames change nothing but numbers, which are written at most once per interval;
    this lets those frames skip building full models.
    """
    now = _frame_now(data)
    activity: dict[int, datetime | None] = {}
    for item in get_object_list(data, "servers"):
        server_id = get_int(item, "id")
        if server_id <= 0:
            raise NezhaResponseError("server without a valid id")
        activity[server_id] = get_time(item, "last_active")
    return now, activity


def parse_login(data: Any) -> tuple[str, datetime | None]:
    """The JWT and its expiry from a login or refresh answer's data."""
    if type(data) is not dict:
        raise NezhaResponseError("the login answer has no token")
    token = get_str(data, "token")
    if not token:
        raise NezhaResponseError("the login answer has no token")
    return token, get_time(data, "expire")


def parse_setting_version(data: Any) -> str:
    """The dashboard version from ``GET /api/v1/setting`` data ("" when not given)."""
    if type(data) is not dict:
        return ""
    return get_str(data, "version")


def setting_shows_v2(data: Any) -> bool:
    """Whether ``GET /api/v1/setting`` data has a key only v2 sends (guests included).

    Both lines hide the version from guests; v2 (2.3) still says whether its time-series
    store is on, v1 has none.
    """
    return type(data) is dict and "tsdb_enabled" in data


def _id_map(obj: JsonObject, key: str) -> dict[int, Any]:
    """Read a JSON object keyed by decimal ids (Go encodes ``map[uint64]`` keys as strings)."""
    value = get_object(obj, key)
    result: dict[int, Any] = {}
    for text, item in value.items():
        # uint64 ids have at most 20 digits; a longer key must not reach int() (which refuses
        # more than 4300 digits with a ValueError).
        if (
            not (text.isascii() and text.isdecimal())
            or len(text) > _MAX_ID_DIGITS
            or not 0 < int(text) < _ID_LIMIT
        ):
            raise wrong("an object keyed by ids", key)
        result[int(text)] = item
    return result


def _latency_today(obj: JsonObject) -> float | None:
    """The last of the 30 daily averages is today's; 0 means no check yet today."""
    value = obj.get("delay")
    if value is None:
        return None
    if type(value) is not list or not value:
        raise wrong("a list of numbers", "delay")
    today = get_float({"delay": value[-1]}, "delay")
    return today if today > 0 else None


def parse_service(service_id: int, obj: Any) -> Service:
    """Parse one item of the ``services`` map."""
    if type(obj) is not dict:
        raise wrong("an object", "services")
    counts = {
        key: get_int(obj, key) for key in ("current_up", "current_down", "total_up", "total_down")
    }
    if any(count < 0 for count in counts.values()):
        # uint64 on the dashboard: a negative count is a broken answer, not a figure.
        raise NezhaResponseError("a service check count is negative")
    return Service(
        id=service_id,
        name=label(obj, service_id, "service_name"),
        latency_today=_latency_today(obj),
        **counts,
    )


def parse_cycle(rule_id: int, obj: Any) -> TrafficCycle:
    """Parse one item of the ``cycle_transfer_stats`` map (one transfer alert rule)."""
    if type(obj) is not dict:
        raise wrong("an object", "cycle_transfer_stats")
    names = _id_map(obj, "server_name")
    transfers = _id_map(obj, "transfer")
    updates = _id_map(obj, "next_update")
    usage: dict[int, CycleUsage] = {}
    for server_id in names.keys() | transfers.keys() | updates.keys():
        item = {
            "server_name": names.get(server_id),
            "transfer": transfers.get(server_id),
            "next_update": updates.get(server_id),
        }
        usage[server_id] = CycleUsage(
            server_name=get_str(item, "server_name"),
            transfer=get_int(item, "transfer"),
            next_update=get_time(item, "next_update"),
        )
    return TrafficCycle(
        start=get_time(obj, "from"),
        end=get_time(obj, "to"),
        quota=get_int(obj, "max"),
        minimum=get_int(obj, "min"),
        usage=usage,
        id=rule_id,
        name=label(obj, rule_id),
    )


def parse_services(data: Any) -> ServicesSnapshot:
    """Parse the data of ``GET /api/v1/service`` (both maps are omitempty)."""
    if data is None:
        return ServicesSnapshot()
    if type(data) is not dict:
        raise NezhaResponseError("'data' is not an object")
    return ServicesSnapshot(
        services={
            service_id: parse_service(service_id, item)
            for service_id, item in _id_map(data, "services").items()
        },
        cycles={
            rule_id: parse_cycle(rule_id, item)
            for rule_id, item in _id_map(data, "cycle_transfer_stats").items()
        },
    )


def _items(data: Any, what: str) -> list[JsonObject]:
    """A list of objects as ``data`` (null is empty)."""
    if data is None:
        return []
    if type(data) is not list or not all(type(item) is dict for item in data):
        raise NezhaResponseError(f"{what} are not a list")
    return data


def _positive_id(obj: JsonObject, key: str = "id") -> int:
    value = get_int(obj, key)
    if value <= 0:
        raise NezhaResponseError(f"an item without a valid '{key}'")
    return value


def parse_cron(obj: JsonObject) -> CronTask:
    """One task of ``GET /api/v1/cron``.

    ``last_result`` is omitempty: false is absent, so it means something only once the task
    has run (``last_executed_at`` is then not Go's zero time).
    """
    task_id = _positive_id(obj)
    executed = get_time(obj, "last_executed_at")
    result = obj.get("last_result", False)
    if type(result) is not bool:
        raise wrong("a boolean", "last_result")
    return CronTask(
        id=task_id,
        name=label(obj, task_id),
        task_type=get_int(obj, "task_type"),
        scheduler=get_str(obj, "scheduler"),
        cover=get_int(obj, "cover"),
        last_executed_at=executed,
        last_succeeded=None if executed is None else result,
    )


def parse_crons(data: Any) -> dict[int, CronTask]:
    """The data of ``GET /api/v1/cron``: tasks by id."""
    tasks = (parse_cron(item) for item in _items(data, "scheduled tasks"))
    return {task.id: task for task in tasks}


def parse_setting(data: Any) -> DashboardSetting:
    """The dashboard's language and (when shown) version from ``GET /api/v1/setting``."""
    if type(data) is not dict:
        raise NezhaResponseError("the settings are not an object")
    tsdb = data.get("tsdb_enabled")
    return DashboardSetting(
        language=get_str(get_object(data, "config"), "language"),
        version=get_str(data, "version"),
        tsdb_enabled=tsdb if type(tsdb) is bool else None,
    )


def parse_notification_groups(data: Any) -> dict[int, NotificationGroup]:
    """The data of ``GET /api/v1/notification-group``: groups by id with their channels."""
    groups: dict[int, NotificationGroup] = {}
    for item in _items(data, "notification groups"):
        group = get_object(item, "group")
        members = item.get("notifications")
        if members is None:
            members = []
        if type(members) is not list or not all(type(member) is int for member in members):
            raise wrong("a list of ids", "notifications")
        group_id = _positive_id(group)
        groups[group_id] = NotificationGroup(
            id=group_id,
            name=label(group, group_id),
            members=tuple(members),
        )
    return groups


def parse_notifications(data: Any) -> dict[int, NotificationChannel]:
    """The data of ``GET /api/v1/notification``: channels by id (addresses are not shown)."""
    channels = (
        NotificationChannel(id=_positive_id(item), name=get_str(item, "name"))
        for item in _items(data, "notifications")
    )
    return {channel.id: channel for channel in channels}


def parse_created_id(data: Any) -> int:
    """The id a create request answers with."""
    value = get_int({"id": data}, "id")
    if value <= 0:
        raise NezhaResponseError("the dashboard did not say what it created")
    return value


# The refusals of ``GET /api/v1/server/:id/metrics`` whose text is never translated (v2.3.7:
# they have no entry in the dashboard's .po files; the period's comes from fmt.Errorf).
_METRICS_REFUSALS: Final = (
    ("invalid metric name", MetricsErrorReason.UNKNOWN_METRIC),
    ("invalid period", MetricsErrorReason.BAD_PERIOD),
    ("unauthorized: only 1d data", MetricsErrorReason.GUESTS_ONE_DAY),
)


def parse_metrics(data: Any) -> ServerMetrics:
    """A metric history (the whole answer, envelope included).

    Refusals come with HTTP 200 as ``{"error": ...}``; the rest (``server not found``,
    ``unauthorized``) is translated, so it is told apart only as "the server".
    ``data_points`` is ``[]`` when the dashboard keeps no history and ``null`` when it keeps
    one but has no point yet: both read as no points.
    """
    if type(data) is dict and "success" not in data and type(data.get("error")) is str:
        error = data["error"]
        if not error.startswith(_UNAUTHORIZED_PREFIX):
            reason = next(
                (reason for prefix, reason in _METRICS_REFUSALS if error.startswith(prefix)),
                MetricsErrorReason.SERVER,
            )
            raise NezhaMetricsError(f"the dashboard refused the metric history ({reason})", reason)
    body = parse_envelope(data)
    if type(body) is not dict:
        raise NezhaResponseError("the metric history is not an object")
    points = tuple(
        MetricPoint(ts=_milliseconds(item, "ts"), value=get_float(item, "value"))
        for item in get_object_list(body, "data_points")
    )
    return ServerMetrics(
        server_id=_positive_id(body, "server_id"),
        server_name=get_str(body, "server_name"),
        metric=get_str(body, "metric"),
        points=points,
    )


def _milliseconds(obj: JsonObject, key: str) -> datetime:
    value = get_int(obj, key)
    try:
        return datetime.fromtimestamp(value / 1000, UTC)
    except (OverflowError, OSError, ValueError) as err:
        raise NezhaResponseError(f"field '{key}' is out of range") from err
