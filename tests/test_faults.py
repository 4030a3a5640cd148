"""Faults of the dashboard and of what stands in front of it, as the user sees them.

Every case checks what shows in Home Assistant while it lasts (entities unavailable, a form
error, a config entry state), that it is logged once and its end once, and that the
integration recovers by itself with the same entities: no new ids, no duplicates.
"""

from __future__ import annotations

import asyncio
import asyncio.sslproto
from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
import ipaddress
import json
import logging
from pathlib import Path
import ssl
import time
from typing import Any

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import (
    CONF_TOKEN,
    CONF_URL,
    CONF_VERIFY_SSL,
    EVENT_STATE_CHANGED,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.nezha.api import client as client_module
from custom_components.nezha.const import DOMAIN, DOWN_RETRY, OUTAGE_GRACE
from fake_dashboard import FakeDashboard
from tests.helpers import (
    CPU,
    DETAILS,
    ONLINE,
    SERVER,
    STREAM,
    TOKEN,
    TOTAL,
    Clock,
    MakeEntry,
    Refresh,
    SetupEntry,
    add_services,
    load_fixture_json,
    logged,
    logged_problems,
    start_dashboard,
    wait_for,
)

type Hook = Callable[[web.Request], Awaitable[web.StreamResponse | None]]


def _registries(hass: HomeAssistant, entry: MockConfigEntry) -> tuple[list[str], list[str]]:
    """Entity ids and device ids of the entry, sorted (duplicates would show twice)."""
    entities = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    unique_ids = [entity.unique_id for entity in entities]
    assert len(unique_ids) == len(set(unique_ids))
    return sorted(entity.entity_id for entity in entities), sorted(d.id for d in devices)


def _states(hass: HomeAssistant, entity_ids: list[str]) -> dict[str, str]:
    """States of the enabled entities (those disabled by default have none)."""
    return {
        entity_id: state.state
        for entity_id in entity_ids
        if (state := hass.states.get(entity_id)) is not None
    }


def _answer(body: bytes | str, status: int = 200, **headers: str) -> Hook:
    content_type = "text/html" if isinstance(body, str) else "application/json"

    async def hook(request: web.Request) -> web.Response:
        if isinstance(body, str):
            return web.Response(
                text=body, status=status, headers=headers, content_type=content_type
            )
        return web.Response(body=body, status=status, headers=headers, content_type=content_type)

    return hook


def _v0(payload: Any, clock: Clock | None = None) -> Hook:
    """A v0 answer; with ``clock``, dated like the dashboard's own (online is judged on it)."""
    if clock is None:
        return _answer(json.dumps(payload).encode())
    return _answer(json.dumps(payload).encode(), Date=formatdate(clock(), usegmt=True))


BAD_GATEWAY = (
    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1>"
    "</center><hr><center>nginx</center></body></html>"
)
TEN_MB = 10 * 1024 * 1024


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        pytest.param(
            _answer(BAD_GATEWAY, status=502),
            "Cannot reach the Nezha dashboard: the dashboard answered HTTP 502",
            id="proxy_502_html",
        ),
        pytest.param(
            _answer("", status=302, Location="/login?next=/api/v1/server/details"),
            "redirects elsewhere (HTTP 302), e.g. to a login page",
            id="redirect_to_login",
        ),
        pytest.param(
            _answer("<!DOCTYPE html><title>Sign in</title>"),
            "the URL serves an HTML page, not the Nezha API",
            id="login_page_200",
        ),
        pytest.param(
            _v0({"code": 0, "result": [{"id": 1, "status": {"CPU": "17.33"}}]}),
            "field 'CPU' is not a number",
            id="string_for_number",
        ),
        pytest.param(
            _v0({"code": 0, "result": [{"id": 1, "host": "x86"}]}),
            "field 'host' is not an object",
            id="string_for_object",
        ),
        pytest.param(
            _v0({"code": 0, "result": [{"name": "no id"}]}),
            "server without a valid id",
            id="missing_id",
        ),
        pytest.param(
            _v0({"code": 0, "result": {"1": {"id": 1}}}),
            "'result' is not a list of servers",
            id="object_for_list",
        ),
        pytest.param(_v0([1, 2, 3]), "not a Nezha API envelope", id="list_for_envelope"),
        pytest.param(_v0(None), "not a Nezha API envelope", id="null_body"),
        pytest.param(
            _v0({"code": 500, "message": "服务器内部错误"}),
            "the dashboard answered with error code 500",
            id="nonzero_code",
        ),
        pytest.param(
            _answer(b"x" * TEN_MB), "the dashboard sent invalid JSON", id="ten_mb_of_junk"
        ),
    ],
)
async def test_fault_then_recovery(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    init_integration: MockConfigEntry,
    refresh: Refresh,
    caplog: pytest.LogCaptureFixture,
    fault: Hook,
    message: str,
) -> None:
    """Unavailable while it lasts, one error and one recovery logged, the same entities after."""
    entity_ids, device_ids = _registries(hass, init_integration)
    healthy = _states(hass, entity_ids)
    assert healthy[CPU] == "17.33"

    dashboard.hook = fault
    for _ in range(3):
        await refresh()
    assert set(_states(hass, entity_ids).values()) == {STATE_UNAVAILABLE}
    errors = logged(caplog, logging.ERROR)
    assert len(errors) == 1
    assert message in errors[0]
    assert TOKEN not in caplog.text
    assert init_integration.state is ConfigEntryState.LOADED

    dashboard.hook = None
    await refresh()
    await refresh()
    assert _states(hass, entity_ids) == healthy
    assert _registries(hass, init_integration) == (entity_ids, device_ids)
    assert logged(caplog, logging.INFO).count("Fetching nezha data recovered") == 1
    assert len(logged(caplog, logging.ERROR)) == 1


