"""The config flow, against the fake dashboard."""

from __future__ import annotations

from aiohttp import web
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_TOKEN, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nezha.const import CONF_FLAVOR, DOMAIN
from fake_dashboard import FakeDashboard

from .conftest import TOKEN


async def test_user_flow_creates_entry(hass: HomeAssistant, dashboard: FakeDashboard) -> None:
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
        (None, "", "wrong-token", {CONF_TOKEN: "invalid_auth"}),
        # Left empty, as a v1 dashboard wants it: a v0 dashboard says it needs a token.
        (None, "", "", {CONF_TOKEN: "token_required"}),
        ("down", "", TOKEN, {CONF_URL: "cannot_connect"}),
        (lambda: _http(502, "<html>Bad Gateway</html>"), "", TOKEN, {CONF_URL: "cannot_connect"}),
        (
            lambda: _http(200, "<!DOCTYPE html><title>Login</title>"),
            "",
            TOKEN,
            {CONF_URL: "not_nezha"},
        ),
        (None, "/some/page", TOKEN, {CONF_URL: "not_nezha"}),
        (
            lambda: web.json_response({"code": 500, "message": "内部错误"}),
            "",
            TOKEN,
            {"base": "unknown"},
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
    config_entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_URL: f"{dashboard.url}/", CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: False},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
