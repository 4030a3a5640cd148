"""Fixtures: a real fake dashboard on loopback and a config entry pointing at it."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
import json
from pathlib import Path
from typing import Any
from unittest.mock import PropertyMock, patch

from homeassistant.const import CONF_TOKEN, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nezha.const import DOMAIN
from fake_dashboard import FakeDashboard, make_server

FIXTURES = Path(__file__).parent / "fixtures"
TOKEN = "s3cr3t-T0ken-for-tests"
# The Date the docs example was taken at: Server1 reported two seconds earlier.
EXAMPLE_NOW = 1653015044.0


def load_fixture_json(name: str) -> Any:
    """A JSON file from tests/fixtures."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom_components/ in every test."""


class Clock:
    """The dashboard's wall clock, set by tests."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    """Dashboard clock, starting at the docs example's time."""
    return Clock(EXAMPLE_NOW)


@pytest.fixture
async def dashboard(clock: Clock, socket_enabled: None) -> AsyncGenerator[FakeDashboard]:
    """A fake v0 dashboard on loopback serving the docs page's example servers."""
    fake = FakeDashboard(token=TOKEN, clock=clock)
    fake.load_v0_example(load_fixture_json("v0_details_example.json"))
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def add_servers(dashboard: FakeDashboard, clock: Clock) -> Any:
    """Add generated servers to the dashboard."""

    def _add(*ids: int, **kwargs: Any) -> None:
        for server_id in ids:
            dashboard.add(make_server(server_id, now=clock.now, **kwargs))

    return _add


@pytest.fixture
def config_entry(dashboard: FakeDashboard) -> MockConfigEntry:
    """A config entry for the fake dashboard."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="127.0.0.1",
        unique_id=dashboard.url,
        data={CONF_URL: dashboard.url, CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: True},
        entry_id="01JNEZHAENTRY0000000000000",
        minor_version=2,
    )


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add the entry and set it up."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


@pytest.fixture
async def init_integration(hass: HomeAssistant, config_entry: MockConfigEntry) -> MockConfigEntry:
    """The integration, set up against the fake dashboard."""
    await setup_entry(hass, config_entry)
    return config_entry


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Enable the entities that are disabled by default."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
        new_callable=PropertyMock,
    ):
        yield


@pytest.fixture(autouse=True)
def no_deprecation_logged(caplog: pytest.LogCaptureFixture) -> Generator[None]:
    """Fail a test in which Home Assistant reports a deprecated use by this integration."""
    yield
    reports = [
        record.getMessage()
        for record in caplog.get_records("call")
        if "deprecat" in record.getMessage().lower() and "nezha" in record.getMessage()
    ]
    assert not reports