async def test_dashboard_down_then_back(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    init_integration: MockConfigEntry,
    refresh: Refresh,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Down: everything unavailable, logged once; back: recovered by itself, logged once,
    with the same entities and devices."""
    registries = (
        sorted(
            e.entity_id
            for e in er.async_entries_for_config_entry(
                er.async_get(hass), init_integration.entry_id
            )
        ),
        sorted(
            d.id
            for d in dr.async_entries_for_config_entry(
                dr.async_get(hass), init_integration.entry_id
            )
        ),
    )
    await dashboard.go_down()
    for _ in range(3):
        await refresh()
    assert hass.states.get(ONLINE).state == STATE_UNAVAILABLE
    assert hass.states.get(CPU).state == STATE_UNAVAILABLE
    assert hass.states.get(TOTAL).state == STATE_UNAVAILABLE
    assert logged_problems(caplog) == [
        "Error fetching nezha data: Cannot reach the Nezha dashboard: "
        "cannot connect to 127.0.0.1: ClientConnectorError"
    ]

    await dashboard.come_back()
    await refresh()
    await refresh()
    assert hass.states.get(ONLINE).state == STATE_ON
    assert hass.states.get(CPU).state == "17.33"
    assert caplog.text.count("Fetching nezha data recovered") == 1
    assert len(logged_problems(caplog)) == 1
    assert registries == (
        sorted(
            e.entity_id
            for e in er.async_entries_for_config_entry(
                er.async_get(hass), init_integration.entry_id
            )
        ),
        sorted(
            d.id
            for d in dr.async_entries_for_config_entry(
                dr.async_get(hass), init_integration.entry_id
            )
        ),
    )


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"code":0,"result":[{"id":1,', id="truncated"),
        pytest.param(b"\x00\xff garbage", id="binary"),
        pytest.param(b'{"code":0,"result":"x"}', id="result_text"),
    ],
)
async def test_malformed_json_never_raises(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    init_integration: MockConfigEntry,
    refresh: Refresh,
    body: bytes,
) -> None:
    """A broken body: unavailable for that refresh, read again at the next."""

    async def garbage(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    dashboard.hook = garbage
    await refresh()
    coordinator = init_integration.runtime_data.coordinator
    assert not coordinator.last_update_success
    assert hass.states.get(CPU).state == STATE_UNAVAILABLE
    dashboard.hook = None
    await refresh()
    assert hass.states.get(CPU).state == "17.33"


async def test_revoked_token_starts_reauth(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    init_integration: MockConfigEntry,
    refresh: Refresh,
    entity_registry: er.EntityRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Revoked mid-run: one reauth flow, polling stops (no log spam); the new token restores
    the same entities."""
    entity_ids = sorted(
        entity.entity_id
        for entity in er.async_entries_for_config_entry(entity_registry, init_integration.entry_id)
    )
    asked = dashboard.requests[DETAILS]
    dashboard.tokens.clear()
    for _ in range(5):
        await refresh()
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]
    assert hass.states.get(CPU).state == STATE_UNAVAILABLE
    # A refused token is not retried every interval: the dashboard was asked once.
    assert dashboard.requests[DETAILS] == asked + 1
    assert len(logged_problems(caplog)) <= 1

    dashboard.tokens.add("rotated-token")
    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {CONF_TOKEN: "rotated-token"}
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.LOADED
    assert hass.states.get(CPU).state == "17.33"
    assert not hass.config_entries.flow.async_progress()
    assert (
        sorted(
            entity.entity_id
            for entity in er.async_entries_for_config_entry(
                entity_registry, init_integration.entry_id
            )
        )
        == entity_ids
    )


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda server: server.update(future_field={"a": [1]}, tag=None), id="extra"),
        pytest.param(lambda server: server["status"].update(Temperatures=None), id="null_list"),
        pytest.param(lambda server: server.update(padding="x" * TEN_MB), id="ten_mb_valid"),
    ],
)
async def test_harmless_shapes_are_read(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    init_integration: MockConfigEntry,
    refresh: Refresh,
    change: Callable[[dict[str, Any]], None],
    clock: Clock,
) -> None:
    """Extra keys, nulls where Go sends them and a 10 MB answer (below the cap) all work."""
    entity_ids, _ = _registries(hass, init_integration)
    healthy = _states(hass, entity_ids)
    payload = load_fixture_json("v0_details_example.json")
    change(payload["result"][0])
    dashboard.hook = _v0(payload, clock)
    await refresh()
    assert init_integration.runtime_data.coordinator.last_update_success
    assert _states(hass, entity_ids) == healthy


