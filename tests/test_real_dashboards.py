"""Home Assistant fed with answers captured from real dashboards (v0.20.13, v1.14.14, v2.3.7).

A local server replays each captured folder (REST answers and the websocket's frames, the
dashboard's clock set to the capture's); the entry's devices and states must be what the
captured JSON says.
"""

from __future__ import annotations

from typing import Any

from homeassistant.const import (
    CONF_TOKEN,
    CONF_URL,
    CONF_VERIFY_SSL,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nezha.const import CONF_FLAVOR, DOMAIN
from tests.helpers import LINES, Replay, SetupEntry, folder_params, in_folder, load_samples

ALL = load_samples()
# The answers to the integration's own requests with the right credentials.
READ = ("server_details", "server", "server_group", "service", "ws_server")


def _servers(samples: dict[str, Any], line: str) -> list[dict[str, Any]]:
    if line == "v0":
        return list(samples["server_details"].body["result"])
    return list(samples["server"].body["data"])


def _reported(item: dict[str, Any], line: str) -> bool:
    if line == "v0":
        return bool(item["last_active"] > 0)
    return not str(item["last_active"]).startswith("0001-")


def _cpu(item: dict[str, Any], line: str) -> float:
    return float(item["status"]["CPU"] if line == "v0" else item["state"].get("cpu", 0))


@pytest.mark.parametrize("folder", folder_params(ALL))
async def test_entities_from_a_real_dashboard(
    hass: HomeAssistant, socket_enabled: None, setup_entry: SetupEntry, folder: str
) -> None:
    """One device per captured server, online as the capture says, services as listed."""
    samples = in_folder(ALL, folder)
    line = LINES[folder.split("/", 1)[0]]
    stream = samples.get("ws_server") or samples["ws_frames"]
    assert stream.frames
    captured_at = stream.frames[0]["now"] / 1000
    replay = Replay((samples[name] for name in READ if name in samples), date=captured_at)
    url = await replay.start()
    token = samples["server_details" if line == "v0" else "server"].request_headers["Authorization"]
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="real",
        unique_id=url,
        data={
            CONF_URL: url,
            # A v1 entry normally logs in; the captured JWT is used as it is here.
            CONF_TOKEN: token.removeprefix("Bearer "),
            CONF_VERIFY_SSL: True,
            CONF_FLAVOR: line,
        },
    )
    try:
        await setup_entry(entry)
        entities = er.async_get(hass)
        devices = dr.async_get(hass)
        servers = _servers(samples, line)
        frames = stream.frames if line != "v0" else []

        def state(domain: str, unique_id: str) -> str:
            entity_id = entities.async_get_entity_id(domain, DOMAIN, unique_id)
            assert entity_id is not None, unique_id
            current = hass.states.get(entity_id)
            assert current is not None
            return current.state

        online = 0
        for item in servers:
            device = devices.async_get_device_by_identifier(
                (DOMAIN, f"{entry.entry_id}_{item['id']}"), entry.entry_id
            )
            assert device is not None
            assert device.name == item["name"]
            reported = _reported(item, line)
            online += reported
            prefix = f"{entry.entry_id}_{item['id']}"
            assert state("binary_sensor", f"{prefix}_online") == (
                STATE_ON if reported else STATE_OFF
            )
            cpu = state("sensor", f"{prefix}_cpu")
            if not reported:
                assert cpu == STATE_UNAVAILABLE
                continue
            # From the REST answer, or from a frame that came in since.
            figures = {_cpu(item, line)} | {
                float(server["state"].get("cpu", 0))
                for frame in frames
                for server in frame["servers"]
                if server["id"] == item["id"]
            }
            # Home Assistant keeps 15 significant digits.
            assert any(float(cpu) == pytest.approx(figure, rel=1e-13) for figure in figures)
        assert int(state("sensor", f"{entry.entry_id}_servers_total")) == len(servers)
        assert int(state("sensor", f"{entry.entry_id}_servers_online")) == online

        listed = samples["service"].body["data"].get("services", {}) if line != "v0" else {}
        service_devices = [
            device
            for device in dr.async_entries_for_config_entry(devices, entry.entry_id)
            if device.model == "Service monitor"
        ]
        assert sorted(device.name or "" for device in service_devices) == sorted(
            item["service_name"] for item in listed.values()
        )
        for key, item in listed.items():
            up = state("binary_sensor", f"{entry.entry_id}_service_{key}_up")
            checks = item["current_up"] + item["current_down"]
            if not checks:
                assert up == STATE_UNKNOWN
            else:
                assert up == (STATE_ON if item["current_up"] * 100 / checks > 80 else STATE_OFF)
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await replay.stop()
