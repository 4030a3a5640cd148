"""Alerts as events: the dashboard's notifications, delivered to a Home Assistant webhook.

With the option on, the integration registers a webhook, creates one notification channel on
the dashboard that posts a JSON body (Nezha's placeholders) with a secret header to it, and
makes that channel a member of the notification groups the user picked. Each delivery is
classified by its bracketed prefix, which the dashboard writes in its own language, and
handed to the event entities. Turning the option off, or removing the entry, deletes the
channel (the dashboard drops it from its groups) and the webhook.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
import hmac
import ipaddress
import re
import secrets
from typing import Any, Final

from aiohttp import web
from homeassistant.components import webhook
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    CONF_PASSWORD,
    CONF_TOKEN,
    CONF_URL,
    CONF_USERNAME,
    CONF_VERIFY_SSL,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey
import orjson
from yarl import URL

from .api import (
    DashboardFlavor,
    NezhaClient,
    NezhaError,
    NezhaMissingScopeError,
    NezhaResponseError,
)
from .const import CONF_ALERT_GROUPS, CONF_ALERTS, CONF_FLAVOR, DATA_ALERTS, DOMAIN, LOGGER
from .repairs import async_set_issue

SECRET_HEADER: Final = "X-Nezha-HA-Secret"  # noqa: S105 - a header name, not a secret
# Every placeholder sits inside a JSON string: the dashboard escapes what it puts there, and
# leaves placeholders it cannot fill (no server, or one that never reported) as they are.
BODY_TEMPLATE: Final = (
    '{"message":"#NEZHA#","datetime":"#DATETIME#",'
    '"server_id":"#SERVER.ID#","server_name":"#SERVER.NAME#","server_ip":"#SERVER.IP#"}'
)
MAX_BODY: Final = 64 * 1024
# Setting up again after the dashboard failed: at most once a minute, however often the
# servers are read (the stream may bring them every few seconds).
RETRY_AFTER: Final = timedelta(minutes=1)

SERVER_EVENTS: Final = ("incident", "resolved", "task_succeeded", "task_failed")
DASHBOARD_EVENTS: Final = ("service", "latency", "tls", "ip_changed", "other")
_TEST = "test"

# The bracketed prefixes (and the test message) as the dashboard's translations write them.
_PREFIXES: Final[Mapping[str, Mapping[str, tuple[str, ...]]]] = {
    "en": {
        _TEST: ("a test message",),
        "incident": ("Incident",),
        "resolved": ("Resolved",),
        "task_succeeded": ("Scheduled Task Executed Successfully",),
        "task_failed": ("Scheduled Task Executed Failed",),
        "ip_changed": ("IP Changed",),
        "latency": ("Latency",),
        "tls": ("TLS",),
        "service": ("Good", "Low Availability", "Down", "No Data"),
    },
    "zh-cn": {
        _TEST: ("一条测试信息",),
        "incident": ("事件",),
        "resolved": ("恢复",),
        "task_succeeded": ("计划任务执行成功",),
        "task_failed": ("计划任务执行失败",),
        "ip_changed": ("IP 变更",),
        "latency": ("延迟告警",),
        "tls": ("TLS",),
        "service": ("正常", "低可用", "故障", "无数据"),
    },
    "zh-tw": {
        _TEST: ("一條測試資訊",),
        "incident": ("事件",),
        "resolved": ("恢復",),
        "task_succeeded": ("排程任務執行成功",),
        "task_failed": ("排程任務執行失敗",),
        "ip_changed": ("IP 變更",),
        "latency": ("延遲告警",),
        "tls": ("TLS",),
        "service": ("正常", "低可用", "故障", "無資料"),
    },
}
_PREFIX = re.compile(r"^\[([^\]\n]{1,80})\]")
# Names that never resolve to a public address.
_LOCAL_SUFFIXES: Final = (".local", ".lan", ".home", ".internal", ".home.arpa", ".localhost")
# Entries whose channel the dashboard refused, so that the refusal is logged once (a warning)
# and its end once (info) while Home Assistant runs, across reloads of the entry.
_REFUSED: HassKey[set[str]] = HassKey(f"{DOMAIN}_alert_channel_refused")


def signal(entry_id: str) -> str:
    """The dispatcher signal an entry's alerts are sent on."""
    return f"{DOMAIN}_alert_{entry_id}"


