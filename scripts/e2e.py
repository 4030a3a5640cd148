"""End-to-end: a real Home Assistant process with this integration, against the demo dashboard.

Started the way ``scripts/develop`` starts them (``scripts/demo_stack.py``), on free loopback
ports with a throw-away config folder. Onboarding and the integration's config flow go through
Home Assistant's REST API; entity states and devices are compared with what the dashboard
serves. The demo dashboard runs with ``--still`` (agents report, values stay), so every value
can be compared exactly. Exits non-zero on the first mismatch; bounded by ``--timeout``.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
import math
import os
from pathlib import Path
import re
import socket
import sys
import tempfile
import time
from typing import Any

import aiohttp

from scripts.demo_stack import (
    DEMO_PASSWORD,
    DEMO_USER,
    HassClient,
    Stack,
    StackError,
)

GIB = 1024**3
ONLINE_THRESHOLD = 30  # the integration's default


# A warning or an error about the integration, in any of the forms Home Assistant logs them:
# the integration's own loggers, deprecated usage the frame helper reports ("Detected that
# custom integration 'nezha' ..."), warnings.warn attributed to its files, entry and platform
# set-up failures ("... for nezha", "platform nezha"). Not a path that merely contains the name.
ABOUT_NEZHA = re.compile(r"custom_components[./]nezha\b|(?<![\w/.-])nezha(?![\w-])")
LOG_PROBLEM = re.compile(r"^\S+ \S+ (WARNING|ERROR|CRITICAL) ")
# Logged once for every custom integration: about being custom, not about this one.
NOT_TESTED = "We found a custom integration nezha which has not been tested by Home Assistant"


class Mismatch(AssertionError):
    """Home Assistant shows something other than what the dashboard serves."""


def check(condition: bool, message: str) -> None:
    """Fail the run with ``message`` unless ``condition`` holds."""
    if not condition:
        raise Mismatch(message)


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def served(
    stack: Stack, session: aiohttp.ClientSession
) -> tuple[list[dict[str, Any]], float]:
    """The dashboard's servers in v0's shape, and its clock (the HTTP Date header)."""
    v0 = stack.flavor == "v0"
    path, auth = (
        ("/api/v1/server/details", stack.token)
        if v0
        else ("/api/v1/server", f"Bearer {stack.token}")
    )
    async with session.get(stack.dashboard_url + path, headers={"Authorization": auth}) as response:
        body = await response.json()
        date = response.headers["Date"]
    now = parsedate_to_datetime(date).timestamp()
    if v0:
        return body["result"], now
    return [_as_v0(server) for server in body.get("data", [])], now


def _as_v0(server: dict[str, Any]) -> dict[str, Any]:
    """A v1/v2 server (snake_case, omitempty, RFC 3339) in the v0 shape ``compare`` reads."""
    host, state = server.get("host", {}), server.get("state", {})
    last = datetime.fromisoformat(server.get("last_active", "0001-01-01T00:00:00Z"))
    return {
        "id": server["id"],
        "name": server.get("name", ""),
        "last_active": last.timestamp() if last.year > 1 else 0,
        "ipv4": server.get("geoip", {}).get("ip", {}).get("ipv4_addr", ""),
        "host": {
            **{v0_key: host.get(key, 0) for key, v0_key in _HOST_KEYS.items()},
            # v1/v2 have the country beside the host, in the GeoIP answer.
            "CountryCode": server.get("country_code")
            or server.get("geoip", {}).get("country_code", ""),
        },
        "status": {v0_key: state.get(key, 0) for key, v0_key in _STATE_KEYS.items()},
    }


_HOST_KEYS = {
    "platform": "Platform",
    "platform_version": "PlatformVersion",
    "version": "Version",
    "mem_total": "MemTotal",
    "disk_total": "DiskTotal",
    "boot_time": "BootTime",
}
_STATE_KEYS = {
    "cpu": "CPU",
    "mem_used": "MemUsed",
    "disk_used": "DiskUsed",
    "swap_used": "SwapUsed",
    "net_in_speed": "NetInSpeed",
    "net_out_speed": "NetOutSpeed",
    "net_in_transfer": "NetInTransfer",
    "net_out_transfer": "NetOutTransfer",
    "load_1": "Load1",
    "tcp_conn_count": "TcpConnCount",
    "udp_conn_count": "UdpConnCount",
    "process_count": "ProcessCount",
}


def close(actual: str, expected: float, what: str) -> None:
    """A numeric state equal to the expected value (up to float formatting)."""
    try:
        value = float(actual)
    except ValueError:
        raise Mismatch(f"{what}: state {actual!r}, expected {expected}") from None
    check(
        math.isclose(value, expected, rel_tol=1e-9, abs_tol=1e-9), f"{what}: {value} != {expected}"
    )


async def config_flow(hass: HassClient, stack: Stack) -> dict[str, Any]:
    """The user step through REST: two form errors, each recovered, then the entry."""
    form = await hass.start_flow("nezha")
    check(form["type"] == "form" and form["step_id"] == "user", f"first step: {form}")
    flow_id = form["flow_id"]
    fields = {"url": stack.dashboard_url, "token": "not-the-token", "verify_ssl": True}
    result = await hass.continue_flow(flow_id, fields)
    check(result.get("errors") == {"token": "invalid_auth"}, f"wrong token: {result}")
    result = await hass.continue_flow(
        flow_id, {**fields, "url": f"http://127.0.0.1:{free_port()}", "token": stack.token}
    )
    check(result.get("errors") == {"url": "cannot_connect"}, f"closed port: {result}")
    result = await hass.continue_flow(flow_id, {**fields, "token": stack.token})
    check(result["type"] == "create_entry", f"valid input: {result}")
    check(result["title"] == "127.0.0.1", f"entry title: {result['title']}")
    return result


async def compare(hass: HassClient, stack: Stack, session: aiohttp.ClientSession) -> int:
    """Compare devices and states with the dashboard; the number of states compared."""
    servers, now = await served(stack, session)
    entries, devices, entities = await hass.ws(
        {"type": "config_entries/get", "domain": "nezha"},
        {"type": "config/device_registry/list"},
        {"type": "config/entity_registry/list"},
    )
    check(len(entries) == 1, f"nezha entries: {entries}")
    entry_id = entries[0]["entry_id"]
    by_unique = {e["unique_id"]: e["entity_id"] for e in entities if e["platform"] == "nezha"}
    states = {s["entity_id"]: s for s in await hass.states()}

    def state(unique_id: str) -> str:
        entity_id = by_unique.get(unique_id)
        check(entity_id is not None, f"no entity with unique id {unique_id}")
        check(entity_id in states, f"{entity_id} has no state")
        return str(states[entity_id]["state"])

    devices_by_identifier = {
        tuple(identifier): device for device in devices for identifier in device["identifiers"]
    }
    compared = 0
    online_count = 0
    for server in servers:
        sid, host, status = server["id"], server["host"], server["status"]
        device = devices_by_identifier.get(("nezha", f"{entry_id}_{sid}"))
        if device is None:
            raise Mismatch(f"no device for server {sid}")
        check(device["name"] == server["name"], f"device name {device['name']}")
        reported = server["last_active"] > 0
        online = reported and now - server["last_active"] < ONLINE_THRESHOLD
        online_count += online
        prefix = f"{entry_id}_{sid}_"
        check(
            state(prefix + "online") == ("on" if online else "off"),
            f"{server['name']} online: {state(prefix + 'online')}, dashboard says {online}",
        )
        compared += 1
        if not online:
            check(state(prefix + "cpu") == "unavailable", f"{server['name']} CPU while offline")
            compared += 1
            continue
        check(
            device["model"] == f"{host['Platform']} {host['PlatformVersion']}",
            f"model {device['model']}",
        )
        check(device["sw_version"] == host["Version"], f"agent version {device['sw_version']}")
        name = server["name"]
        expected: dict[str, float] = {
            "cpu": status["CPU"],
            "memory_used": status["MemUsed"] / GIB,
            "memory_total": host["MemTotal"] / GIB,
            "memory_usage": round(status["MemUsed"] * 100 / host["MemTotal"], 2),
            "disk_used": status["DiskUsed"] / GIB,
            "disk_usage": round(status["DiskUsed"] * 100 / host["DiskTotal"], 2),
            "swap_used": status["SwapUsed"] / GIB,
            "network_in_speed": status["NetInSpeed"] / 1024,
            "network_out_speed": status["NetOutSpeed"] / 1024,
            "network_in_traffic": status["NetInTransfer"] / GIB,
            "network_out_traffic": status["NetOutTransfer"] / GIB,
            "load_1": status["Load1"],
            "tcp_connections": status["TcpConnCount"],
            "udp_connections": status["UdpConnCount"],
            "processes": status["ProcessCount"],
        }
        for key, value in expected.items():
            close(state(prefix + key), value, f"{name} {key}")
        boot = datetime.fromtimestamp(host["BootTime"], UTC).isoformat()
        check(
            state(prefix + "last_boot") == boot, f"{name} last boot {state(prefix + 'last_boot')}"
        )
        check(state(prefix + "ipv4") == server["ipv4"], f"{name} IPv4")
        country = state(prefix + "country_code")
        check(country == host["CountryCode"].upper(), f"{name} country {country}")
        compared += len(expected) + 3
    check(state(f"{entry_id}_servers_total") == str(len(servers)), "servers total")
    check(state(f"{entry_id}_servers_online") == str(online_count), "servers online")
    if stack.flavor != "v0":
        compared += await compare_services(stack, session, entry_id, state)
    return compared + 2


async def compare_services(
    stack: Stack, session: aiohttp.ClientSession, entry_id: str, state: Any
) -> int:
    """Service monitors and traffic cycles (v1/v2) against ``/api/v1/service``."""
    async with session.get(
        stack.dashboard_url + "/api/v1/service",
        headers={"Authorization": f"Bearer {stack.token}"},
    ) as response:
        data = (await response.json())["data"]
    services = data.get("services", {})
    check(bool(services), "the demo dashboard serves no services")
    compared = 0
    for service_id, item in services.items():
        prefix = f"{entry_id}_service_{service_id}_"
        checks = item["current_up"] + item["current_down"]
        share = item["current_up"] * 100 / checks
        up = "on" if share > 80 else "off"
        check(state(prefix + "up") == up, f"{item['service_name']} up: {state(prefix + 'up')}")
        total = item["total_up"] + item["total_down"]
        close(state(prefix + "availability"), round(item["total_up"] * 100 / total, 2), "avail")
        compared += 2
    for rule_id, rule in data.get("cycle_transfer_stats", {}).items():
        for server_id, used in rule.get("transfer", {}).items():
            prefix = f"{entry_id}_{server_id}_cycle_{rule_id}_"
            close(state(prefix + "transfer"), used / GIB, f"{rule['name']} transfer")
            close(
                state(prefix + "quota_used"),
                round(used * 100 / rule["max"], 2),
                f"{rule['name']} quota used",
            )
            compared += 2
    return compared


async def entry_diagnostics(hass: HassClient, entry_id: str) -> Any:
    """The entry's diagnostics.

    Home Assistant registers an integration's diagnostics a moment after loading it: until
    then it answers 404 (seen once in CI, right after the entry was created).
    """
    for _ in range(20):
        try:
            return await hass._json("GET", f"/api/diagnostics/config_entry/{entry_id}")  # noqa: SLF001
        except StackError as err:
            if "HTTP 404" not in str(err):
                raise
        await asyncio.sleep(0.5)
    raise Mismatch("the entry's diagnostics are not served")


async def stream_connected(hass: HassClient, entry_id: str) -> None:
    """The integration holds the dashboard's live stream, as its diagnostics report."""
    for _ in range(20):
        diagnostics = await entry_diagnostics(hass, entry_id)
        if diagnostics["data"]["stream_connected"]:
            return
        await asyncio.sleep(0.5)
    raise Mismatch("the live stream is not connected")


