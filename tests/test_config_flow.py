"""The config flow against the fake dashboards: setup per line, reauth, reconfigure, options."""

from __future__ import annotations

from collections.abc import AsyncGenerator
import json
from pathlib import Path
from typing import Any

from aiohttp import web
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_PASSWORD, CONF_TOKEN, CONF_URL, CONF_USERNAME, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nezha.const import (
    CONF_ALERTS,
    CONF_FLAVOR,
    CONF_FULL_DETAIL,
    CONF_ONLINE_THRESHOLD,
    CONF_TAGS,
    DOMAIN,
)
from fake_dashboard import FakeDashboard, make_server
from fake_dashboard.actions import ACTION_SCOPES
from fake_dashboard.server import SCOPE_INVENTORY, SCOPE_SERVICE
from tests.actions_support import (
    V2_TOKEN as ACTIONS_TOKEN,
    make_entry as make_actions_entry,
    set_up,
    start_dashboard as start_actions_dashboard,
)
from tests.helpers import (
    PASSWORD,
    TOKEN,
    TOTAL,
    USERNAME,
    V2_TOKEN,
    AddServers,
    Clock,
    MakeEntry,
    SetupEntry,
    load_fixture_json,
)


async def test_user_flow_creates_entry(hass: HomeAssistant, dashboard: FakeDashboard) -> None:
    """A v0 dashboard: URL and token, one check, an entry that loads."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_URL: dashboard.url.upper() + "/", CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: True},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "127.0.0.1"
    assert result["data"] == {
        CONF_URL: dashboard.url,
        CONF_TOKEN: TOKEN,
        CONF_VERIFY_SSL: True,
        CONF_FLAVOR: "v0",
    }
    assert result["result"].unique_id == dashboard.url
    # The check is one request, and the entry then loads.
    await hass.async_block_till_done()
    assert dashboard.requests["/api/v1/server/details"] == 2
    assert hass.states.get("binary_sensor.server1_online") is not None


def _http(status: int, text: str = "", **headers: str) -> web.Response:
    return web.Response(status=status, text=text, headers=headers)


@pytest.mark.parametrize(
    ("breakage", "url_suffix", "token", "error"),
    [
        pytest.param(None, "", "wrong-token", {CONF_TOKEN: "invalid_auth"}, id="wrong_token"),
        # Left empty, as a v1 dashboard wants it: a v0 dashboard says it needs a token.
        pytest.param(None, "", "", {CONF_TOKEN: "token_required"}, id="empty_token"),
        pytest.param("down", "", TOKEN, {CONF_URL: "cannot_connect"}, id="down"),
        pytest.param(
            lambda: _http(502, "<html>Bad Gateway</html>"),
            "",
            TOKEN,
            {CONF_URL: "cannot_connect"},
            id="proxy_502",
        ),
        pytest.param(
            lambda: _http(200, "<!DOCTYPE html><title>Login</title>"),
            "",
            TOKEN,
            {CONF_URL: "not_nezha"},
            id="login_page",
        ),
        pytest.param(None, "/some/page", TOKEN, {CONF_URL: "not_nezha"}, id="not_the_api"),
        pytest.param(
            lambda: web.json_response({"code": 500, "message": "内部错误"}),
            "",
            TOKEN,
            {"base": "unknown"},
            id="error_code",
        ),
    ],
)
async def test_user_flow_errors_then_recover(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    breakage: object,
    url_suffix: str,
    token: str,
    error: dict[str, str],
) -> None:
    """Each error is shown on the form, and the same form then succeeds."""
    if breakage == "down":
        await dashboard.go_down()
    elif callable(breakage):
        make_response = breakage

        async def hook(request: web.Request) -> web.StreamResponse:
            response: web.StreamResponse = make_response()
            return response

        dashboard.hook = hook

    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_URL: dashboard.url + url_suffix, CONF_TOKEN: token, CONF_VERIFY_SSL: True},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == error
    assert TOKEN not in str(result)

    await dashboard.come_back()
    dashboard.hook = None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: dashboard.url, CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize("url", ["nezha.example.com", "ftp://example.com", "http://u:p@host"])
async def test_invalid_url(hass: HomeAssistant, dashboard: FakeDashboard, url: str) -> None:
    """A URL that cannot be a dashboard's is refused before any request."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: url, CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: True}
    )
    assert result["errors"] == {CONF_URL: "invalid_url"}
    assert sum(dashboard.requests.values()) == 0

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: dashboard.url, CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_unexpected_exception_is_unknown(
    hass: HomeAssistant, dashboard: FakeDashboard, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug of ours shows as an unknown error on the form, which then still works."""

    async def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr("custom_components.nezha.config_flow.NezhaClient.async_get_servers", boom)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: dashboard.url, CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: True}
    )
    assert result["errors"] == {"base": "unknown"}
    monkeypatch.undo()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: dashboard.url, CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_same_dashboard_twice_aborts(
    hass: HomeAssistant, dashboard: FakeDashboard, config_entry: MockConfigEntry
) -> None:
    """The same dashboard, even written differently, is set up once."""
    config_entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_URL: f"{dashboard.url}/", CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: False},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


# --- v1 and v2 -------------------------------------------------------------------------------


async def test_v2_flow_creates_entry(hass: HomeAssistant, v2: FakeDashboard) -> None:
    """A v2 dashboard: its personal token (trimmed) is all it takes."""
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
    assert hass.states.get("binary_sensor.server1_online").state == "on"
    assert hass.states.get("binary_sensor.server2_online").state == "off"


async def test_v2_groups_in_options(
    hass: HomeAssistant, v2: FakeDashboard, make_entry: MakeEntry, setup_entry: SetupEntry
) -> None:
    """Groups are offered where v0 offers tags, and filter the same way."""
    entry = make_entry(v2)
    await setup_entry(entry)
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
        pytest.param("nzp_unknown", None, "invalid_auth", id="unknown"),
        pytest.param(
            "nzp_expired",
            {"scopes": frozenset({"nezha:inventory:read"}), "expires": 0.0},
            "token_expired",
            id="expired",
        ),
        pytest.param(
            "nzp_services",
            {"scopes": frozenset({SCOPE_SERVICE})},
            "missing_scope",
            id="no_inventory_scope",
        ),
        # v2 tells guests no version, but only v2 says whether its TSDB is on: a token is due.
        pytest.param("", None, "token_required", id="no_token"),
    ],
)
async def test_v2_flow_errors_and_recovery(
    hass: HomeAssistant,
    v2: FakeDashboard,
    token: str,
    setup: dict[str, Any] | None,
    error: str,
) -> None:
    """Each refused personal token is explained on the form; the right one then works."""
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


async def test_v1_flow_asks_for_login(hass: HomeAssistant, v1: FakeDashboard) -> None:
    """A v1 dashboard: a second step asks for the login; a wrong password is refused there."""
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


# --- reauthentication ------------------------------------------------------------------------


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


async def test_reauth_says_when_the_dashboard_is_unreachable(
    hass: HomeAssistant, dashboard: FakeDashboard, init_integration: MockConfigEntry
) -> None:
    """The reauth form has no URL field: a dashboard that cannot be reached is the form's error."""
    dashboard.tokens = {"new-token"}
    result = await init_integration.start_reauth_flow(hass)
    await dashboard.go_down()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: "new-token"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}

    await dashboard.come_back()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: "new-token"}
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.LOADED


