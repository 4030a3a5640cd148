"""Setting an entry up and unloading it, its devices, the entity budget, and migrations."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    CONF_TOKEN,
    CONF_URL,
    CONF_VERIFY_SSL,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    entity_platform,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.nezha import async_remove_config_entry_device, budget as nezha_budget
from custom_components.nezha.const import (
    CONF_FULL_DETAIL,
    CONF_ONLINE_THRESHOLD,
    CONF_TAGS,
    DOMAIN,
)
from fake_dashboard import FakeDashboard, make_server
from tests.helpers import (
    DETAILS,
    SERVICE,
    TOKEN,
    AddServers,
    Clock,
    MakeEntry,
    Refresh,
    SetupEntry,
    start_dashboard,
)

# --- setup and unload ------------------------------------------------------------------------


async def test_setup_retries_when_dashboard_down(
    hass: HomeAssistant, dashboard: FakeDashboard, config_entry: MockConfigEntry
) -> None:
    """Home Assistant starts while the dashboard is down: setup is retried later."""
    await dashboard.go_down()
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY


async def test_unload(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    assert init_integration.state is ConfigEntryState.NOT_LOADED


def _nezha_states(hass: HomeAssistant) -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        state.entity_id: (state.state, dict(state.attributes))
        for state in hass.states.async_all()
        if state.entity_id.split(".", 1)[1].startswith(("server", "127"))
    }


@pytest.mark.parametrize("flavor", ["v1", "v2"])
async def test_entities_identical_to_v0(
    hass: HomeAssistant,
    clock: Clock,
    socket_enabled: None,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
    flavor: str,
) -> None:
    """The user sees the same entities and states whichever line the dashboard runs."""
    v0_fake = await start_dashboard(clock, "v0")
    try:
        v0_entry = MockConfigEntry(
            domain=DOMAIN,
            title="127.0.0.1",
            unique_id=v0_fake.url,
            data={CONF_URL: v0_fake.url, CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: True},
        )
        await setup_entry(v0_entry)
        v0_states = _nezha_states(hass)
        assert await hass.config_entries.async_remove(v0_entry.entry_id)
        await hass.async_block_till_done()
    finally:
        await v0_fake.stop()

    fake = await start_dashboard(clock, flavor)
    try:
        entry = make_entry(fake)
        await setup_entry(entry)
        assert entry.state is ConfigEntryState.LOADED
        assert _nezha_states(hass) == v0_states
        assert len(v0_states) > 20
        device = dr.async_get(hass).async_get_device_by_identifier(
            (DOMAIN, entry.entry_id), entry.entry_id
        )
        assert device is not None
        assert device.model == f"Dashboard ({flavor})"
    finally:
        await fake.stop()


# --- devices ---------------------------------------------------------------------------------


async def test_devices(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    dashboard: FakeDashboard,
) -> None:
    """The dashboard is a service device; each server a device under it."""
    entry_id = init_integration.entry_id
    hub = device_registry.async_get_device_by_identifier((DOMAIN, entry_id), entry_id)
    assert hub is not None
    assert hub.entry_type is dr.DeviceEntryType.SERVICE
    assert hub.configuration_url == dashboard.url
    server1 = device_registry.async_get_device_by_identifier((DOMAIN, f"{entry_id}_1"), entry_id)
    assert server1 is not None
    assert (server1.name, server1.model, server1.hw_version, server1.sw_version) == (
        "Server1",
        "darwin 12.3.1",
        "arm64",
        None,
    )
    assert server1.via_device_id == hub.id
    assert server1.configuration_url == f"{dashboard.url}/server/1"
    assert len(dr.async_entries_for_config_entry(device_registry, entry_id)) == 3


async def test_service_devices(
    hass: HomeAssistant,
    with_services: FakeDashboard,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
) -> None:
    """Every service is a device under the dashboard, read in one request."""
    entry = make_entry(with_services)
    await setup_entry(entry)
    assert entry.state is ConfigEntryState.LOADED
    assert with_services.requests[SERVICE] == 1

    devices = dr.async_get(hass)
    blog = devices.async_get_device_by_identifier(
        (DOMAIN, f"{entry.entry_id}_service_3"), entry.entry_id
    )
    assert blog is not None
    assert blog.name == "Blog HTTPS"
    assert blog.entry_type is dr.DeviceEntryType.SERVICE
    dashboard = devices.async_get_device_by_identifier((DOMAIN, entry.entry_id), entry.entry_id)
    assert dashboard is not None
    assert blog.via_device_id == dashboard.id


@pytest.mark.parametrize(
    ("device", "removable"),
    [
        pytest.param("dashboard", False, id="dashboard"),
        pytest.param("listed_server", False, id="listed_server"),
        pytest.param("server_gone", True, id="server_gone"),
    ],
)
async def test_device_removal_only_when_server_gone(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    hass_ws_client: WebSocketGenerator,
    device: str,
    removable: bool,
) -> None:
    """Users may delete a server's device only once the dashboard no longer lists it (e.g.
    left behind while Home Assistant was stopped); never the dashboard's."""
    assert await async_setup_component(hass, "config", {})
    entry_id = init_integration.entry_id
    client = await hass_ws_client(hass)
    if device == "server_gone":
        # A device of this entry whose server the dashboard does not list.
        target = device_registry.async_get_or_create(
            config_entry_id=entry_id, identifiers={(DOMAIN, f"{entry_id}_99")}, name="gone"
        )
    else:
        identifier = entry_id if device == "dashboard" else f"{entry_id}_1"
        found = device_registry.async_get_device_by_identifier((DOMAIN, identifier), entry_id)
        assert found is not None
        target = found
    await client.send_json_auto_id(
        {
            "type": "config/device_registry/remove_config_entry",
            "config_entry_id": entry_id,
            "device_id": target.id,
        }
    )
    assert bool((await client.receive_json())["success"]) is removable
    assert (device_registry.async_get(target.id) is None) is removable