@dataclass(frozen=True, slots=True)
class Alert:
    """One notification of the dashboard, classified."""

    kind: str
    message: str
    server_id: int | None = None
    server_name: str = ""
    datetime: str = ""

    @property
    def attributes(self) -> dict[str, Any]:
        """What the event carries besides its type."""
        return {
            "message": self.message,
            "server_id": self.server_id,
            "server_name": self.server_name or None,
            "dashboard_time": self.datetime or None,
        }


def _table(language: str) -> Mapping[str, tuple[str, ...]]:
    code = language.strip().lower().replace("_", "-")
    if code in _PREFIXES:
        return _PREFIXES[code]
    if code.startswith("zh"):
        return _PREFIXES["zh-tw" if code in ("zh-hk", "zh-hant", "zh-mo") else "zh-cn"]
    return _PREFIXES["en"]


def classify(language: str, message: str) -> str | None:
    """The kind of a message in the dashboard's ``language``; None for its test message."""
    table = _table(language)
    text = message.strip()
    if text in table[_TEST]:
        return None
    match = _PREFIX.match(text)
    if match is not None:
        prefix = match.group(1).strip()
        for kind, names in table.items():
            if prefix in names:
                return kind
    return "other"


def parse_delivery(language: str, body: bytes) -> Alert | None:
    """An alert from the body the dashboard rendered; None for the test message.

    Raises ValueError for a body that is not the template's JSON.
    """
    data = orjson.loads(body)
    if type(data) is not dict or type(data.get("message")) is not str:
        raise ValueError("not a delivery of this integration's template")
    message: str = data["message"]
    kind = classify(language, message)
    if kind is None:
        return None
    raw_id = data.get("server_id")
    server_id = int(raw_id) if type(raw_id) is str and raw_id.isdecimal() else None
    name = data.get("server_name")
    when = data.get("datetime")
    return Alert(
        kind=kind,
        message=message,
        server_id=server_id if server_id else None,
        # A placeholder left as it is means: no server in this notification.
        server_name=name if type(name) is str and not name.startswith("#SERVER.") else "",
        datetime=when if type(when) is str and when != "#DATETIME#" else "",
    )


def is_private_url(url: str) -> bool:
    """Whether v2.1+ dashboards refuse to send to this URL (private, loopback, CGNAT, ...).

    IP literals are judged as the dashboard judges them; a name counts as private when it is
    local by convention (DNS of the dashboard's host cannot be asked from here).
    """
    host = (URL(url).host or "").lower().rstrip(".")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost" or "." not in host or host.endswith(_LOCAL_SUFFIXES)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        not address.is_global
        or address in ipaddress.ip_network("100.64.0.0/10")
        or address.is_multicast
    )


def _cloud_active(hass: HomeAssistant) -> bool:
    if "cloud" not in hass.config.components:
        return False
    from homeassistant.components import cloud  # noqa: PLC0415 - optional dependency

    return cloud.async_active_subscription(hass)


def has_url(hass: HomeAssistant, *, public: bool) -> bool:
    """Whether Home Assistant has a URL the dashboard may send to (see ``async_webhook_url``)."""
    return _cloud_active(hass) or _local_url(hass, "check", public=public) is not None


class CloudNotReadyError(Exception):
    """Home Assistant Cloud is subscribed but cannot give its webhook URL yet (not connected)."""


