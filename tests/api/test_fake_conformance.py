"""The fake dashboard answers in the shapes real dashboards answer (v0.20.13, v1.14.14, v2.3.7).

For each capture a fake of the same line is loaded with what the real dashboard held (the
servers the capture shows, else its folder's; services; tasks, channels, groups and metric
samples as the capture or its folder's lists show them), asked the same request (method, body)
with the same kind of credentials (right, wrong, absent, raw instead of ``Bearer``; a login, a
personal token), and its answers compared with the captured ones: the HTTP status (or
websocket handshake), the Content-Type, and the JSON shape, recursively: the same keys
(including the ones Go's ``omitempty`` leaves out) and the same JSON type for each.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from aiohttp import ClientSession, WSMsgType, WSServerHandshakeError, web
import pytest
from yarl import URL

from fake_dashboard import FakeDashboard
from fake_dashboard.actions import (
    SCOPE_CRON_EXEC,
    SCOPE_CRON_READ,
    SCOPE_GROUP_READ,
    SCOPE_GROUP_WRITE,
    SCOPE_NOTIFICATION_DELETE,
    SCOPE_NOTIFICATION_READ,
    SCOPE_NOTIFICATION_WRITE,
    FakeCron,
    FakeGroup,
    FakeNotification,
)
from fake_dashboard.gotime import GO_ZERO_RFC3339
from fake_dashboard.server import (
    SCOPE_INVENTORY,
    SCOPE_SERVER_READ,
    SCOPE_SERVICE,
    FakeServer,
    FakeService,
    make_server,
)
from tests.helpers import (
    SERVER,
    Sample,
    go_time,
    in_folder,
    load_deliveries,
    load_samples,
    sample_params,
)

ALL = load_samples()
PERSONAL_TOKEN = "nzp_conformanceFAKEtoken0123456789"
CAPTURE_SCOPES = frozenset({SCOPE_INVENTORY, SCOPE_SERVER_READ, SCOPE_SERVICE})
# The personal token of the captures of 2026-12-06 (shortened there to ``nzp_<token>``), with
# its scopes as their README lists them: no ``nezha:cron:write``.
ACTIONS_TOKEN = "nzp_conformanceACTIONStoken0123456789"
ACTIONS_SCOPES = frozenset(
    {
        *CAPTURE_SCOPES,
        *(SCOPE_CRON_READ, SCOPE_CRON_EXEC),
        *(SCOPE_NOTIFICATION_READ, SCOPE_NOTIFICATION_WRITE, SCOPE_NOTIFICATION_DELETE),
        *(SCOPE_GROUP_READ, SCOPE_GROUP_WRITE),
    }
)
V0_TOKEN = "0123456789abcdef0123456789abcdef"
USERNAME = "admin"
PASSWORD = "conformance-password"

# Captured routes the fake does not serve, and why that is fine. The test checks they are
# still absent from the fake: whoever adds one must compare it here.
NOT_SERVED = {
    ("v0", "/api/v1/monitor/1"): "v0's per-server check history: the integration never asks",
    ("v0", "/ws"): "v0's own stream: the integration polls v0",
    ("v1", "/api/v1/service/server"): "servers with checks: the integration never asks",
    ("v2", "/api/v1/service/server"): "servers with checks: the integration never asks",
    ("v2", "/api/v1/server/1/service"): "per-server check history: the integration never asks",
}


def _kind(value: Any) -> str:
    """The JSON type, with integers (Go's int/uint) told apart from fractions (float64)."""
    if value is None:
        return "null"
    return {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
    }[type(value)]


def _server_id(item: Any) -> Any:
    return item.get("id", item.get("ID")) if isinstance(item, dict) else None


def shape_differences(real: Any, fake: Any, where: str = "$") -> list[str]:
    """Where the fake's JSON differs in shape from the real one: keys, omissions, types."""
    if _kind(real) != _kind(fake):
        return [f"{where}: real {_kind(real)}, fake {_kind(fake)}"]
    if isinstance(real, dict):
        differences = [f"{where}.{key}: missing in the fake" for key in real.keys() - fake.keys()]
        differences += [f"{where}.{key}: real omits it" for key in fake.keys() - real.keys()]
        for key in sorted(real.keys() & fake.keys()):
            differences += shape_differences(real[key], fake[key], f"{where}.{key}")
        return differences
    if isinstance(real, list):
        return _list_differences(real, fake, where)
    return []


def _list_differences(real: list[Any], fake: list[Any], where: str) -> list[str]:
    ids = [_server_id(item) for item in real]
    if real and None not in ids:
        # Servers: paired by id, whatever the order.
        fake_by_id = {_server_id(item): item for item in fake}
        if set(ids) != set(fake_by_id):
            return [f"{where}: real ids {sorted(ids)}, fake {sorted(fake_by_id)}"]
        return [
            difference
            for item in real
            for difference in shape_differences(
                item, fake_by_id[_server_id(item)], f"{where}[id={_server_id(item)}]"
            )
        ]
    if len(real) != len(fake):
        return [f"{where}: real has {len(real)} items, fake {len(fake)}"]
    return [
        difference
        for index, (real_item, fake_item) in enumerate(zip(real, fake, strict=True))
        for difference in shape_differences(real_item, fake_item, f"{where}[{index}]")
    ]


def test_shape_differences_finds_what_it_should() -> None:
    """The comparison itself: omitted keys, extra keys, types, integers against fractions."""
    real = {"a": 1, "b": [{"id": 1, "x": "s"}, {"id": 2}], "c": {"d": 1.5}, "e": [0, 1.5]}
    assert shape_differences(real, real) == []
    fake = {
        "a": 1.5,
        "b": [{"id": 2, "y": 1}, {"id": 1, "x": None}],
        "c": {},
        "e": [0, 1.5],
        "f": 0,
    }
    assert sorted(shape_differences(real, fake)) == [
        "$.a: real integer, fake number",
        "$.b[id=1].x: real string, fake null",
        "$.b[id=2].y: real omits it",
        "$.c.d: missing in the fake",
        "$.f: real omits it",
    ]
    assert shape_differences([1, 2], [1]) == ["$: real has 2 items, fake 1"]
    assert shape_differences([{"id": 1}], [{"id": 3}]) == ["$: real ids [1], fake [3]"]


# --- a fake like the capture --------------------------------------------------------------

_HOST = {
    "platform": "Platform",
    "platform_version": "PlatformVersion",
    "cpu": "CPU",
    "mem_total": "MemTotal",
    "disk_total": "DiskTotal",
    "swap_total": "SwapTotal",
    "arch": "Arch",
    "virtualization": "Virtualization",
    "boot_time": "BootTime",
    "version": "Version",
    "gpu": "GPU",
}
_STATE = {
    "cpu": "CPU",
    "mem_used": "MemUsed",
    "swap_used": "SwapUsed",
    "disk_used": "DiskUsed",
    "net_in_transfer": "NetInTransfer",
    "net_out_transfer": "NetOutTransfer",
    "net_in_speed": "NetInSpeed",
    "net_out_speed": "NetOutSpeed",
    "uptime": "Uptime",
    "load_1": "Load1",
    "load_5": "Load5",
    "load_15": "Load15",
    "tcp_conn_count": "TcpConnCount",
    "udp_conn_count": "UdpConnCount",
    "process_count": "ProcessCount",
    "temperatures": "Temperatures",
}


def _timestamp(text: str) -> float | None:
    when = go_time(text)
    return None if when is None else when.timestamp()


def _fake_server(item: dict[str, Any]) -> FakeServer:
    """A v1/v2 server of a capture as the fake holds it (v0's PascalCase structs)."""
    host = {pascal: item.get("host", {}).get(snake) for snake, pascal in _HOST.items()}
    status = {pascal: item.get("state", {}).get(snake) for snake, pascal in _STATE.items()}
    gpu = item.get("state", {}).get("gpu") or [0]
    status["GPU"] = max(gpu)
    addresses = item.get("geoip", {}).get("ip", {})
    # A frame has the country at the top level; both omit an empty one.
    host["CountryCode"] = item.get("country_code", item.get("geoip", {}).get("country_code", ""))
    created = item.get("created_at")
    return FakeServer(
        id=item["id"],
        name=item["name"],
        ipv4=addresses.get("ipv4_addr", ""),
        ipv6=addresses.get("ipv6_addr", ""),
        # Frames omit a zero display index (REST lists always send it).
        display_index=item.get("display_index", 0),
        host=host,
        status=status,
        last_active=_timestamp(item["last_active"]),
        created_at=None if created is None else _timestamp(created),
        public_note=item.get("public_note", ""),
    )


def _fake_services(data: dict[str, Any]) -> dict[int, FakeService]:
    services = {}
    for key, item in data.get("services", {}).items():
        services[int(key)] = FakeService(
            name=item["service_name"],
            current_up=item["current_up"],
            current_down=item["current_down"],
            total_up=item["total_up"],
            total_down=item["total_down"],
            delay=item["delay"],
            # As on the captured dashboards: not shown on the service page.
            show_in_service=False,
        )
    return services


def _metric_points(sample: Sample) -> list[dict[str, Any]] | None:
    """The points of a metric history capture (None: not one, or no points at all)."""
    if not sample.path.endswith("/metrics") or not isinstance(sample.body, dict):
        return None
    data = sample.body.get("data")
    return data.get("data_points") if isinstance(data, dict) else None


def _capture_time(sample: Sample, samples: dict[str, Sample]) -> float:
    """The dashboard clock at the capture: its first frame's ``now``; for a metric history,
    its newest point (the captures keep no Date header); else the folder's stream's."""
    if sample.frames:
        return float(sample.frames[0]["now"] / 1000)
    if points := _metric_points(sample):
        return max(point["ts"] for point in points) / 1000
    stream = samples.get("ws_server") or samples["ws_frames"]
    assert stream.frames
    return float(stream.frames[0]["now"] / 1000)


def _servers_shown(sample: Sample, samples: dict[str, Sample]) -> list[dict[str, Any]]:
    """The servers the dashboard held: those the capture shows, else its folder's list.

    A folder may hold captures of two dashboard instances (2026-12-01 and 2026-12-06).
    """
    if sample.frames:
        return list(sample.frames[0]["servers"])
    if sample.path == SERVER and isinstance(sample.body, dict) and "data" in sample.body:
        return list(sample.body["data"])
    return list(samples["server"].body["data"])


def _listed(sample: Sample, samples: dict[str, Sample], path: str, plain: str) -> list[Any]:
    """What the dashboard listed at ``path``: the capture itself when it is that list, else the
    folder's plain list capture (the state a write or a run acted on), else nothing."""
    source = sample if (sample.method, sample.path) == ("GET", path) else samples.get(plain)
    if source is None or source.status != 200 or not isinstance(source.body, dict):
        return []
    return list(source.body.get("data") or [])


def _load_actions(fake: FakeDashboard, sample: Sample, samples: dict[str, Sample]) -> None:
    """Tasks, channels, groups and metric samples as the capture (or its folder) shows them."""
    for item in _listed(sample, samples, "/api/v1/cron", "cron_list"):
        fake.crons[item["id"]] = FakeCron(
            name=item["name"],
            task_type=item["task_type"],
            scheduler=item["scheduler"],
            command=item.get("command", ""),
            servers=item["servers"] or [],
            cover=item["cover"],
            notification_group_id=item["notification_group_id"],
            push_successful=item.get("push_successful", False),
            last_executed_at=_timestamp(item["last_executed_at"]),
            last_result=item.get("last_result", False),
            created_at=_timestamp(item["created_at"]),
            cron_job_id=item.get("cron_job_id", 0),
        )
    for item in _listed(sample, samples, "/api/v1/notification", "notification_list"):
        fake.notifications[item["id"]] = FakeNotification(
            name=item["name"],
            url=item["url"],
            request_method=item["request_method"],
            request_type=item["request_type"],
            request_header=item["request_header"],
            request_body=item["request_body"],
            verify_tls=item.get("verify_tls", False),
            format_metric_units=item.get("format_metric_units", False),
            created_at=_timestamp(item["created_at"]),
        )
    for item in _listed(sample, samples, "/api/v1/notification-group", "notification_group_list"):
        group = item["group"]
        fake.notification_groups[group["id"]] = FakeGroup(
            name=group["name"],
            members=item["notifications"] or [],
            created_at=_timestamp(group["created_at"]),
            updated_at=_timestamp(group["updated_at"]),
        )
    points = _metric_points(sample)
    # Only a dashboard without a TSDB answers ``[]`` (one with it, but no point: null).
    fake.tsdb_enabled = points != []
    if points and fake.tsdb_enabled:
        server_id = sample.body["data"]["server_id"]
        metric = sample.body["data"]["metric"]
        fake.metric_samples[server_id, metric] = [
            (point["ts"] / 1000, point["value"]) for point in points
        ]


async def _fake_like(sample: Sample) -> FakeDashboard:
    samples = in_folder(ALL, sample.folder)
    line = sample.line
    now = _capture_time(sample, samples)
    fake = FakeDashboard(
        token=PERSONAL_TOKEN if line == "v2" else V0_TOKEN,
        clock=lambda: now,
        flavor=line,
        username=USERNAME,
        password=PASSWORD,
    )
    fake.frame_interval = 0.05
    if line == "v0":
        fake.load_v0_example(samples["server_details"].body)
    else:
        # The captured dashboards spoke English (their alerts and test messages too).
        fake.language = samples["setting"].body["data"]["config"]["language"]
        if line == "v2":
            # The scopes the captures' tokens had (real-samples/README.md).
            fake.add_personal_token(PERSONAL_TOKEN, scopes=CAPTURE_SCOPES)
            fake.add_personal_token(ACTIONS_TOKEN, scopes=ACTIONS_SCOPES)
        _load_actions(fake, sample, samples)
        for item in _servers_shown(sample, samples):
            server = _fake_server(item)
            gone = server.last_active is None
            if gone:
                # It reported, then its agent went away (agents_stopped_40s).
                server.last_active = now - 40
            fake.add(server)
            if gone:
                fake.agent_disconnect(server.id)
        fake.services = _fake_services(samples["service"].body["data"])
        if line == "v1":
            # The capture's one service was hidden from the service page (hence ``data: {}``).
            fake.services = {1: FakeService(name="tcp 127.0.0.1:18080", show_in_service=False)}
    await fake.start()
    return fake


# --- the same request to the fake ---------------------------------------------------------


async def _credentials(sample: Sample, fake: FakeDashboard, session: ClientSession) -> str | None:
    """The fake's equivalent of the capture's Authorization header (None: none sent)."""
    captured = sample.request_headers.get("Authorization")
    if captured is None:
        return None
    bearer = captured.startswith("Bearer ")
    token = captured.removeprefix("Bearer ")
    good = in_folder(ALL, sample.folder)["server_details" if fake.flavor == "v0" else "server"]
    good_token = good.request_headers["Authorization"].removeprefix("Bearer ")
    if sample.name.endswith("_badtoken"):
        equivalent = "nzp_0000000000000000badtoken" if token.startswith("nzp_") else token
    elif fake.flavor == "v0":
        assert token == good_token
        equivalent = V0_TOKEN
    elif token == "nzp_<token>":
        # The captures of 2026-12-06 shorten every token to a placeholder.
        equivalent = ACTIONS_TOKEN
    elif fake.flavor == "v2" and token.startswith("nzp_"):
        assert token.startswith(good_token.removesuffix("..."))
        equivalent = PERSONAL_TOKEN
    else:
        # A login's JWT (v1, or a v2 administrator's), whole or as ``<jwt>``.
        assert token.startswith("eyJ") or token == "<jwt>"
        async with session.post(
            f"{fake.url}/api/v1/login", json={"username": USERNAME, "password": PASSWORD}
        ) as response:
            equivalent = (await response.json())["data"]["token"]
    return f"Bearer {equivalent}" if bearer else equivalent


def _webhook_body(sample: Sample, webhook: str) -> Any:
    """The captured body, a loopback webhook target (the capturing machine's listener) moved to
    this test's listener; other targets unchanged (a dashboard refuses them unsent)."""
    body = sample.request_body
    if not isinstance(body, dict) or "url" not in body:
        return body
    target = URL(body["url"])
    if target.host not in ("127.0.0.1", "localhost"):
        return body
    return body | {"url": str(target.with_port(URL(webhook).port))}


async def _ask(
    fake: FakeDashboard, sample: Sample, session: ClientSession, webhook: str
) -> dict[str, Any]:
    """The fake's answer, in the capture's format."""
    authorization = await _credentials(sample, fake, session)
    headers = {} if authorization is None else {"Authorization": authorization}
    url = fake.url + sample.path + (f"?{sample.query}" if sample.query else "")
    if not sample.stream:
        async with session.request(
            sample.method, url, headers=headers, json=_webhook_body(sample, webhook)
        ) as response:
            return {
                "status": response.status,
                "content_type": response.headers.get("Content-Type"),
                "body": await response.json(content_type=None),
            }
    try:
        async with session.ws_connect(url, headers=headers) as ws:
            frames = []
            for _ in range(min(2, len(sample.frames or ()))):
                message = await ws.receive(timeout=5)
                assert message.type is WSMsgType.TEXT
                frames.append(message.json())
            return {"status": 101, "frames": frames}
    except WSServerHandshakeError as err:
        refused = err.status
    # The refusal's body, asked again as a plain upgrade request.
    upgrade = {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": base64.b64encode(b"conformance-test").decode(),
    }
    async with session.get(url, headers=headers | upgrade) as response:
        assert response.status == refused
        return {"status": refused, "body": await response.json(content_type=None)}


class _Webhook:
    """A webhook that accepts whatever a dashboard sends it (Home Assistant's answers 200)."""

    def __init__(self, runner: web.AppRunner, url: str) -> None:
        self.runner = runner
        self.url = url
        # (path, headers, body) of each delivery.
        self.received: list[tuple[str, dict[str, str], str]] = []

    async def stop(self) -> None:
        await self.runner.cleanup()


async def _webhook_listener() -> _Webhook:
    app = web.Application()
    runner = web.AppRunner(app, access_log=None)
    hook = _Webhook(runner, "")

    async def receive(request: web.Request) -> web.Response:
        hook.received.append((request.path, dict(request.headers), await request.text()))
        return web.Response(status=200)

    app.router.add_post("/{tail:.*}", receive)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    hook.url = f"http://127.0.0.1:{port}"
    return hook


def _differences(sample: Sample, answer: dict[str, Any]) -> list[str]:
    """Every way the fake's answer differs from the capture."""
    if answer["status"] != sample.status:
        return [f"status: real {sample.status}, fake {answer['status']}"]
    if sample.frames is not None:
        return [
            difference
            for index, (real, fake) in enumerate(zip(sample.frames, answer["frames"], strict=False))
            for difference in shape_differences(real, fake, f"frame[{index}]")
        ]
    differences = shape_differences(sample.body, answer["body"])
    real_type = sample.headers.get("Content-Type")
    if real_type is not None and answer["content_type"] != real_type:
        differences.append(f"Content-Type: real {real_type}, fake {answer['content_type']}")
    return differences


@pytest.mark.parametrize("sample", sample_params(ALL))
async def test_fake_answers_like_the_real_dashboard(sample: Sample, session: ClientSession) -> None:
    """Same status, same keys (and omissions), same JSON types as the real dashboard."""
    fake = await _fake_like(sample)
    webhook = await _webhook_listener()
    try:
        exception = NOT_SERVED.get((sample.line, sample.path))
        if exception is not None:
            async with session.get(fake.url + sample.path) as response:
                assert response.status == 404, f"the fake serves it now: compare it ({exception})"
            return
        answer = await _ask(fake, sample, session, webhook.url)
    finally:
        await fake.stop()
        await webhook.stop()
    differences = _differences(sample, answer)
    assert not differences, "the fake differs:\n" + "\n".join(differences)


async def test_test_message_like_the_real_one(session: ClientSession) -> None:
    """v1 sends a new channel its test message, as v1.14.14 did: the channel's headers, its
    body with ``#NEZHA#`` and ``#DATETIME#`` filled in and the server placeholders left."""
    deliveries = load_deliveries()
    if "v1.14.14/notification_test_delivery" not in deliveries:
        pytest.skip("no captures")
    real = deliveries["v1.14.14/notification_test_delivery"]
    sample = in_folder(ALL, "v1.14.14")["notification_create_loopback"]
    fake = await _fake_like(sample)
    webhook = await _webhook_listener()
    try:
        answer = await _ask(fake, sample, session, webhook.url)
    finally:
        await fake.stop()
        await webhook.stop()
    assert answer["body"]["success"] is True
    [(path, headers, body)] = webhook.received
    assert path == real["path"]
    # Header names are case-insensitive (Go writes them canonical: X-Nezha-Ha-Secret).
    sent_headers = {name.lower(): value for name, value in headers.items()}
    for name in ("Content-Type", "X-Nezha-Ha-Secret"):
        assert sent_headers[name.lower()] == real["headers"][name]
    sent, captured = json.loads(body), json.loads(real["body"])
    assert sent.keys() == captured.keys()
    assert {key: sent[key] for key in sent if key != "datetime"} == {
        key: captured[key] for key in captured if key != "datetime"
    }
    # Go's time.Time.String(): the fraction without trailing zeros, offset and zone name.
    date = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,9})? [+-]\d{4} \S+"
    assert re.fullmatch(date, captured["datetime"])
    assert re.fullmatch(date, sent["datetime"])


