"""Reauthentication, reconfiguration, options, diagnostics and device removal of an entry."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_TOKEN, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator, WebSocketGenerator

from custom_components.nezha.const import (
    CONF_FLAVOR,
    CONF_FULL_DETAIL,
    CONF_ONLINE_THRESHOLD,
    CONF_TAGS,
    DOMAIN,
)
from fake_dashboard import FakeDashboard, make_server

from .conftest import TOKEN, Clock, load_fixture_json

DETAILS = "/api/v1/server/details"


@pytest.fixture
async def other_dashboard(clock: Clock, socket_enabled: None) -> AsyncGenerator[FakeDashboard]:
    """A second, unrelated dashboard: different servers, same token."""
    fake = FakeDashboard(token=TOKEN, clock=clock)
    fake.add(make_server(41, "elsewhere-1", now=clock.now), make_server(42, now=clock.now))
    await fake.start()
    yield fake
    await fake.stop()


async def test_reauth_asks_for_a_new_token(
    hass: HomeAssistant, dashboard: FakeDashboard, init_integration: MockConfigEntry
) -> None:
    """A wrong new token is refused on the form; the right one updates the entry and reloads."""
    dashboard.tokens = {"new-token"}
    result = await init_integration.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"]["title"] == "127.0.0.1"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: "still-wrong"}
    )
    assert result["errors"] == {CONF_TOKEN: "invalid_auth"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: "new-token"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert init_integration.data[CONF_TOKEN] == "new-token"
    assert init_integration.state is ConfigEntryState.LOADED


@pytest.fixture
async def moved_dashboard(clock: Clock, socket_enabled: None) -> AsyncGenerator[FakeDashboard]:
    """The same dashboard (same servers) at another address, under a sub-path."""
    fake = FakeDashboard(token=TOKEN, clock=clock, prefix="/nezha")
    fake.load_v0_example(load_fixture_json("v0_details_example.json"))
    await fake.start()
    yield fake
    await fake.stop()


async def test_reconfigure_same_dashboard_new_address(
    hass: HomeAssistant, init_integration: MockConfigEntry, moved_dashboard: FakeDashboard
) -> None:
    """The dashboard moved behind a proxy: URL, unique id and title follow."""
    result = await init_integration.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"

    moved = moved_dashboard.url
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: moved, CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: False}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert init_integration.data == {
        CONF_URL: moved,
        CONF_TOKEN: TOKEN,
        CONF_VERIFY_SSL: False,
        CONF_FLAVOR: "v0",
    }
    assert init_integration.unique_id == moved
    assert init_integration.title == "127.0.0.1/nezha"
    assert init_integration.state is ConfigEntryState.LOADED


async def test_reconfigure_refuses_another_dashboard(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    other_dashboard: FakeDashboard,
) -> None:
    """A URL whose servers share nothing with the entry's is another dashboard; then recover."""
    result = await init_integration.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_URL: other_dashboard.url, CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: True},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "different_dashboard"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_URL: init_integration.data[CONF_URL], CONF_TOKEN: "nope", CONF_VERIFY_SSL: True},
    )
    assert result["errors"] == {CONF_TOKEN: "invalid_auth"}

    # A cleared token field on a token entry: the form says a token is needed here.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_URL: init_integration.data[CONF_URL], CONF_TOKEN: " ", CONF_VERIFY_SSL: True},
    )
    assert result["errors"] == {CONF_TOKEN: "token_required"}


