"""Fixtures: real fake dashboards on loopback, config entries for them, Home Assistant's clock.

Plain helpers (credentials, dashboard starters, captures, waiting) are in tests/helpers.py;
here is what a test requests by name. The dashboards' fixtures need no Home Assistant and
serve the library tests in tests/api too; this module imports Home Assistant for the rest.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from contextlib import nullcontext
from datetime import timedelta
from typing import Any
from unittest.mock import PropertyMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_TOKEN, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.nezha.const import DOMAIN, SERVICES_SCAN_INTERVAL
from fake_dashboard import FakeDashboard, make_server

from .helpers import (
    EXAMPLE_NOW,
    TOKEN,
    AddServers,
    Clock,
    MakeEntry,
    Refresh,
    SetupEntry,
    StopDashboard,
    add_services,
    entry_data,
    start_dashboard,
)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom_components/ in every test."""


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


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Every snapshot with Home Assistant's serializer, in tests/snapshots/.

    The Home Assistant test plugin overrides syrupy's fixture the same way, but syrupy's own
    plugin wins over it, so the override is made here where it takes precedence.
    """
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


# --- dashboards ------------------------------------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    """Dashboard clock, starting at the docs example's time."""
    return Clock(EXAMPLE_NOW)


@pytest.fixture
def stop_dashboard(request: pytest.FixtureRequest) -> StopDashboard:
    """Stop a fake dashboard; in a test with Home Assistant, unload the integration first.

    A loaded v1/v2 entry asks the dashboard at once when its stream closes: stopping the
    dashboard under it would race that request against the closing listener.
    """
    hass: HomeAssistant | None = (
        request.getfixturevalue("hass") if "hass" in request.fixturenames else None
    )

    async def _stop(fake: FakeDashboard) -> None:
        if hass is not None:
            for entry in hass.config_entries.async_entries(DOMAIN):
                if entry.state is ConfigEntryState.LOADED:
                    await hass.config_entries.async_unload(entry.entry_id)
        await fake.stop()

    return _stop


@pytest.fixture
async def dashboard(clock: Clock, socket_enabled: None) -> AsyncGenerator[FakeDashboard]:
    """A fake v0 dashboard on loopback serving the docs page's example servers."""
    fake = await start_dashboard(clock, "v0")
    yield fake
    await fake.stop()


@pytest.fixture
async def v1(
    clock: Clock, socket_enabled: None, stop_dashboard: StopDashboard
) -> AsyncGenerator[FakeDashboard]:
    """A v1 dashboard with the docs example's servers, read with a login."""
    fake = await start_dashboard(clock, "v1")
    yield fake
    await stop_dashboard(fake)


@pytest.fixture
async def v2(
    clock: Clock, socket_enabled: None, stop_dashboard: StopDashboard
) -> AsyncGenerator[FakeDashboard]:
    """A v2 dashboard with the docs example's servers and a personal token."""
    fake = await start_dashboard(clock, "v2")
    yield fake
    await stop_dashboard(fake)


@pytest.fixture(params=["v1", "v2"])
async def with_services(
    request: pytest.FixtureRequest,
    clock: Clock,
    socket_enabled: None,
    stop_dashboard: StopDashboard,
) -> AsyncGenerator[FakeDashboard]:
    """A v1, then a v2 dashboard with service monitors and traffic cycles, its stream off."""
    fake = await start_dashboard(clock, request.param)
    fake.stream_enabled = False
    add_services(fake)
    yield fake
    await stop_dashboard(fake)


@pytest.fixture
def add_servers(dashboard: FakeDashboard, clock: Clock) -> AddServers:
    """Add generated servers to the dashboard."""

    def _add(*ids: int, **kwargs: Any) -> None:
        for server_id in ids:
            dashboard.add(make_server(server_id, now=clock.now, **kwargs))

    return _add


# --- config entries --------------------------------------------------------------------------


@pytest.fixture
def config_entry(dashboard: FakeDashboard) -> MockConfigEntry:
    """A config entry for the fake v0 dashboard, with a fixed id (the snapshots name it)."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="127.0.0.1",
        unique_id=dashboard.url,
        data={CONF_URL: dashboard.url, CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: True},
        entry_id="01JNEZHAENTRY0000000000000",
        minor_version=2,
    )


@pytest.fixture
def make_entry() -> MakeEntry:
    """Build a config entry for any fake dashboard, with its line's credentials."""

    def _make(fake: FakeDashboard) -> MockConfigEntry:
        return MockConfigEntry(
            domain=DOMAIN, title="127.0.0.1", unique_id=fake.url, data=entry_data(fake)
        )

    return _make


@pytest.fixture
def setup_entry(hass: HomeAssistant) -> SetupEntry:
    """Add an entry to Home Assistant and set it up."""

    async def _setup(entry: MockConfigEntry) -> None:
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()

    return _setup


@pytest.fixture
async def init_integration(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_entry: SetupEntry,
    request: pytest.FixtureRequest,
) -> MockConfigEntry:
    """The integration, set up against the fake v0 dashboard.

    Parametrized indirectly with a platform, only that platform is set up.
    """
    platform = getattr(request, "param", None)
    only = (
        nullcontext()
        if platform is None
        else patch("custom_components.nezha.PLATFORMS", [platform])
    )
    with only:
        await setup_entry(config_entry)
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


# --- Home Assistant's clock ------------------------------------------------------------------


@pytest.fixture
def refresh(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> Refresh:
    """Move Home Assistant's clock (30 s: one poll) and wait for what that set off.

    Interval refreshes run as background tasks doing real HTTP: they are waited for too.
    """

    async def _refresh(seconds: float = 30) -> None:
        freezer.tick(timedelta(seconds=seconds))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)

    return _refresh


@pytest.fixture
def services_refresh(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> Refresh:
    """Move time past the service cadence and wait until that refresh has been handled.

    The refresh runs as a background task, and so does the stream, which never ends; so wait
    for the coordinator to tell its listeners instead of for every background task.
    """

    async def _refresh() -> None:
        entry = hass.config_entries.async_entries(DOMAIN)[0]
        services = entry.runtime_data.services
        assert services is not None
        done = hass.loop.create_future()
        unsubscribe = services.async_add_listener(lambda: done.done() or done.set_result(None))
        try:
            freezer.tick(SERVICES_SCAN_INTERVAL + timedelta(seconds=1))
            async_fire_time_changed(hass)
            await done
        finally:
            unsubscribe()
        await hass.async_block_till_done()

    return _refresh
