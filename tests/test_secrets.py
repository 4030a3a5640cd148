"""Secrets and input hygiene: credentials never leak, nothing from the dashboard is trusted.

The credential of each dashboard line is followed through everything a user could paste into
a bug report: DEBUG logs, exceptions, request URLs, diagnostics, both registries, the config
entry's title, and the states.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
import json
import logging
from typing import Any

from aiohttp import web
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import (
    CONF_PASSWORD,
    CONF_TOKEN,
    CONF_URL,
    CONF_USERNAME,
    CONF_VERIFY_SSL,
)
from homeassistant.core import HomeAssistant, valid_entity_id
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.nezha.config_flow import FIRST_STEP_SCHEMA
from custom_components.nezha.const import DOMAIN
from fake_dashboard import FakeDashboard, make_server
from tests.helpers import TOKEN, Clock, load_fixture_json

V2_TOKEN = "nzp_SECRETv2personalTOKEN0123456789"
V1_PASSWORD = "pa55-SECRET-v1-login"


@pytest.fixture(params=["v0", "v1", "v2"])
async def fake(
    request: pytest.FixtureRequest, clock: Clock, socket_enabled: None
) -> AsyncGenerator[FakeDashboard]:
    flavor: str = request.param
    dashboard = FakeDashboard(
        token=V2_TOKEN if flavor == "v2" else TOKEN,
        clock=clock,
        flavor=flavor,
        username="reader",
        password=V1_PASSWORD,
    )
    dashboard.load_v0_example(load_fixture_json("v0_details_example.json"))
    dashboard.stream_enabled = False
    await dashboard.start()
    yield dashboard
    await dashboard.stop()


def _secret(fake: FakeDashboard) -> str:
    return {"v0": TOKEN, "v1": V1_PASSWORD, "v2": V2_TOKEN}[fake.flavor]


def _exception_chain(err: BaseException | None) -> list[str]:
    texts: list[str] = []
    while err is not None:
        texts += [str(err), repr(err), repr(err.args)]
        err = err.__cause__ or err.__context__
    return texts


async def test_secret_never_leaks(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    fake: FakeDashboard,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Through a wrong attempt, setup, refreshes, faults and a refusal: the secret stays out."""
    caplog.set_level(logging.DEBUG)
    secret = _secret(fake)
    urls: list[str] = []

    async def record(request: web.Request) -> None:
        urls.append(str(request.url))

    fake.hook = record
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    first = {CONF_URL: fake.url, CONF_TOKEN: "", CONF_VERIFY_SSL: True}
    if fake.flavor != "v1":
        # A wrong credential first: its error must not echo either one.
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {**first, CONF_TOKEN: secret[:-1]}
        )
        assert result["errors"]
        first[CONF_TOKEN] = secret
    result = await hass.config_entries.flow.async_configure(result["flow_id"], first)
    if fake.flavor == "v1":
        assert result["step_id"] == "login"
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_USERNAME: "reader", CONF_PASSWORD: secret[:-1]}
        )
        assert result["errors"] == {"base": "invalid_auth"}
        assert secret[:-1] not in str(result)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_USERNAME: "reader", CONF_PASSWORD: secret}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    coordinator = entry.runtime_data.coordinator

    exceptions: list[str] = []
    for fault in (
        # 500, not a proxy's 502: that one is an outage, passed over quietly for 10 s.
        web.Response(status=500, text="<html>Internal Server Error</html>"),
        web.json_response({"code": 0, "result": [{"id": 1, "status": {"CPU": "x"}}]}),
        web.json_response({"success": False, "error": "boom"}),
    ):

        async def broken(request: web.Request, fault: web.Response = fault) -> web.Response:
            urls.append(str(request.url))
            return fault

        fake.hook = broken
        await coordinator.async_refresh()
        assert not coordinator.last_update_success
        exceptions += _exception_chain(coordinator.last_exception)
    fake.hook = record
    await coordinator.async_refresh()
    assert coordinator.last_update_success

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)

    # Revoked: the refusal and the reauth flow it starts keep the secret out too.
    fake.tokens.clear()
    fake.personal_tokens.clear()
    fake.password = "changed"
    fake.expire_sessions()
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    exceptions += _exception_chain(coordinator.last_exception)
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]

    entities = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert entities
    places = {
        "logs": caplog.text,
        "log args": repr([record.args for record in caplog.records]),
        "exceptions": "\n".join(exceptions),
        "urls": "\n".join(urls),
        "diagnostics": json.dumps(diagnostics, default=str),
        "entity registry": repr(entities),
        "device registry": repr(devices),
        "title": entry.title,
        "unique id": str(entry.unique_id),
        "states": repr([state.as_dict() for state in hass.states.async_all()]),
        "flows": repr(flows),
    }
    assert urls
    assert "DEBUG" in caplog.text
    leaks = [place for place, text in places.items() if secret in text]
    assert leaks == []
    assert "**REDACTED**" in json.dumps(diagnostics)