async def refreshes(hass: HassClient, entry_id: str, server_id: int) -> None:
    """homeassistant.update_entity makes a new request: the dashboard's clock moves."""
    uid = f"{entry_id}_{server_id}_online"
    (entities,) = await hass.ws({"type": "config/entity_registry/list"})
    entity_id = next(e["entity_id"] for e in entities if e["unique_id"] == uid)

    async def dashboard_time() -> str:
        diagnostics = await entry_diagnostics(hass, entry_id)
        return str(diagnostics["data"]["dashboard_time"])

    before = await dashboard_time()
    await asyncio.sleep(1.5)  # the Date header has a resolution of one second
    await hass.ws(
        {
            "type": "call_service",
            "domain": "homeassistant",
            "service": "update_entity",
            "target": {"entity_id": entity_id},
        }
    )
    after = await dashboard_time()
    check(after > before, f"update_entity made no request: {before} -> {after}")


def logged_problems(log: str) -> list[str]:
    """Warnings and errors Home Assistant logged about the integration."""
    return [
        line
        for line in log.splitlines()
        if LOG_PROBLEM.match(line) and ABOUT_NEZHA.search(line) and NOT_TESTED not in line
    ]


async def run(args: argparse.Namespace) -> None:
    """The whole check, bounded by the timeout; always stops both processes."""
    timings: dict[str, float] = {}
    start = time.monotonic()
    version = "?"
    # Deprecation warnings are hidden by default; shown, they reach Home Assistant's log.
    os.environ["PYTHONWARNINGS"] = "default::DeprecationWarning,default::PendingDeprecationWarning"
    with tempfile.TemporaryDirectory(prefix="nezha-e2e-") as tmp:
        stack = Stack(
            Path(tmp) / "config",
            hass_port=free_port(),
            dashboard_port=free_port(),
            still=True,
            flavor=args.flavor,
        )
        try:
            async with asyncio.timeout(args.timeout), aiohttp.ClientSession() as session:
                stack.start()
                hass = HassClient(session, stack.hass_url)
                timings["hass answers"] = await hass.wait_until_up(stack, args.timeout)
                check(await hass.onboard_or_login(DEMO_USER, DEMO_PASSWORD), "fresh onboarding")
                version = (await hass.config())["version"]
                check(
                    args.expect_version in {None, version},
                    f"Home Assistant {version} answers, expected {args.expect_version}",
                )
                result = await config_flow(hass, stack)
                entry_id = result["result"]["entry_id"]
                await hass.wait_for_entity_state(60)
                timings["first entity state"] = time.monotonic() - start
                compared = await compare(hass, stack, session)
                if stack.flavor != "v0":
                    await stream_connected(hass, entry_id)
                await refreshes(hass, entry_id, 1)
                errors = logged_problems(stack.hass_log.read_text(errors="replace"))
                check(not errors, "problems logged about the integration:\n" + "\n".join(errors))
        except (Mismatch, StackError, TimeoutError) as err:
            what = "timed out" if isinstance(err, TimeoutError) else str(err)
            print(
                f"end-to-end ({args.flavor}) on Home Assistant {version} FAILED: {what}",
                file=sys.stderr,
            )
            print(f"--- Home Assistant output ---\n{stack.tail('hass', 60)}", file=sys.stderr)
            stack.stop()
            sys.exit(1)
        codes = stack.stop()
        check(codes.get("hass") == 0, f"Home Assistant exit code {codes.get('hass')}")
    print(
        f"end-to-end ({args.flavor}) on Home Assistant {version} passed: onboarding, "
        "config flow (invalid_auth, cannot_connect, entry), "
        f"{compared} states compared with the dashboard, refresh on demand; "
        + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
        + f", total {time.monotonic() - start:.1f} s"
    )


def main() -> None:
    """Run the end-to-end check."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timeout", type=float, default=240)
    parser.add_argument("--flavor", choices=("v0", "v2"), default="v0")
    parser.add_argument(
        "--expect-version",
        metavar="VERSION",
        help="fail unless the Home Assistant that answers is this version",
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