async def async_webhook_url(hass: HomeAssistant, webhook_id: str, *, public: bool) -> str | None:
    """Where the dashboard should send, or None when ``public`` is needed and there is none.

    Home Assistant Cloud's webhook (a cloudhook) is public; otherwise the external URL (or,
    where the dashboard sends anywhere, the internal one). With Cloud subscribed but not
    connected yet (Home Assistant starting), raises CloudNotReadyError: tried again later
    rather than a channel to another URL that the next start would replace.
    """
    if _cloud_active(hass):
        from hass_nabucasa import CloudError  # noqa: PLC0415 - with the cloud component
        from homeassistant.components import cloud  # noqa: PLC0415 - optional dependency

        if not cloud.async_is_connected(hass):
            raise CloudNotReadyError("Home Assistant Cloud is not connected")
        try:
            return await cloud.async_get_or_create_cloudhook(hass, webhook_id)
        except (cloud.CloudNotAvailable, CloudError, ValueError) as err:
            raise CloudNotReadyError(str(err)) from err
    return _local_url(hass, webhook_id, public=public)


def _local_url(hass: HomeAssistant, webhook_id: str, *, public: bool) -> str | None:
    try:
        url = webhook.async_generate_url(
            hass, webhook_id, allow_internal=not public, prefer_external=True
        )
    except NoURLAvailableError:
        return None
    if public and is_private_url(url):
        return None
    return url


async def async_refuses_private(client: NezhaClient) -> bool:
    """Whether the dashboard refuses private targets (v2.1.0 and later).

    Personal tokens exist only from v2.1.0; a login is told the version. Unknown counts as
    refusing, which only asks for a public URL.
    """
    if client.flavor is DashboardFlavor.V2 and not client.uses_login:
        return True
    version = (await client.async_get_setting()).version.removeprefix("v")
    parts = version.split(".")
    try:
        return (int(parts[0]), int(parts[1])) >= (2, 1)
    except ValueError, IndexError:
        return True


def _stored(entry: ConfigEntry) -> dict[str, Any]:
    value = entry.data.get(DATA_ALERTS)
    return dict(value) if isinstance(value, Mapping) else {}


@callback
def _store(hass: HomeAssistant, entry: ConfigEntry, value: dict[str, Any] | None) -> None:
    data = {key: item for key, item in entry.data.items() if key != DATA_ALERTS}
    if value:
        data[DATA_ALERTS] = value
    hass.config_entries.async_update_entry(entry, data=data)


