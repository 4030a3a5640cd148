"""Repairs raised by the coordinator, and cleared once the cause is gone."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nezha.const import CONF_TAGS, DOMAIN
from fake_dashboard import FakeDashboard
from fake_dashboard.server import SCOPE_INVENTORY, PersonalToken
from tests.helpers import V2_TOKEN, Clock, MakeEntry, SetupEntry, add_services


async def test_clock_skew_repair(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    clock: Clock,
) -> None:
    """The fake runs on the docs example's 2022 clock: far from ours."""
    issue_id = f"clock_skew_{init_integration.entry_id}"
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "clock_skew"
    clock.now = dt_util.utcnow().timestamp()
    await init_integration.runtime_data.coordinator.async_refresh()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_tags_not_found_repair(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    config_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    setup_entry: SetupEntry,
) -> None:
    """The chosen tag is on no server: a repair says so, until a server carries it again."""
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(config_entry, options={CONF_TAGS: ["Gone"]})
    await setup_entry(config_entry)
    issue_id = f"tags_not_found_{config_entry.entry_id}"
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None
    assert hass.states.get("sensor.server1_cpu_usage") is None

    dashboard.servers[1].tag = "Gone"
    await config_entry.runtime_data.coordinator.async_refresh()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None

    assert await hass.config_entries.async_unload(config_entry.entry_id)


async def test_token_without_service_scope(
    hass: HomeAssistant,
    v2: FakeDashboard,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Servers load; a repair explains the missing scope, and clears once it is granted."""
    add_services(v2)
    v2.personal_tokens[V2_TOKEN] = PersonalToken(scopes=frozenset({SCOPE_INVENTORY}))
    entry = make_entry(v2)
    await setup_entry(entry)
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get("binary_sensor.server1_online") is not None
    assert hass.states.get("binary_sensor.blog_https_up") is None
    issue_id = f"service_scope_{entry.entry_id}"
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None

    v2.personal_tokens[V2_TOKEN] = PersonalToken()
    coordinator = entry.runtime_data.services
    assert coordinator is not None
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    assert hass.states.get("binary_sensor.blog_https_up").state == "on"
