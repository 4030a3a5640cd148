"""Parser for the v0 dashboard API (``/api/v1/server/details``, ``/api/v1/server/list``).

v0 serialises ``host`` and ``status`` from Go structs without JSON tags, hence PascalCase keys.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .errors import NezhaAuthError, NezhaNotDashboardError, NezhaResponseError
from .models import Server, ServerHost, ServerStatus, Temperature
from .parse import (
    JsonObject,
    get_float,
    get_int,
    get_object,
    get_object_list,
    get_optional_float,
    get_str,
    get_str_tuple,
)

_CODE_FORBIDDEN = 403


def _timestamp(seconds: int) -> datetime | None:
    """Unix seconds to an aware datetime; Go's zero time (-62135596800) and 0 mean "never"."""
    if seconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as err:
        raise NezhaResponseError("timestamp out of range") from err


def parse_host(obj: JsonObject) -> ServerHost:
    """Parse a v0 ``host`` object."""
    return ServerHost(
        platform=get_str(obj, "Platform"),
        platform_version=get_str(obj, "PlatformVersion"),
        cpu=get_str_tuple(obj, "CPU"),
        mem_total=get_int(obj, "MemTotal"),
        disk_total=get_int(obj, "DiskTotal"),
        swap_total=get_int(obj, "SwapTotal"),
        arch=get_str(obj, "Arch"),
        virtualization=get_str(obj, "Virtualization"),
        boot_time=_timestamp(get_int(obj, "BootTime")),
        country_code=get_str(obj, "CountryCode"),
        agent_version=get_str(obj, "Version"),
        gpu=get_str_tuple(obj, "GPU"),
    )


def parse_status(obj: JsonObject) -> ServerStatus:
    """Parse a v0 ``status`` object."""
    return ServerStatus(
        cpu=get_float(obj, "CPU"),
        mem_used=get_int(obj, "MemUsed"),
        swap_used=get_int(obj, "SwapUsed"),
        disk_used=get_int(obj, "DiskUsed"),
        net_in_transfer=get_int(obj, "NetInTransfer"),
        net_out_transfer=get_int(obj, "NetOutTransfer"),
        net_in_speed=get_int(obj, "NetInSpeed"),
        net_out_speed=get_int(obj, "NetOutSpeed"),
        uptime=get_int(obj, "Uptime"),
        load_1=get_float(obj, "Load1"),
        load_5=get_float(obj, "Load5"),
        load_15=get_float(obj, "Load15"),
        tcp_connections=get_int(obj, "TcpConnCount"),
        udp_connections=get_int(obj, "UdpConnCount"),
        processes=get_int(obj, "ProcessCount"),
        temperatures=tuple(
            Temperature(name=get_str(item, "Name"), celsius=get_float(item, "Temperature"))
            for item in get_object_list(obj, "Temperatures")
        ),
        gpu=get_optional_float(obj, "GPU"),
    )


def parse_server(obj: JsonObject) -> Server:
    """Parse one entry of ``result``; ``host``/``status`` are absent in the list route."""
    server_id = get_int(obj, "id")
    if server_id <= 0:
        raise NezhaResponseError("server without a valid id")
    return Server(
        id=server_id,
        name=get_str(obj, "name") or f"#{server_id}",
        tag=get_str(obj, "tag"),
        last_active=_timestamp(get_int(obj, "last_active")),
        ipv4=get_str(obj, "ipv4"),
        ipv6=get_str(obj, "ipv6"),
        display_index=get_int(obj, "display_index"),
        host=parse_host(get_object(obj, "host")),
        status=parse_status(get_object(obj, "status")),
    )


def parse_envelope(data: Any) -> list[JsonObject]:
    """Check the ``{"code","message","result"}`` envelope and return ``result``.

    Errors come with HTTP 200, so ``code`` decides: 403 is a missing or wrong token. The
    message is in the dashboard's language and is not parsed.
    """
    if type(data) is not dict or "code" not in data:
        raise NezhaNotDashboardError("the JSON answer is not a Nezha API envelope")
    code = data["code"]
    if type(code) is not int:
        # JSON false would equal 0 in Python: only the integer means success.
        raise NezhaResponseError("the dashboard's 'code' is not a number")
    if code == _CODE_FORBIDDEN:
        raise NezhaAuthError("the dashboard refused the API token")
    if code != 0:
        raise NezhaResponseError(f"the dashboard answered with error code {code!r}")
    result = data.get("result")
    if result is None:
        return []
    if type(result) is not list or not all(type(item) is dict for item in result):
        raise NezhaResponseError("'result' is not a list of servers")
    return result


def parse_servers(data: Any) -> dict[int, Server]:
    """Parse a whole v0 response into servers by id."""
    servers: dict[int, Server] = {}
    for item in parse_envelope(data):
        server = parse_server(item)
        servers[server.id] = server
    return servers