async def test_v1_failed_login_starts_reauth(
    hass: HomeAssistant, v1: FakeDashboard, make_entry: MakeEntry
) -> None:
    """Only a refused login (not an expired session) asks the user to reauthenticate; the
    form asks for the login, not for a token v1 does not have."""
    v1.password = "changed-on-the-dashboard"
    entry = make_entry(v1)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]

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


# --- reconfiguration -------------------------------------------------------------------------


@pytest.fixture
async def moved_dashboard(clock: Clock, socket_enabled: None) -> AsyncGenerator[FakeDashboard]:
    """The same dashboard (same servers) at another address, under a sub-path."""
    fake = FakeDashboard(token=TOKEN, clock=clock, prefix="/nezha")
    fake.load_v0_example(load_fixture_json("v0_details_example.json"))
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def other_dashboard(clock: Clock, socket_enabled: None) -> AsyncGenerator[FakeDashboard]:
    """A second, unrelated dashboard: different servers, same token."""
    fake = FakeDashboard(token=TOKEN, clock=clock)
    fake.add(make_server(41, "elsewhere-1", now=clock.now), make_server(42, now=clock.now))
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
    """A URL whose servers share nothing with the entry's is another dashboard."""
    result = await init_integration.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_URL: other_dashboard.url, CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: True},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "different_dashboard"}


