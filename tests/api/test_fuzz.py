"""Property-based fuzzing of every parser: any JSON yields a model or the client's own error.

Hostile or broken dashboards (and proxies in front of them) can send anything; the parsers must
answer with a well-typed model or a ``NezhaError`` so the coordinator can map it, and never
let another exception (or a wrongly typed value) reach Home Assistant.
"""

from __future__ import annotations

from collections.abc import Callable
import dataclasses
from datetime import UTC, datetime
from email.utils import format_datetime
import json
from math import isfinite
import types
import typing
from typing import Any

from aiohttp import ClientSession, web
from hypothesis import HealthCheck, example, given, settings, strategies as st
import orjson
import pytest
from yarl import URL

from custom_components.nezha.api import (
    Billing,
    DashboardFlavor,
    DashboardSnapshot,
    NezhaClient,
    NezhaError,
    PublicNote,
    Server,
    ServerHost,
    ServerMetrics,
    ServerStatus,
    ServiceStatus,
    Temperature,
    client as client_module,
    models,
    normalize_url,
    parse_public_note,
    v0,
    v1v2,
)
from custom_components.nezha.api.parse import dashboard_time
from fake_dashboard import FakeDashboard
from tests.helpers import TOKEN

FUZZ = settings(max_examples=200, deadline=None)

# Numbers as JSON can carry them: orjson gives int (up to 64 bits), float, and for larger
# integers a float too; a hostile peer can also send values outside any sane range.
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def _fields_like(keys: list[str], value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Objects with the parser's own keys (some of them), so the fuzz gets past the envelope."""
    return st.dictionaries(
        st.sampled_from(keys), value, max_size=len(keys)
    ) | st.fixed_dictionaries({}, optional=dict.fromkeys(keys, value))


_V0_STATUS_KEYS = [
    "CPU",
    "MemUsed",
    "SwapUsed",
    "DiskUsed",
    "NetInTransfer",
    "NetOutTransfer",
    "NetInSpeed",
    "NetOutSpeed",
    "Uptime",
    "Load1",
    "Load5",
    "Load15",
    "TcpConnCount",
    "UdpConnCount",
    "ProcessCount",
    "Temperatures",
    "GPU",
]
_V0_HOST_KEYS = [
    "Platform",
    "PlatformVersion",
    "CPU",
    "MemTotal",
    "DiskTotal",
    "SwapTotal",
    "Arch",
    "Virtualization",
    "BootTime",
    "CountryCode",
    "Version",
    "GPU",
]
_V1_STATE_KEYS = [
    "cpu",
    "mem_used",
    "net_in_transfer",
    "load_1",
    "tcp_conn_count",
    "temperatures",
    "gpu",
]
_V1_HOST_KEYS = ["platform", "cpu", "mem_total", "boot_time", "version", "gpu"]

_temperatures = st.lists(_fields_like(["Name", "Temperature"], json_values), max_size=3) | st.none()
_v0_server = st.fixed_dictionaries(
    {"id": st.integers(min_value=-2, max_value=2**63) | json_values},
    optional={
        "name": json_values,
        "tag": json_values,
        "last_active": st.integers(min_value=-(2**62), max_value=2**62) | json_values,
        "ipv4": json_values,
        "ipv6": json_values,
        "display_index": json_values,
        "host": _fields_like(_V0_HOST_KEYS, json_values) | json_values,
        "status": _fields_like(_V0_STATUS_KEYS, json_values | _temperatures) | json_values,
    },
)
v0_envelopes = st.fixed_dictionaries(
    {"code": st.sampled_from([0, 403, 500, "0", None, 0.0]) | json_values},
    optional={"message": json_values, "result": st.lists(_v0_server, max_size=3) | json_values},
)

_rfc3339ish = st.from_regex(
    r"\A\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,12})?([Zz]|[+-]\d{2}:\d{2})\Z"
) | st.text(max_size=40)
_v1_server = st.fixed_dictionaries(
    {"id": st.integers(min_value=-2, max_value=2**63) | json_values},
    optional={
        "name": json_values,
        "last_active": _rfc3339ish | json_values,
        "country_code": json_values,
        "display_index": json_values,
        "geoip": st.fixed_dictionaries(
            {}, optional={"ip": _fields_like(["ipv4_addr", "ipv6_addr"], json_values)}
        )
        | json_values,
        "host": _fields_like(_V1_HOST_KEYS, json_values) | json_values,
        "state": _fields_like(_V1_STATE_KEYS, json_values | _temperatures) | json_values,
    },
)
_groups_data = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "group": _fields_like(["id", "name"], json_values) | json_values,
            "servers": st.lists(st.integers(min_value=-5, max_value=2**40), max_size=3)
            | json_values,
        },
    ),
    max_size=3,
)