async def test_missing_keys_read_as_never_reported(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    init_integration: MockConfigEntry,
    refresh: Refresh,
) -> None:
    """A server with only its id is kept: offline, live values unavailable, no crash."""
    entity_ids, device_ids = _registries(hass, init_integration)
    dashboard.hook = _v0({"code": 0, "result": [{"id": 1}, {"id": 2, "host": None}]})
    await refresh()
    assert hass.states.get(ONLINE).state == STATE_OFF
    assert hass.states.get(CPU).state == STATE_UNAVAILABLE
    assert hass.states.get(TOTAL).state == "2"
    dashboard.hook = None
    await refresh()
    assert hass.states.get(CPU).state == "17.33"
    assert _registries(hass, init_integration) == (entity_ids, device_ids)


@pytest.mark.parametrize("chunked", [False, True], ids=["with_length", "chunked"])
async def test_answer_above_the_cap_is_refused(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    init_integration: MockConfigEntry,
    refresh: Refresh,
    monkeypatch: pytest.MonkeyPatch,
    chunked: bool,
) -> None:
    """Above the size cap the body is not read into memory: unavailable, then recovered.

    Chunked, without Content-Length, the cap must hold while streaming too."""
    monkeypatch.setattr(client_module, "MAX_RESPONSE_BYTES", TEN_MB // 2)
    payload = load_fixture_json("v0_details_example.json")
    payload["padding"] = "x" * TEN_MB

    async def streamed(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        body = json.dumps(payload).encode()
        for start in range(0, len(body), 1 << 20):
            await response.write(body[start : start + (1 << 20)])
        await response.write_eof()
        return response

    dashboard.hook = streamed if chunked else _v0(payload)
    await refresh()
    coordinator = init_integration.runtime_data.coordinator
    assert not coordinator.last_update_success
    assert "too large" in str(coordinator.last_exception)
    assert hass.states.get(CPU).state == STATE_UNAVAILABLE
    dashboard.hook = None
    await refresh()
    assert hass.states.get(CPU).state == "17.33"


async def test_hanging_dashboard_times_out_without_blocking(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    init_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A dashboard that accepts and never answers: the refresh fails within the client timeout,
    and the event loop keeps running meanwhile."""
    client = init_integration.runtime_data.client
    # The default is 10 s; the mechanism is the same with a short one.
    client._timeout = 0.5
    release = asyncio.Event()

    async def hang(request: web.Request) -> None:
        await release.wait()

    dashboard.hook = hang
    gaps: list[float] = []
    loop = asyncio.get_running_loop()

    async def heartbeat() -> None:
        last = loop.time()
        while True:
            await asyncio.sleep(0.02)
            gaps.append(loop.time() - last)
            last = loop.time()

    beating = asyncio.create_task(heartbeat())
    started = loop.time()
    # Real time must pass for the timeout, so no frozen clock here: refresh directly.
    coordinator = init_integration.runtime_data.coordinator
    await coordinator.async_refresh()
    elapsed = loop.time() - started
    beating.cancel()
    release.set()
    assert 0.5 <= elapsed < 3
    assert gaps
    assert max(gaps) < 0.25
    assert not coordinator.last_update_success
    assert hass.states.get(CPU).state == STATE_UNAVAILABLE
    assert "did not answer within 0.5 s" in logged(caplog, logging.ERROR)[0]

    dashboard.hook = None
    await coordinator.async_refresh()
    assert hass.states.get(CPU).state == "17.33"


async def test_rate_limited_backs_off_as_asked(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    init_integration: MockConfigEntry,
    refresh: Refresh,
) -> None:
    """HTTP 429 with Retry-After: the next refresh waits that long, not the usual 30 s."""
    dashboard.hook = _answer(b'{"message":"slow down"}', status=429, **{"Retry-After": "300"})
    await refresh()
    assert hass.states.get(CPU).state == STATE_UNAVAILABLE
    asked = dashboard.requests[DETAILS]
    dashboard.hook = None
    for _ in range(9):
        await refresh()
    # 270 s later: still waiting.
    assert dashboard.requests[DETAILS] == asked
    await refresh(35)
    assert dashboard.requests[DETAILS] == asked + 1
    assert hass.states.get(CPU).state == "17.33"
    # Then back to the normal interval.
    await refresh()
    assert dashboard.requests[DETAILS] == asked + 2


async def test_dashboard_restart_counters_reset(
    hass: HomeAssistant,
    entity_registry_enabled_by_default: None,
    dashboard: FakeDashboard,
    init_integration: MockConfigEntry,
    refresh: Refresh,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The dashboard restarts (nobody reported since) and the agent's counters start over."""
    entity_ids, device_ids = _registries(hass, init_integration)
    await dashboard.go_down()
    await refresh()
    assert hass.states.get(ONLINE).state == STATE_UNAVAILABLE
    dashboard.restart()
    dashboard.agent_restart(1)
    await dashboard.come_back()
    clock.now += 30
    await refresh()
    # Up again but nobody has reported: servers offline, their static facts still shown.
    assert hass.states.get(ONLINE).state == STATE_OFF
    assert hass.states.get(CPU).state == STATE_UNAVAILABLE
    assert hass.states.get("sensor.server1_memory_total").state != STATE_UNAVAILABLE
    assert hass.states.get("sensor.server1_last_seen").state == "unknown"
    assert hass.states.get("sensor.127_0_0_1_servers_online").state == "0"

    dashboard.agent_reconnect(1)
    dashboard.tick(30)
    clock.now += 1
    await refresh()
    assert hass.states.get(ONLINE).state == STATE_ON
    downloaded = hass.states.get("sensor.server1_downloaded")
    # A total_increasing sensor: the drop to a small value is read as a reset, not a loss.
    assert downloaded.attributes["state_class"] == "total_increasing"
    assert float(downloaded.state) < 0.01
    assert _registries(hass, init_integration) == (entity_ids, device_ids)
    assert len(logged(caplog, logging.ERROR)) == 1


async def test_v2_success_false_then_recovery(
    hass: HomeAssistant,
    v2: FakeDashboard,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A v2 envelope with ``success: false`` and an error that is not a refusal."""
    v2.stream_enabled = False
    entry = make_entry(v2)
    await setup_entry(entry)
    entity_ids, device_ids = _registries(hass, entry)
    assert hass.states.get(CPU).state == "17.33"

    async def failing(request: web.Request) -> web.Response | None:
        if request.path.endswith("/server"):
            return web.json_response({"success": False, "error": "database is locked"})
        return None

    v2.hook = failing
    # Refreshed directly, as the integration does when the stream is gone.
    coordinator = entry.runtime_data.coordinator
    await coordinator.async_refresh()
    await coordinator.async_refresh()
    assert hass.states.get(CPU).state == STATE_UNAVAILABLE
    assert entry.state is ConfigEntryState.LOADED
    assert not hass.config_entries.flow.async_progress()
    errors = logged(caplog, logging.ERROR)
    assert len(errors) == 1
    assert "the dashboard answered with an error" in errors[0]
    v2.hook = None
    await coordinator.async_refresh()
    assert hass.states.get(CPU).state == "17.33"
    assert _registries(hass, entry) == (entity_ids, device_ids)
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        pytest.param(_answer("", status=302, Location="/login"), "not_nezha", id="redirect"),
        pytest.param(
            _answer(b"{}", status=429, **{"Retry-After": "60"}), "cannot_connect", id="429"
        ),
    ],
)
async def test_redirect_and_rate_limit_on_the_form(
    hass: HomeAssistant, dashboard: FakeDashboard, fault: Hook, error: str
) -> None:
    """In the config flow a redirect is "not a Nezha dashboard", a 429 "cannot connect"; the
    same form then succeeds."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    user_input = {CONF_URL: dashboard.url, CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: True}
    dashboard.hook = fault
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["errors"] == {CONF_URL: error}
    dashboard.hook = None
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.CREATE_ENTRY


# --- TLS -------------------------------------------------------------------------------------


def _self_signed(directory: Path) -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "nezha.test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file = directory / "cert.pem"
    key_file = directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


@pytest.fixture
async def https_dashboard(
    hass: HomeAssistant, clock: Clock, socket_enabled: None, tmp_path: Path
) -> AsyncGenerator[FakeDashboard]:
    """The docs example served over HTTPS with a self-signed certificate."""
    fake = FakeDashboard(token=TOKEN, clock=clock)
    fake.load_v0_example(load_fixture_json("v0_details_example.json"))
    fake.ssl_context = _self_signed(tmp_path)
    await fake.start()
    loop = asyncio.get_running_loop()
    fails_tests = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        # The fake runs in the test's own loop, so its side of a handshake that the client
        # rightly refused is reported there; a real dashboard is another process.
        if isinstance(context.get("transport"), asyncio.sslproto._SSLProtocolTransport):
            return
        if fails_tests is not None:
            fails_tests(loop, context)

    loop.set_exception_handler(handler)
    yield fake
    await fake.stop()
    loop.set_exception_handler(fails_tests)


async def test_self_signed_certificate_refused_when_verified(
    hass: HomeAssistant, https_dashboard: FakeDashboard
) -> None:
    """Verification on (the default): a clear TLS error, and nothing asked of the dashboard."""
    assert https_dashboard.url.startswith("https://")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    schema_defaults = {
        str(key): key.default() for key in result["data_schema"].schema if callable(key.default)
    }
    assert schema_defaults[CONF_VERIFY_SSL] is True

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_URL: https_dashboard.url, CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: True},
    )
    assert result["errors"] == {CONF_URL: "ssl_error"}
    assert https_dashboard.requests[DETAILS] == 0


async def test_self_signed_certificate_read_when_not_verified(
    hass: HomeAssistant, https_dashboard: FakeDashboard
) -> None:
    """Verification off: the dashboard is read."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_URL: https_dashboard.url, CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: False},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get(CPU).state == "17.33"


async def test_certificate_becomes_untrusted_while_running(
    hass: HomeAssistant,
    https_dashboard: FakeDashboard,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An entry that verifies TLS and meets a self-signed certificate retries setup."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="127.0.0.1",
        unique_id=https_dashboard.url,
        data={CONF_URL: https_dashboard.url, CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: True},
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "TLS certificate" in str(entry.reason)


@pytest.mark.parametrize(
    "status",
    [
        pytest.param({"MemUsed": 1e308}, id="integral_float_beyond_uint64"),
        pytest.param({"MemUsed": 2**64 - 1, "NetInTransfer": 2**64 - 1}, id="uint64_max"),
        pytest.param({"CPU": -5, "MemUsed": -1, "Load1": 1e300}, id="negative_and_huge"),
    ],
)
async def test_extreme_numbers_never_break_a_refresh(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    init_integration: MockConfigEntry,
    refresh: Refresh,
    clock: Clock,
    status: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Numbers of the right type but absurd size: a refused answer or shown values, never an
    exception inside a listener (which would stop every other entity from updating)."""
    payload = load_fixture_json("v0_details_example.json")
    payload["result"][0]["status"].update(status)
    payload["result"][0]["host"]["MemTotal"] = 1
    payload["result"][1]["name"] = "Renamed"
    dashboard.hook = _v0(payload, clock)
    await refresh()
    coordinator = init_integration.runtime_data.coordinator
    if coordinator.last_update_success:
        # Every listener ran: the last device in line was renamed too.
        device = dr.async_get(hass).async_get_device_by_identifier(
            (DOMAIN, f"{init_integration.entry_id}_2"), init_integration.entry_id
        )
        assert device is not None
        assert device.name == "Renamed"
        assert hass.states.get(CPU).state == str(float(payload["result"][0]["status"]["CPU"]))
    else:
        assert hass.states.get(CPU).state == STATE_UNAVAILABLE
    assert "Unexpected error" not in caplog.text
    dashboard.hook = None
    await refresh()
    assert hass.states.get(CPU).state == "17.33"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        ("0", client_module.MIN_RETRY_AFTER),
        ("9" * 400, client_module.MAX_RETRY_AFTER),
        ("\u00b2", None),
        ("-5", None),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:00 -0000", client_module.MIN_RETRY_AFTER),
        ("Wed, 21 Oct 9999 07:28:00 GMT", client_module.MAX_RETRY_AFTER),
        ("Wed, 21 Oct 2015 25:61:00 GMT", None),
    ],
)
async def test_hostile_retry_after(
    hass: HomeAssistant,
    dashboard: FakeDashboard,
    init_integration: MockConfigEntry,
    refresh: Refresh,
    caplog: pytest.LogCaptureFixture,
    header: str,
    expected: float | None,
) -> None:
    """Whatever a proxy puts in Retry-After: a bounded delay or none, never a crash."""
    dashboard.hook = _answer(b"{}", status=429, **{"Retry-After": header})
    await refresh()
    coordinator = init_integration.runtime_data.coordinator
    assert not coordinator.last_update_success
    assert coordinator.last_exception.retry_after == expected
    assert "Unexpected error" not in caplog.text
    dashboard.hook = None
    await refresh(expected or 30)
    await refresh()
    assert hass.states.get(CPU).state == "17.33"