async def test_reconfigure_with_a_wrong_token(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The same dashboard with a token it refuses: said on the form."""
    result = await init_integration.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_URL: init_integration.data[CONF_URL], CONF_TOKEN: "nope", CONF_VERIFY_SSL: True},
    )
    assert result["errors"] == {CONF_TOKEN: "invalid_auth"}


async def test_reconfigure_with_an_empty_token(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A cleared token field on a token entry: the form says a token is needed here."""
    result = await init_integration.start_reconfigure_flow(hass)
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


async def test_v1_entry_reconfigure_keeps_the_login(
    hass: HomeAssistant, v1: FakeDashboard, make_entry: MakeEntry, setup_entry: SetupEntry
) -> None:
    """A v1 entry moves with its login."""
    entry = make_entry(v1)
    await setup_entry(entry)
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


async def test_token_entry_cannot_move_to_a_v1_dashboard(
    hass: HomeAssistant,
    v1: FakeDashboard,
    v2: FakeDashboard,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
) -> None:
    """A v1 dashboard cannot be reached with a token only: a login is due."""
    v2_entry = make_entry(v2)
    await setup_entry(v2_entry)
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


# --- options ---------------------------------------------------------------------------------


async def test_options_offer_the_dashboards_tags(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    add_servers: AddServers,
    setup_entry: SetupEntry,
) -> None:
    """The threshold, the dashboard's tags and full detail; no polling interval (Home
    Assistant's convention: the integration chooses it)."""
    add_servers(7, tag="Tokyo")
    add_servers(8, tag="Home")
    await setup_entry(config_entry)
    assert hass.states.get(TOTAL).state == "4"

    result = await hass.config_entries.options.async_init(config_entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    schema = result["data_schema"].schema
    assert set(schema) == {CONF_ONLINE_THRESHOLD, CONF_TAGS, CONF_FULL_DETAIL}
    tags = next(key for key in schema if key == CONF_TAGS)
    assert schema[tags].config["options"] == ["Home", "Tag1", "Tag2", "Tokyo"]


async def test_options_saved_reload_with_threshold_and_tags(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    add_servers: AddServers,
    setup_entry: SetupEntry,
) -> None:
    """Saving reloads the entry with the new threshold and only the chosen tag's servers."""
    add_servers(7, tag="Tokyo")
    add_servers(8, tag="Home")
    await setup_entry(config_entry)
    result = await hass.config_entries.options.async_init(config_entry.entry_id)
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
    assert hass.states.get(TOTAL).state == "1"


async def test_options_keep_a_chosen_tag_the_dashboard_dropped(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    config_entry: MockConfigEntry,
    add_servers: AddServers,
    setup_entry: SetupEntry,
) -> None:
    """A chosen tag stays offered after it vanished from the dashboard."""
    add_servers(7, tag="Tokyo")
    await setup_entry(config_entry)
    result = await hass.config_entries.options.async_init(config_entry.entry_id)
    await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_ONLINE_THRESHOLD: 45, CONF_TAGS: ["Tokyo"]}
    )
    await hass.async_block_till_done()

    dashboard.servers[7].tag = "Osaka"
    result = await hass.config_entries.options.async_init(config_entry.entry_id)
    schema = result["data_schema"].schema
    tags = next(key for key in schema if key == CONF_TAGS)
    assert "Tokyo" in schema[tags].config["options"]


@pytest.mark.parametrize(
    ("scopes", "down", "reason"),
    [
        pytest.param(frozenset({"nezha:cron:read"}), False, "alerts_scope", id="scope"),
        pytest.param(ACTION_SCOPES, True, "cannot_connect", id="unreachable"),
    ],
)
async def test_options_open_without_an_error_when_groups_cannot_be_read(
    hass: HomeAssistant,
    clock: Clock,
    socket_enabled: None,
    scopes: frozenset[str],
    down: bool,
    reason: str,
) -> None:
    """Only alerts need the groups: the form opens clean, says why in its description, saves
    the other options, and shows the error only when alerts are asked for."""
    fake = await start_actions_dashboard(clock, "v2", scopes=scopes)
    try:
        entry = make_actions_entry(fake)
        await set_up(hass, entry)
        if down:
            # A proxy in front of the dashboard fails the notification routes.
            async def bad_gateway(request: web.Request) -> web.StreamResponse | None:
                return web.Response(status=502) if "notification" in request.path else None

            fake.hook = bad_gateway
        english = json.loads(
            (Path(__file__).parents[1] / "custom_components/nezha/translations/en.json").read_text()
        )
        why = english["options"]["error"][reason]

        result = await hass.config_entries.options.async_init(entry.entry_id)
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {}
        assert result["description_placeholders"] == {"alerts_note": f"\n\n{why}"}

        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"online_threshold": 30, CONF_ALERTS: True}
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"base": reason}

        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"online_threshold": 45, CONF_ALERTS: False}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()
        assert entry.options["online_threshold"] == 45
        assert entry.options[CONF_ALERTS] is False

        # Groups readable again: no note.
        fake.hook = None
        fake.add_personal_token(
            ACTIONS_TOKEN, scopes=ACTION_SCOPES | {SCOPE_INVENTORY, SCOPE_SERVICE}
        )
        result = await hass.config_entries.options.async_init(entry.entry_id)
        assert result["description_placeholders"] == {"alerts_note": ""}
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await fake.stop()