class NezhaAlerts:
    """The webhook and the dashboard's channel of one loaded entry."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        client: NezhaClient,
        shown: Callable[[int], bool],
    ) -> None:
        """Nothing is registered until ``async_start``; ``shown`` tells the entry's servers."""
        self.hass = hass
        self.entry = entry
        self.client = client
        self._shown = shown
        self.language = ""
        self.webhook_id = ""
        self._secret = ""
        # Counted for diagnostics and tests: deliveries accepted and refused.
        self.received = 0
        self.refused = 0
        # Alerts about servers the entry does not show (outside the chosen tags): the
        # dashboard's groups cover all its servers, and no entity here can fire for these.
        self.dropped_outside_tags = 0
        # Whether setting up failed on the dashboard's side and waits for it to answer again;
        # the try running, and the earliest time for the next one.
        self.waiting = False
        self.retry: asyncio.Task[None] | None = None
        self._next_try = dt_util.utcnow()

    async def async_start(self) -> None:
        """Register the webhook and make sure the channel exists in the chosen groups.

        A failure here raises a repair, or waits for the dashboard to answer again (see
        ``async_dashboard_answered``), and leaves servers alone.
        """
        stored = _stored(self.entry)
        if not stored.get("webhook_id"):
            stored = {"webhook_id": webhook.async_generate_id(), "secret": secrets.token_hex(32)}
            _store(self.hass, self.entry, stored)
        self.webhook_id = stored["webhook_id"]
        self._secret = stored["secret"]
        webhook.async_register(
            self.hass,
            DOMAIN,
            f"Nezha alerts ({self.entry.title})",
            self.webhook_id,
            self._async_handle,
            allowed_methods=["POST"],
        )
        await self._async_try()

    @callback
    def async_dashboard_answered(self) -> None:
        """The servers were read: set up again what failed, at most once per ``RETRY_AFTER``."""
        if not self.waiting or self.retry is not None or dt_util.utcnow() < self._next_try:
            return
        self.retry = self.entry.async_create_background_task(
            self.hass, self._async_try(), name=f"{DOMAIN} {self.entry.title} alerts"
        )

    async def _async_try(self) -> None:
        """Connect the channel; on a failure wait for the dashboard (warned once, not per try)."""
        self._next_try = dt_util.utcnow() + RETRY_AFTER
        missing = ""
        try:
            await self._async_connect(_stored(self.entry))
        except NezhaMissingScopeError as err:
            missing = err.scope
        except CloudNotReadyError as err:
            # Usual while Home Assistant starts: no warning.
            LOGGER.debug("%s: alerts wait for Home Assistant Cloud: %s", self.entry.title, err)
            self.waiting = True
            return
        except NezhaError as err:
            if not self.waiting:
                LOGGER.warning(
                    "%s: alerts are not set up yet (%s); tried again when the dashboard answers",
                    self.entry.title,
                    err,
                )
            else:
                LOGGER.debug("%s: alerts still not set up: %s", self.entry.title, err)
            self.waiting = True
            return
        finally:
            self.retry = None
        if self.waiting:
            self.waiting = False
            LOGGER.info("%s: alerts are set up now", self.entry.title)
        async_set_issue(self.hass, self.entry, "alerts_scope", bool(missing), scope=missing)

    async def _async_connect(self, stored: dict[str, Any]) -> None:
        entry = self.entry
        self.language = (await self.client.async_get_setting()).language
        public = await async_refuses_private(self.client)
        url = await async_webhook_url(self.hass, self.webhook_id, public=public)
        async_set_issue(self.hass, entry, "alerts_need_external_url", url is None)
        if url is None:
            return
        channel_id = stored.get("channel_id")
        if channel_id is not None and (
            stored.get("url") != url
            or channel_id not in await self.client.async_get_notifications()
        ):
            # Home Assistant moved, or the channel was deleted on the dashboard: a new one.
            await _async_delete_channel(self.client, channel_id)
            channel_id = None
        if channel_id is None:
            try:
                channel_id = await self.client.async_create_notification(
                    f"Home Assistant ({entry.title})",
                    url,
                    headers={SECRET_HEADER: self._secret},
                    body=BODY_TEMPLATE,
                )
            except NezhaResponseError as err:
                # The dashboard's test message did not arrive (unreachable, refused).
                self._log_refusal(err)
                async_set_issue(self.hass, entry, "alerts_not_delivered", True)
                return
            _store(self.hass, entry, stored | {"channel_id": channel_id, "url": url})
        refused = self.hass.data.setdefault(_REFUSED, set())
        if entry.entry_id in refused:
            refused.discard(entry.entry_id)
            LOGGER.info("%s: the dashboard accepted the alert channel", entry.title)
        async_set_issue(self.hass, entry, "alerts_not_delivered", False)
        groups = [int(group) for group in entry.options.get(CONF_ALERT_GROUPS, [])]
        await self.client.async_set_group_channel(channel_id, groups)

    def _log_refusal(self, err: NezhaResponseError) -> None:
        """Log the dashboard's own reason once; the repair says what to do about it."""
        refused = self.hass.data.setdefault(_REFUSED, set())
        if self.entry.entry_id in refused:
            return
        refused.add(self.entry.entry_id)
        # The dashboard may quote the address it could not reach: not the webhook id in it.
        reason = (err.reason or str(err)).replace(self.webhook_id, "<webhook id>")
        LOGGER.warning("%s: the dashboard refused the alert channel: %s", self.entry.title, reason)

    @callback
    def async_stop(self) -> None:
        """Stop listening (the channel stays: the entry comes back, or is removed)."""
        if self.webhook_id:
            webhook.async_unregister(self.hass, self.webhook_id)

    async def _async_handle(
        self, hass: HomeAssistant, webhook_id: str, request: web.Request
    ) -> web.Response:
        """One delivery: check the secret, classify, hand it to the event entities."""
        if not hmac.compare_digest(
            request.headers.get(SECRET_HEADER, "").encode(), self._secret.encode()
        ):
            self.refused += 1
            return web.Response(status=401)
        body = await request.content.read(MAX_BODY + 1)
        try:
            if len(body) > MAX_BODY:
                raise ValueError("too large")
            alert = parse_delivery(self.language, body)
        except ValueError:
            self.refused += 1
            return web.Response(status=400)
        self.received += 1
        if alert is None:
            return web.Response(status=200)
        if (
            alert.kind in SERVER_EVENTS
            and alert.server_id is not None
            and not self._shown(alert.server_id)
        ):
            self.dropped_outside_tags += 1
            LOGGER.debug("Alert about server %s, outside the chosen tags: dropped", alert.server_id)
        else:
            async_dispatcher_send(hass, signal(self.entry.entry_id), alert)
        return web.Response(status=200)