def _envelope(data: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries(
        {},
        optional={
            "success": st.booleans() | json_values,
            "data": data,
            "error": st.sampled_from(["ApiErrorUnauthorized", "boom"]) | json_values,
        },
    )


# --- type checks of the models ----------------------------------------------------------


def _check_value(value: Any, hint: Any, where: str) -> None:  # noqa: PLR0912 - one per type
    origin = typing.get_origin(hint)
    if hint is float:
        # A float field never holds an int, a bool, NaN or infinity.
        assert type(value) is float, where
        assert isfinite(value), where
    elif hint is int:
        assert type(value) is int, where
        # Go integers: anything larger could overflow float arithmetic in the sensors.
        assert -(2**64) < value < 2**64, where
    elif hint is str:
        assert type(value) is str, where
    elif hint is bool:
        assert type(value) is bool, where
    elif hint is datetime:
        assert type(value) is datetime, where
        assert value.tzinfo is not None, where
    elif origin is types.UnionType or origin is typing.Union:
        args = typing.get_args(hint)
        if value is None:
            assert type(None) in args, where
        else:
            _check_value(value, next(arg for arg in args if arg is not type(None)), where)
    elif origin is tuple:
        (item_hint, _ellipsis) = typing.get_args(hint)
        assert type(value) is tuple, where
        for index, item in enumerate(value):
            _check_value(item, item_hint, f"{where}[{index}]")
    elif origin is dict:
        key_hint, item_hint = typing.get_args(hint)
        assert type(value) is dict, where
        for key, item in value.items():
            _check_value(key, key_hint, f"{where} key")
            _check_value(item, item_hint, f"{where}[{key!r}]")
    elif dataclasses.is_dataclass(hint):
        check_model(value, hint)
    else:  # pragma: no cover - a new field type the check does not know
        pytest.fail(f"unchecked type {hint!r} at {where}")


def check_model(obj: Any, cls: type[Any]) -> None:
    """Every field of a model (recursively) holds exactly its declared type."""
    assert type(obj) is cls
    hints = typing.get_type_hints(cls, vars(models))
    for field in dataclasses.fields(cls):
        _check_value(getattr(obj, field.name), hints[field.name], f"{cls.__name__}.{field.name}")


def check_servers(servers: Any) -> None:
    assert type(servers) is dict
    for server_id, server in servers.items():
        check_model(server, Server)
        assert server_id == server.id > 0
        assert server.name


def _model_or_own_error(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except NezhaError:
        return None


# --- the parsers --------------------------------------------------------------------------


@FUZZ
@given(data=json_values | v0_envelopes)
def test_v0_details(data: Any) -> None:
    servers = _model_or_own_error(lambda: v0.parse_servers(data))
    if servers is not None:
        check_servers(servers)


@FUZZ
@given(server=_v0_server)
@example(server={"id": 1, "last_active": 2**62})
@example(server={"id": 1, "host": {"BootTime": 1e300}})
def test_v0_one_server(server: dict[str, Any]) -> None:
    """Straight at the server parser, past an envelope that would often refuse first."""
    parsed = _model_or_own_error(lambda: v0.parse_server(server))
    if parsed is not None:
        check_model(parsed, Server)


@FUZZ
@given(
    data=json_values | _envelope(st.lists(_v1_server, max_size=3) | json_values),
    groups=st.dictionaries(st.integers(), st.lists(st.text(max_size=5), max_size=2).map(tuple)),
)
def test_v1v2_servers(data: Any, groups: dict[int, tuple[str, ...]]) -> None:
    servers = _model_or_own_error(lambda: v1v2.parse_servers(v1v2.parse_envelope(data), groups))
    if servers is not None:
        check_servers(servers)
        for server in servers.values():
            assert server.groups == groups.get(server.id, ())


@FUZZ
@given(server=_v1_server)
@example(server={"id": 1, "host": {"boot_time": 2**62}})
@example(server={"id": 1, "last_active": "9999-12-31T23:59:59-01:00"})
@example(server={"id": 1, "state": {"gpu": [1.5, 99]}})
def test_v1v2_one_server(server: dict[str, Any]) -> None:
    parsed = _model_or_own_error(lambda: v1v2.parse_server(server))
    if parsed is not None:
        check_model(parsed, Server)


_metric_points = st.lists(
    st.fixed_dictionaries(
        {},
        optional={"ts": st.integers() | json_values, "value": st.floats() | json_values},
    ),
    max_size=3,
)
_metrics_data = st.fixed_dictionaries(
    {},
    optional={
        "server_id": st.integers() | json_values,
        "server_name": st.text(max_size=5) | json_values,
        "metric": st.sampled_from(["cpu", ""]) | json_values,
        "data_points": _metric_points | st.none() | json_values,
    },
)


@FUZZ
@given(data=json_values | _envelope(_metrics_data | json_values))
@example(data={"success": True, "data": {"server_id": 1, "data_points": [{"ts": 2**62}]}})
@example(data={"success": True, "data": {"server_id": 2, "data_points": [{"ts": 1, "value": 1}]}})
@example(data={"error": "invalid period: 2h, expected 1d, 7d, or 30d"})
def test_v2_metrics(data: Any) -> None:
    """A metric history, or a refusal: only the client's own errors."""
    metrics = _model_or_own_error(lambda: v1v2.parse_metrics(data))
    if metrics is not None:
        check_model(metrics, ServerMetrics)
        assert metrics.server_id > 0


@FUZZ
@given(data=json_values | _envelope(_groups_data | json_values))
def test_v1v2_groups(data: Any) -> None:
    groups = _model_or_own_error(lambda: v1v2.parse_groups(v1v2.parse_envelope(data)))
    if groups is not None:
        assert type(groups) is dict
        for server_id, names in groups.items():
            assert type(server_id) is int
            assert type(names) is tuple
            assert names
            assert all(type(name) is str and name for name in names)


@FUZZ
@given(
    data=json_values
    | st.fixed_dictionaries(
        {"now": st.integers(min_value=-(2**63), max_value=2**64 - 1) | json_values},
        optional={"online": json_values, "servers": st.lists(_v1_server, max_size=3)},
    )
)
def test_v1v2_frame(data: Any) -> None:
    frame = _model_or_own_error(lambda: v1v2.parse_frame(data, {}))
    if frame is not None:
        now, servers = frame
        assert type(now) is datetime
        assert now.tzinfo is not None
        check_servers(servers)


@FUZZ
@given(
    data=json_values
    | _envelope(
        st.fixed_dictionaries({}, optional={"token": json_values, "expire": _rfc3339ish})
        | json_values
    )
)
def test_v1v2_login(data: Any) -> None:
    login = _model_or_own_error(lambda: v1v2.parse_login(v1v2.parse_envelope(data)))
    if login is not None:
        token, expire = login
        assert type(token) is str
        assert token
        assert expire is None or (type(expire) is datetime and expire.tzinfo is not None)


@FUZZ
@given(
    data=json_values
    | _envelope(st.fixed_dictionaries({}, optional={"version": json_values}) | json_values)
)
def test_v1v2_setting(data: Any) -> None:
    version = _model_or_own_error(lambda: v1v2.parse_setting_version(v1v2.parse_envelope(data)))
    assert version is None or type(version) is str


@FUZZ
@given(text=_rfc3339ish)
@example(text="9999-12-31T23:59:59.999999999-01:00")
@example(text="0001-01-01T00:30:00+01:00")
@example(text="0002-01-01T00:30:00+23:59")
@example(text="2024-02-30T00:00:00Z")
def test_time_parsing(text: str) -> None:
    when = _model_or_own_error(lambda: v1v2.parse_time(text))
    assert when is None or (type(when) is datetime and when.utcoffset() is not None)


@FUZZ
@given(text=st.text(max_size=20))
def test_time_parsing_unicode_digits(text: str) -> None:
    """Digits of other scripts match ``\\d``; they must not slip past as a wrong type."""
    arabic = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
    for candidate in (text, "2024-05-01T10:20:30Z".translate(arabic)):
        when = _model_or_own_error(lambda value=candidate: v1v2.parse_time(value))
        assert when is None or type(when) is datetime


# Notes in the themes' shape with any values, as text, and notes that are not JSON at all.
_note_parts = st.fixed_dictionaries(
    {},
    optional={
        key: json_values | _rfc3339ish | st.sampled_from(["0000-00-00", "1", "$3.99", "¥30"])
        for key in (
            *("startDate", "endDate", "autoRenewal", "cycle", "amount", "bandwidth"),
            *("trafficVol", "trafficType", "IPv4", "IPv6", "networkRoute", "extra"),
        )
    },
)
_notes = (
    st.fixed_dictionaries(
        {}, optional={"billingDataMod": _note_parts | json_values, "planDataMod": _note_parts}
    ).map(lambda note: json.dumps(note, ensure_ascii=False))
    | json_values.map(json.dumps)
    | st.text(max_size=60)
)


@FUZZ
@given(note=_notes)
@example(note='{"billingDataMod": {"endDate": "9999-12-31T23:59:59-01:00", "amount": 5}}')
@example(note='{"billingDataMod": {"amount": "9e999 USD", "autoRenewal": 1.5}}')
def test_public_note(note: str) -> None:
    """No note raises; what is read is well typed, and a price is finite with an ISO code."""
    parsed = parse_public_note(note)
    check_model(parsed, PublicNote)
    billing = parsed.billing
    if billing is not None and billing.price is not None:
        assert billing.price.currency.isascii()
        assert len(billing.price.currency) == 3
        assert billing.price.currency.isupper()
    if billing is not None and billing.never_expires:
        assert billing.end is None


def test_models_checked_by_fuzz() -> None:
    """The type check knows every model the parsers return (a new field must be covered)."""
    for cls in (Server, ServerHost, ServerStatus, Temperature, PublicNote, Billing):
        hints = typing.get_type_hints(cls, vars(models))
        assert {field.name for field in dataclasses.fields(cls)} == hints.keys()
    sample = v0.parse_server({"id": 1, "status": {"Temperatures": [{"Name": "a"}]}})
    check_model(sample, Server)
    assert sample.status.temperatures[0].celsius == 0.0


# --- through the real client over HTTP -----------------------------------------------------


def _serve(dashboard: FakeDashboard, body: bytes, status: int = 200) -> None:
    async def hook(request: web.Request) -> web.Response:
        return web.Response(body=body, status=status, content_type="application/json")

    dashboard.hook = hook


@pytest.mark.parametrize("flavor", [DashboardFlavor.V0, DashboardFlavor.V2])
async def test_fuzz_through_the_client(
    session: ClientSession, dashboard: FakeDashboard, flavor: DashboardFlavor
) -> None:
    """Hostile bodies over real HTTP: a snapshot of typed models or a ``NezhaError``.

    Drawn with ``find``-free manual sampling so that hypothesis does not have to run an event
    loop per example (it cannot, inside an async test).
    """
    client = NezhaClient(session, dashboard.url, TOKEN, flavor=flavor)
    strategy = (
        v0_envelopes
        if flavor is DashboardFlavor.V0
        else _envelope(st.lists(_v1_server, max_size=3) | json_values)
    )
    bodies: list[bytes] = []

    @settings(
        max_examples=60,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(payload=strategy | json_values)
    def collect(payload: Any) -> None:
        bodies.append(orjson.dumps(payload))

    collect()
    # Not JSON at all, or JSON cut short: the usual proxy and network failures.
    # One answer that must parse, whatever hypothesis drew.
    good = (
        {"code": 0, "result": [{"id": 1}]}
        if flavor is DashboardFlavor.V0
        else {
            "success": True,
            "data": [{"id": 1}],
        }
    )
    bodies.append(orjson.dumps(good))
    bodies += [b"", b"\xff\xfe", b'{"code":0,"result":[{"id":1,', b"nul", b"1e999", b"[" * 5000]
    bodies.append(
        json.dumps({"code": 0, "result": [{"id": 1, "status": {"CPU": 1e308 * 10}}]}).encode()
    )
    outcomes: set[str] = set()
    for body in bodies:
        _serve(dashboard, body)
        # Groups are cached per client: start each body afresh so both routes see it.
        client._groups_read_at = None
        try:
            snapshot = await client.async_get_servers()
        except NezhaError as err:
            outcomes.add(type(err).__name__)
            continue
        assert type(snapshot) is DashboardSnapshot
        check_servers(snapshot.servers)
        outcomes.add("snapshot")
    assert "snapshot" in outcomes
    assert len(outcomes) > 1


_http_dates = st.datetimes(timezones=st.just(UTC)).map(
    lambda when: format_datetime(when, usegmt=True)
) | st.from_regex(
    r"\A[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{1,5} \d{2}:\d{2}:\d{2} ([A-Z]{3}|[+-]\d{4})\Z"
)


@FUZZ
@given(value=st.text(max_size=40) | _http_dates | st.integers().map(str))
def test_headers(value: str) -> None:
    """Retry-After and Date come from whatever fronts the dashboard: never an exception."""
    headers = {"Retry-After": value, "Date": value}
    delay = client_module._retry_after(headers)
    assert delay is None or (
        client_module.MIN_RETRY_AFTER <= delay <= client_module.MAX_RETRY_AFTER
    )
    when = dashboard_time(headers)
    assert type(when) is datetime
    assert when.tzinfo is not None


_ids = st.integers(min_value=-3, max_value=2**64).map(str) | st.text(max_size=6)
_service = st.fixed_dictionaries(
    {},
    optional={
        "service_name": json_values,
        "current_up": json_values,
        "current_down": st.integers(min_value=-2, max_value=2**64),
        "total_up": json_values,
        "total_down": json_values,
        "delay": st.lists(st.floats(allow_nan=False) | json_values, max_size=3) | json_values,
    },
)
_cycle = st.fixed_dictionaries(
    {},
    optional={
        "name": json_values,
        "from": _rfc3339ish,
        "to": _rfc3339ish | json_values,
        "max": json_values,
        "min": json_values,
        "server_name": st.dictionaries(_ids, json_values, max_size=3) | json_values,
        "transfer": st.dictionaries(_ids, json_values, max_size=3),
        "next_update": st.dictionaries(_ids, _rfc3339ish, max_size=3),
    },
)


@FUZZ
@given(
    data=json_values
    | _envelope(
        st.fixed_dictionaries(
            {},
            optional={
                "services": st.dictionaries(_ids, _service | json_values, max_size=3) | json_values,
                "cycle_transfer_stats": st.dictionaries(_ids, _cycle | json_values, max_size=3),
            },
        )
        | json_values
    )
)
@example(data={"success": True, "data": {"services": {"1" * 5000: {}}}})
@example(
    data={"success": True, "data": {"cycle_transfer_stats": {"1": {"transfer": {"9" * 5000: 1}}}}}
)
def test_v1v2_services(data: Any) -> None:
    """Service monitors and traffic cycles (``GET /api/v1/service``)."""
    snapshot = _model_or_own_error(lambda: v1v2.parse_services(v1v2.parse_envelope(data)))
    if snapshot is not None:
        check_model(snapshot, models.ServicesSnapshot)
        for service in snapshot.services.values():
            assert service.id > 0
            for percent in (service.current_percent,):
                assert percent is None or 0 <= percent <= 100


_urlish = st.text(max_size=40) | st.builds(
    lambda scheme, user, host, port, path: f"{scheme}://{user}{host}{port}{path}",
    st.sampled_from(["http", "https", "HTTP", "ftp", "javascript", ""]),
    st.sampled_from(["", "u@", "u:p@", ":p@"]),
    st.sampled_from(["example.com", "[::1]", "127.0.0.1", "xn--bcher-kva.example", "a b", ""])
    | st.text(max_size=10),
    st.sampled_from(["", ":0", ":8008", ":65536", ":-1", ":x"]),
    st.text(max_size=15),
)


@FUZZ
@given(url=_urlish)
def test_normalize_url(url: str) -> None:
    """Any text: a plain http(s) URL without credentials, idempotent, or the client's error."""
    normalized = _model_or_own_error(lambda: normalize_url(url))
    if normalized is None:
        return
    parsed = URL(normalized)
    assert parsed.scheme in ("http", "https")
    assert parsed.host
    assert parsed.user is None
    assert parsed.password is None
    assert not parsed.query_string
    assert not parsed.fragment
    assert normalize_url(normalized) == normalized


# --- services, without the envelope ------------------------------------------------------

_small_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=16,
)
_key_texts = st.sampled_from(["1", "2", "42", "0", "-1", "x", "\uff10"])
_service_fields = st.fixed_dictionaries(
    {},
    optional={
        key: _small_json | st.integers(min_value=0, max_value=2**64 - 1)
        for key in ("service_name", "current_up", "current_down", "total_up", "total_down")
    }
    | {"delay": st.lists(st.floats(min_value=0, max_value=1e6) | _small_json, max_size=30)},
)
_cycle_fields = st.fixed_dictionaries(
    {},
    optional={
        "name": _small_json,
        "from": st.sampled_from(["2026-11-01T00:00:00+08:00", "0001-01-01T00:00:00Z"])
        | _small_json,
        "to": _small_json,
        "max": st.integers(min_value=0, max_value=2**64 - 1) | _small_json,
        "min": _small_json,
        "server_name": st.dictionaries(_key_texts, _small_json, max_size=3),
        "transfer": st.dictionaries(
            _key_texts, st.integers(min_value=0, max_value=2**64 - 1), max_size=3
        ),
        "next_update": st.dictionaries(_key_texts, _small_json, max_size=3),
    },
)
_services_data = _small_json | st.fixed_dictionaries(
    {},
    optional={
        "services": st.dictionaries(_key_texts, _service_fields | _small_json, max_size=3),
        "cycle_transfer_stats": st.dictionaries(
            _key_texts, _cycle_fields | _small_json, max_size=3
        ),
    },
)


@settings(max_examples=400, deadline=None)
@given(_services_data)
def test_v1v2_services_figures_in_range(data: object) -> None:
    """Straight at the services parser, with figures near real ones: any JSON gives a
    well-typed snapshot (counts not negative, shares within 0-100 %) or the client's error."""
    try:
        snapshot = v1v2.parse_services(data)
    except NezhaError:
        return
    for service_id, service in snapshot.services.items():
        assert type(service_id) is int
        assert service_id > 0
        assert type(service.name) is str
        assert service.name
        for count in (
            service.current_up,
            service.current_down,
            service.total_up,
            service.total_down,
        ):
            assert type(count) is int
            assert count >= 0
        assert service.latency_today is None or type(service.latency_today) is float
        assert service.status in ServiceStatus
        for share in (service.availability, service.current_percent):
            assert share is None or 0 <= share <= 100
    for rule_id, cycle in snapshot.cycles.items():
        assert type(rule_id) is int
        assert rule_id > 0
        assert type(cycle.quota) is int
        assert type(cycle.minimum) is int
        for when in (cycle.start, cycle.end):
            assert when is None or type(when) is datetime
            assert when is None or when.tzinfo is not None
        for server_id, usage in cycle.usage.items():
            assert type(server_id) is int
            assert server_id > 0
            assert type(usage.transfer) is int
            assert type(usage.server_name) is str
