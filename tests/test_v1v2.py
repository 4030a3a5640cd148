"""v1 and v2 dashboards: the same entities as v0, login and personal tokens, through HA."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from aiohttp import ClientSession
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_PASSWORD, CONF_TOKEN, CONF_URL, CONF_USERNAME, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nezha.api import (
    DashboardFlavor,
    NezhaAuthError,
    NezhaClient,
    NezhaMissingScopeError,
    NezhaResponseError,
    NezhaTokenExpiredError,
)
from custom_components.nezha.api.v1v2 import parse_time
from custom_components.nezha.const import CONF_FLAVOR, CONF_TAGS, DOMAIN
from fake_dashboard import FakeDashboard
from fake_dashboard.server import SCOPE_SERVICE

from .conftest import EXAMPLE_NOW, TOKEN, Clock, load_fixture_json, setup_entry

V2_TOKEN = "nzp_0123456789abcdefFAKEtoken"
USERNAME = "ha-reader"
PASSWORD = "correct horse battery staple"


async def _start(clock: Clock, flavor: str, **kwargs: Any) -> FakeDashboard:
    fake = FakeDashboard(
        token=V2_TOKEN if flavor == "v2" else TOKEN,
        clock=clock,
        flavor=flavor,
        username=USERNAME,
        password=PASSWORD,
        **kwargs,
    )
    fake.load_v0_example(load_fixture_json("v0_details_example.json"))
    # v1/v2 have server groups instead of tags; Server1 is in two.
    if flavor != "v0":
        fake.groups = {"Tag1": [1], "Edge": [1], "Tag2": [2], "Empty": []}
    await fake.start()
    return fake


@pytest.fixture
async def v2(clock: Clock, socket_enabled: None) -> AsyncGenerator[FakeDashboard]:
    """A v2 dashboard with the docs example's servers and a personal token."""
    fake = await _start(clock, "v2")
    yield fake
    await fake.stop()


@pytest.fixture
async def v1(clock: Clock, socket_enabled: None) -> AsyncGenerator[FakeDashboard]:
    """A v1 dashboard with the docs example's servers, read with a login."""
    fake = await _start(clock, "v1")
    yield fake
    await fake.stop()


@pytest.fixture
async def session() -> AsyncGenerator[ClientSession]:
    async with ClientSession() as client_session:
        yield client_session


def _entry(fake: FakeDashboard) -> MockConfigEntry:
    data: dict[str, Any] = {CONF_URL: fake.url, CONF_VERIFY_SSL: True, CONF_FLAVOR: fake.flavor}
    if fake.flavor == "v1":
        data |= {CONF_TOKEN: "", CONF_USERNAME: USERNAME, CONF_PASSWORD: PASSWORD}
    else:
        data[CONF_TOKEN] = next(iter(fake.tokens))
    return MockConfigEntry(domain=DOMAIN, title="127.0.0.1", unique_id=fake.url, data=data)


def _nezha_states(hass: HomeAssistant) -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        state.entity_id: (state.state, dict(state.attributes))
        for state in hass.states.async_all()
        if state.entity_id.split(".", 1)[1].startswith(("server", "127"))
    }


# --- parsing ------------------------------------------------------------------------------


def test_rfc3339_as_go_writes_it() -> None:
    nanos = parse_time("2025-01-10T12:00:00.123456789+08:00")
    assert nanos is not None
    assert nanos.isoformat() == "2025-01-10T04:00:00.123456+00:00"
    plain = parse_time("2025-01-10T04:00:00Z")
    assert plain is not None
    assert plain.isoformat() == "2025-01-10T04:00:00+00:00"
    assert parse_time("0001-01-01T00:00:00Z") is None
    assert parse_time("") is None
    with pytest.raises(NezhaResponseError):
        parse_time("10 Jan 2025")


