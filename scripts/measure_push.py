"""Measure the live push of a v2 dashboard inside a real Home Assistant; prints figures.

    scripts/measure_push [--trials 5] [--window 60] [--servers 10]

The fake dashboard sends real 2-second frames over loopback. Printed: the delay from an agent
disconnecting on the dashboard to ``binary_sensor.<server>_online`` turning off (and back on),
the REST requests per minute while the stream is up, the delay from the personal token being
deleted on the dashboard to Home Assistant's reauthentication flow, and from the dashboard
going down to the entities turning unavailable. Not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
import statistics
import time
from typing import Any

from homeassistant.const import CONF_TOKEN, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nezha.const import CONF_FLAVOR, DOMAIN
from fake_dashboard import FakeDashboard, make_server
from fake_dashboard.server import PersonalToken
from scripts.bench import home_assistant

TOKEN = "nzp_measure0000000000000000"


async def _wait_for(predicate: Callable[[], bool], limit: float) -> float:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > limit:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.01)
    return time.monotonic() - start


async def _run(trials: int, window: float, servers: int) -> None:
    fake = FakeDashboard(token=TOKEN, flavor="v2")
    for server_id in range(1, servers + 1):
        fake.servers[server_id] = make_server(server_id, now=time.time())
    url = await fake.start()
    # The benches' Home Assistant: this repository's integration, a configuration folder of
    # its own (the harness's shared one keeps every registry an earlier run saved).
    async with home_assistant() as hass:
        entry = MockConfigEntry(
            domain=DOMAIN,
            title="measure",
            unique_id=url,
            data={CONF_URL: url, CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: True, CONF_FLAVOR: "v2"},
        )
        entry.add_to_hass(hass)
        if not await hass.config_entries.async_setup(entry.entry_id):
            raise SystemExit("the entry did not set up")
        await hass.async_block_till_done()
        coordinator = entry.runtime_data.coordinator
        await _wait_for(lambda: coordinator.stream_connected, 10)
        online = _online_entity(hass, 1)
        # Agents report every second, as real ones do every few.
        agents = asyncio.create_task(_agents(fake))

        offs: list[float] = []
        ons: list[float] = []
        for _ in range(trials):
            fake.agent_disconnect(1)
            offs.append(await _wait_for(lambda: hass.states.get(online).state == "off", 10))
            fake.agent_reconnect(1)
            ons.append(await _wait_for(lambda: hass.states.get(online).state == "on", 10))

        before = fake.requests.copy()
        frames = fake.frames_sent
        await asyncio.sleep(window)
        rest = fake.requests - before
        del rest["/api/v1/ws/server"]
        frames = fake.frames_sent - frames

        reauths: list[float] = []
        for trial in range(trials):
            reauths.append(await _token_deleted_to_reauth(hass, fake, entry, trial))
        downs: list[float] = []
        for _ in range(trials):
            downs.append(await _dashboard_down_to_unavailable(hass, fake, entry))
        agents.cancel()
        await hass.config_entries.async_unload(entry.entry_id)
    await fake.stop()

    per_minute = 60 / window
    print(f"servers: {servers}, frame interval 2 s, {trials} trials")
    print(
        f"offline on the dashboard -> binary sensor off: median {statistics.median(offs):.2f} s,"
        f" max {max(offs):.2f} s"
    )
    print(
        f"back online -> binary sensor on:             median {statistics.median(ons):.2f} s,"
        f" max {max(ons):.2f} s"
    )
    print(
        f"push mode over {window:.0f} s: {rest.total() * per_minute:.1f} REST requests/min"
        f" ({', '.join(f'{path} {count}' for path, count in sorted(rest.items())) or 'none'}),"
        f" {frames * per_minute:.1f} frames/min"
    )
    print(
        f"token deleted on the dashboard -> reauth flow: median {statistics.median(reauths):.2f} s,"
        f" max {max(reauths):.2f} s"
    )
    print(
        f"dashboard down -> entities unavailable:      median {statistics.median(downs):.2f} s,"
        f" max {max(downs):.2f} s"
    )


async def _agents(fake: FakeDashboard) -> None:
    while True:
        fake.heartbeat()
        await asyncio.sleep(1)


async def _stream_up(entry: MockConfigEntry) -> None:
    coordinator = entry.runtime_data.coordinator
    await _wait_for(lambda: coordinator.stream_connected, 30)


async def _token_deleted_to_reauth(
    hass: HomeAssistant, fake: FakeDashboard, entry: MockConfigEntry, trial: int
) -> float:
    """Delete the token as the dashboard does (refused, its streams closed); time to reauth."""
    await _stream_up(entry)
    token = entry.data[CONF_TOKEN]
    del fake.personal_tokens[token]
    await fake.drop_streams()
    delay = await _wait_for(lambda: bool(_reauth_flows(hass)), 60)
    # The user enters a new token: the entry reloads with it.
    new_token = f"nzp_measure{trial:020d}"
    fake.personal_tokens[new_token] = PersonalToken()
    fake.tokens.add(new_token)
    result = await hass.config_entries.flow.async_configure(
        _reauth_flows(hass)[0]["flow_id"], {CONF_TOKEN: new_token}
    )
    if result.get("reason") != "reauth_successful":
        raise SystemExit(f"reauth did not complete: {result}")
    await hass.async_block_till_done()
    return delay


async def _dashboard_down_to_unavailable(
    hass: HomeAssistant, fake: FakeDashboard, entry: MockConfigEntry
) -> float:
    """The dashboard process stops: time until its entities are unavailable."""
    await _stream_up(entry)
    online = _online_entity(hass, 1)
    await _wait_for(lambda: hass.states.get(online).state == "on", 10)
    await fake.go_down()
    delay = await _wait_for(lambda: hass.states.get(online).state == "unavailable", 60)
    await fake.come_back()
    await _wait_for(lambda: hass.states.get(online).state == "on", 60)
    return delay


def _reauth_flows(hass: HomeAssistant) -> list[Any]:
    return [
        flow
        for flow in hass.config_entries.flow.async_progress()
        if flow["context"]["source"] == "reauth"
    ]


def _online_entity(hass: HomeAssistant, server_id: int) -> str:
    return _entity(hass, "binary_sensor", server_id, "online")


def _entity(hass: HomeAssistant, domain: str, server_id: int, key: str) -> str:
    from homeassistant.helpers import entity_registry as er  # noqa: PLC0415

    registry = er.async_get(hass)
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    entity_id = registry.async_get_entity_id(domain, DOMAIN, f"{entry.entry_id}_{server_id}_{key}")
    if entity_id is None:
        raise SystemExit(f"no {key} entity for server {server_id}")
    return entity_id


def main() -> None:
    """Parse arguments and run the measurement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--servers", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(_run(args.trials, args.window, args.servers))


if __name__ == "__main__":
    main()
