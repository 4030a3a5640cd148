"""The fleet card: Home Assistant serves the built file and every browser loads it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from homeassistant.components.frontend import DATA_EXTRA_MODULE_URL
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.nezha.frontend import CARD_FILE, CARD_PATH

FRONTEND = Path(__file__).parent.parent / "frontend"


@pytest.fixture
async def with_frontend(hass: HomeAssistant) -> None:
    """Home Assistant's frontend, which a real instance sets up before the integration."""
    assert await async_setup_component(hass, "frontend", {})


async def test_card_served_and_registered(
    hass: HomeAssistant,
    with_frontend: None,
    init_integration: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """Once an entry is set up the card is a frontend module, served from the integration."""
    card = CARD_FILE.read_bytes()
    ours = [url for url in hass.data[DATA_EXTRA_MODULE_URL].urls if url.startswith(CARD_PATH)]
    # The content hash makes browsers fetch a new build after an update.
    assert ours == [f"{CARD_PATH}?v={hashlib.sha256(card).hexdigest()[:12]}"]

    client = await hass_client_no_auth()
    response = await client.get(ours[0])
    assert response.status == 200
    assert response.content_type in {"application/javascript", "text/javascript"}
    assert await response.read() == card
    # What makes it a card the picker offers, with its visual editor.
    text = card.decode()
    assert "customElements.define(" in text
    assert "customCards" in text
    assert "nezha-fleet-card-editor" in text


async def test_card_registered_once_across_reloads(
    hass: HomeAssistant, with_frontend: None, init_integration: MockConfigEntry
) -> None:
    """Reloading an entry does not register the card again: it belongs to the integration."""
    before = hass.data[DATA_EXTRA_MODULE_URL].urls
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert hass.data[DATA_EXTRA_MODULE_URL].urls == before


async def test_no_frontend_no_card(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Without a frontend (no UI) the entry loads all the same and nothing is served."""
    assert "frontend" not in hass.config.components
    assert DATA_EXTRA_MODULE_URL not in hass.data
    assert init_integration.state is ConfigEntryState.LOADED


def test_build_is_pinned() -> None:
    """The card's toolchain is pinned exactly, so the committed build can be reproduced."""
    package = json.loads((FRONTEND / "package.json").read_text())
    lock = json.loads((FRONTEND / "package-lock.json").read_text())
    for name, version in {**package["dependencies"], **package["devDependencies"]}.items():
        assert version[0].isdigit(), f"{name} {version} is not an exact version"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