@pytest.mark.parametrize("flavor", ["v1", "v2"])
async def test_same_models_as_v0(
    clock: Clock, session: ClientSession, socket_enabled: None, flavor: str
) -> None:
    """Every line yields the same servers from the same dashboard state."""
    v0_fake = await _start(clock, "v0")
    other = await _start(clock, flavor)
    try:
        v0_snapshot = await NezhaClient(session, v0_fake.url, TOKEN).async_get_servers()
        client = NezhaClient(
            session,
            other.url,
            V2_TOKEN if flavor == "v2" else "",
            username=USERNAME,
            password=PASSWORD,
        )
        snapshot = await client.async_get_servers()
    finally:
        await v0_fake.stop()
        await other.stop()
    assert snapshot.flavor is DashboardFlavor(flavor)
    assert v0_snapshot.flavor is DashboardFlavor.V0
    assert set(snapshot.servers) == {1, 2}
    for server_id, v0_server in v0_snapshot.servers.items():
        server = snapshot.servers[server_id]
        assert server.host == v0_server.host
        assert server.status == v0_server.status
        assert server.last_active == v0_server.last_active
        assert (server.name, server.ipv4, server.ipv6) == (
            v0_server.name,
            v0_server.ipv4,
            v0_server.ipv6,
        )
    # Groups take the place of the tag; a server may be in several.
    assert snapshot.servers[1].groups == ("Tag1", "Edge")
    assert snapshot.servers[1].tag == "Tag1"
    assert snapshot.tags == {"Tag1", "Edge", "Tag2"}
    # Never reported: zero time → None, offline.
    assert snapshot.servers[2].last_active is None


async def test_v2_omitempty_and_gpu_list(
    v2: FakeDashboard, session: ClientSession, clock: Clock
) -> None:
    """Absent keys read as zero; several GPUs give the busiest; id filter quirk handled."""
    server = v2.servers[1]
    server.status["CPU"] = 0
    server.status["GPU"] = 37.5
    server.ipv6 = ""
    client = NezhaClient(session, v2.url, V2_TOKEN)
    snapshot = await client.async_get_servers(ids=[1, 99])
    assert set(snapshot.servers) == {1}
    assert snapshot.servers[1].status.cpu == 0.0
    assert snapshot.servers[1].status.gpu == 37.5
    assert snapshot.servers[1].ipv6 == ""
    assert snapshot.servers[1].host.country_code == server.host["CountryCode"]
    # An id that matches nothing: the dashboard returns everything, the client filters.
    assert (await client.async_get_servers(ids=[99])).servers == {}
    # Groups are read once, not on every refresh.
    assert v2.requests["/api/v1/server-group"] == 1
    assert v2.requests["/api/v1/server"] == 2


@pytest.mark.parametrize(
    ("token", "setup", "error"),
    [
        ("nzp_unknown", None, NezhaAuthError),
        (
            "nzp_expired",
            {"scopes": frozenset({"nezha:inventory:read"}), "expires": 0.0},
            NezhaTokenExpiredError,
        ),
        ("nzp_services", {"scopes": frozenset({SCOPE_SERVICE})}, NezhaMissingScopeError),
    ],
)
async def test_v2_token_refusals(
    v2: FakeDashboard,
    session: ClientSession,
    token: str,
    setup: dict[str, Any] | None,
    error: type[Exception],
) -> None:
    if setup is not None:
        v2.add_personal_token(token, **setup)
    with pytest.raises(error) as caught:
        await NezhaClient(session, v2.url, token).async_get_servers()
    assert token not in str(caught.value)
    if error is NezhaMissingScopeError:
        assert isinstance(caught.value, NezhaMissingScopeError)
        assert caught.value.scope == "nezha:inventory:read"


async def test_v1_login_renewal_and_relogin(
    clock: Clock,
    freezer: FrozenDateTimeFactory,
    session: ClientSession,
    socket_enabled: None,
) -> None:
    """Renew before expiry; log in again when the session is refused; fail only on login."""
    fake = await _start(clock, "v1")
    try:
        client = NezhaClient(session, fake.url, username=USERNAME, password=PASSWORD)
        await client.async_get_servers()
        assert fake.logins == 1
        # 50 minutes later the one-hour session is still used as it is.
        freezer.tick(3000)
        await client.async_get_servers()
        assert fake.requests["/api/v1/refresh-token"] == 0
        # Five minutes before it expires it is renewed, without a new login.
        freezer.tick(301)
        clock.now += 3301
        await client.async_get_servers()
        assert fake.requests["/api/v1/refresh-token"] == 1
        assert fake.logins == 1
        freezer.tick(3400)
        # The dashboard forgot every session: renewal is refused, a new login follows.
        fake.expire_sessions()
        await client.async_get_servers()
        assert fake.logins == 2
        # The password changed: now it is an auth error.
        fake.password = "changed"
        fake.expire_sessions()
        with pytest.raises(NezhaAuthError) as caught:
            await client.async_get_servers()
        assert PASSWORD not in str(caught.value)
    finally:
        await fake.stop()


