"""Both translation files carry every key the code uses, and the same keys."""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

import pytest

from custom_components.nezha.binary_sensor import ONLINE
from custom_components.nezha.sensor import DASHBOARD_SENSORS, SERVER_SENSORS

COMPONENT = Path(__file__).parent.parent / "custom_components" / "nezha"
LANGUAGES = ("en", "zh-Hans")


def _load(language: str) -> dict[str, Any]:
    return json.loads((COMPONENT / "translations" / f"{language}.json").read_text("utf-8"))


def _keys(tree: dict[str, Any], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for key, value in tree.items():
        path = f"{prefix}{key}"
        keys |= _keys(value, f"{path}.") if isinstance(value, dict) else {path}
    return keys


def test_same_keys_in_every_language() -> None:
    assert _keys(_load("en")) == _keys(_load("zh-Hans"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_keys_used_in_code_exist(language: str) -> None:
    keys = _keys(_load(language))
    for description in (*SERVER_SENSORS, *DASHBOARD_SENSORS):
        assert f"entity.sensor.{description.translation_key}.name" in keys
    assert f"entity.binary_sensor.{ONLINE.translation_key}.name" in keys
    source = "\n".join(path.read_text("utf-8") for path in COMPONENT.glob("*.py"))
    # Exceptions and repairs: the translation keys outside the entity descriptions.
    raised = (COMPONENT / "coordinator.py").read_text("utf-8")
    for key in set(re.findall(r'translation_key="([a-z_]+)"', raised)):
        assert any(k.startswith((f"exceptions.{key}.", f"issues.{key}.")) for k in keys), key
    for key in set(
        re.findall(
            r'"(cannot_connect|invalid_auth|invalid_url|not_nezha|ssl_error|'
            r'unknown|different_dashboard)"',
            source,
        )
    ):
        assert f"config.error.{key}" in keys, key
    for step in re.findall(r'step_id="([a-z_]+)"', source):
        section = "options" if step == "init" else "config"
        assert f"{section}.step.{step}.title" in keys, step
