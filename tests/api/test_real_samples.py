"""Every answer captured from real dashboards (v0.20.13, v1.14.14, v2.3.7) read by the client.

Each REST capture is replayed by a local server (status, headers, body) and read through
``NezhaClient``, each websocket capture through ``NezhaClient.listen``; the models must equal
what the JSON says, key by key, through tables of this test's own. A key the tables do not
know fails the test: a real dashboard sent something nobody decided about.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
import dataclasses
from datetime import UTC, datetime
import json
import re
from typing import Any

from aiohttp import ClientSession
import pytest

from custom_components.nezha.api import (
    CronTask,
    DashboardFlavor,
    MetricPoint,
    MetricsErrorReason,
    NezhaAuthError,
    NezhaClient,
    NezhaMetricsError,
    NezhaResponseError,
    NezhaTokenExpiredError,
    NotificationChannel,
    NotificationGroup,
    Server,
    ServerHost,
    ServerMetrics,
    ServerStatus,
    Service,
    ServicesSnapshot,
    ServiceStatus,
    Temperature,
    stream as stream_module,
    v0,
)
from custom_components.nezha.api.client import (
    CRON_PATH,
    NOTIFICATION_DELETE_PATH,
    NOTIFICATION_GROUP_PATH,
    NOTIFICATION_PATH,
    SERVER_GROUP_PATH,
    SERVER_PATH,
    SERVICE_PATH,
    SETTING_PATH,
    STREAM_PATH,
    V0_DETAILS_PATH,
    V0_LIST_PATH,
)
from custom_components.nezha.api.models import METRIC_PERIODS, METRICS
from custom_components.nezha.api.stream import Watch
from tests.helpers import (
    Replay,
    Sample,
    go_time,
    in_folder,
    load_samples,
    sample_params,
    wait_for,
)

ALL = load_samples()
FLAVORS = {"v0": DashboardFlavor.V0, "v1": DashboardFlavor.V1, "v2": DashboardFlavor.V2}
# Live agents report every 2 s: within this many seconds of a capture they count as online.
ONLINE_THRESHOLD = 30.0

# Routes captured that the integration never requests, and why.
NOT_REQUESTED = {
    "/api/v1/monitor/1": "v0's per-server check history; v0 has no service overview to show",
    "/api/v1/profile": "the user's own record (password hash, agent secret) is none of ours",
    "/api/v1/server/1/service": "per-server check history; the overview is /api/v1/service",
    "/api/v1/service/server": "which servers run checks; not shown",
}
# Writes captured that the integration never sends, and why (method, path pattern).
NOT_SENT = {
    ("POST", CRON_PATH): "tasks are the user's; the integration lists and runs them",
    ("POST", NOTIFICATION_GROUP_PATH): "groups are the user's; a channel joins existing ones",
    ("PATCH", r"/api/v1/server/\d+"): "servers are the user's; public_note is only read",
}
# The routes of scheduled tasks, notifications and metric histories the client reads or
# writes, each checked by test_action_answer (method, path pattern).
ACTIONS = {
    ("GET", CRON_PATH): "list tasks",
    ("GET", r"/api/v1/cron/\d+/manual"): "run a task (v1)",
    ("POST", r"/api/v1/cron/\d+/manual"): "run a task (v2)",
    ("GET", NOTIFICATION_PATH): "list channels",
    ("POST", NOTIFICATION_PATH): "create a channel",
    ("POST", NOTIFICATION_DELETE_PATH): "delete a channel",
    ("GET", NOTIFICATION_GROUP_PATH): "list groups",
    ("PATCH", r"/api/v1/notification-group/\d+"): "set a group's channels",
    ("GET", r"/api/v1/server/\d+/metrics"): "a metric history",
}


def _route(sample: Sample, routes: dict[tuple[str, str], str]) -> tuple[str, str] | None:
    return next(
        (
            (method, pattern)
            for method, pattern in routes
            if method == sample.method and re.fullmatch(pattern, sample.path)
        ),
        None,
    )


REST_READ = {
    V0_DETAILS_PATH,
    V0_LIST_PATH,
    SERVER_PATH,
    SERVER_GROUP_PATH,
    SERVICE_PATH,
    SETTING_PATH,
}
# v0's own websocket: v0 is polled, its stream is not read (its Host/State are, see below).
V0_STREAM_PATH = "/ws"

# Wrong or absent credentials the dashboards answer as for a guest, not with a refusal.
GUEST_ANSWERS = {
    # /api/v1/setting needs no login on any line.
    ("v1", "setting_badtoken"),
    ("v1", "setting_noauth"),
    ("v2", "setting_badtoken"),
    ("v2", "setting_noauth"),
    # v1 lists the services shown on its service page to anyone; v2 to guests, but a wrong
    # personal token is refused.
    ("v1", "service_badtoken"),
    ("v1", "service_noauth"),
    ("v2", "service_noauth"),
    # Handshakes: v1 streams to guests whatever the JWT, v2 when no token is given.
    ("v1", "ws_server_badtoken"),
    ("v1", "ws_server_noauth"),
    ("v2", "ws_server_noauth"),
}
WRONG_CREDENTIALS = ("_badtoken", "_noauth", "_bearer", "_rawtoken_no_bearer")


def _expects_refusal(sample: Sample) -> bool:
    # Without credentials too: guests get no REST server list (server_public_note_guest).
    wrong = sample.name.endswith(WRONG_CREDENTIALS) or "Authorization" not in sample.request_headers
    return wrong and (sample.line, sample.name) not in GUEST_ANSWERS


# --- the tables: JSON key → model field and how the value reads --------------------------


def _seconds(value: int) -> datetime | None:
    """Unix seconds; 0 and Go's zero time (negative) are "never"."""
    assert type(value) is int
    return datetime.fromtimestamp(value, UTC) if value > 0 else None


