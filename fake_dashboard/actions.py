"""What a v1/v2 dashboard does on request: scheduled tasks and notification channels.

Reproduced from the dashboard's source (tags v1.14.14, v2.0.13/v2.0.14, v2.3.7):
- ``GET /api/v1/cron`` lists tasks (scope ``nezha:cron:read``); ``last_executed_at`` is Go's
  zero time before the first run and ``last_result`` is omitempty, so a failed run is only a
  time without a result; an empty list has no ``data`` at all (so for channels and groups).
  ``POST /api/v1/cron`` (``nezha:cron:write``) creates one; a scheduled one gets a
  ``cron_job_id``. ``/api/v1/cron/:id/manual`` (scope ``nezha:cron:exec``) is a GET up to
  v2.0.13 and a POST from v2.0.14; the other method gets the API's 404. The agents report a
  run's result later: here after ``cron_run_delay`` seconds, failing for tasks in
  ``cron_failing``.
- ``POST /api/v1/notification`` (``nezha:notification:write``) creates a channel and first sends
  it "a test message" unless ``skip_check``: a failed delivery refuses the channel with an
  error. ``GET`` lists channels without their URL, headers and body (v2); deleting one
  (``POST /api/v1/batch-delete/notification``) also drops it from every group.
- ``GET /api/v1/notification-group`` lists groups with their channel ids (``null`` when none);
  ``POST`` creates one, ``PATCH /api/v1/notification-group/:id`` replaces the whole member list
  (unknown ids are refused).
- A notification renders the channel's JSON body: ``#NEZHA#`` (the message), ``#DATETIME#``
  and, when the alert concerns a server that has reported, ``#SERVER.NAME#``, ``#SERVER.ID#``,
  ``#SERVER.IP#``, ... JSON-escaped; for a server that never reported nothing at all is
  replaced, as in the source.
- From v2.1.0 the dashboard refuses to send to private, loopback, link-local and CGNAT
  addresses ("HTTP URL target is not allowed"); v1 and v2.0 send anywhere. ``resolve`` stands
  in for DNS: a name in it counts as a public host and is connected to at the given address.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
import ipaddress
import json
import time
from typing import Any, Protocol

import aiohttp
from aiohttp import web
from yarl import URL

from .gotime import GO_ZERO_RFC3339, rfc3339

SCOPE_CRON_READ = "nezha:cron:read"
SCOPE_CRON_WRITE = "nezha:cron:write"
SCOPE_CRON_EXEC = "nezha:cron:exec"
SCOPE_NOTIFICATION_READ = "nezha:notification:read"
SCOPE_NOTIFICATION_WRITE = "nezha:notification:write"
SCOPE_NOTIFICATION_DELETE = "nezha:notification:delete"
SCOPE_GROUP_READ = "nezha:notification-group:read"
SCOPE_GROUP_WRITE = "nezha:notification-group:write"
ACTION_SCOPES = frozenset(
    {
        SCOPE_CRON_READ,
        SCOPE_CRON_WRITE,
        SCOPE_CRON_EXEC,
        SCOPE_NOTIFICATION_READ,
        SCOPE_NOTIFICATION_WRITE,
        SCOPE_NOTIFICATION_DELETE,
        SCOPE_GROUP_READ,
        SCOPE_GROUP_WRITE,
    }
)

# pkg/utils/http.go (v2.1.0+): targets a notification may not be sent to.
BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(cidr)
    for cidr in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128",
        "::1/128",
        "::ffff:0:0/96",
        "64:ff9b::/96",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    )
)

# The bracketed prefixes and the test message, per dashboard language (the dashboard's .po).
MESSAGES: dict[str, dict[str, str]] = {
    "en-US": {
        "test": "a test message",
        "incident": "Incident",
        "resolved": "Resolved",
        "task_succeeded": "Scheduled Task Executed Successfully",
        "task_failed": "Scheduled Task Executed Failed",
        "ip_changed": "IP Changed",
        "latency": "Latency",
    },
    "zh-CN": {
        "test": "一条测试信息",
        "incident": "事件",
        "resolved": "恢复",
        "task_succeeded": "计划任务执行成功",
        "task_failed": "计划任务执行失败",
        "ip_changed": "IP 变更",
        "latency": "延迟告警",
    },
}


@dataclass
class FakeCron:
    """A scheduled task (``model.Cron``)."""

    name: str
    task_type: int = 0
    scheduler: str = "0 0 3 * * *"
    command: str = "echo ok"
    servers: list[int] = field(default_factory=list)
    cover: int = 0
    notification_group_id: int = 0
    push_successful: bool = False
    # Dashboard clock (unix s) of the last run; None = never.
    last_executed_at: float | None = None
    last_result: bool = False
    # Dashboard clock (unix s) of its creation; None = Go's zero time.
    created_at: float | None = None
    # The scheduler's entry of a scheduled task (0 for one an alert triggers: omitted).
    cron_job_id: int = 0

    def to_v1(self) -> dict[str, Any]:
        """As Go serialises it: zero time is written, ``last_result`` false is omitted."""
        item: dict[str, Any] = {
            "created_at": rfc3339(self.created_at),
            # A run writes the task back.
            "updated_at": rfc3339(self.last_executed_at or self.created_at),
            "name": self.name,
            "task_type": self.task_type,
            "scheduler": self.scheduler,
            "servers": self.servers,
            "notification_group_id": self.notification_group_id,
            "last_executed_at": GO_ZERO_RFC3339
            if self.last_executed_at is None
            else rfc3339(self.last_executed_at),
            "cover": self.cover,
        }
        if self.command:
            item["command"] = self.command
        if self.push_successful:
            item["push_successful"] = True
        if self.last_result:
            item["last_result"] = True
        if self.cron_job_id:
            item["cron_job_id"] = self.cron_job_id
        return item


@dataclass
class FakeNotification:
    """A notification channel (``model.Notification``)."""

    name: str
    url: str
    request_method: int = 2
    request_type: int = 1
    request_header: str = ""
    request_body: str = ""
    verify_tls: bool = False
    format_metric_units: bool = False
    created_at: float | None = None


@dataclass
class FakeGroup:
    """A notification group and its channel ids."""

    name: str
    members: list[int] = field(default_factory=list)
    created_at: float | None = None
    updated_at: float | None = None


@dataclass
class Delivery:
    """One notification the dashboard sent (or failed to send)."""

    channel_id: int | None
    url: str
    status: int | None
    error: str = ""
    # time.monotonic() when the answer came back.
    answered_at: float = 0.0
    body: str = ""
    # time.monotonic() when the dashboard started to send.
    sent_at: float = 0.0


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".")[:3])


class AlertedServer(Protocol):
    """What an alert reads of the server it concerns (a ``server.FakeServer``)."""

    id: int
    name: str
    ipv4: str
    ipv6: str
    # Unix seconds of the agent's last report; None = not since the dashboard started.
    last_active: float | None
    status: dict[str, Any]


class ActionsMixin(ABC):
    """Tasks, channels and groups of a ``FakeDashboard`` (see the module docstring).

    What it needs of the dashboard it is mixed into is declared here, not imported from it.
    """

    # The dashboard's line ("v1", "v2"), its release and its clock (unix s).
    flavor: str
    version: str
    clock: Callable[[], float]

    @abstractmethod
    def _check_auth(self, request: web.Request, scope: str) -> web.Response | None:
        """None when the request may use ``scope``, else the dashboard's refusal."""

    @abstractmethod
    def _json(self, payload: dict[str, Any], status: int = 200) -> web.Response:
        """A JSON answer as the dashboard writes it."""

    def init_actions(self) -> None:
        """Empty tasks, channels and groups."""
        self.crons: dict[int, FakeCron] = {}
        self.manual_runs: list[int] = []
        self.cron_run_delay = 0.5
        self.cron_failing: set[int] = set()
        self.notifications: dict[int, FakeNotification] = {}
        self.notification_groups: dict[int, FakeGroup] = {}
        self.deliveries: list[Delivery] = []
        self.resolve: dict[str, str] = {}
        self.language = "zh-CN"
        self._next_notification_id = 1
        self._next_cron_job_id = 1
        self._run_tasks: set[asyncio.Task[None]] = set()

    @property
    def refuses_private_targets(self) -> bool:
        """v2.1.0 started to refuse private notification targets."""
        return _version_tuple(self.version) >= (2, 1, 0)

    @property
    def manual_method(self) -> str:
        """GET up to v2.0.13, POST from v2.0.14."""
        return "POST" if _version_tuple(self.version) >= (2, 0, 14) else "GET"

    def add_actions_routes(self, app: web.Application, api: str) -> None:
        """The routes of this module."""
        app.router.add_get(f"{api}/cron", self._cron_list)
        app.router.add_post(f"{api}/cron", self._cron_create)
        app.router.add_route(self.manual_method, f"{api}/cron/{{id}}/manual", self._cron_manual)
        app.router.add_get(f"{api}/notification", self._notification_list)
        app.router.add_post(f"{api}/notification", self._notification_create)
        app.router.add_post(f"{api}/batch-delete/notification", self._notification_delete)
        app.router.add_get(f"{api}/notification-group", self._group_list)
        app.router.add_post(f"{api}/notification-group", self._group_create)
        app.router.add_patch(f"{api}/notification-group/{{id}}", self._group_update)

    # --- scheduled tasks ---------------------------------------------------------------

    async def _cron_list(self, request: web.Request) -> web.Response:
        if (refusal := self._check_auth(request, SCOPE_CRON_READ)) is not None:
            return refusal
        payload: dict[str, Any] = {"success": True}
        if self.crons:
            payload["data"] = [
                {"id": cron_id} | cron.to_v1() for cron_id, cron in sorted(self.crons.items())
            ]
        return self._json(payload)

    async def _cron_manual(self, request: web.Request) -> web.Response:
        if (refusal := self._check_auth(request, SCOPE_CRON_EXEC)) is not None:
            return refusal
        cron_id = int(request.match_info["id"]) if request.match_info["id"].isdigit() else 0
        if cron_id not in self.crons:
            return self._json({"error": f"task id {cron_id} does not exist"})
        self.manual_runs.append(cron_id)
        task = asyncio.get_running_loop().create_task(self._finish_run(cron_id))
        self._run_tasks.add(task)
        task.add_done_callback(self._run_tasks.discard)
        return self._json({"success": True})

    async def stop_actions(self) -> None:
        """Forget runs still waiting for their result (the dashboard stops)."""
        for task in list(self._run_tasks):
            task.cancel()
        await asyncio.gather(*self._run_tasks, return_exceptions=True)

    async def _finish_run(self, cron_id: int) -> None:
        """The agents report the run's result a moment later."""
        await asyncio.sleep(self.cron_run_delay)
        cron = self.crons.get(cron_id)
        if cron is not None:
            cron.last_executed_at = self.clock()
            cron.last_result = cron_id not in self.cron_failing

    async def _cron_create(self, request: web.Request) -> web.Response:
        if (refusal := self._check_auth(request, SCOPE_CRON_WRITE)) is not None:
            return refusal
        form = await request.json()
        cron = FakeCron(
            name=form.get("name", ""),
            task_type=form.get("task_type", 0),
            scheduler=form.get("scheduler", ""),
            command=form.get("command", ""),
            servers=list(form.get("servers") or []),
            cover=form.get("cover", 0),
            notification_group_id=form.get("notification_group_id", 0),
            push_successful=form.get("push_successful", False),
            created_at=self.clock(),
        )
        if cron.task_type == 0:
            # Only a scheduled task is given to the scheduler.
            cron.cron_job_id = self._next_cron_job_id
            self._next_cron_job_id += 1
        cron_id = max(self.crons, default=0) + 1
        self.crons[cron_id] = cron
        return self._json({"success": True, "data": cron_id})

    # --- notification channels and groups ----------------------------------------------

    async def _notification_list(self, request: web.Request) -> web.Response:
        if (refusal := self._check_auth(request, SCOPE_NOTIFICATION_READ)) is not None:
            return refusal
        data = [
            {"id": channel_id}
            | self._created(channel.created_at, channel.created_at)
            | {"name": channel.name}
            | (
                {"url": "", "request_header": "", "request_body": ""}
                if self.flavor == "v2"
                else {
                    "url": channel.url,
                    "request_header": channel.request_header,
                    "request_body": channel.request_body,
                }
            )
            | {
                "request_method": channel.request_method,
                "request_type": channel.request_type,
                # Pointers in Go: written, false included, since the form always sets them.
                "verify_tls": channel.verify_tls,
                "format_metric_units": channel.format_metric_units,
            }
            for channel_id, channel in sorted(self.notifications.items())
        ]
        payload: dict[str, Any] = {"success": True}
        if data:
            payload["data"] = data
        return self._json(payload)

    async def _notification_create(self, request: web.Request) -> web.Response:
        if (refusal := self._check_auth(request, SCOPE_NOTIFICATION_WRITE)) is not None:
            return refusal
        form = await request.json()
        channel = FakeNotification(
            name=form.get("name", ""),
            url=form.get("url", ""),
            request_method=form.get("request_method", 0),
            request_type=form.get("request_type", 0),
            request_header=form.get("request_header", ""),
            request_body=form.get("request_body", ""),
            verify_tls=form.get("verify_tls", False),
            format_metric_units=form.get("format_metric_units", False),
            created_at=self.clock(),
        )
        if not form.get("skip_check", False):
            delivery = await self._send(None, channel, MESSAGES[self._language_key]["test"], None)
            if delivery.error:
                return self._json({"error": delivery.error})
        channel_id = self._next_notification_id
        self._next_notification_id += 1
        self.notifications[channel_id] = channel
        return self._json({"success": True, "data": channel_id})

    async def _notification_delete(self, request: web.Request) -> web.Response:
        if (refusal := self._check_auth(request, SCOPE_NOTIFICATION_DELETE)) is not None:
            return refusal
        ids = await request.json()
        for channel_id in ids:
            self.notifications.pop(channel_id, None)
            for group in self.notification_groups.values():
                group.members = [member for member in group.members if member != channel_id]
        return self._json({"success": True})

    async def _group_list(self, request: web.Request) -> web.Response:
        if (refusal := self._check_auth(request, SCOPE_GROUP_READ)) is not None:
            return refusal
        data = [
            {
                "group": {"id": group_id}
                | self._created(group.created_at, group.updated_at)
                | {"name": group.name},
                "notifications": group.members or None,
            }
            for group_id, group in sorted(self.notification_groups.items())
        ]
        payload: dict[str, Any] = {"success": True}
        if data:
            payload["data"] = data
        return self._json(payload)

    @staticmethod
    def _created(created: float | None, updated: float | None) -> dict[str, str]:
        """``model.Common``'s times: omitempty, but Go never omits a struct (zero time)."""
        return {"created_at": rfc3339(created), "updated_at": rfc3339(updated or created)}

    async def _group_create(self, request: web.Request) -> web.Response:
        if (refusal := self._check_auth(request, SCOPE_GROUP_WRITE)) is not None:
            return refusal
        form = await request.json()
        members = list(dict.fromkeys(form.get("notifications") or []))
        if any(member not in self.notifications for member in members):
            return self._json({"error": "have invalid notification id"})
        group_id = max(self.notification_groups, default=0) + 1
        now = self.clock()
        self.notification_groups[group_id] = FakeGroup(
            form.get("name", ""), members, created_at=now, updated_at=now
        )
        return self._json({"success": True, "data": group_id})

    async def _group_update(self, request: web.Request) -> web.Response:
        if (refusal := self._check_auth(request, SCOPE_GROUP_WRITE)) is not None:
            return refusal
        group_id = int(request.match_info["id"]) if request.match_info["id"].isdigit() else 0
        group = self.notification_groups.get(group_id)
        if group is None:
            return self._json({"error": f"group id {group_id} does not exist"})
        form = await request.json()
        members = list(dict.fromkeys(form.get("notifications") or []))
        if any(member not in self.notifications for member in members):
            return self._json({"error": "have invalid notification id"})
        group.name = form.get("name", group.name)
        group.members = members
        group.updated_at = self.clock()
        return self._json({"success": True})

    # --- alerts ------------------------------------------------------------------------

    @property
    def _language_key(self) -> str:
        return "en-US" if self.language.lower().startswith("en") else "zh-CN"

    def alert_message(
        self, kind: str, server: AlertedServer | None = None, detail: str = ""
    ) -> str:
        """A message as the dashboard writes it for ``kind`` (a key of ``MESSAGES``)."""
        prefix = MESSAGES[self._language_key][kind]
        if kind in ("incident", "resolved") and server is not None:
            return f"[{prefix}] {server.name}({server.ipv4 or server.ipv6}) {detail}"
        if kind in ("task_succeeded", "task_failed") and server is not None:
            return f"[{prefix}] {detail}, {server.name}\nok"
        if kind == "ip_changed" and server is not None:
            return f"[{prefix}] {server.name}, 1.1.1.1 => 2.2.2.2"
        return f"[{prefix}] {detail}"

    async def fire_alert(
        self, group_id: int, message: str, server: AlertedServer | None = None
    ) -> list[Delivery]:
        """An alert of this group fires: each of its channels is sent ``message``."""
        group = self.notification_groups[group_id]
        return [
            await self._send(channel_id, self.notifications[channel_id], message, server)
            for channel_id in group.members
            if channel_id in self.notifications
        ]

    def _render(self, template: str, message: str, server: AlertedServer | None) -> str:
        def esc(value: str) -> str:
            return json.dumps(value, ensure_ascii=False)[1:-1]

        when = datetime.fromtimestamp(self.clock()).astimezone()
        replacements = {
            "#NEZHA#": esc(message),
            "#DATETIME#": esc(f"{when:%Y-%m-%d %H:%M:%S.%f} {when:%z %Z}"),
        }
        if server is not None:
            if server.last_active is None:
                return template
            replacements |= {
                "#SERVER.NAME#": esc(server.name),
                "#SERVER.ID#": str(server.id),
                "#SERVER.IP#": esc(server.ipv4 or server.ipv6),
                "#SERVER.IPV4#": esc(server.ipv4),
                "#SERVER.IPV6#": esc(server.ipv6),
                "#SERVER.CPU#": f"{server.status.get('CPU', 0.0):f}",
            }
        for placeholder, value in replacements.items():
            template = template.replace(placeholder, value)
        return template

    def _target(self, url: str) -> tuple[str | None, str]:
        """The address to connect to, or None and the refusal."""
        host = URL(url).host or ""
        address = self.resolve.get(host, "127.0.0.1" if host == "localhost" else host)
        if host in self.resolve:
            return address, ""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None, f"lookup {host}: no such host"
        if self.refuses_private_targets and any(ip in net for net in BLOCKED_NETWORKS):
            return None, "HTTP URL target is not allowed"
        return address, ""

    async def _send(
        self,
        channel_id: int | None,
        channel: FakeNotification,
        message: str,
        server: AlertedServer | None,
    ) -> Delivery:
        sent_at = time.monotonic()
        body = self._render(channel.request_body, message, server)
        address, refusal = self._target(channel.url)
        if address is None:
            delivery = Delivery(
                channel_id, channel.url, None, refusal, time.monotonic(), body, sent_at
            )
            self.deliveries.append(delivery)
            return delivery
        headers = {"Content-Type": "application/json"}
        if channel.request_header:
            headers |= json.loads(channel.request_header)
        target = URL(channel.url)
        headers["Host"] = target.host_port_subcomponent or ""
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    target.with_host(address),
                    data=body.encode(),
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=10),
                ) as response,
            ):
                await response.read()
                status = response.status
        except aiohttp.ClientError as err:
            delivery = Delivery(
                channel_id, channel.url, None, str(err), time.monotonic(), body, sent_at
            )
        else:
            error = "" if 200 <= status < 300 else f"{status}@{status} {response.reason}"
            delivery = Delivery(
                channel_id, channel.url, status, error, time.monotonic(), body, sent_at
            )
        self.deliveries.append(delivery)
        return delivery