async def test_v1_refused_request_logs_in_again(v1: FakeDashboard, session: ClientSession) -> None:
    """A JWT the dashboard no longer accepts (HTTP 200 error body) leads to one new login."""
    client = NezhaClient(session, v1.url, username=USERNAME, password=PASSWORD)
    await client.async_get_servers()
    v1.expire_sessions()
    snapshot = await client.async_get_servers()
    assert v1.logins == 2
    assert set(snapshot.servers) == {1, 2}


async def test_v0_routes_gone_on_v2(v2: FakeDashboard, session: ClientSession) -> None:
    async with session.get(v2.url + "/api/v1/server/details") as response:
        assert response.status == 404
        assert await response.json() == {"error": "404 Not Found"}


# --- Home Assistant -----------------------------------------------------------------------


@pytest.mark.parametrize("flavor", ["v1", "v2"])
async def test_entities_identical_to_v0(
    hass: HomeAssistant, clock: Clock, socket_enabled: None, flavor: str
) -> None:
    """The user sees the same entities and states whichever line the dashboard runs."""
    v0_fake = await _start(clock, "v0")
    try:
        v0_entry = MockConfigEntry(
            domain=DOMAIN,
            title="127.0.0.1",
            unique_id=v0_fake.url,
            data={CONF_URL: v0_fake.url, CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: True},
        )
        await setup_entry(hass, v0_entry)
        v0_states = _nezha_states(hass)
        assert await hass.config_entries.async_remove(v0_entry.entry_id)
        await hass.async_block_till_done()
    finally:
        await v0_fake.stop()

    fake = await _start(clock, flavor)
    try:
        entry = _entry(fake)
        await setup_entry(hass, entry)
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


async def test_v2_flow_and_groups_in_options(hass: HomeAssistant, v2: FakeDashboard) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: v2.url, CONF_TOKEN: f" {V2_TOKEN} ", CONF_VERIFY_SSL: True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_URL: v2.url,
        CONF_TOKEN: V2_TOKEN,
        CONF_VERIFY_SSL: True,
        CONF_FLAVOR: "v2",
    }
    await hass.async_block_till_done()
    entry = result["result"]
    assert hass.states.get("binary_sensor.server1_online").state == "on"
    assert hass.states.get("binary_sensor.server2_online").state == "off"

    # Groups are offered where v0 offers tags, and filter the same way.
    options = await hass.config_entries.options.async_init(entry.entry_id)
    schema = options["data_schema"].schema
    tag_key = next(key for key in schema if key == CONF_TAGS)
    assert schema[tag_key].config["options"] == ["Edge", "Tag1", "Tag2"]
    options = await hass.config_entries.options.async_configure(
        options["flow_id"], {"online_threshold": 30, CONF_TAGS: ["Tag2"]}
    )
    await hass.async_block_till_done()
    assert entry.runtime_data.coordinator.data.servers.keys() == {2}


