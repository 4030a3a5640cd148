"""Coordinators: all servers, and service monitors with traffic cycles; the runtime data.

Servers come in one request per refresh, or pushed by the stream; services and cycles in one
request a minute. The coordinators fetch through the client, filter by the chosen tags,
judge who is online and map the client's errors to Home Assistant's; nothing here knows
which dashboard line it reads.

The entry's type and runtime data live here, as in Home Assistant's own integrations: what
this module imports (repairs.py, alerts.py) takes a plain ``ConfigEntry`` and never imports
it back (tests/test_import_cycles.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, override

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .api import (
    CronTask,
    DashboardSnapshot,
    NezhaAuthError,
    NezhaClient,
    NezhaConnectionError,
    NezhaError,
    NezhaMissingScopeError,
    NezhaNotFoundError,
    NezhaRateLimitError,
    NezhaSSLError,
    NezhaTimeoutError,
    NezhaUnreachableError,
    ServicesSnapshot,
)
from .api.stream import Watch
from .const import (
    CONF_EXPIRING_DAYS,
    CONF_FULL_DETAIL,
    CONF_ONLINE_THRESHOLD,
    CONF_TAGS,
    CRON_CHECK_AFTER_RUN,
    CRON_SCAN_INTERVAL,
    DEFAULT_EXPIRING_DAYS,
    DEFAULT_ONLINE_THRESHOLD,
    DOMAIN,
    DOWN_RETRY,
    GRACE_RETRY,
    LOGGER,
    NOTES_INTERVAL,
    OUTAGE_GRACE,
    POLL_INTERVAL,
    SERVICES_SCAN_INTERVAL,
)
from .repairs import Issue, async_set_issue
from .writer import PacedWriter

if TYPE_CHECKING:
    from .alerts import NezhaAlerts
    from .history import NezhaHistory

type NezhaConfigEntry = ConfigEntry[NezhaRuntimeData]


@dataclass(slots=True)
class NezhaRuntimeData:
    """What a loaded entry keeps."""

    client: NezhaClient
    coordinator: NezhaDataUpdateCoordinator
    dashboard_device_id: str
    # Service monitors and traffic cycles (v1/v2); None on v0, which has no such overview.
    services: NezhaServicesCoordinator | None = None
    # Scheduled tasks (v1/v2); None on v0.
    cron: NezhaCronCoordinator | None = None
    # The dashboard's alerts as events, when the option is on (v1/v2).
    alerts: NezhaAlerts | None = None
    # The metric history import into long-term statistics, when on (v2).
    history: NezhaHistory | None = None
    # Server names by id when devices were last synchronised with the dashboard.
    device_names: dict[int, str] = field(default_factory=dict)
    # Unique ids of enabled entities given a place under Home Assistant's entity cap but not
    # registered yet: the platforms weigh at the same time and add in chunks (budget.py).
    budget_promised: set[str] = field(default_factory=set)
    # Set once the binary sensors (online and note ones) of the first setup are weighed: they
    # rank before the readings, so the sensor platform weighs after them.
    first_weighed: asyncio.Event = field(default_factory=asyncio.Event)


def _update_failed(err: NezhaError) -> UpdateFailed | ConfigEntryAuthFailed:
    """The coordinator error for a client error, with its translated message."""
    if isinstance(err, NezhaAuthError):
        return ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="auth_failed")
    if isinstance(err, NezhaRateLimitError):
        return UpdateFailed(
            retry_after=err.retry_after,
            translation_domain=DOMAIN,
            translation_key="rate_limited",
        )
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key=(
            "cannot_connect" if isinstance(err, NezhaConnectionError) else "invalid_response"
        ),
        translation_placeholders={"error": str(err)},
    )


class _Outage:
    """When the dashboard cannot be reached: keep the last data briefly, and ask again soon.

    A restart or an upgrade of the dashboard (refused connections, or a proxy's 502/503/504
    meanwhile) is over in seconds: for up to ``OUTAGE_GRACE`` the coordinator keeps its last
    data, so nothing turns unavailable and nothing is logged. The coordinator that probes
    (the servers') asks again every ``GRACE_RETRY`` meanwhile; past the grace, and while the
    dashboard hangs, once per ``DOWN_RETRY`` from the start of one attempt to the next, so a
    dashboard that answers again is seen within that, whatever the polling interval.
    Everything else (a refused token, garbage, a rate limit) keeps the usual path.
    """

    def __init__(self, coordinator: DataUpdateCoordinator[Any], *, probe: bool) -> None:
        """``probe``: this coordinator asks again by itself; the others wait for it."""
        self._coordinator = coordinator
        self._probe = probe
        # Loop time of the first attempt that found nobody answering, while that lasts.
        self.since: float | None = None
        self._began = 0.0
        self._cancel_retry: CALLBACK_TYPE | None = None
        # Like the coordinator's own interval: no retry while Home Assistant stops.
        self._retry_job = HassJob(
            self._async_retry, f"{coordinator.name} retry", cancel_on_shutdown=True
        )
        # Failing without a log of its own: the servers' coordinator logged this outage.
        self._quiet = False

    def begin(self) -> None:
        """An attempt starts: a retry still pending is now moot."""
        self.cancel()
        self._began = self._coordinator.hass.loop.time()

    def over(self) -> None:
        """The dashboard answered (a request or the stream)."""
        self.cancel()
        self.since = None
        if self._quiet:
            # Set before Home Assistant looks: it then logs no recovery of its own.
            self._quiet = False
            self._coordinator.last_update_success = True

    @callback
    def cancel(self) -> None:
        """Drop the pending retry (also on unload)."""
        if self._cancel_retry is not None:
            self._cancel_retry()
            self._cancel_retry = None

    def follow(self, cause: NezhaError) -> UpdateFailed:
        """Fail with the servers' coordinator, which reports an outage: without asking.

        Without a second log of the same outage either: Home Assistant logs a failure only
        when ``last_update_success`` turns false, and its end only when it is still false
        once the data is in.
        """
        coordinator = self._coordinator
        if coordinator.last_update_success:
            self._quiet = True
            coordinator.last_update_success = False
        LOGGER.debug("%s: waiting for the servers' coordinator", coordinator.name)
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={"error": str(cause)},
        )

    def keep(self, err: NezhaError) -> bool:
        """Whether to keep the last data instead of failing on ``err``; schedules the retry."""
        coordinator = self._coordinator
        now = coordinator.hass.loop.time()
        healthy = coordinator.data is not None and coordinator.last_update_success
        if isinstance(err, NezhaUnreachableError) and healthy:
            if self.since is None:
                self.since = self._began
            left = OUTAGE_GRACE - (now - self.since)
            if left > 0:
                LOGGER.debug("%s: unreachable (%s), last data kept", coordinator.name, err)
                if self._probes:
                    self._retry_in(min(GRACE_RETRY, left))
                return True
        if (
            self._probes
            and coordinator.data is not None
            and isinstance(err, NezhaConnectionError)
            and not isinstance(err, NezhaRateLimitError | NezhaSSLError)
        ):
            self._retry_in(max(0.0, self._began + DOWN_RETRY - now))
        return False

    @property
    def _probes(self) -> bool:
        # A user who turned polling off asks by hand: no retries behind their back.
        entry = self._coordinator.config_entry
        return self._probe and not (entry is not None and entry.pref_disable_polling)

    def _retry_in(self, delay: float) -> None:
        self.cancel()
        self._cancel_retry = async_call_later(self._coordinator.hass, delay, self._retry_job)

    async def _async_retry(self, _now: object) -> None:
        self._cancel_retry = None
        await self._coordinator.async_refresh()


class NezhaDataUpdateCoordinator(DataUpdateCoordinator[DashboardSnapshot]):
    """All servers of one dashboard: polled in one request, or pushed by its stream.

    It fetches, filters by the chosen tags (groups), judges who is online and maps the
    client's errors; the client decides everything about talking to the dashboard.
    """

    config_entry: NezhaConfigEntry

    def __init__(
        self, hass: HomeAssistant, config_entry: NezhaConfigEntry, client: NezhaClient
    ) -> None:
        """Set up the coordinator with the entry's options."""
        options = config_entry.options
        super().__init__(
            hass,
            LOGGER,
            config_entry=config_entry,
            name=DOMAIN,
            update_interval=POLL_INTERVAL,
        )
        self.client = client
        self.online_threshold: float = options.get(CONF_ONLINE_THRESHOLD, DEFAULT_ONLINE_THRESHOLD)
        tags: list[str] = options.get(CONF_TAGS, [])
        self.tags: frozenset[str] = frozenset(tags)
        full_detail: list[str] = options.get(CONF_FULL_DETAIL, [])
        self.full_detail: frozenset[str] = frozenset(full_detail)
        # Days before a note's expiry date from which a server is "expiring soon".
        self.expiring_days: float = options.get(CONF_EXPIRING_DAYS, DEFAULT_EXPIRING_DAYS)
        self._cancel_notes_read: CALLBACK_TYPE | None = None
        config_entry.async_on_unload(self._async_stop_notes_read)
        # Every tag the dashboard reported at the last refresh, before filtering.
        self.dashboard_tags: frozenset[str] = frozenset()
        # Live push (v1/v2): whether frames arrive; polling is paused while they do.
        self.stream_connected = False
        # Server entities are not listeners: the writer writes them, a server at a time, with
        # what moved spread over the interval (numbers come once per interval on the stream too).
        self.writer = PacedWriter(hass, config_entry, POLL_INTERVAL.total_seconds())
        config_entry.async_on_unload(self.writer.async_stop)
        # The snapshot the writer was last given, to tell urgent changes from moved figures.
        self._written: DashboardSnapshot | None = None
        self.outage = _Outage(self, probe=True)
        config_entry.async_on_unload(self.outage.cancel)
        # Set when an answer ends a reported failure, until the refresh is over.
        self._recovering = False

    @override
    @callback
    def async_update_listeners(self) -> None:
        """Give the servers to the writer, then tell the listeners (devices, new entities)."""
        self._async_write_servers()
        super().async_update_listeners()

    @callback
    def _async_write_servers(self) -> None:
        """Urgent: servers that went on- or offline, appeared or left; the others moved."""
        data, before = self.data, self._written
        self._written = data
        keys = self.writer.keys
        if before is None or before is data:
            # After setup the states just added are current; after a failure nothing moved.
            self.writer.async_update(self.last_update_success, (), ())
            return
        servers, online = data.servers, data.online
        was, was_online = before.servers, before.online
        urgent = [
            key
            for key in keys
            if (key in online) != (key in was_online) or (key in servers) != (key in was)
        ]
        moved = [key for key in keys if servers.get(key) is not was.get(key)]
        self.writer.async_update(self.last_update_success, urgent, moved)

    @override
    async def _async_update_data(self) -> DashboardSnapshot:
        """Fetch every server in one request."""
        self.outage.begin()
        try:
            snapshot = await self.client.async_get_servers()
        except NezhaError as err:
            if self.outage.keep(err):
                return self.data
            raise _update_failed(err) from err
        self._async_answered()
        return self._prepared(snapshot)

    @callback
    def _async_answered(self) -> None:
        """The dashboard answers: after a reported failure, what else failed asks at once.

        Once this coordinator counts as recovered: the others do not ask while it fails.
        """
        self.outage.over()
        self._recovering = not self.last_update_success

    @override
    @callback
    def _async_refresh_finished(self) -> None:
        if self._recovering and self.last_update_success:
            self._async_wake_others()
        self._recovering = False

    @callback
    def _async_wake_others(self) -> None:
        runtime = getattr(self.config_entry, "runtime_data", None)
        for other in (getattr(runtime, "services", None), getattr(runtime, "cron", None)):
            if other is not None and not other.last_update_success:
                self.config_entry.async_create_task(
                    self.hass, other.async_refresh(), name=f"{other.name} after an outage"
                )

    def _prepared(self, snapshot: DashboardSnapshot) -> DashboardSnapshot:
        """The chosen tags' servers, judged online or not, and the repairs they call for."""
        self.dashboard_tags = snapshot.tags
        self._async_check_clock(snapshot)
        if self.tags:
            self._async_check_tags()
        return snapshot.only(self.tags).judged(self.online_threshold)

    def _async_check_clock(self, snapshot: DashboardSnapshot) -> None:
        """Raise a repair when the dashboard's clock is too far from ours.

        Online is judged on the dashboard's clock, so it stays right; but "last seen" and
        "last boot" are then off by the same amount, which only the user can fix.
        """
        skew = abs((snapshot.dashboard_time - dt_util.utcnow()).total_seconds())
        async_set_issue(
            self.hass,
            self.config_entry,
            "clock_skew",
            skew > self.online_threshold,
            seconds=str(round(skew)),
        )

    def _async_check_tags(self) -> None:
        """Raise a repair when none of the chosen tags exists on the dashboard any more."""
        async_set_issue(
            self.hass,
            self.config_entry,
            "tags_not_found",
            self.tags.isdisjoint(self.dashboard_tags),
            tags=", ".join(sorted(self.tags)),
        )

    def detailed(self, server_ids: Iterable[int]) -> set[int]:
        """Those of ``server_ids`` chosen for full detail (by tag or group)."""
        if not self.full_detail:
            return set()
        servers = self.data.servers
        return {
            key
            for key in server_ids
            if key in servers and not self.full_detail.isdisjoint(servers[key].tags)
        }

    def is_online(self, server_id: int) -> bool:
        """Whether a server reported recently, on the dashboard's clock (a set lookup)."""
        return server_id in self.data.online

    # --- live push from the dashboard's server stream (v1/v2) --------------------------

    @callback
    def async_start_stream(self) -> None:
        """Hold the dashboard's server stream while the entry is loaded, where it has one.

        Online changes come at once; numbers at most once per polling interval, so the
        recorder is not flooded.
        """
        if not self.client.supports_stream:
            return
        watch = Watch(
            interval=POLL_INTERVAL.total_seconds(),
            online_threshold=self.online_threshold,
            tags=self.tags,
        )
        self.config_entry.async_create_background_task(
            self.hass,
            self.client.listen(self._async_on_snapshot, self._async_on_stream, watch),
            name=f"{DOMAIN} {self.config_entry.title} stream",
        )

    @callback
    def _async_on_snapshot(self, snapshot: DashboardSnapshot) -> None:
        self._async_answered()
        self.async_set_updated_data(self._prepared(snapshot))
        self._async_refresh_finished()

    @callback
    def _async_on_stream(self, connected: bool) -> None:
        """Stop polling while frames arrive; when they stop, ask once now, then poll."""
        self.stream_connected = connected
        self._async_stop_notes_read()
        if connected:
            LOGGER.debug("Server stream up: polling paused")
            self.update_interval = None
            self._async_unsub_refresh()
            self._cancel_notes_read = async_track_time_interval(
                self.hass,
                self._async_read_notes,
                NOTES_INTERVAL,
                name=f"{DOMAIN} {self.config_entry.title} notes",
                cancel_on_shutdown=True,
            )
            return
        LOGGER.debug("Server stream down: polling every %s", POLL_INTERVAL)
        self.update_interval = POLL_INTERVAL
        if not self.last_update_success or self.outage.since is not None:
            # Already failing (dashboard down, token refused), or the outage's retries run:
            # the interval (or those retries) keeps trying.
            self._schedule_refresh()
            return
        # A stream ends when the dashboard restarts or deletes the token: one request now
        # tells which, instead of stale entities until the next interval. Not the debounced
        # request: its 10 s cool-down would hold back the second of two such events; the
        # stream's own back-off already spaces them.
        self.config_entry.async_create_task(
            self.hass, self.async_refresh(), name=f"{DOMAIN} refresh after stream"
        )

    @callback
    def _async_stop_notes_read(self) -> None:
        if self._cancel_notes_read is not None:
            self._cancel_notes_read()
            self._cancel_notes_read = None

    async def _async_read_notes(self, _now: object) -> None:
        """Read the servers over REST while streaming: the stream tells no note changes.

        The stream stays in charge of availability: a failed read changes nothing (the next
        one, or the next connection's first frame, tells the notes).
        """
        if not self.stream_connected:
            return
        try:
            snapshot = await self.client.async_get_servers()
        except NezhaError as err:
            LOGGER.debug("Reading the servers' notes failed: %s", type(err).__name__)
            return
        if self.stream_connected:
            self.async_set_updated_data(self._prepared(snapshot))


def _servers_down(entry: NezhaConfigEntry) -> NezhaError | None:
    """The error with which the servers' coordinator reports that nothing answers, if it does.

    It then asks for all, once per ``DOWN_RETRY``, and its first answer wakes the others.
    """
    runtime = getattr(entry, "runtime_data", None)
    if runtime is None or runtime.coordinator.last_update_success:
        return None
    cause = getattr(runtime.coordinator.last_exception, "__cause__", None)
    return cause if isinstance(cause, NezhaUnreachableError | NezhaTimeoutError) else None


class NezhaFeatureCoordinator[DataT](DataUpdateCoordinator[DataT]):
    """One optional feature of v1/v2 dashboards, read on a cadence of its own.

    Servers never depend on it: a token without the feature's scope gets a repair (which goes
    once the scope is granted) and empty data instead of an error, and the coordinator keeps
    asking so the feature appears as soon as it can be read. A dashboard that does not answer
    the feature's route at all (HTTP 404: an older release, or a reverse proxy that forwards
    only some paths) is treated the same way, said once in the log: nothing the user can
    grant, so no repair.
    """

    config_entry: NezhaConfigEntry
    # What the feature is called in the log, how often it is read, and the repair raised
    # while the token lacks its scope: set by each feature.
    feature: str
    interval: timedelta
    scope_issue: Issue

    def __init__(
        self, hass: HomeAssistant, config_entry: NezhaConfigEntry, client: NezhaClient
    ) -> None:
        """Read the feature every ``interval``."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=config_entry,
            name=f"{DOMAIN} {self.feature}",
            update_interval=self.interval,
        )
        self.client = client
        # Whether the last answer was a 404 (said once, until the route answers again).
        self.not_answered = False
        # Through a short outage the feature keeps its data; past it, it fails with the
        # servers' coordinator without asking (that one probes and wakes it).
        self.outage = _Outage(self, probe=False)

    async def _async_fetch(self) -> DataT:
        """Read the feature from the dashboard."""
        raise NotImplementedError

    def _empty(self) -> DataT:
        """What the feature holds while it cannot be read."""
        raise NotImplementedError

    @override
    async def _async_update_data(self) -> DataT:
        self.outage.begin()
        if (down := _servers_down(self.config_entry)) is not None:
            raise self.outage.follow(down)
        try:
            data = await self._async_fetch()
        except NezhaMissingScopeError:
            self.outage.over()
            async_set_issue(self.hass, self.config_entry, self.scope_issue, True)
            return self._empty()
        except NezhaNotFoundError:
            self.outage.over()
            if not self.not_answered:
                self.not_answered = True
                LOGGER.info(
                    "%s: the dashboard does not answer its %s route (HTTP 404): %s are off",
                    self.config_entry.title,
                    self.feature,
                    self.feature,
                )
            return self._empty()
        except NezhaError as err:
            if self.outage.keep(err) and self.data is not None:
                return self.data
            raise _update_failed(err) from err
        self.outage.over()
        self.not_answered = False
        async_set_issue(self.hass, self.config_entry, self.scope_issue, False)
        return data


class NezhaServicesCoordinator(NezhaFeatureCoordinator[ServicesSnapshot]):
    """Service monitors and traffic cycles: one request, on a slower cadence than servers.

    The dashboard sums service checks over minutes and days, so polling it faster shows
    nothing new.
    """

    # GET /api/v1/service
    feature = "services"
    interval = SERVICES_SCAN_INTERVAL
    scope_issue = "service_scope"

    def __init__(
        self, hass: HomeAssistant, config_entry: NezhaConfigEntry, client: NezhaClient
    ) -> None:
        """Traffic cycle figures, one set per server a rule covers, written by server, paced."""
        super().__init__(hass, config_entry, client)
        self.writer = PacedWriter(hass, config_entry, self.interval.total_seconds())
        config_entry.async_on_unload(self.writer.async_stop)

    @override
    @callback
    def async_update_listeners(self) -> None:
        """Give the cycle figures to the writer, then tell the listeners."""
        self.writer.async_update(self.last_update_success, (), self.writer.keys)
        super().async_update_listeners()

    @override
    async def _async_fetch(self) -> ServicesSnapshot:
        return await self.client.async_get_services()

    @override
    def _empty(self) -> ServicesSnapshot:
        return ServicesSnapshot()


class NezhaCronCoordinator(NezhaFeatureCoordinator[dict[int, CronTask]]):
    """Scheduled tasks by id: one request a minute, and one shortly after a run by hand."""

    # GET /api/v1/cron
    feature = "scheduled tasks"
    interval = CRON_SCAN_INTERVAL
    scope_issue = "cron_scope"

    @override
    async def _async_fetch(self) -> dict[int, CronTask]:
        return await self.client.async_get_cron()

    @override
    def _empty(self) -> dict[int, CronTask]:
        return {}

    @callback
    def async_check_soon(self) -> None:
        """Read the tasks again once a run by hand has had time to report its result."""
        self.config_entry.async_on_unload(
            async_call_later(self.hass, CRON_CHECK_AFTER_RUN, self._async_check)
        )

    async def _async_check(self, _now: object) -> None:
        await self.async_refresh()