async def _async_delete_channel(client: NezhaClient, channel_id: int) -> None:
    """Delete the channel; one already gone is fine."""
    try:
        await client.async_delete_notification(channel_id)
    except NezhaResponseError:
        LOGGER.debug("The notification channel %s was already gone", channel_id)


async def async_disable(hass: HomeAssistant, entry: ConfigEntry, client: NezhaClient) -> None:
    """The option is off: delete the channel left from when it was on, and forget it."""
    stored = _stored(entry)
    if not stored:
        return
    channel_id = stored.get("channel_id")
    try:
        if channel_id is not None:
            await _async_delete_channel(client, channel_id)
    except NezhaError as err:
        # Tried again at the next setup.
        LOGGER.warning("%s: the notification channel was not deleted: %s", entry.title, err)
        return
    await _async_forget_cloudhook(hass, stored)
    _store(hass, entry, None)


async def _async_forget_cloudhook(hass: HomeAssistant, stored: Mapping[str, Any]) -> None:
    """Delete the webhook's cloudhook, if Home Assistant Cloud made one (as core integrations do).

    Asked whatever URL the channel had: Cloud says whether it has a cloudhook for the id.
    """
    if "cloud" not in hass.config.components or not stored.get("webhook_id"):
        return
    from homeassistant.components import cloud  # noqa: PLC0415 - optional dependency

    try:
        await cloud.async_delete_cloudhook(hass, stored["webhook_id"])
    except cloud.CloudNotAvailable, ValueError:
        # No Cloud any more, or no cloudhook for this webhook.
        LOGGER.debug("No cloudhook to delete for the alerts' webhook")


async def async_remove(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """The entry is removed: delete its channel from the dashboard."""
    if not _stored(entry):
        return
    client = NezhaClient(
        async_get_clientsession(hass, entry.data[CONF_VERIFY_SSL]),
        entry.data[CONF_URL],
        entry.data.get(CONF_TOKEN, ""),
        username=entry.data.get(CONF_USERNAME, ""),
        password=entry.data.get(CONF_PASSWORD, ""),
        flavor=DashboardFlavor(entry.data.get(CONF_FLAVOR, DashboardFlavor.V0)),
    )
    stored = _stored(entry)
    channel_id = stored.get("channel_id")
    if channel_id is not None:
        try:
            await _async_delete_channel(client, channel_id)
        except NezhaError as err:
            LOGGER.warning(
                "%s: delete the notification channel %s on the dashboard by hand: %s",
                entry.title,
                channel_id,
                err,
            )
    await _async_forget_cloudhook(hass, stored)


def wanted(entry: ConfigEntry) -> bool:
    """Whether the entry's options ask for alerts."""
    return bool(entry.options.get(CONF_ALERTS, False))