async def test_reconfigure_onto_another_entry_aborts(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    other_dashboard: FakeDashboard,
) -> None:
    """Pointing an entry at a dashboard another entry already has is refused."""
    MockConfigEntry(
        domain=DOMAIN,
        unique_id=other_dashboard.url,
        data={CONF_URL: other_dashboard.url, CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: True},
    ).add_to_hass(hass)
    result = await init_integration.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_URL: other_dashboard.url, CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: True},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_options_change_threshold_and_tags(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    config_entry: MockConfigEntry,
    add_servers: object,
) -> None:
    """Tags offered are the dashboard's; saving reloads with the new threshold and filter."""
    add_servers(7, tag="Tokyo")  # type: ignore[operator]
    add_servers(8, tag="Home")  # type: ignore[operator]
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.127_0_0_1_servers").state == "4"

    result = await hass.config_entries.options.async_init(config_entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    schema = result["data_schema"].schema
    # Home Assistant's convention: the integration chooses its polling interval.
    assert set(schema) == {CONF_ONLINE_THRESHOLD, CONF_TAGS, CONF_FULL_DETAIL}
    tags = next(key for key in schema if key == CONF_TAGS)
    assert schema[tags].config["options"] == ["Home", "Tag1", "Tag2", "Tokyo"]

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_ONLINE_THRESHOLD: 45, CONF_TAGS: ["Tokyo"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert config_entry.options == {
        CONF_ONLINE_THRESHOLD: 45,
        CONF_TAGS: ["Tokyo"],
        CONF_FULL_DETAIL: [],
    }
    assert config_entry.runtime_data.coordinator.online_threshold == 45
    assert hass.states.get("sensor.127_0_0_1_servers").state == "1"

    # A chosen tag stays offered after it vanished from the dashboard.
    dashboard.servers[7].tag = "Osaka"
    result = await hass.config_entries.options.async_init(config_entry.entry_id)
    schema = result["data_schema"].schema
    tags = next(key for key in schema if key == CONF_TAGS)
    assert "Tokyo" in schema[tags].config["options"]


async def test_diagnostics_redact_secrets(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
) -> None:
    """Token, URL, names and addresses never leave in diagnostics."""
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    text = str(diagnostics)
    assert TOKEN not in text
    assert init_integration.data[CONF_URL] not in text
    assert "1.1.1.1" not in text
    assert diagnostics["entry"]["data"][CONF_TOKEN] == "**REDACTED**"
    assert diagnostics["flavor"]
    assert diagnostics["last_update_success"] is True
    assert len(diagnostics["servers"]) == 2
    assert {server["name"] for server in diagnostics["servers"]} == {"**REDACTED**"}


async def test_device_removal_only_when_server_gone(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    hass_ws_client: WebSocketGenerator,
    add_servers: object,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Users may delete a server's device only once the dashboard no longer lists it."""
    assert await async_setup_component(hass, "config", {})
    entry_id = init_integration.entry_id
    client = await hass_ws_client(hass)

    async def remove(device: dr.DeviceEntry) -> bool:
        await client.send_json_auto_id(
            {
                "type": "config/device_registry/remove_config_entry",
                "config_entry_id": entry_id,
                "device_id": device.id,
            }
        )
        return bool((await client.receive_json())["success"])

    hub = device_registry.async_get_device_by_identifier((DOMAIN, entry_id), entry_id)
    server1 = device_registry.async_get_device_by_identifier((DOMAIN, f"{entry_id}_1"), entry_id)
    assert hub is not None
    assert server1 is not None
    assert not await remove(hub)
    assert not await remove(server1)

    # A device of this entry whose server the dashboard no longer lists (e.g. left behind
    # while Home Assistant was stopped) may be deleted.
    stale = device_registry.async_get_or_create(
        config_entry_id=entry_id, identifiers={(DOMAIN, f"{entry_id}_99")}, name="gone"
    )
    assert await remove(stale)
    assert device_registry.async_get(stale.id) is None


async def test_server_leaves_and_comes_back_whole(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    freezer: FrozenDateTimeFactory,
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

    async def refresh() -> None:
        clock.now += 30
        dashboard.tick(30)
        freezer.tick(timedelta(seconds=30))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)

    dashboard.remove(7)
    await refresh()
    assert device_registry.async_get_device_by_identifier(identifier, entry_id) is None
    assert hass.states.get("sensor.hot_box_temperature") is None

    dashboard.add(server)
    await refresh()
    assert device_registry.async_get_device_by_identifier(identifier, entry_id) is not None
    assert hass.states.get("sensor.hot_box_temperature").state == "51.5"
    assert hass.states.get("binary_sensor.hot_box_online").state == "on"