def _integer(value: Any) -> int:
    assert type(value) is int, value
    return value


def _number(value: Any) -> float:
    assert type(value) in (int, float), value
    return float(value)


def _text(value: Any) -> str:
    assert type(value) is str, value
    return value


def _texts(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    assert all(type(item) is str for item in value), value
    return tuple(value)


def _temperatures(value: Any) -> tuple[Temperature, ...]:
    if value is None:
        return ()
    assert all(set(item) == {"Name", "Temperature"} for item in value), value
    return tuple(
        Temperature(name=_text(item["Name"]), celsius=_number(item["Temperature"]))
        for item in value
    )


def _busiest_gpu(value: Any) -> float | None:
    figures = [_number(item) for item in value]
    return max(figures) if figures else None


type Table = dict[str, tuple[str, Callable[[Any], Any]]]

V0_HOST: Table = {
    "Platform": ("platform", _text),
    "PlatformVersion": ("platform_version", _text),
    "CPU": ("cpu", _texts),
    "MemTotal": ("mem_total", _integer),
    "DiskTotal": ("disk_total", _integer),
    "SwapTotal": ("swap_total", _integer),
    "Arch": ("arch", _text),
    "Virtualization": ("virtualization", _text),
    "BootTime": ("boot_time", _seconds),
    "CountryCode": ("country_code", _text),
    "Version": ("agent_version", _text),
    "GPU": ("gpu", _texts),
}
V0_STATUS: Table = {
    "CPU": ("cpu", _number),
    "MemUsed": ("mem_used", _integer),
    "SwapUsed": ("swap_used", _integer),
    "DiskUsed": ("disk_used", _integer),
    "NetInTransfer": ("net_in_transfer", _integer),
    "NetOutTransfer": ("net_out_transfer", _integer),
    "NetInSpeed": ("net_in_speed", _integer),
    "NetOutSpeed": ("net_out_speed", _integer),
    "Uptime": ("uptime", _integer),
    "Load1": ("load_1", _number),
    "Load5": ("load_5", _number),
    "Load15": ("load_15", _number),
    "TcpConnCount": ("tcp_connections", _integer),
    "UdpConnCount": ("udp_connections", _integer),
    "ProcessCount": ("processes", _integer),
    "Temperatures": ("temperatures", _temperatures),
    # v0 sends one figure (0 without a GPU); the model keeps it.
    "GPU": ("gpu", _number),
}
V1V2_HOST: Table = {
    "platform": ("platform", _text),
    "platform_version": ("platform_version", _text),
    "cpu": ("cpu", _texts),
    "mem_total": ("mem_total", _integer),
    "disk_total": ("disk_total", _integer),
    "swap_total": ("swap_total", _integer),
    "arch": ("arch", _text),
    "virtualization": ("virtualization", _text),
    "boot_time": ("boot_time", _seconds),
    "version": ("agent_version", _text),
    "gpu": ("gpu", _texts),
}
V1V2_STATE: Table = {
    "cpu": ("cpu", _number),
    "mem_used": ("mem_used", _integer),
    "swap_used": ("swap_used", _integer),
    "disk_used": ("disk_used", _integer),
    "net_in_transfer": ("net_in_transfer", _integer),
    "net_out_transfer": ("net_out_transfer", _integer),
    "net_in_speed": ("net_in_speed", _integer),
    "net_out_speed": ("net_out_speed", _integer),
    "uptime": ("uptime", _integer),
    "load_1": ("load_1", _number),
    "load_5": ("load_5", _number),
    "load_15": ("load_15", _number),
    "tcp_conn_count": ("tcp_connections", _integer),
    "udp_conn_count": ("udp_connections", _integer),
    "process_count": ("processes", _integer),
    "temperatures": ("temperatures", _temperatures),
    "gpu": ("gpu", _busiest_gpu),
}
# Server keys the integration does not read, and why.
IGNORED_SERVER_KEYS = {
    "created_at": "when the server was added: not shown",
    "updated_at": "when its settings last changed: not shown",
    "uuid": "the agent's id; entities are keyed by the server id",
    "owner": "the dashboard user that owns it (v2)",
    "hide_for_guest": "listed anyway: the credentials are an administrator's",
    "valid_ip": "v0's choice between ipv4 and ipv6; the model has it as a property",
}
V0_SERVER_KEYS = {
    *("id", "name", "tag", "last_active", "ipv4", "ipv6", "display_index", "host", "status"),
}
# A frame carries the country at the top level instead of in geoip.
V1V2_SERVER_KEYS = {
    *("id", "name", "last_active", "display_index", "host", "state", "geoip", "country_code"),
    "public_note",
}
SERVICE_KEYS = {"service_name", "current_up", "current_down", "total_up", "total_down", "delay"}
IGNORED_SERVICE_KEYS = {"up": "daily successes; the 30-day totals are read", "down": "same"}


def _read(obj: dict[str, Any], table: Table, model: type[Any], **extra: Any) -> Any:
    """The model ``obj`` must become: every key through the table, absent keys as defaults."""
    unknown = obj.keys() - table.keys()
    assert not unknown, f"keys no table knows: {sorted(unknown)}"
    fields = {table[key][0]: table[key][1](value) for key, value in obj.items()}
    return model(**fields, **extra)


def _check_server_keys(obj: dict[str, Any], known: set[str]) -> None:
    unknown = obj.keys() - known - IGNORED_SERVER_KEYS.keys()
    assert not unknown, f"server keys no table knows: {sorted(unknown)}"


def _expected_v0_server(obj: dict[str, Any]) -> Server:
    _check_server_keys(obj, V0_SERVER_KEYS)
    server = Server(
        id=_integer(obj["id"]),
        name=_text(obj["name"]),
        tag=_text(obj["tag"]),
        last_active=_seconds(obj["last_active"]),
        ipv4=_text(obj["ipv4"]),
        ipv6=_text(obj["ipv6"]),
        display_index=_integer(obj["display_index"]),
        host=_read(obj.get("host", {}), V0_HOST, ServerHost),
        status=_read(obj.get("status", {}), V0_STATUS, ServerStatus),
    )
    assert server.valid_ip == obj["valid_ip"]
    return server


def _expected_v1v2_server(obj: dict[str, Any], groups: tuple[str, ...] = ()) -> Server:
    _check_server_keys(obj, V1V2_SERVER_KEYS)
    geoip = obj.get("geoip", {})
    assert geoip.keys() <= {"ip", "country_code"}, geoip
    addresses = geoip.get("ip", {})
    assert addresses.keys() <= {"ipv4_addr", "ipv6_addr"}, addresses
    country = obj.get("country_code", geoip.get("country_code", ""))
    return Server(
        id=_integer(obj["id"]),
        name=_text(obj["name"]),
        tag=groups[0] if groups else "",
        groups=groups,
        last_active=go_time(obj["last_active"]),
        ipv4=addresses.get("ipv4_addr", ""),
        ipv6=addresses.get("ipv6_addr", ""),
        display_index=obj.get("display_index", 0),
        host=_read(obj.get("host", {}), V1V2_HOST, ServerHost, country_code=country),
        status=_read(obj.get("state", {}), V1V2_STATE, ServerStatus),
        # Kept raw, a string (often JSON a front end wrote); absent when empty.
        public_note=_text(obj.get("public_note", "")),
    )


def _expected_groups(data: Any) -> dict[int, tuple[str, ...]]:
    names: dict[int, list[str]] = {}
    for item in data or []:
        for member in item.get("servers") or []:
            names.setdefault(member, []).append(item["group"]["name"])
    return {server_id: tuple(group) for server_id, group in names.items()}


def _expected_services(data: dict[str, Any]) -> ServicesSnapshot:
    assert data.keys() <= {"services"}, "a capture with transfer rules: extend this test"
    services: dict[int, Service] = {}
    for key, item in data.get("services", {}).items():
        unknown = item.keys() - SERVICE_KEYS - IGNORED_SERVICE_KEYS.keys()
        assert not unknown, f"service keys no table knows: {sorted(unknown)}"
        delay = [_number(value) for value in item["delay"]]
        assert len(delay) == 30
        services[int(key)] = Service(
            id=int(key),
            name=_text(item["service_name"]),
            current_up=_integer(item["current_up"]),
            current_down=_integer(item["current_down"]),
            total_up=_integer(item["total_up"]),
            total_down=_integer(item["total_down"]),
            # The last of 30 daily averages is today's; 0 is no check yet today.
            latency_today=delay[-1] or None,
        )
    return ServicesSnapshot(services=services)


def _token(sample: Sample) -> str:
    """The credential of the capture as the client takes it (the client adds ``Bearer``)."""
    header = sample.request_headers.get("Authorization", "")
    return header if sample.line == "v0" else header.removeprefix("Bearer ")


# --- every capture is accounted for -------------------------------------------------------


def test_every_capture_is_checked() -> None:
    """Each file is read by a test below, or its route is one the integration never requests.

    A new capture of an unknown route fails here until someone decides what it means.
    """
    if not ALL:
        pytest.skip("no captures")
    assert len(ALL) >= 80
    unchecked = {
        (sample.method, sample.path)
        for sample in ALL
        if sample.path not in REST_READ | NOT_REQUESTED.keys() | {STREAM_PATH, V0_STREAM_PATH}
        and _route(sample, ACTIONS) is None
        and _route(sample, NOT_SENT) is None
    }
    assert not unchecked
    # Every folder has the answers to wrong credentials.
    for folder in {sample.folder for sample in ALL}:
        names = in_folder(ALL, folder)
        assert any(name.endswith("_badtoken") for name in names), folder
        assert any(name.endswith("_noauth") for name in names), folder


# --- REST ---------------------------------------------------------------------------------


async def _replayed(sample: Sample, session: ClientSession) -> tuple[Replay, NezhaClient]:
    """A replay of the capture (servers come with their folder's groups) and a client for it."""
    served = [sample]
    folder = in_folder(ALL, sample.folder)
    if sample.path == SERVER_PATH:
        served.append(folder["server_group"])
    elif sample.path == SERVER_GROUP_PATH:
        served.append(folder["server"])
    replay = Replay(served)
    url = await replay.start()
    flavor = None if sample.path == SETTING_PATH else FLAVORS[sample.line]
    return replay, NezhaClient(session, url, _token(sample), flavor=flavor)


REST = [sample for sample in ALL if not sample.stream and sample.path in REST_READ]


@pytest.mark.parametrize("sample", sample_params(REST))
async def test_rest_answer(sample: Sample, session: ClientSession) -> None:
    """The client turns the capture into exactly the models its JSON describes."""
    replay, client = await _replayed(sample, session)
    try:
        if _expects_refusal(sample):
            await _check_refusal(sample, client)
        elif sample.path == SETTING_PATH:
            await _check_setting(sample, replay, session)
        elif sample.path in (V0_DETAILS_PATH, V0_LIST_PATH):
            await _check_v0_servers(sample, client, replay)
        elif sample.path in (SERVER_PATH, SERVER_GROUP_PATH):
            await _check_v1v2_servers(sample, client)
        else:
            assert sample.path == SERVICE_PATH
            assert sample.status == 200
            assert await client.async_get_services() == _expected_services(sample.body["data"])
    finally:
        await replay.stop()
    malformed = sample.name.endswith(("_bearer", "_rawtoken_no_bearer"))
    if "Authorization" in sample.request_headers and sample.path != SETTING_PATH and not malformed:
        # The credentials travel the way the capture sent them: raw on v0, Bearer on v1/v2.
        sent = replay.seen[-1][1] or ""
        captured = sample.request_headers["Authorization"]
        assert sent.startswith("Bearer ") == captured.startswith("Bearer ")


async def _check_refusal(sample: Sample, client: NezhaClient) -> None:
    """Wrong, absent or malformed credentials: the client's auth error, whatever the status."""
    body = sample.body
    if sample.line == "v0":
        assert (sample.status, body["code"]) == (200, 403)
    else:
        assert body.keys() == {"error"}
        assert body["error"].startswith("ApiErrorUnauthorized")
        # v2 refuses a wrong personal token with 401; everything else comes with 200.
        wrong_personal_token = sample.line == "v2" and sample.name.endswith("_badtoken")
        assert sample.status == (401 if wrong_personal_token else 200)
    read = client.async_get_services if sample.path == SERVICE_PATH else client.async_get_servers
    with pytest.raises(NezhaAuthError) as caught:
        await read()
    # A wrong token is not an expired one: the user is asked for a new token, not told it aged.
    assert not isinstance(caught.value, NezhaTokenExpiredError)


async def _check_setting(sample: Sample, replay: Replay, session: ClientSession) -> None:
    """The line probe: the version when the dashboard shows it, else the kind of token."""
    data = sample.body["data"]
    version = data.get("version", "")
    for token in ("", "nzp_personal"):
        client = NezhaClient(session, replay.url, token)
        flavor = await client.async_detect_flavor()
        assert client.version == version
        if version:
            assert flavor is FLAVORS[f"v{version.split('.')[0]}"]
        elif sample.line == "v2":
            # Guests are not told the version, but only v2 says whether its TSDB is on.
            assert "tsdb_enabled" in data
            assert flavor is DashboardFlavor.V2
        else:
            # Nor on v1: only v2 has personal tokens.
            assert flavor is (DashboardFlavor.V2 if token else DashboardFlavor.V1)
    # The probe never sends credentials.
    assert {auth for _, auth, _ in replay.seen} == {None}


async def _check_v0_servers(sample: Sample, client: NezhaClient, replay: Replay) -> None:
    result = sample.body["result"]
    if sample.path == V0_LIST_PATH:
        snapshot = await client.async_list_servers()
        # The list has no host or status at all.
        assert all(item.keys().isdisjoint({"host", "status"}) for item in result)
    else:
        ids = [int(part) for part in sample.query.removeprefix("id=").split(",") if part]
        snapshot = await client.async_get_servers(ids=ids or None)
        assert replay.seen[-1][0] == sample.path + (f"?{sample.query}" if sample.query else "")
    assert snapshot.flavor is DashboardFlavor.V0
    assert list(snapshot.servers) == [item["id"] for item in result]
    assert snapshot.servers == {item["id"]: _expected_v0_server(item) for item in result}


async def _check_v1v2_servers(sample: Sample, client: NezhaClient) -> None:
    folder = in_folder(ALL, sample.folder)
    # The servers the replay serves: this list's, or the folder's beside its groups.
    servers_body = (sample if sample.path == SERVER_PATH else folder["server"]).body
    groups = _expected_groups(folder["server_group"].body.get("data"))
    snapshot = await client.async_get_servers()
    assert snapshot.flavor is FLAVORS[sample.line]
    assert snapshot.servers == {
        item["id"]: _expected_v1v2_server(item, groups.get(item["id"], ()))
        for item in servers_body["data"]
    }


# --- websocket ----------------------------------------------------------------------------

STREAMS = [sample for sample in ALL if sample.stream and sample.path == STREAM_PATH]


@pytest.mark.parametrize("sample", sample_params(STREAMS))
async def test_stream_capture(
    sample: Sample, session: ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The live stream reads every frame as its JSON says; a refused handshake gives no frame
    and is reported as the stream being down."""
    monkeypatch.setattr(stream_module, "backoff_delay", lambda attempt, rng: 0.01)
    replay = Replay([sample])
    url = await replay.start()
    client = NezhaClient(session, url, _token(sample), flavor=FLAVORS[sample.line])
    frames: list[tuple[datetime, dict[int, Server]]] = []
    states: list[bool] = []
    # Interval 0: every frame is handed over, not only those an online change makes due.
    task = asyncio.get_running_loop().create_task(
        client.listen(
            lambda snapshot: frames.append((snapshot.dashboard_time, snapshot.servers)),
            states.append,
            Watch(interval=0, online_threshold=30),
        )
    )
    try:
        if sample.frames is None:
            # Refused, then tried again after the back-off: it never got further.
            await wait_for(lambda: len(replay.seen) >= 2)
        else:
            await wait_for(lambda: len(frames) >= len(sample.frames or ()))
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await replay.stop()

    path, authorization, origin = replay.seen[0]
    assert path == sample.path
    assert origin is None
    # Credentials in the handshake's header, never in the URL.
    if sample.request_headers.get("Authorization"):
        assert authorization == f"Bearer {_token(sample)}"
        assert _token(sample) not in path
    if sample.frames is None:
        assert sample.status == 401
        assert sample.body == {"error": "ApiErrorUnauthorized: invalid api token"}
        # No frame, and each refusal is reported (its owner then asks the dashboard at once).
        assert frames == []
        assert states
        assert set(states) == {False}
        return
    assert states[0] is True
    assert len(frames) >= len(sample.frames)
    stopped = sample.folder.endswith("agents_stopped_40s")
    # The first frame of a connection says every public note; later ones leave notes out,
    # which does not remove them: the client keeps the first frame's.
    first_notes = {item["id"]: item.get("public_note", "") for item in sample.frames[0]["servers"]}
    for index, ((now, servers), raw) in enumerate(zip(frames, sample.frames, strict=False)):
        assert raw.keys() == {"now", "online", "servers"}
        assert now == datetime.fromtimestamp(raw["now"] / 1000, UTC)
        expected = {item["id"]: _expected_v1v2_server(item) for item in raw["servers"]}
        if index:
            assert all("public_note" not in item for item in raw["servers"])
            expected = {
                key: dataclasses.replace(server, public_note=first_notes.get(key, ""))
                for key, server in expected.items()
            }
        assert servers == expected
        online = {
            server_id
            for server_id, server in servers.items()
            if server.is_online(now, ONLINE_THRESHOLD)
        }
        # Agents that stopped are never online; live ones (reporting every 2 s) all are.
        assert online == (set() if stopped else set(servers))


V0_FRAMES = [sample for sample in ALL if sample.stream and sample.path == V0_STREAM_PATH]


@pytest.mark.parametrize("sample", sample_params(V0_FRAMES))
def test_v0_frames_host_and_status(sample: Sample) -> None:
    """v0's own stream is not read, but its Host and State are the structs the v0 parser reads."""
    assert sample.frames
    for frame in sample.frames:
        for item in frame["servers"]:
            assert v0.parse_host(item["Host"]) == _read(item["Host"], V0_HOST, ServerHost)
            assert v0.parse_status(item["State"]) == _read(item["State"], V0_STATUS, ServerStatus)


# --- scheduled tasks, notifications, metric histories ----------------------------------

CRON_KEYS = {"id", "name", "task_type", "scheduler", "cover", "last_executed_at", "last_result"}
IGNORED_CRON_KEYS = {
    "created_at": "not shown",
    "updated_at": "not shown",
    "command": "what it runs is the dashboard's business; the integration only presses run",
    "servers": "where it runs: not shown",
    "notification_group_id": "whom its result is sent to: not shown",
    "push_successful": "same",
    "cron_job_id": "the dashboard's scheduler entry",
}
CHANNEL_KEYS = {"id", "name"}
IGNORED_CHANNEL_KEYS = {
    "created_at": "not shown",
    "updated_at": "not shown",
    "url": "the target (v2 lists it empty): the integration knows its own",
    "request_method": "same",
    "request_type": "same",
    "request_header": "same (the secret header on v1)",
    "request_body": "same",
    "verify_tls": "same",
    "format_metric_units": "how figures are written in messages: not shown",
}
GROUP_KEYS = {"id", "name"}
IGNORED_GROUP_KEYS = {"created_at": "not shown", "updated_at": "not shown"}
METRICS_KEYS = {"server_id", "server_name", "metric", "data_points"}


def _known(obj: dict[str, Any], keys: set[str], ignored: dict[str, str]) -> None:
    unknown = obj.keys() - keys - ignored.keys()
    assert not unknown, f"keys no table knows: {sorted(unknown)}"


def _expected_cron(obj: dict[str, Any]) -> CronTask:
    _known(obj, CRON_KEYS, IGNORED_CRON_KEYS)
    executed = go_time(_text(obj["last_executed_at"]))
    result = obj.get("last_result", False)
    assert type(result) is bool
    return CronTask(
        id=_integer(obj["id"]),
        name=_text(obj["name"]),
        task_type=_integer(obj["task_type"]),
        scheduler=_text(obj["scheduler"]),
        cover=_integer(obj["cover"]),
        last_executed_at=executed,
        # false is omitted: it means a failure only once the task ran.
        last_succeeded=None if executed is None else result,
    )


def _expected_channel(obj: dict[str, Any]) -> NotificationChannel:
    _known(obj, CHANNEL_KEYS, IGNORED_CHANNEL_KEYS)
    return NotificationChannel(id=_integer(obj["id"]), name=_text(obj["name"]))


def _expected_group(obj: dict[str, Any]) -> NotificationGroup:
    assert obj.keys() == {"group", "notifications"}, obj
    group = obj["group"]
    _known(group, GROUP_KEYS, IGNORED_GROUP_KEYS)
    members = obj["notifications"] or []
    return NotificationGroup(
        id=_integer(group["id"]),
        name=_text(group["name"]),
        members=tuple(_integer(member) for member in members),
    )


def _expected_metrics(data: dict[str, Any]) -> ServerMetrics:
    assert data.keys() == METRICS_KEYS, data
    points = []
    for point in data["data_points"] or []:
        assert point.keys() == {"ts", "value"}, point
        when = datetime.fromtimestamp(_integer(point["ts"]) / 1000, UTC)
        points.append(MetricPoint(ts=when, value=_number(point["value"])))
    return ServerMetrics(
        server_id=_integer(data["server_id"]),
        server_name=_text(data["server_name"]),
        metric=_text(data["metric"]),
        points=tuple(points),
    )


def _expected_refusal(sample: Sample, metric: str, period: str) -> MetricsErrorReason:
    """Why the dashboard refuses, judged from what was asked (the source's order of checks)."""
    if metric not in METRICS:
        return MetricsErrorReason.UNKNOWN_METRIC
    if period not in METRIC_PERIODS:
        return MetricsErrorReason.BAD_PERIOD
    assert "Authorization" not in sample.request_headers
    assert period != "1d"
    return MetricsErrorReason.GUESTS_ONE_DAY


ACTION_SAMPLES = [sample for sample in ALL if _route(sample, ACTIONS) is not None]


def _served_with(sample: Sample) -> list[Sample]:
    """The captures a replay serves for this one: what the client reads before it writes."""
    folder = in_folder(ALL, sample.folder)
    if sample.path.endswith("/manual"):
        # Both methods' answers: the client finds the line's own.
        return [item for item in folder.values() if item.path == sample.path]
    if sample.method == "PATCH":
        # The group as it was before the channel joined it: ``ops`` without members.
        return [sample, folder["notification_group_list_after_delete"]]
    return [sample]


@pytest.mark.parametrize("sample", sample_params(ACTION_SAMPLES))
async def test_action_answer(sample: Sample, session: ClientSession) -> None:
    """Tasks, channels, groups and metric histories: the client reads each capture as its JSON
    says and sends what the real dashboard was sent."""
    served = _served_with(sample)
    replay = Replay(served)
    url = await replay.start()
    client = NezhaClient(session, url, _token(sample), flavor=FLAVORS[sample.line])
    try:
        await _check_action(sample, client, replay)
    finally:
        await replay.stop()
    if "Authorization" in sample.request_headers:
        # Every request (none for v1's metrics) carries the credentials, as Bearer.
        assert all(auth == f"Bearer {_token(sample)}" for _, auth, _ in replay.seen)


async def _check_action(sample: Sample, client: NezhaClient, replay: Replay) -> None:
    body = sample.body
    data = body.get("data")
    if sample.path.endswith("/metrics"):
        await _check_metrics(sample, client, replay)
    elif sample.path.endswith("/manual"):
        task_id = int(sample.path.split("/")[-2])
        working = [item for item in _served_with(sample) if item.status == 200]
        assert len(working) == 1
        await client.async_run_cron(task_id)
        # v2 takes POST, v1 GET; the other method gets 404 (the client then tries GET).
        assert replay.sent[-1][0] == working[0].method == ("POST" if sample.line == "v2" else "GET")
    elif sample.path == CRON_PATH:
        assert await client.async_get_cron() == {
            item["id"]: _expected_cron(item) for item in data or []
        }
    elif (sample.method, sample.path) == ("GET", NOTIFICATION_PATH):
        assert await client.async_get_notifications() == {
            item["id"]: _expected_channel(item) for item in data or []
        }
    elif sample.path == NOTIFICATION_PATH:
        await _check_create_channel(sample, client, replay)
    elif sample.path == NOTIFICATION_DELETE_PATH:
        await client.async_delete_notification(sample.request_body[0])
        assert replay.sent == [("POST", sample.request_body)]
    elif sample.path == NOTIFICATION_GROUP_PATH:
        assert await client.async_get_notification_groups() == {
            item["group"]["id"]: _expected_group(item) for item in data or []
        }
    else:
        assert sample.method == "PATCH"
        group_id = int(sample.path.rsplit("/", 1)[1])
        await client.async_set_group_channel(sample.request_body["notifications"][0], [group_id])
        # The group was read, then written with exactly the capture's body.
        assert replay.sent == [("GET", None), ("PATCH", sample.request_body)]


async def _check_create_channel(sample: Sample, client: NezhaClient, replay: Replay) -> None:
    form = sample.request_body
    create = client.async_create_notification(
        form["name"],
        form["url"],
        headers=json.loads(form["request_header"]),
        body=form["request_body"],
    )
    if "error" in sample.body:
        # v2.1+ refuses private targets with HTTP 200 and an error.
        assert sample.body == {"error": "HTTP URL target is not allowed"}
        with pytest.raises(NezhaResponseError):
            await create
    else:
        assert await create == _integer(sample.body["data"])
    [(method, sent)] = replay.sent
    assert method == "POST"
    # What the client sends is what the capture sent (headers compared as JSON), except that
    # it never asks the dashboard to skip its test message.
    expected = {key: value for key, value in form.items() if key != "skip_check"}
    assert json.loads(sent.pop("request_header")) == json.loads(expected.pop("request_header"))
    assert sent == expected


async def _check_metrics(sample: Sample, client: NezhaClient, replay: Replay) -> None:
    server_id = int(sample.path.split("/")[-2])
    query = dict(part.split("=", 1) for part in sample.query.split("&"))
    fetch = client.async_get_metrics(server_id, query["metric"], query["period"])
    if sample.line != "v2":
        # v1 has no such route (404): the client does not ask.
        assert sample.status == 404
        with pytest.raises(NezhaMetricsError) as unsupported:
            await fetch
        assert unsupported.value.reason is MetricsErrorReason.UNSUPPORTED
        assert replay.seen == []
        return
    assert sample.status == 200
    if "error" in sample.body:
        assert sample.body.keys() == {"error"}
        with pytest.raises(NezhaMetricsError) as refused:
            await fetch
        assert refused.value.reason is _expected_refusal(sample, query["metric"], query["period"])
    else:
        assert await fetch == _expected_metrics(sample.body["data"])
    assert replay.seen[-1][0] == f"{sample.path}?{sample.query}"


# --- what the captures show, spelled out --------------------------------------------------


def _only(folder: str, name: str) -> Sample:
    samples = in_folder(ALL, folder)
    if name not in samples:
        pytest.skip("no captures")
    return samples[name]


async def _servers(sample: Sample, session: ClientSession) -> dict[int, Server]:
    replay, client = await _replayed(sample, session)
    try:
        return (await client.async_get_servers()).servers
    finally:
        await replay.stop()


async def test_v2_agents_gone_are_never_reported(session: ClientSession) -> None:
    """v2 resets last_active to Go's zero time when an agent goes; the last state stays."""
    sample = _only("v2.3.7/agents_stopped_40s", "server")
    assert {item["last_active"] for item in sample.body["data"]} == {"0001-01-01T00:00:00Z"}
    servers = await _servers(sample, session)
    assert set(servers) == {1, 2}
    assert [server.last_active for server in servers.values()] == [None, None]
    assert not any(server.is_online(datetime.now(UTC), 3600) for server in servers.values())
    assert servers[1].name == "liked-whale"
    assert servers[1].status.cpu == 24.192273336979344
    assert servers[1].status.temperatures == (
        Temperature(name="coretemp_package_id_0", celsius=44.838454667395865),
    )


async def test_v2_real_agent(session: ClientSession) -> None:
    """A real agent v2.3.3 omits every zero figure; those read as zero."""
    servers = await _servers(_only("v2.3.7/with_real_agent", "server"), session)
    assert [server.name for server in servers.values()] == [
        "suitable-pug",
        "darling-toucan",
        "caring-yak",
        "dear-arachnid",
    ]
    real = servers[4]
    assert real.host.agent_version == "2.3.3"
    assert real.host.platform_version == "12.11"
    assert real.host.swap_total == 0
    assert (real.status.net_in_speed, real.status.udp_connections) == (0, 0)
    assert real.status.net_in_transfer == 2190072734
    assert real.ipv4 == "127.0.0.1"
    assert real.last_active == datetime(2026, 12, 1, 15, 47, 7, 616880, UTC)


async def test_v0_details(session: ClientSession) -> None:
    servers = await _servers(_only("v0.20.13", "server_details"), session)
    assert [server.name for server in servers.values()] == ["sim-v0-1", "sim-v0-2"]
    assert servers[1].last_active == datetime.fromtimestamp(1796139634, UTC)
    assert servers[1].tags == ("sim",)
    assert servers[1].host.agent_version == "0.20.5"
    assert servers[2].status.temperatures == ()
    assert servers[2].status.swap_used == 53687091


async def test_services_v1_hides_what_its_service_page_hides(session: ClientSession) -> None:
    """v1 lists only services shown on its service page (the capture's was not); v2 lists all."""
    v1_sample = _only("v1.14.14", "service")
    v2_sample = _only("v2.3.7", "service")
    snapshots = []
    for sample in (v1_sample, v2_sample):
        replay, client = await _replayed(sample, session)
        try:
            snapshots.append(await client.async_get_services())
        finally:
            await replay.stop()
    assert snapshots[0] == ServicesSnapshot()
    service = snapshots[1].services[1]
    assert service.name == "tcp 127.0.0.1:18008"
    assert (service.current_up, service.current_down, service.total_up) == (1, 0, 3)
    assert service.latency_today == 18.60263442993164
    assert service.status is ServiceStatus.GOOD
    assert service.availability == 100.0


async def test_public_note_is_the_stored_text(session: ClientSession) -> None:
    """The note is kept as the dashboard stored it (JSON in a string); servers without one
    have none; the stream sends it in its first frame only."""
    servers = await _servers(_only("v2.3.7", "server_public_note_admin"), session)
    written = _only("v2.3.7", "server_public_note_set").request_body
    noted = [server for server in servers.values() if server.public_note]
    assert [server.id for server in noted] == [1]
    assert noted[0].public_note == written["public_note"]
    assert json.loads(noted[0].public_note)["billingDataMod"]["amount"] == "$3.99"
    frames = _only("v2.3.7", "ws_server_public_note_guest").frames
    assert frames
    assert [item.get("public_note") for item in frames[0]["servers"] if item["id"] == 1] == [
        written["public_note"]
    ]
    assert all("public_note" not in item for frame in frames[1:] for item in frame["servers"])


async def test_metrics_points_and_an_empty_history(session: ClientSession) -> None:
    """1d: points 30 s apart; a dashboard without TSDB answers success with no point."""
    histories = []
    for name in ("server_2_metrics_cpu_1d", "server_2_metrics_cpu_1d_tsdb_off"):
        sample = _only("v2.3.7", name)
        replay = Replay([sample])
        client = NezhaClient(session, await replay.start(), _token(sample), flavor=FLAVORS["v2"])
        try:
            histories.append(await client.async_get_metrics(2, "cpu", "1d"))
        finally:
            await replay.stop()
    points = histories[0].points
    assert len(points) == 2
    assert (points[1].ts - points[0].ts).total_seconds() == 30
    assert points[0].value == 50.91374809118434
    assert histories[1].points == ()
    assert histories[1].server_id == 2