def test_zero_time_is_never() -> None:
    """The fake's "never reported" is the real dashboards' zero time."""
    assert go_time(GO_ZERO_RFC3339) is None


async def test_deleting_a_personal_token_closes_its_streams(session: ClientSession) -> None:
    """As v2 does: every stream the token holds closes at once, other streams go on."""
    other = "nzp_another0123456789"
    fake = FakeDashboard(token=PERSONAL_TOKEN, flavor="v2")
    fake.add(make_server(1))
    fake.add_personal_token(other, scopes=frozenset({SCOPE_INVENTORY}))
    fake.frame_interval = 1.0
    url = await fake.start() + "/api/v1/ws/server"
    revoked = {"Authorization": f"Bearer {PERSONAL_TOKEN}"}
    try:
        async with (
            session.ws_connect(url, headers=revoked) as first,
            session.ws_connect(url, headers=revoked) as second,
            session.ws_connect(url, headers={"Authorization": f"Bearer {other}"}) as kept,
            session.ws_connect(url) as guest,
        ):
            for ws in (first, second, kept, guest):
                assert (await ws.receive(timeout=5)).type is WSMsgType.TEXT
            await fake.revoke(PERSONAL_TOKEN)
            # Closed before the next frame was due.
            for ws in (first, second):
                assert (await ws.receive(timeout=0.5)).type is WSMsgType.CLOSE
            for ws in (kept, guest):
                assert (await ws.receive(timeout=5)).type is WSMsgType.TEXT
        with pytest.raises(WSServerHandshakeError) as refused:
            await session.ws_connect(url, headers=revoked)
        assert refused.value.status == 401
        async with session.get(f"{fake.url}/api/v1/server", headers=revoked) as response:
            assert response.status == 401
    finally:
        await fake.stop()


async def test_v0_routes_gone_on_v2(v2: FakeDashboard, session: ClientSession) -> None:
    """As v2 does: v0's routes are not found, with v2's error body."""
    async with session.get(v2.url + "/api/v1/server/details") as response:
        assert response.status == 404
        assert await response.json() == {"error": "404 Not Found"}