def test_tls_verification_on_by_default() -> None:
    """The form that takes a URL (setup and reconfigure) offers certificate checking on."""
    marker = next(key for key in FIRST_STEP_SCHEMA.schema if key == CONF_VERIFY_SSL)
    assert marker.default() is True
    assert FIRST_STEP_SCHEMA({CONF_URL: "https://example.com", CONF_TOKEN: "t"})[CONF_VERIFY_SSL]


HOSTILE_NAMES = {
    11: "<script>alert('x')</script>",
    12: '<img src=x onerror="alert(1)">',
    13: "../../etc/passwd",
    14: "a/b\\c",
    15: "🔥 服务器 🚀",
    16: "x" * 600,
    17: "   ",
    18: "sensor.server1_cpu_usage",
    19: "Server1",  # a duplicate of the example's name
    20: "{{ states('sensor.secret') }}",
    21: "\u202eevil\u0000null",
}


async def test_hostile_server_names(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    clock: Clock,
    config_entry: Any,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """Names are shown as plain text; entity ids stay valid slugs; unique ids come from ids."""
    for server_id, name in HOSTILE_NAMES.items():
        dashboard.add(make_server(server_id, name, now=clock.now, tag="<b>tag</b>"))
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.LOADED

    entities = er.async_entries_for_config_entry(entity_registry, config_entry.entry_id)
    unique_ids = [entity.unique_id for entity in entities]
    assert len(unique_ids) == len(set(unique_ids))
    entity_ids = [entity.entity_id for entity in entities]
    assert len(entity_ids) == len(set(entity_ids))
    for entity in entities:
        assert valid_entity_id(entity.entity_id), entity.entity_id
        assert len(entity.entity_id) <= 255
        assert entity.unique_id.startswith(f"{config_entry.entry_id}_")
        # The server part of a unique id is its numeric id, never a name.
        parts = entity.unique_id.removeprefix(f"{config_entry.entry_id}_").split("_", 1)
        if entity.device_id != _hub(device_registry, config_entry).id:
            assert parts[0].isdecimal()
    # Both "Server1"s have their own entities; the lower server id gets the plain entity id,
    # whatever order the dashboard listed them in.
    assert entity_registry.async_get("sensor.server1_cpu_usage").unique_id.endswith("_1_cpu")

    for server_id, name in HOSTILE_NAMES.items():
        device = device_registry.async_get_device_by_identifier(
            (DOMAIN, f"{config_entry.entry_id}_{server_id}"), config_entry.entry_id
        )
        assert device is not None
        # Kept as the dashboard wrote it (the frontend renders text, never markup)…
        if name.strip():
            assert device.name == name
        # …and it reaches no URL.
        assert device.configuration_url == f"{dashboard.url}/server/{server_id}"


def _hub(device_registry: dr.DeviceRegistry, entry: Any) -> dr.DeviceEntry:
    hub = device_registry.async_get_device_by_identifier((DOMAIN, entry.entry_id), entry.entry_id)
    assert hub is not None
    return hub


@pytest.mark.parametrize("token", ["abc\ndef", "abc\r\nX-Injected: 1", "a\x00b", "tab\there"])
async def test_token_with_control_characters(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    caplog: pytest.LogCaptureFixture,
    token: str,
) -> None:
    """A token that no HTTP header can carry is refused as a wrong token, not a crash, and
    never reaches the dashboard (no header injection)."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: dashboard.url, CONF_TOKEN: token, CONF_VERIFY_SSL: True}
    )
    assert result["errors"] == {CONF_TOKEN: "invalid_auth"}
    assert "Traceback" not in caplog.text
    assert dashboard.requests["/api/v1/server/details"] == 0
