"""Both translation files carry every key and placeholder the code uses, and the same ones.

The code is read statically (its keyword arguments, error tables and forms), so a key added to
the code without its strings fails here; the user and reconfigure forms are also opened for
real to see the placeholders arrive. hassfest's rules for the strings themselves are in
tests/test_validators.py.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
import json
from pathlib import Path
import string
from typing import Any

from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_TOKEN, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nezha.binary_sensor import ONLINE, SERVICE_UP
from custom_components.nezha.const import DOMAIN
from custom_components.nezha.sensor import (
    CYCLE_SENSORS,
    DASHBOARD_SENSORS,
    SERVER_SENSORS,
    SERVICE_SENSORS,
)

COMPONENT = Path(__file__).parent.parent / "custom_components" / "nezha"
LANGUAGES = ("en", "zh-Hans")
MODULES = {
    path.relative_to(COMPONENT).as_posix(): ast.parse(path.read_text("utf-8"))
    for path in sorted(COMPONENT.rglob("*.py"))
}
FLOW = MODULES["config_flow.py"]


def _load(language: str) -> dict[str, Any]:
    return json.loads((COMPONENT / "translations" / f"{language}.json").read_text("utf-8"))


def _leaves(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    leaves: dict[str, str] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        leaves |= _leaves(value, f"{path}.") if isinstance(value, dict) else {path: value}
    return leaves


def _placeholders(value: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(value) if field}


def _used(strings: dict[str, str], *prefixes: str) -> set[str]:
    """The placeholders of every string under the given dotted prefixes."""
    return {
        name
        for path, value in strings.items()
        if path.startswith(prefixes)
        for name in _placeholders(value)
    }


def test_same_keys_in_every_language() -> None:
    assert set(_leaves(_load("en"))) == set(_leaves(_load("zh-Hans")))


def test_same_placeholders_in_every_language() -> None:
    english, chinese = _leaves(_load("en")), _leaves(_load("zh-Hans"))
    for path, value in english.items():
        assert _placeholders(value) == _placeholders(chinese[path]), path


# --- what the code uses, read from its syntax tree -----------------------------------------


def _constants(node: ast.expr | None) -> set[str]:
    """The strings an expression can be: a constant, or either branch of a conditional."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _constants(node.body) | _constants(node.orelse)
    return set()


def _dict_keys(node: ast.expr | None, module: ast.Module) -> set[str] | None:
    """The keys of a dict literal, or of a module-level dict constant it names."""
    if isinstance(node, ast.Name):
        for item in module.body:
            target = item.target if isinstance(item, ast.AnnAssign) else None
            if isinstance(item, ast.Assign) and len(item.targets) == 1:
                target = item.targets[0]
            if isinstance(target, ast.Name) and target.id == node.id:
                return _dict_keys(item.value, module)
    if isinstance(node, ast.Dict):
        return {key for item in node.keys for key in _constants(item)}
    return None


def _class_constants(node: ast.expr) -> set[str]:
    """For ``self.name``: the strings any class of the integration sets ``name`` to."""
    if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
        return set()
    if node.value.id != "self":
        return set()
    found: set[str] = set()
    for module in MODULES.values():
        for cls in (item for item in ast.walk(module) if isinstance(item, ast.ClassDef)):
            for item in cls.body:
                target = item.target if isinstance(item, ast.AnnAssign) else None
                if isinstance(item, ast.Assign) and len(item.targets) == 1:
                    target = item.targets[0]
                if isinstance(target, ast.Name) and target.id == node.attr:
                    found |= _constants(getattr(item, "value", None))
    return found


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def _calls(module: ast.Module) -> Iterator[ast.Call]:
    return (node for node in ast.walk(module) if isinstance(node, ast.Call))


