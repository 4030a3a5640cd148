"""The Nezha Monitoring integration: an entry's life.

The integration's set-up registers the fleet card (frontend.py). An entry's setup builds the
client and the coordinators, creates the dashboard's device, keeps server and service devices
in step with the dashboard (renames, removals), starts the live stream and the platforms; also
entry migration, unload and device removal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from homeassistant.const import (
    CONF_PASSWORD,
    CONF_TOKEN,
    CONF_URL,
    CONF_USERNAME,
    CONF_VERIFY_SSL,
    Platform,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
)
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType

from . import alerts, history
from .api import DashboardFlavor, NezhaClient
from .const import CONF_FLAVOR, DOMAIN, LOGGER, MANUFACTURER
from .coordinator import (
    NezhaConfigEntry,
    NezhaCronCoordinator,
    NezhaDataUpdateCoordinator,
    NezhaRuntimeData,
    NezhaServicesCoordinator,
)
from .frontend import async_register_card
from .identifiers import cron_of, dashboard_device, server_of, service_of
from .repairs import async_clear_issues

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.EVENT,
    Platform.SENSOR,
]

# Dashboards are added in the UI only; YAML under nezha: is refused with Home Assistant's message.
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Once per start, before any entry: serve the fleet card and register it with the frontend.

    The frontend is an after-dependency: every Home Assistant with a UI loads it (before this
    integration), and one without has nothing to show a card in.
    """
    if "frontend" in hass.config.components:
        await async_register_card(hass)
    return True


async def async_migrate_entry(hass: HomeAssistant, entry: NezhaConfigEntry) -> bool:
    """Bring entries of older releases up to date (1.1 → 1.2)."""
    if entry.version > 1:
        # Made by a newer release: its data may mean something this one does not know.
        return False
    if entry.minor_version < 2:
        # 1.2: the polling interval is chosen per dashboard line, no longer an option; and
        # Last seen, which changes on every refresh, no longer writes the logbook by default.
        options = {key: value for key, value in entry.options.items() if key != "scan_interval"}
        registry = er.async_get(hass)
        for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
            if entity.translation_key == "last_seen" and entity.disabled_by is None:
                registry.async_update_entity(
                    entity.entity_id, disabled_by=er.RegistryEntryDisabler.INTEGRATION
                )
        hass.config_entries.async_update_entry(entry, options=options, minor_version=2)
        LOGGER.debug("Migrated %s to version 1.2", entry.title)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: NezhaConfigEntry) -> bool:
    """Set up a dashboard: first refresh, the dashboard device, then the platforms."""
    session = async_get_clientsession(hass, entry.data[CONF_VERIFY_SSL])
    client = NezhaClient(
        session,
        entry.data[CONF_URL],
        entry.data.get(CONF_TOKEN, ""),
        username=entry.data.get(CONF_USERNAME, ""),
        password=entry.data.get(CONF_PASSWORD, ""),
        flavor=DashboardFlavor(entry.data.get(CONF_FLAVOR, DashboardFlavor.V0)),
    )
    coordinator = NezhaDataUpdateCoordinator(hass, entry, client)
    await coordinator.async_config_entry_first_refresh()

    # Server devices link to this one by id, so it must exist before any entity is added.
    dashboard = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={dashboard_device(entry.entry_id)},
        name=entry.title,
        manufacturer=MANUFACTURER,
        model=f"Dashboard ({coordinator.data.flavor})",
        entry_type=dr.DeviceEntryType.SERVICE,
        configuration_url=client.url,
    )
    entry.runtime_data = NezhaRuntimeData(
        client=client, coordinator=coordinator, dashboard_device_id=dashboard.id
    )
    if client.supports_services:
        services = NezhaServicesCoordinator(hass, entry, client)
        # Services are extra: a failure here must not keep the servers from loading.
        await services.async_refresh()
        entry.runtime_data.services = services
        entry.async_on_unload(
            services.async_add_listener(lambda: _async_sync_service_devices(hass, entry))
        )

    if client.supports_cron:
        cron = NezhaCronCoordinator(hass, entry, client)
        # Like services: extra, so a failure here must not keep the servers from loading.
        await cron.async_refresh()
        entry.runtime_data.cron = cron
        entry.async_on_unload(cron.async_add_listener(lambda: _async_sync_cron(hass, entry)))
    if client.supports_alerts and alerts.wanted(entry):
        manager = alerts.NezhaAlerts(
            hass, entry, client, lambda server_id: server_id in coordinator.data.servers
        )
        entry.runtime_data.alerts = manager
        entry.async_on_unload(manager.async_stop)
        await manager.async_start()
        entry.async_on_unload(coordinator.async_add_listener(lambda: _async_retry_alerts(entry)))
    elif client.supports_alerts:
        await alerts.async_disable(hass, entry, client)

    _async_sync_devices(hass, entry)
    entry.async_on_unload(coordinator.async_add_listener(lambda: _async_sync_devices(hass, entry)))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    coordinator.async_start_stream()
    if client.supports_metrics and history.wanted(entry):
        entry.runtime_data.history = history.NezhaHistory(
            hass, entry, client, lambda: coordinator.data.servers
        )
        entry.runtime_data.history.async_start()
    return True


