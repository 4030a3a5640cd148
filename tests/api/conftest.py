"""Library tests need no Home Assistant instance: the package-wide autouse fixture is a no-op.

tests/conftest.py still loads (pytest reads every conftest.py above a test) and imports Home
Assistant for the integration's tests; its dashboards' fixtures (``clock``, ``dashboard``,
``v1``, ``v2``) need none and serve these tests too. The test modules here, and the helpers
they import, import no Home Assistant (test_isolation.py).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from aiohttp import ClientSession
import pytest


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override tests/conftest.py's fixture, which would start Home Assistant for every test."""


@pytest.fixture
async def session(socket_enabled: None) -> AsyncGenerator[ClientSession]:
    """A plain aiohttp session, as any program using the client would have."""
    async with ClientSession() as client_session:
        yield client_session