@pytest.mark.parametrize(
    ("token", "setup", "error"),
    [
        ("nzp_unknown", None, "invalid_auth"),
        (
            "nzp_expired",
            {"scopes": frozenset({"nezha:inventory:read"}), "expires": 0.0},
            "token_expired",
        ),
        ("nzp_services", {"scopes": frozenset({SCOPE_SERVICE})}, "missing_scope"),
        # v2 tells guests no version, but only v2 says whether its TSDB is on: a token is due.
        ("", None, "token_required"),
    ],
)
async def test_v2_flow_errors_and_recovery(
    hass: HomeAssistant,
    v2: FakeDashboard,
    token: str,
    setup: dict[str, Any] | None,
    error: str,
) -> None:
    if setup is not None:
        v2.add_personal_token(token, **setup)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: v2.url, CONF_TOKEN: token, CONF_VERIFY_SSL: True}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_TOKEN: error}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: v2.url, CONF_TOKEN: V2_TOKEN, CONF_VERIFY_SSL: True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_v1_entry_keeps_working_once_the_dashboard_runs_v2(
    hass: HomeAssistant, v2: FakeDashboard, clock: Clock, freezer: FrozenDateTimeFactory
) -> None:
    """An entry set up with a v1 login, the dashboard since upgraded to v2 (which accepts the
    login too): v2 renews sessions only for browsers (its GET refresh-token is not found), so
    the session is renewed by logging in again rather than failing every hour."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="127.0.0.1",
        unique_id=v2.url,
        data={
            CONF_URL: v2.url,
            CONF_VERIFY_SSL: True,
            CONF_FLAVOR: "v1",
            CONF_TOKEN: "",
            CONF_USERNAME: USERNAME,
            CONF_PASSWORD: PASSWORD,
        },
    )
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    coordinator = entry.runtime_data.coordinator
    logins = v2.logins

    # An hour later the session is due for renewal.
    freezer.tick(3600)
    clock.now += 3600
    v2.heartbeat()
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    assert v2.requests["/api/v1/refresh-token"] == 1
    assert v2.logins == logins + 1
    assert hass.states.get("sensor.server1_cpu_usage").state == "17.33"
    assert not hass.config_entries.flow.async_progress()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_v1_flow_asks_for_login(hass: HomeAssistant, v1: FakeDashboard) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: v1.url + "/", CONF_VERIFY_SSL: True}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "login"
    assert result["description_placeholders"] == {"url": v1.url}
    assert v1.logins == 0

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: USERNAME, CONF_PASSWORD: "wrong"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: USERNAME, CONF_PASSWORD: PASSWORD}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_URL: v1.url,
        CONF_TOKEN: "",
        CONF_VERIFY_SSL: True,
        CONF_USERNAME: USERNAME,
        CONF_PASSWORD: PASSWORD,
        CONF_FLAVOR: "v1",
    }
    await hass.async_block_till_done()
    assert hass.states.get("sensor.server1_cpu_usage").state == "17.33"


async def test_v1_failed_login_starts_reauth(hass: HomeAssistant, v1: FakeDashboard) -> None:
    """Only a refused login (not an expired session) asks the user to reauthenticate."""
    v1.password = "changed-on-the-dashboard"
    entry = _entry(v1)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]

    # The reauth form asks for the login, not for a token v1 does not have.
    flow_id = flows[0]["flow_id"]
    result = await hass.config_entries.flow.async_configure(flow_id)
    assert result["step_id"] == "reauth_login"
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_USERNAME: USERNAME, CONF_PASSWORD: PASSWORD}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_USERNAME: USERNAME, CONF_PASSWORD: "changed-on-the-dashboard"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_PASSWORD] == "changed-on-the-dashboard"
    assert entry.data[CONF_TOKEN] == ""


async def test_v1_entry_reconfigure_keeps_the_login(
    hass: HomeAssistant, v1: FakeDashboard, v2: FakeDashboard
) -> None:
    """A v1 entry moves with its login; a v1 dashboard cannot be reached with a token only."""
    entry = _entry(v1)
    await setup_entry(hass, entry)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: f" {v1.url}/ ", CONF_VERIFY_SSL: True}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data[CONF_URL] == v1.url
    assert entry.data[CONF_USERNAME] == USERNAME
    assert entry.data[CONF_PASSWORD] == PASSWORD
    assert entry.state is ConfigEntryState.LOADED

    v2_entry = _entry(v2)
    await setup_entry(hass, v2_entry)
    result = await v2_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: v1.url, CONF_TOKEN: "", CONF_VERIFY_SSL: True}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "login_required"}
    # v1 shows guests no version, so a personal token is tried, and v1 does not know it.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: v1.url, CONF_TOKEN: V2_TOKEN, CONF_VERIFY_SSL: True}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_TOKEN: "invalid_auth"}


async def test_dashboard_clock_drives_online_on_v2(
    hass: HomeAssistant, v2: FakeDashboard, clock: Clock
) -> None:
    entry = _entry(v2)
    await setup_entry(hass, entry)
    assert hass.states.get("binary_sensor.server1_online").state == "on"
    assert clock.now == EXAMPLE_NOW