async def test_hostile_stream_frames(
    hass: HomeAssistant,
    clock: Clock,
    socket_enabled: None,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Bad frames on the live stream (v2): it reconnects quietly, the entities stay right."""
    fake = await start_dashboard(clock, "v2")
    fake.frame_interval = 0.05
    entry = make_entry(fake)
    try:
        await setup_entry(entry)
        coordinator = entry.runtime_data.coordinator
        await wait_for(lambda: coordinator.stream_connected)
        connects = fake.requests[STREAM]
        fake.raw_frames = [
            "<html>502</html>",
            '{"now": 1, "servers": [{"id": "1"}]}',
        ]
        await wait_for(lambda: fake.requests[STREAM] >= connects + 2, 10.0)
        await wait_for(lambda: coordinator.stream_connected, 10.0)
        fake.agent_disconnect(1)
        await wait_for(lambda: hass.states.get(ONLINE).state == STATE_OFF, 5.0)
        assert not fake.raw_frames
        assert hass.states.get("sensor.server1_memory_total").state != STATE_UNAVAILABLE
        assert not logged(caplog, logging.WARNING)
        assert not logged(caplog, logging.ERROR)
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await fake.stop()


async def test_garbage_from_the_service_route_only(
    hass: HomeAssistant,
    clock: Clock,
    socket_enabled: None,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
    services_refresh: Refresh,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Service monitors answer garbage while servers are fine: only service entities go."""
    fake = await start_dashboard(clock, "v2")
    fake.stream_enabled = False
    add_services(fake)
    entry = make_entry(fake)
    try:
        await setup_entry(entry)
        assert hass.states.get("sensor.blog_https_status").state == "good"

        async def garbage(request: web.Request) -> web.Response | None:
            if request.path.endswith("/service"):
                body = {"success": True, "data": {"services": {"1" * 5000: {}}}}
                return web.json_response(body)
            return None

        fake.hook = garbage
        await services_refresh()
        assert hass.states.get("sensor.blog_https_status").state == STATE_UNAVAILABLE
        assert hass.states.get(CPU).state == "17.33"
        errors = logged(caplog, logging.ERROR)
        assert len(errors) == 1
        assert "keyed by ids" in errors[0]
        assert "Unexpected error" not in caplog.text

        fake.hook = None
        await services_refresh()
        assert hass.states.get("sensor.blog_https_status").state == "good"
        await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await fake.stop()


# --- the dashboard restarts or is upgraded (a short outage) and longer outages ---------------


class _Watch:
    """What the user would see during an outage: entities turning unavailable, and when."""

    def __init__(self, hass: HomeAssistant, entry: MockConfigEntry) -> None:
        self._hass = hass
        self._ids = {
            entity.entity_id
            for entity in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        }
        # (loop time, entity id, unavailable or not) of every change of availability.
        self.changes: list[tuple[float, str, bool]] = []
        self._unsubscribe = hass.bus.async_listen(EVENT_STATE_CHANGED, self._record)

    @callback
    def _record(self, event: Event) -> None:
        entity_id = event.data["entity_id"]
        old, new = event.data["old_state"], event.data["new_state"]
        if entity_id not in self._ids or old is None or new is None:
            return
        was, now = old.state == STATE_UNAVAILABLE, new.state == STATE_UNAVAILABLE
        if was != now:
            self.changes.append((self._hass.loop.time(), entity_id, now))

    @property
    def went_unavailable(self) -> list[str]:
        return [entity_id for _, entity_id, now in self.changes if now]

    def unavailable_for(self, entity_id: str) -> float:
        """Seconds (loop time) ``entity_id`` was unavailable, summed."""
        total, since = 0.0, None
        for when, changed, now in self.changes:
            if changed != entity_id:
                continue
            if now:
                since = when
            elif since is not None:
                total, since = total + when - since, None
        return total

    def stop(self) -> None:
        self._unsubscribe()


def _nezha_records(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    """The integration's records at ``level`` or above (its coordinators' included)."""
    return [
        f"{record.levelname} {record.getMessage()}"
        for record in caplog.records
        if record.levelno >= level and record.name.startswith("custom_components.nezha")
    ]


async def _start(
    hass: HomeAssistant, clock: Clock, flavor: str, make_entry: MakeEntry, setup_entry: SetupEntry
) -> tuple[FakeDashboard, MockConfigEntry]:
    fake = await start_dashboard(clock, flavor)
    entry = make_entry(fake)
    await setup_entry(entry)
    return fake, entry


@pytest.mark.parametrize("seconds", [3, 8])
@pytest.mark.parametrize("behind_proxy", [False, True], ids=["refused", "proxy_502"])
@pytest.mark.parametrize("flavor", ["v0", "v1", "v2"])
async def test_restart_passes_quietly(
    hass: HomeAssistant,
    clock: Clock,
    socket_enabled: None,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
    caplog: pytest.LogCaptureFixture,
    flavor: str,
    behind_proxy: bool,
    seconds: int,
) -> None:
    """The dashboard restarts or is upgraded (down 3 s or 8 s, real time), its port refused
    or a proxy answering 502 meanwhile: no entity turns unavailable, nothing is logged above
    DEBUG, and the stream (v1/v2) or the next answer (v0) is back within 2 s of the
    dashboard."""
    fake, entry = await _start(hass, clock, flavor, make_entry, setup_entry)
    coordinator = entry.runtime_data.coordinator
    try:
        if flavor != "v0":
            await wait_for(lambda: coordinator.stream_connected)
        watch = _Watch(hass, entry)
        caplog.clear()
        await fake.go_down(behind_proxy=behind_proxy)
        if flavor == "v0":
            # A poll lands in the outage (v1/v2 ask at once when their stream drops).
            await coordinator.async_refresh()
        else:
            await wait_for(lambda: not coordinator.stream_connected)
        await asyncio.sleep(seconds)
        asked = fake.requests[DETAILS if flavor == "v0" else SERVER]
        await fake.come_back()
        started = time.monotonic()
        if flavor == "v0":
            await wait_for(lambda: fake.requests[DETAILS] > asked, 5.0)
        else:
            await wait_for(lambda: coordinator.stream_connected, 5.0)
        back_after = time.monotonic() - started
        await hass.async_block_till_done()
        watch.stop()
        print(f"{flavor} down {seconds} s: back {back_after:.2f} s after the dashboard")  # noqa: T201
        assert back_after < 2.0
        assert watch.went_unavailable == []
        assert _nezha_records(caplog, logging.INFO) == []
        assert coordinator.last_update_success
        assert hass.states.get(CPU).state == "17.33"
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await fake.stop()


async def _advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    """Move the frozen clock (the event loop's too) in half-second steps, letting the real
    loopback traffic of each step finish before the next."""
    for _ in range(round(seconds * 2)):
        freezer.tick(timedelta(seconds=0.5))
        async_fire_time_changed(hass)
        # Tasks are not waited for: a request held by a hanging dashboard ends only when the
        # clock reaches its deadline.
        await hass.async_add_executor_job(time.sleep, 0.015)


@pytest.mark.parametrize("behind_proxy", [False, True], ids=["refused", "proxy_502"])
@pytest.mark.parametrize("flavor", ["v0", "v1", "v2"])
async def test_long_outage_reported_once(
    hass: HomeAssistant,
    clock: Clock,
    socket_enabled: None,
    freezer: FrozenDateTimeFactory,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
    caplog: pytest.LogCaptureFixture,
    flavor: str,
    behind_proxy: bool,
) -> None:
    """Down 60 s (the clock moved): past the grace every entity is unavailable, logged once
    when it starts and once when it ends; back within 10 s of the dashboard."""
    fake, entry = await _start(hass, clock, flavor, make_entry, setup_entry)
    coordinator = entry.runtime_data.coordinator
    try:
        await _advance(hass, freezer, 1)
        watch = _Watch(hass, entry)
        caplog.clear()
        down_at = hass.loop.time()
        await fake.go_down(behind_proxy=behind_proxy)
        if flavor == "v0":
            await coordinator.async_refresh()
        await _advance(hass, freezer, OUTAGE_GRACE - 1)
        assert watch.went_unavailable == []
        await _advance(hass, freezer, 60 - OUTAGE_GRACE + 1)
        assert hass.states.get(CPU).state == STATE_UNAVAILABLE
        assert hass.states.get(TOTAL).state == STATE_UNAVAILABLE
        first_unavailable = min(when for when, _, now in watch.changes if now)
        await fake.come_back()
        back_at = hass.loop.time()
        await _advance(hass, freezer, DOWN_RETRY + 1)
        assert hass.states.get(TOTAL).state != STATE_UNAVAILABLE
        back = max(when for when, _, now in watch.changes if not now)
        watch.stop()
        records = _nezha_records(caplog, logging.INFO)
        print(  # noqa: T201
            f"{flavor} down 60 s: unavailable {first_unavailable - down_at:.1f} s after it "
            f"went down, for {watch.unavailable_for(TOTAL):.1f} s; back {back - back_at:.1f} s "
            f"after the dashboard; records: {records}"
        )
        assert first_unavailable - down_at >= OUTAGE_GRACE - 1
        assert back - back_at <= DOWN_RETRY
        # Services and scheduled tasks (v1/v2) fail with the servers, without a log of
        # their own, and come back with them.
        assert len(records) == 2
        assert records[0].startswith("ERROR Error fetching nezha data: Cannot reach")
        assert records[1] == "INFO Fetching nezha data recovered"
        for other in (entry.runtime_data.services, entry.runtime_data.cron):
            assert other is None or other.last_update_success
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await fake.stop()


async def test_back_within_10_s_after_a_hang(
    hass: HomeAssistant,
    clock: Clock,
    socket_enabled: None,
    freezer: FrozenDateTimeFactory,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
) -> None:
    """A v2 dashboard hangs for 150 s (every answer held 120 s, the clock moved): asked
    once per 10 s meanwhile, its entities are available within 10 s of its answering again."""
    fake, entry = await _start(hass, clock, "v2", make_entry, setup_entry)
    try:
        await _advance(hass, freezer, 1)
        fake.delay = 120
        await fake.drop_streams()
        await _advance(hass, freezer, 30)
        assert hass.states.get(CPU).state == STATE_UNAVAILABLE
        asked = sum(fake.requests.values())
        await _advance(hass, freezer, 120.3)
        during = sum(fake.requests.values()) - asked
        fake.delay = 0
        ended = hass.loop.time()
        while hass.states.get(CPU).state == STATE_UNAVAILABLE:
            assert hass.loop.time() - ended <= DOWN_RETRY + 0.5
            await _advance(hass, freezer, 0.5)
            # The retry of this step crosses real loopback: on a loaded machine it needs more
            # than the step's 15 ms before the clock moves on, or it is counted a step late.
            await hass.async_add_executor_job(time.sleep, 0.1)
        back = hass.loop.time() - ended
        print(f"hang: {during} requests in 120 s; available {back:.1f} s after it ended")  # noqa: T201
        assert during <= 120 / DOWN_RETRY + 1
        assert back <= DOWN_RETRY
    finally:
        fake.delay = 0
        # The answers still held end when the clock reaches them: then the fake can stop.
        await _advance(hass, freezer, 121)
        await hass.config_entries.async_unload(entry.entry_id)
        await fake.stop()
