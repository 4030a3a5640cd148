"""Diagnostics: what a user attaches to a bug report, with secrets and identities redacted."""

from __future__ import annotations

from homeassistant.const import CONF_TOKEN, CONF_URL
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.nezha.diagnostics import async_get_config_entry_diagnostics
from fake_dashboard import FakeDashboard
from tests.helpers import GIB, TOKEN, V2_TOKEN, MakeEntry, SetupEntry


async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """The docs example's diagnostics, as a snapshot."""
    result = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    assert result == snapshot(exclude=props("created_at", "modified_at"))
    assert TOKEN not in str(result)
    assert "1.1.1.1" not in str(result)


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


async def test_diagnostics_redact_public_notes(
    hass: HomeAssistant, v2: FakeDashboard, make_entry: MakeEntry, setup_entry: SetupEntry
) -> None:
    """A server's public note is the user's free text (here billing data): it stays out."""
    v2.servers[1].public_note = '{"billingDataMod":{"amount":"$7.31 per month"}}'
    entry = make_entry(v2)
    await setup_entry(entry)
    assert entry.runtime_data.coordinator.data.servers[1].public_note.startswith("{")
    data = await async_get_config_entry_diagnostics(hass, entry)
    assert "per month" not in str(data)
    notes = {server["id"]: server["public_note"] for server in data["servers"]}
    # An empty note has nothing to hide (Home Assistant leaves empty values as they are).
    assert notes == {1: "**REDACTED**", 2: ""}


async def test_diagnostics_carry_services_without_names(
    hass: HomeAssistant,
    with_services: FakeDashboard,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
) -> None:
    """Service monitors and traffic cycles are there by id and figures, not by name."""
    entry = make_entry(with_services)
    await setup_entry(entry)
    data = await async_get_config_entry_diagnostics(hass, entry)
    text = repr(data)
    services = data["services"]
    assert services["last_update_success"] is True
    assert {item["id"] for item in services["services"]} == {3, 7}
    assert services["cycles"][0]["usage"][1]["transfer"] == 256 * GIB
    for secret in ("Blog HTTPS", "Monthly 1 TB", "Server1", with_services.url, V2_TOKEN):
        assert secret not in text
    if entry.data.get("password"):
        assert entry.data["password"] not in text