async def test_service_device_removal_rules(
    hass: HomeAssistant,
    with_services: FakeDashboard,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
) -> None:
    """A service device can be deleted by hand only once the dashboard dropped the service;
    the dashboard's device never."""
    entry = make_entry(with_services)
    await setup_entry(entry)
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"{entry.entry_id}_service_3"), entry.entry_id
    )
    assert device is not None
    assert not await async_remove_config_entry_device(hass, entry, device)
    dashboard = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, entry.entry_id), entry.entry_id
    )
    assert dashboard is not None
    assert not await async_remove_config_entry_device(hass, entry, dashboard)
    # Dropped from the dashboard while its device lingers (as after a restart).
    del with_services.services[3]
    services = entry.runtime_data.services
    assert services is not None
    await services.async_refresh()
    assert await async_remove_config_entry_device(hass, entry, device)


async def test_server_leaves_and_comes_back_whole(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    refresh: Refresh,
    clock: Clock,
) -> None:
    """A deleted server loses its device; added again, it returns with every entity."""
    server = make_server(7, "hot-box", now=clock.now)
    server.status["Temperatures"] = [
        {"Name": "coretemp_package_id_0", "Temperature": 51.5},
        {"Name": "nvme_composite", "Temperature": 38.0},
    ]
    dashboard.add(server)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.hot_box_temperature").state == "51.5"
    identifier = (DOMAIN, f"{config_entry.entry_id}_7")
    entry_id = config_entry.entry_id

    dashboard.remove(7)
    clock.now += 30
    dashboard.tick(30)
    await refresh()
    assert device_registry.async_get_device_by_identifier(identifier, entry_id) is None
    assert hass.states.get("sensor.hot_box_temperature") is None

    dashboard.add(server)
    clock.now += 30
    dashboard.tick(30)
    await refresh()
    assert device_registry.async_get_device_by_identifier(identifier, entry_id) is not None
    assert hass.states.get("sensor.hot_box_temperature").state == "51.5"
    assert hass.states.get("binary_sensor.hot_box_online").state == "on"


# --- the entity budget -----------------------------------------------------------------------


def _registered_by_key(
    hass: HomeAssistant, entry: MockConfigEntry
) -> dict[str, list[er.RegistryEntry]]:
    """The entry's server entities in the registry, by description key."""
    by_key: dict[str, list[er.RegistryEntry]] = {}
    for item in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id):
        _, server, key = item.unique_id.split("_", 2)
        if server.isdecimal():
            by_key.setdefault(key, []).append(item)
    return by_key


