"""Coordinator: one request per refresh for every server of the dashboard."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import override

import aiohttp
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .api import (
    DashboardFlavor,
    DashboardSnapshot,
    NezhaAuthError,
    NezhaClient,
    NezhaConnectionError,
    NezhaError,
    NezhaMissingScopeError,
    NezhaRateLimitError,
    Server,
    ServicesSnapshot,
)
from .api.stream import NezhaStream
from .const import (
    CONF_ONLINE_THRESHOLD,
    CONF_TAGS,
    DEFAULT_ONLINE_THRESHOLD,
    DOMAIN,
    LOGGER,
    POLL_INTERVAL,
    SERVICES_SCAN_INTERVAL,
)
from .repairs import async_set_issue

type NezhaConfigEntry = ConfigEntry[NezhaRuntimeData]


@dataclass(slots=True)
class NezhaRuntimeData:
    """What a loaded entry keeps."""

    client: NezhaClient
    coordinator: NezhaDataUpdateCoordinator
    dashboard_device_id: str
    # Service monitors and traffic cycles (v1/v2); None on v0, which has no such overview.
    services: NezhaServicesCoordinator | None = None
    # Server names by id when devices were last synchronised with the dashboard.
    device_names: dict[int, str] = field(default_factory=dict)


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


class NezhaDataUpdateCoordinator(DataUpdateCoordinator[DashboardSnapshot]):
    """Fetches all servers of one dashboard in a single request."""

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
        # Every tag the dashboard reported at the last refresh, before filtering.
        self.dashboard_tags: frozenset[str] = frozenset()
        # Live push (v1/v2): the polling interval, restored whenever the stream is down.
        self.poll_interval: timedelta = POLL_INTERVAL
        self.stream: NezhaStream | None = None
        self._last_push = 0.0
        # The ids online in the snapshot ``_online_of`` (see ``is_online``).
        self._online: frozenset[int] = frozenset()
        self._online_of: DashboardSnapshot | None = None

    @override
    async def _async_update_data(self) -> DashboardSnapshot:
        """Fetch every server; the tag filter is applied here, not per request."""
        try:
            snapshot = await self.client.async_get_servers()
        except NezhaError as err:
            raise _update_failed(err) from err
        self.dashboard_tags = snapshot.tags
        self._async_check_clock(snapshot)
        return self._filtered(snapshot)

    def _filtered(self, snapshot: DashboardSnapshot) -> DashboardSnapshot:
        """Keep the servers of the chosen tags (groups), all when none is chosen."""
        if not self.tags:
            return snapshot
        self._async_check_tags()
        return DashboardSnapshot(
            servers={
                server_id: server
                for server_id, server in snapshot.servers.items()
                if not self.tags.isdisjoint(server.tags)
            },
            dashboard_time=snapshot.dashboard_time,
            flavor=snapshot.flavor,
        )

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

    def is_online(self, server_id: int) -> bool:
        """Whether a server reported recently, on the dashboard's clock.

        Every live entity asks this on every update; the answer is worked out once per
        snapshot for all servers, so each question is a set lookup.
        """
        return server_id in self._online_in(self.data)

    def _online_in(self, snapshot: DashboardSnapshot) -> frozenset[int]:
        """The online servers of ``snapshot``, kept for the latest one."""
        if self._online_of is not snapshot:
            self._online = self._online_ids(snapshot)
            self._online_of = snapshot
        return self._online

    # --- live push from /api/v1/ws/server (v1/v2) ----------------------------------------

    @callback
    def async_start_stream(self, session: aiohttp.ClientSession) -> None:
        """Hold the dashboard's server stream while the entry is loaded (v1/v2 only)."""
        if self.client.flavor in (None, DashboardFlavor.V0):
            return
        self.stream = NezhaStream(
            session,
            self.client,
            self._async_on_frame,
            self._async_on_stream,
            is_due=self._frame_due,
        )
        self.config_entry.async_create_background_task(
            self.hass, self.stream.run(), name=f"{DOMAIN} {self.config_entry.title} stream"
        )

    @callback
    def _async_on_stream(self, connected: bool) -> None:
        """Stop polling while frames arrive; poll again as soon as the stream is down."""
        if connected:
            LOGGER.debug("Server stream up: polling paused")
            self.update_interval = None
            self._async_unsub_refresh()
            return
        LOGGER.debug("Server stream down: polling every %s", self.poll_interval)
        self.update_interval = self.poll_interval
        if not self.last_update_success:
            # Already failing (dashboard down, token refused): the interval keeps trying.
            self._schedule_refresh()
            return
        # A stream ends when the dashboard restarts or deletes the token: one request now
        # tells which, instead of stale entities until the next interval.
        # Not the debounced request: its 10 s cool-down would hold back the second of two
        # such events; the stream's own back-off already spaces them.
        self.config_entry.async_create_task(
            self.hass, self.async_refresh(), name=f"{DOMAIN} refresh after stream"
        )

    def _frame_due(self, now: datetime, activity: dict[int, datetime | None]) -> bool:
        """Whether a frame must be read in full.

        It must when it is the first, the interval is over, or who is listed or online
        changed; finding that out costs a fraction of building the models.
        """
        previous = self.data
        if (
            previous is None
            or self.hass.loop.time() - self._last_push >= self.poll_interval.total_seconds()
        ):
            return True
        groups = self.client.groups
        listed = {
            server_id
            for server_id in activity
            if not self.tags or not self.tags.isdisjoint(groups.get(server_id, ()))
        }
        if listed != previous.servers.keys():
            return True
        threshold = self.online_threshold
        online = {
            server_id
            for server_id in listed
            if (last := activity[server_id]) is not None
            and (now - last).total_seconds() <= threshold
        }
        return online != self._online_in(previous)

    @callback
    def _async_on_frame(self, now: datetime, servers: dict[int, Server]) -> None:
        """Take a frame; write it at once when a server went on- or offline, else throttled.

        Numeric sensors thus change at most once per update interval (the recorder is not
        flooded), while connectivity reaches Home Assistant within one frame (2 s).
        """
        previous = self.data
        known = previous.servers if previous is not None else {}
        merged: dict[int, Server] = {}
        for server_id, frame_server in servers.items():
            old = known.get(server_id)
            if old is not None and not (frame_server.ipv4 or frame_server.ipv6):
                # Frames carry no addresses: keep those of the last REST answer.
                merged[server_id] = replace(frame_server, ipv4=old.ipv4, ipv6=old.ipv6)
            else:
                merged[server_id] = frame_server
        unfiltered = DashboardSnapshot(
            servers=merged,
            dashboard_time=now,
            flavor=self.client.flavor or DashboardFlavor.V2,
        )
        self.dashboard_tags = unfiltered.tags
        snapshot = self._filtered(unfiltered)
        loop_now = self.hass.loop.time()
        if (
            previous is None
            or self._online_ids(snapshot) != self._online_in(previous)
            or snapshot.servers.keys() != previous.servers.keys()
            or loop_now - self._last_push >= self.poll_interval.total_seconds()
        ):
            self._last_push = loop_now
            self.async_set_updated_data(snapshot)

    def _online_ids(self, snapshot: DashboardSnapshot) -> frozenset[int]:
        return frozenset(
            server_id
            for server_id, server in snapshot.servers.items()
            if server.is_online(snapshot.dashboard_time, self.online_threshold)
        )


class NezhaServicesCoordinator(DataUpdateCoordinator[ServicesSnapshot]):
    """Service monitors and traffic cycles: one request, on a slower cadence than servers.

    The dashboard sums service checks over minutes and days, so polling it faster shows
    nothing new.
    """

    config_entry: NezhaConfigEntry

    def __init__(
        self, hass: HomeAssistant, config_entry: NezhaConfigEntry, client: NezhaClient
    ) -> None:
        """Poll ``/api/v1/service`` every ``SERVICES_SCAN_INTERVAL``."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=config_entry,
            name=f"{DOMAIN} services",
            update_interval=SERVICES_SCAN_INTERVAL,
        )
        self.client = client

    @override
    async def _async_update_data(self) -> ServicesSnapshot:
        """Fetch services; a token without the service scope shows a repair, not an error."""
        try:
            snapshot = await self.client.async_get_services()
        except NezhaMissingScopeError:
            # Servers still work: tell the user how to get services too, and keep asking so
            # they appear once the token has the scope.
            async_set_issue(self.hass, self.config_entry, "service_scope", True)
            return ServicesSnapshot()
        except NezhaError as err:
            raise _update_failed(err) from err
        async_set_issue(self.hass, self.config_entry, "service_scope", False)
        return snapshot
