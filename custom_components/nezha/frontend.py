"""The fleet card: served from the integration's folder and loaded by Home Assistant's frontend.

``frontend/nezha-fleet-card.js`` is built from the TypeScript sources in the repository's
``frontend/`` folder and committed, so that HACS users and those who copy the folder need no
build. Registering it as an extra module puts the card in the card picker with no resource to
add by hand; the content hash in its address makes browsers fetch a new build after an update.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from homeassistant.components.frontend import add_extra_js_url
from homeassistant.components.http import StaticPathConfig
from homeassistant.core import HomeAssistant

from .const import DOMAIN

CARD_FILE = Path(__file__).parent / "frontend" / "nezha-fleet-card.js"
CARD_PATH = f"/{DOMAIN}_frontend/nezha-fleet-card.js"


def _card_version() -> str:
    """A short hash of the built card (read in an executor: file I/O)."""
    return hashlib.sha256(CARD_FILE.read_bytes()).hexdigest()[:12]


async def async_register_card(hass: HomeAssistant) -> str:
    """Serve the card and have every browser load it; the address it is loaded from."""
    version = await hass.async_add_executor_job(_card_version)
    await hass.http.async_register_static_paths(
        [StaticPathConfig(CARD_PATH, str(CARD_FILE), cache_headers=True)]
    )
    url = f"{CARD_PATH}?v={version}"
    add_extra_js_url(hass, url)
    return url