@callback
def _async_sync_devices(hass: HomeAssistant, entry: NezhaConfigEntry) -> None:
    """Keep server devices in step with the dashboard after each successful refresh.

    It does nothing per server unless something changed.
    """
    coordinator = entry.runtime_data.coordinator
    if not coordinator.last_update_success:
        return
    servers = coordinator.data.servers
    names = {server_id: server.name for server_id, server in servers.items()}
    if names == entry.runtime_data.device_names:
        # Walking the device registry costs a lookup per device: only when something moved.
        return
    entry.runtime_data.device_names = names
    _async_follow_devices(hass, entry, server_of, names)


@callback
def _async_retry_alerts(entry: NezhaConfigEntry) -> None:
    """The servers were read: alerts that could not be set up are tried again."""
    manager = entry.runtime_data.alerts
    if manager is not None and entry.runtime_data.coordinator.last_update_success:
        manager.async_dashboard_answered()


@callback
def _async_sync_service_devices(hass: HomeAssistant, entry: NezhaConfigEntry) -> None:
    """Keep service monitor devices in step with the dashboard."""
    services = entry.runtime_data.services
    if services is None or not services.last_update_success:
        return
    names = {service_id: service.name for service_id, service in services.data.services.items()}
    _async_follow_devices(hass, entry, service_of, names)


@callback
def _async_follow_devices(
    hass: HomeAssistant,
    entry: NezhaConfigEntry,
    item_of: Callable[[str, dr.DeviceEntry], int | None],
    names: Mapping[int, str],
) -> None:
    """Drop the devices of one kind (``item_of``) that left the dashboard; follow renames."""
    registry = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        item_id = item_of(entry.entry_id, device)
        if item_id is None:
            continue
        name = names.get(item_id)
        if name is None:
            registry.async_remove_device(device.id)
        elif device.name != name:
            registry.async_update_device(device.id, name=name)


@callback
def _async_sync_cron(hass: HomeAssistant, entry: NezhaConfigEntry) -> None:
    """Drop the entities of scheduled tasks that left the dashboard."""
    cron = entry.runtime_data.cron
    if cron is None or not cron.last_update_success:
        return
    registry = er.async_get(hass)
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        task_id = cron_of(entry.entry_id, entity.unique_id)
        if task_id is not None and task_id not in cron.data:
            registry.async_remove(entity.entity_id)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: NezhaConfigEntry, device: dr.AnyDeviceEntry
) -> bool:
    """Allow deleting a server's or service's device once the dashboard no longer lists it."""
    server_id = server_of(entry.entry_id, device)
    if server_id is not None:
        return server_id not in entry.runtime_data.coordinator.data.servers
    service_id = service_of(entry.entry_id, device)
    services = entry.runtime_data.services
    if service_id is None or services is None or services.data is None:
        return False
    return service_id not in services.data.services


async def async_unload_entry(hass: HomeAssistant, entry: NezhaConfigEntry) -> bool:
    """Unload a config entry."""
    async_clear_issues(hass, entry)
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: NezhaConfigEntry) -> None:
    """The entry is deleted: its notification channel leaves the dashboard too."""
    await alerts.async_remove(hass, entry)
    await history.async_remove(hass, entry)
