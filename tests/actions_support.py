"""Shared by the tests of scheduled tasks and alerts: dashboards with the scopes they need.

Beside ``tests/helpers.py`` because it needs Home Assistant, which the library tests'
helpers must not import.
"""

from __future__ import annotations

from typing import Any

from homeassistant.const import CONF_PASSWORD, CONF_TOKEN, CONF_URL, CONF_USERNAME, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nezha.const import CONF_FLAVOR, DOMAIN
from fake_dashboard import FakeDashboard
from fake_dashboard.actions import ACTION_SCOPES
from fake_dashboard.server import SCOPE_INVENTORY, SCOPE_SERVICE
from tests.helpers import Clock, load_fixture_json

V2_TOKEN = "nzp_0123456789abcdefACTIONStoken"
USERNAME = "ha-operator"
PASSWORD = "correct horse battery staple"
ENTRY_ID = "01JNEZHAACTIONS00000000000"


async def start_dashboard(
    clock: Clock, flavor: str, *, scopes: frozenset[str] = ACTION_SCOPES, **kwargs: Any
) -> FakeDashboard:
    """A v1/v2 dashboard with the docs example's servers; v2's token has ``scopes`` too."""
    fake = FakeDashboard(
        token=V2_TOKEN, clock=clock, flavor=flavor, username=USERNAME, password=PASSWORD, **kwargs
    )
    fake.load_v0_example(load_fixture_json("v0_details_example.json"))
    if flavor == "v2":
        fake.add_personal_token(
            V2_TOKEN, scopes=frozenset({SCOPE_INVENTORY, SCOPE_SERVICE}) | scopes
        )
    await fake.start()
    return fake


def make_entry(fake: FakeDashboard, **options: Any) -> MockConfigEntry:
    """An entry for the fake (a login on v1, the personal token on v2)."""
    data: dict[str, Any] = {CONF_URL: fake.url, CONF_VERIFY_SSL: True, CONF_FLAVOR: fake.flavor}
    if fake.flavor == "v1":
        data |= {CONF_TOKEN: "", CONF_USERNAME: USERNAME, CONF_PASSWORD: PASSWORD}
    else:
        data[CONF_TOKEN] = V2_TOKEN
    return MockConfigEntry(
        domain=DOMAIN,
        title="127.0.0.1",
        unique_id=fake.url,
        data=data,
        options=options,
        entry_id=ENTRY_ID,
        minor_version=2,
    )


def entity_id(hass: HomeAssistant, platform: str, unique_id: str) -> str | None:
    """The entity id registered for a unique id, if any."""
    return er.async_get(hass).async_get_entity_id(platform, DOMAIN, unique_id)


async def set_up(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add the entry and set it up."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
