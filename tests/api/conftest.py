"""Library tests need no Home Assistant instance: the package-wide autouse fixture is a no-op."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override tests/conftest.py's fixture, which would start Home Assistant for every test."""
