"""Events: the dashboard's alerts, on the server they concern or on the dashboard itself."""

from __future__ import annotations

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .alerts import DASHBOARD_EVENTS, SERVER_EVENTS, Alert, signal
from .budget import fit_budget
from .coordinator import NezhaConfigEntry, NezhaDataUpdateCoordinator
from .entity import NezhaDashboardEntity, NezhaServerEntity

PARALLEL_UPDATES = 0

SERVER_ALERT = EventEntityDescription(
    key="alert", translation_key="server_alert", event_types=list(SERVER_EVENTS)
)
DASHBOARD_ALERT = EventEntityDescription(
    key="alert", translation_key="dashboard_alert", event_types=list(DASHBOARD_EVENTS)
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NezhaConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """With alerts on: one event entity per server and one for the dashboard."""
    if entry.runtime_data.alerts is None:
        return
    coordinator = entry.runtime_data.coordinator
    async_add_entities([NezhaDashboardAlert(coordinator, DASHBOARD_ALERT)])
    added: set[int] = set()

    @callback
    def _add_servers() -> None:
        if not coordinator.last_update_success:
            return
        servers = coordinator.data.servers
        added.intersection_update(servers)
        new = sorted(servers.keys() - added)
        if new:
            added.update(new)
            async_add_entities(
                fit_budget(
                    entry,
                    Platform.EVENT,
                    {
                        server_id: [NezhaServerAlert(coordinator, servers[server_id], SERVER_ALERT)]
                        for server_id in new
                    },
                )
            )

    _add_servers()
    entry.async_on_unload(coordinator.async_add_listener(_add_servers))


class NezhaAlertEntity(EventEntity):
    """Fires on the entry's alerts that concern it (mixed into a server or dashboard entity)."""

    coordinator: NezhaDataUpdateCoordinator

    def concerns(self, alert: Alert) -> bool:
        """Whether this entity fires on ``alert``."""
        raise NotImplementedError

    async def async_added_to_hass(self) -> None:
        """Listen to the entry's deliveries."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, signal(self.coordinator.config_entry.entry_id), self._async_on_alert
            )
        )

    @callback
    def _async_on_alert(self, alert: Alert) -> None:
        if self.concerns(alert):
            self._trigger_event(alert.kind, alert.attributes)
            self.async_write_ha_state()


class NezhaServerAlert(NezhaServerEntity, NezhaAlertEntity):
    """Incidents, recoveries and task results the dashboard reports for this server."""

    # Alerts matter most while the server is silent.
    _live = False

    def state_value(self) -> object:
        """The state is the last event, written when it arrives."""
        return None

    def concerns(self, alert: Alert) -> bool:
        """A server's kinds of alert, about this server."""
        return alert.server_id == self.server_id and alert.kind in SERVER_EVENTS


class NezhaDashboardAlert(NezhaDashboardEntity, NezhaAlertEntity):
    """Service, latency, certificate and address alerts, which concern no server's device."""

    @property
    def available(self) -> bool:
        """Deliveries arrive whether or not the last poll worked."""
        return True

    def concerns(self, alert: Alert) -> bool:
        """The kinds of alert that are about no server."""
        return alert.kind in DASHBOARD_EVENTS
