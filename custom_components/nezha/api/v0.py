"""Parser for the v0 dashboard API (``/api/v1/server/details``, ``/api/v1/server/list``).

v0 serialises ``host`` and ``status`` from Go structs without JSON tags, hence PascalCase keys.
"""

from __future__ import annotations

from typing import Any, Final

from .errors import NezhaAuthError, NezhaNotDashboardError, NezhaResponseError
from .models import Server, ServerHost, ServerStatus
from .parse import (
    HOST_READERS,
    STATUS_READERS,
    HostCache,
    JsonObject,
    get_int,
    get_object,
    get_optional_float,
    get_str,
    get_timestamp,
    label,
    read_fields,
    read_temperatures,
)

_CODE_FORBIDDEN = 403

# Model field → JSON key: Go's field names.
HOST_KEYS: Final = {
    "platform": "Platform",
    "platform_version": "PlatformVersion",
    "cpu": "CPU",
    "mem_total": "MemTotal",
    "disk_total": "DiskTotal",
    "swap_total": "SwapTotal",
    "arch": "Arch",
    "virtualization": "Virtualization",
    "boot_time": "BootTime",
    "agent_version": "Version",
    "gpu": "GPU",
}
STATUS_KEYS: Final = {
    "cpu": "CPU",
    "mem_used": "MemUsed",
    "swap_used": "SwapUsed",
    "disk_used": "DiskUsed",
    "net_in_transfer": "NetInTransfer",
    "net_out_transfer": "NetOutTransfer",
    "net_in_speed": "NetInSpeed",
    "net_out_speed": "NetOutSpeed",
    "uptime": "Uptime",
    "load_1": "Load1",
    "load_5": "Load5",
    "load_15": "Load15",
    "tcp_connections": "TcpConnCount",
    "udp_connections": "UdpConnCount",
    "processes": "ProcessCount",
}


def parse_host(obj: JsonObject) -> ServerHost:
    """Parse a v0 ``host`` object."""
    return ServerHost(
        **read_fields(obj, HOST_KEYS, HOST_READERS),
        country_code=get_str(obj, "CountryCode"),
    )


def parse_status(obj: JsonObject) -> ServerStatus:
    """Parse a v0 ``status`` object."""
    return ServerStatus(
        **read_fields(obj, STATUS_KEYS, STATUS_READERS),
        temperatures=read_temperatures(obj, "Temperatures"),
        gpu=get_optional_float(obj, "GPU"),
    )


def parse_server(obj: JsonObject, hosts: HostCache | None = None) -> Server:
    """Parse one entry of ``result``; ``host``/``status`` are absent in the list route."""
    server_id = get_int(obj, "id")
    if server_id <= 0:
        raise NezhaResponseError("server without a valid id")
    raw_host = get_object(obj, "host")
    return Server(
        tag=get_str(obj, "tag"),
        last_active=get_timestamp(obj, "last_active"),
        ipv4=get_str(obj, "ipv4"),
        ipv6=get_str(obj, "ipv6"),
        display_index=get_int(obj, "display_index"),
        host=(
            parse_host(raw_host)
            if hosts is None
            else hosts.host(server_id, raw_host, "", lambda: parse_host(raw_host))
        ),
        status=parse_status(get_object(obj, "status")),
        id=server_id,
        name=label(obj, server_id),
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


def parse_servers(data: Any, hosts: HostCache | None = None) -> dict[int, Server]:
    """Parse a whole v0 response into servers by id (hosts kept in ``hosts`` are reused)."""
    servers: dict[int, Server] = {}
    for item in parse_envelope(data):
        server = parse_server(item, hosts)
        servers[server.id] = server
    if hosts is not None:
        hosts.keep_only(servers)
    return servers