def _called(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _translated_calls() -> Iterator[tuple[str, str, set[str]]]:
    """(section, key, placeholders passed) for each exception and repair issue raised."""
    for name, module in MODULES.items():
        for call in _calls(module):
            keys = _constants(_keyword(call, "translation_key"))
            if _called(call) == "async_set_issue":
                # repairs.py's helper: (hass, entry, issue key, active, **placeholders); the
                # entry's title is always passed. The key is a constant, or a class attribute
                # (``self.scope_issue``) each subclass sets to one.
                keys = _constants(call.args[2]) or _class_constants(call.args[2])
                assert keys, "an issue raised with a key that is not a constant"
                passed = {kw.arg for kw in call.keywords if kw.arg} | {"title"}
                for key in keys:
                    yield "issues", key, passed
                continue
            if _called(call) == "async_create_issue":
                if isinstance(_keyword(call, "translation_key"), ast.Name):
                    # The helper itself, which passes its caller's key on.
                    assert name == "repairs.py", "only repairs.py raises issues by a variable key"
                    continue
                section = "issues"
            elif _keyword(call, "translation_domain") is not None:
                section = "exceptions"
            else:
                continue  # entity descriptions: checked through their tuples below
            assert keys, f"{section} raised with a translation key that is not a constant"
            passed = _dict_keys(_keyword(call, "translation_placeholders"), module) or set()
            for key in keys:
                yield section, key, passed


def _functions(module: ast.Module) -> Iterator[tuple[str, ast.AST]]:
    """(class name, function) for every method of every class in a module."""
    for cls in (node for node in module.body if isinstance(node, ast.ClassDef)):
        for function in ast.walk(cls):
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                yield cls.name, function


def _flow_section(class_name: str) -> str:
    return "options" if "Options" in class_name else "config"


def _flow_errors(tree: ast.AST | None = None) -> set[str]:
    """The error keys the flows can show: the error table and literal assignments."""
    keys: set[str] = set()
    for node in ast.walk(FLOW if tree is None else tree):
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any(isinstance(target, ast.Name) and target.id == "_ERRORS" for target in targets):
                assert isinstance(node.value, ast.Tuple)
                keys |= {
                    key
                    for row in node.value.elts
                    if isinstance(row, ast.Tuple)
                    for key in _constants(row.elts[-1])
                }
            if any(isinstance(target, ast.Subscript) for target in targets):
                keys |= _constants(node.value)
        if isinstance(node, ast.Dict):
            keys |= {
                value
                for key, item in zip(node.keys, node.values, strict=True)
                if _constants(key) == {"base"}
                for value in _constants(item)
            }
    return keys


def _flow_aborts() -> set[str]:
    """Abort reasons, including those Home Assistant's helpers use by default."""
    reasons: set[str] = set()
    for _, function in _functions(FLOW):
        for call in _calls(ast.Module(body=[function], type_ignores=[])):
            reasons |= _constants(_keyword(call, "reason"))
            if _called(call) == "_abort_if_unique_id_configured":
                reasons.add("already_configured")
            if _called(call) == "async_update_reload_and_abort":
                name = getattr(function, "name", "")
                reasons.add("reauth_successful" if "reauth" in name else "reconfigure_successful")
    return reasons


def _forms() -> Iterator[tuple[str, str, set[str]]]:
    """(section, step id, placeholders passed) for each form the flows show."""
    for class_name, function in _functions(FLOW):
        for call in _calls(ast.Module(body=[function], type_ignores=[])):
            if _called(call) == "async_show_form":
                passed = _dict_keys(_keyword(call, "description_placeholders"), FLOW)
                for step in _constants(_keyword(call, "step_id")):
                    yield _flow_section(class_name), step, passed or set()


@pytest.mark.parametrize("language", LANGUAGES)
def test_keys_used_in_code_exist(language: str) -> None:
    strings = _leaves(_load(language))
    for platform, descriptions in (
        ("sensor", (*SERVER_SENSORS, *DASHBOARD_SENSORS, *SERVICE_SENSORS, *CYCLE_SENSORS)),
        ("binary_sensor", (ONLINE, SERVICE_UP)),
    ):
        for description in descriptions:
            assert f"entity.{platform}.{description.translation_key}.name" in strings
    raised = list(_translated_calls())
    assert {section for section, _, _ in raised} == {"exceptions", "issues"}
    for section, key, _ in raised:
        wanted = ("message",) if section == "exceptions" else ("title", "description")
        for leaf in wanted:
            assert f"{section}.{key}.{leaf}" in strings
    # The options flow's errors are translated under "options", the config flow's under "config".
    options = next(
        node
        for node in FLOW.body
        if isinstance(node, ast.ClassDef) and node.name == "NezhaOptionsFlow"
    )
    errors = _flow_errors(ast.Module([node for node in FLOW.body if node is not options], []))
    assert {"unknown", "invalid_auth", "login_required", "missing_scope", "token_required"} <= (
        errors
    )
    for key in errors:
        assert f"config.error.{key}" in strings, key
    for key in _flow_errors(options):
        assert f"options.error.{key}" in strings, key
    for reason in _flow_aborts():
        assert f"config.abort.{reason}" in strings, reason
    forms = list(_forms())
    assert {step for _, step, _ in forms} >= {"user", "login", "reconfigure", "init"}
    for section, step, _ in forms:
        assert f"{section}.step.{step}.title" in strings, step


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_the_code_passes(language: str) -> None:
    strings = _leaves(_load(language))
    for section, key, passed in _translated_calls():
        assert _used(strings, f"{section}.{key}.") <= passed, (section, key)
    for section, step, passed in _forms():
        assert _used(strings, f"{section}.step.{step}.") <= passed, step
    # Errors and aborts are shown with whatever the form passed: they use none.
    assert _used(strings, "config.error.", "config.abort.", "options.error.") == set()
    entity_placeholders = {
        key
        for module in MODULES.values()
        for node in ast.walk(module)
        if isinstance(node, ast.Assign)
        and any(
            getattr(target, "attr", "") == "_attr_translation_placeholders"
            for target in node.targets
        )
        for key in _dict_keys(node.value, module) or set()
    }
    assert entity_placeholders == {"rule", "task"}
    assert _used(strings, "entity.") <= entity_placeholders


def test_placeholder_checks_can_fail() -> None:
    flow = ast.parse(
        "class Flow:\n"
        "    async def async_step_user(self):\n"
        "        return self.async_show_form(step_id='user', description_placeholders=X)\n"
        "X = {'example_url': 'u'}\n"
    )
    call = next(_calls(flow))
    assert _dict_keys(_keyword(call, "description_placeholders"), flow) == {"example_url"}
    assert _constants(ast.parse("'a' if x else 'b'", mode="eval").body) == {"a", "b"}
    strings = {"config.step.user.data_description.url": "e.g. {example_url} or {other}"}
    assert not _used(strings, "config.step.user.") <= {"example_url"}


def test_issue_keys_set_by_subclasses_are_found() -> None:
    """A repair key given as a class attribute is read off every class that sets it."""
    raised = {key for section, key, _ in _translated_calls() if section == "issues"}
    assert {"service_scope", "cron_scope"} <= raised
    assert _class_constants(ast.parse("self.scope_issue", mode="eval").body) >= {
        "service_scope",
        "cron_scope",
    }
    assert _class_constants(ast.parse("other.scope_issue", mode="eval").body) == set()


async def test_forms_receive_their_placeholders(hass: HomeAssistant) -> None:
    """The user and reconfigure forms, opened for real, carry what their strings use."""
    strings = _leaves(_load("en"))
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert _used(strings, "config.step.user.") <= set(result["description_placeholders"] or {})
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="127.0.0.1",
        unique_id="http://127.0.0.1:1",
        data={CONF_URL: "http://127.0.0.1:1", CONF_TOKEN: "t", CONF_VERIFY_SSL: True},
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    assert _used(strings, "config.step.reconfigure.") == {"example_url", "example_subpath_url"}
    assert _used(strings, "config.step.reconfigure.") <= set(
        result["description_placeholders"] or {}
    )