async def test_entity_budget_keeps_every_server_online_sensor(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    config_entry: MockConfigEntry,
    add_servers: AddServers,
    setup_entry: SetupEntry,
    refresh: Refresh,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Past Home Assistant's cap on enabled entities, each server keeps its first sensors,
    and nothing that could never be enabled is registered; a repair says so.

    The cap (10000 in Home Assistant) is lowered to 500 here so 60 servers reach it; without
    the budget Home Assistant would drop every entity past the cap, whole servers included.
    """
    monkeypatch.setattr(entity_platform, "MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY", 500)
    monkeypatch.setattr(nezha_budget, "MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY", 500)
    add_servers(*range(10, 58))
    await setup_entry(config_entry)
    dashboard.tick(30)
    add_servers(*range(100, 110))
    await refresh()

    registry = er.async_get(hass)
    entries = er.async_entries_for_config_entry(registry, config_entry.entry_id)
    enabled = [item for item in entries if item.disabled_by is None]
    assert len(enabled) <= 500 - nezha_budget.ENTITY_RESERVE
    # The registry holds what is enabled, not a disabled copy of everything that did not fit.
    assert all(item.disabled_by is None for item in entries)
    by_key = _registered_by_key(hass, config_entry)
    servers = {item.unique_id.split("_")[1] for item in by_key["online"]}
    assert len(servers) == len(dashboard.servers)
    # Every server keeps its online sensor and CPU; lower priorities are left out.
    assert len(by_key["cpu"]) == len(dashboard.servers)
    assert "ipv4" not in by_key
    assert "load_5" not in by_key
    assert "Reached the maximum" not in caplog.text
    assert (DOMAIN, f"entity_cap_{config_entry.entry_id}") in ir.async_get(hass).issues


async def test_reload_of_an_entry_over_the_cap(
    hass: HomeAssistant,
    with_services: FakeDashboard,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An entry whose registrations already fill the cap reloads (an options change, a large
    fleet): services and traffic cycles are weighed with no room left, and nothing fails."""
    entry = make_entry(with_services)
    await setup_entry(entry)
    registry = er.async_get(hass)

    def registered() -> set[str | None]:
        return {
            item.unique_id for item in er.async_entries_for_config_entry(registry, entry.entry_id)
        }

    before = registered()
    monkeypatch.setattr(entity_platform, "MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY", 100)
    monkeypatch.setattr(nezha_budget, "MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY", 100)

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    # What was registered keeps its place; nothing new is created past the cap.
    assert registered() == before
    # Added again, not left as the unavailable state an unloaded entity leaves behind.
    assert hass.states.get("binary_sensor.blog_https_up").state == STATE_ON
    assert hass.states.get("sensor.blog_https_status").state != STATE_UNAVAILABLE


async def test_platforms_weighing_at_once_share_the_room(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_entry: SetupEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two platforms weigh before either's entities are registered (they set up at the same
    time and add in chunks): the places the first was given count for the second, so
    together they stay under the cap and Home Assistant drops nothing."""
    await setup_entry(config_entry)
    registry = er.async_get(hass)
    registered = registry.entities.get_enabled_count_for_config_entry_id(config_entry.entry_id)
    cap = registered + nezha_budget.ENTITY_RESERVE + 30
    monkeypatch.setattr(nezha_budget, "MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY", cap)

    def candidates(domain: str) -> dict[int, list[nezha_budget.Deferred[Any]]]:
        return {
            server: [
                nezha_budget.Deferred(f"{domain}-{server}-{n}", n, True, lambda: None)
                for n in range(3)
            ]
            for server in range(10)
        }

    first = nezha_budget.fit_budget(config_entry, "sensor", candidates("sensor"))
    second = await nezha_budget.async_fit_budget(
        config_entry, "binary_sensor", candidates("binary_sensor")
    )
    assert len(first) == 30
    assert second == []
    # Once registered, a place counts through the registry instead, not twice.
    for item in first[:10]:
        registry.async_get_or_create("sensor", DOMAIN, item.unique_id, config_entry=config_entry)
    assert len(nezha_budget.fit_budget(config_entry, "sensor", candidates("other"))) == 0
    assert len(config_entry.runtime_data.budget_promised) == 20


async def test_the_share_does_not_depend_on_which_platform_weighs_first(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_entry: SetupEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each server's online sensor takes one place beside its share of sensors: counted
    once, whether the binary sensors were weighed before the sensors or after."""
    await setup_entry(config_entry)
    registry = er.async_get(hass)
    registered = registry.entities.get_enabled_count_for_config_entry_id(config_entry.entry_id)
    monkeypatch.setattr(
        nezha_budget,
        "MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY",
        registered + nezha_budget.ENTITY_RESERVE + 40,
    )

    def online() -> dict[int, list[nezha_budget.Deferred[Any]]]:
        return {
            server: [nezha_budget.Deferred(f"online-{server}", 0, True, lambda: None)]
            for server in range(10)
        }

    def sensors() -> dict[int, list[nezha_budget.Deferred[Any]]]:
        return {
            server: [
                nezha_budget.Deferred(f"sensor-{server}-{n}", n, True, lambda: None)
                for n in range(6)
            ]
            for server in range(10)
        }

    def elsewhere(server: int) -> str:
        return f"online-{server}"

    sensors_first = nezha_budget.fit_budget(config_entry, "sensor", sensors(), elsewhere)
    online_after = nezha_budget.fit_budget(config_entry, "binary_sensor", online())
    config_entry.runtime_data.budget_promised.clear()
    online_first = nezha_budget.fit_budget(config_entry, "binary_sensor", online())
    sensors_after = nezha_budget.fit_budget(config_entry, "sensor", sensors(), elsewhere)

    # 40 places: 10 online sensors and 3 sensors per server, either way.
    assert len(online_after) == len(online_first) == 10
    assert len(sensors_first) == len(sensors_after) == 30


async def test_full_detail_servers_get_every_entity(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    config_entry: MockConfigEntry,
    add_servers: AddServers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past the cap, servers of the tags chosen for full detail get all their entities; the
    others share what is left."""
    monkeypatch.setattr(entity_platform, "MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY", 500)
    monkeypatch.setattr(nezha_budget, "MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY", 500)
    add_servers(*range(10, 58))
    add_servers(200, 201, tag="Core")
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(config_entry, options={CONF_FULL_DETAIL: ["Core"]})
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    by_key = _registered_by_key(hass, config_entry)
    for key in ("ipv4", "memory_total", "processes", "load_5", "ipv6"):
        assert {item.unique_id.split("_")[1] for item in by_key[key]} == {"200", "201"}, key
    # Those chosen have their disabled-by-default ones too, still disabled.
    assert all(
        item.disabled_by is er.RegistryEntryDisabler.INTEGRATION for item in by_key["load_5"]
    )
    # Everyone else still has its online sensor and CPU.
    assert len(by_key["online"]) == len(dashboard.servers)
    assert len(by_key["cpu"]) == len(dashboard.servers)


# --- migrations ------------------------------------------------------------------------------


def _old_entry(dashboard: FakeDashboard, **kwargs: Any) -> MockConfigEntry:
    """An entry as release 0.2 made it: version 1.1, the interval among its options."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="127.0.0.1",
        unique_id=dashboard.url,
        data={CONF_URL: dashboard.url, CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: True},
        entry_id="01JNEZHAENTRY0000000000000",
        version=1,
        minor_version=1,
        **kwargs,
    )


async def test_migration_drops_the_interval_option(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    entity_registry: er.EntityRegistry,
    setup_entry: SetupEntry,
    refresh: Refresh,
) -> None:
    """1.1 → 1.2: the interval option goes, the others stay, polling follows the line."""
    entry = _old_entry(
        dashboard,
        options={"scan_interval": 5, CONF_ONLINE_THRESHOLD: 60, CONF_TAGS: ["Tag1"]},
    )
    await setup_entry(entry)

    assert entry.state is ConfigEntryState.LOADED
    assert (entry.version, entry.minor_version) == (1, 2)
    assert entry.options == {CONF_ONLINE_THRESHOLD: 60, CONF_TAGS: ["Tag1"]}
    assert entry.runtime_data.coordinator.online_threshold == 60
    # The old 5 s is gone: nothing before 30 s.
    asked = dashboard.requests[DETAILS]
    await refresh(6)
    await refresh(6)
    assert dashboard.requests[DETAILS] == asked


async def test_migration_turns_last_seen_off(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    entity_registry: er.EntityRegistry,
) -> None:
    """Last seen, enabled by release 0.2 and writing the logbook on every refresh, starts
    disabled (the user may enable it again); nothing else changes."""
    entry = _old_entry(dashboard, options={"scan_interval": 30})
    entry.add_to_hass(hass)
    registered = {
        key: entity_registry.async_get_or_create(
            "sensor",
            DOMAIN,
            f"{entry.entry_id}_1_{key}",
            config_entry=entry,
            translation_key=key,
            suggested_object_id=f"server1_{key}",
        )
        for key in ("last_seen", "cpu", "last_boot")
    }
    assert hass.states.get("sensor.server1_last_seen") is None
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    last_seen = entity_registry.async_get(registered["last_seen"].entity_id)
    assert last_seen is not None
    assert last_seen.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    for key in ("cpu", "last_boot"):
        kept = entity_registry.async_get(registered[key].entity_id)
        assert kept is not None
        assert kept.disabled_by is None
        assert hass.states.get(kept.entity_id) is not None
    assert entry.options == {}


async def test_entry_from_a_newer_release_is_not_loaded(
    hass: HomeAssistant, dashboard: FakeDashboard
) -> None:
    """A version this release does not know is refused, not guessed at."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=dashboard.url,
        data={CONF_URL: dashboard.url, CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: True},
        version=2,
        minor_version=1,
    )
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.MIGRATION_ERROR
    assert dashboard.requests[DETAILS] == 0


async def test_new_entries_are_current(hass: HomeAssistant, dashboard: FakeDashboard) -> None:
    """The config flow creates 1.2 entries: nothing to migrate."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: dashboard.url, CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: True}
    )
    entry = result["result"]
    assert (entry.version, entry.minor_version) == (1, 2)
    assert entry.options == {}
