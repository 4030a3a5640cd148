"""Offline stand-in for hassfest and the HACS action: their checks of this repository.

hassfest is Home Assistant core's `script/hassfest`, which `home-assistant/actions/hassfest`
runs as `--integration-path`; HACS is `custom_components/hacs/validate/` of hacs/integration,
which `hacs/action` runs. Neither ships with the `homeassistant` package, so their rules are
restated here from their newest sources (hassfest of late 2026, with probatio schemas), each
test naming the check it stands for. Where a rule here is stricter than the original, the
comment says so. Each checker returns its findings; the `*_can_fail` tests feed it broken
samples, so no check here passes by construction.

Checks of the same kind that live elsewhere: the same keys and placeholders in every language
and every translation key and placeholder the code uses, in tests/test_translations.py.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
import hashlib
import importlib.util
import json
from pathlib import Path
import re
import string
import typing
from typing import Any

from awesomeversion import AwesomeVersion, AwesomeVersionException, AwesomeVersionStrategy
from homeassistant.components.brands.const import ALLOWED_IMAGES
from homeassistant.const import Platform, __version__ as HA_VERSION
import homeassistant.helpers.config_validation as cv
from homeassistant.loader import Manifest
from homeassistant.util.yaml import load_yaml_dict
from PIL import Image
import probatio as vol
from probatio.humanize import humanize_error
import pytest

ROOT = Path(__file__).parent.parent
COMPONENT = ROOT / "custom_components" / "nezha"
LANGUAGES = sorted(path.stem for path in (COMPONENT / "translations").glob("*.json"))

Problems = list[str]


def _load(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


def _schema_problems(schema: Callable[[Any], Any], data: Any) -> Problems:
    try:
        schema(data)
    except vol.Invalid as err:
        return [humanize_error(data, err)]
    return []


# --- manifest.json -------------------------------------------------------------------------


def check_manifest_order(manifest: dict[str, Any]) -> Problems:
    """hassfest manifest.py `sort_manifest`: domain, name, then the other keys sorted."""
    keys = list(manifest)
    head = [key for key in ("domain", "name") if key in manifest]
    wanted = head + sorted(key for key in keys if key not in head)
    if keys != wanted:
        return [f"manifest keys are {keys}, hassfest wants {wanted}"]
    return []


def _version(value: Any) -> str:
    """hassfest manifest.py `verify_version`: AwesomeVersion reads it in one of five forms."""
    if not isinstance(value, str):
        raise vol.Invalid("version must be a string")
    strategies = [
        AwesomeVersionStrategy.CALVER,
        AwesomeVersionStrategy.SEMVER,
        AwesomeVersionStrategy.SIMPLEVER,
        AwesomeVersionStrategy.BUILDVER,
        AwesomeVersionStrategy.PEP440,
    ]
    try:
        AwesomeVersion(value, ensure_strategy=strategies)
    except AwesomeVersionException as err:
        raise vol.Invalid(f"{value!r} is not a valid version") from err
    return value


def _custom_documentation_url(value: Any) -> str:
    """hassfest manifest.py `custom_documentation_url`: https, and not core's own docs."""
    url = vol.Url()(value)
    if not url.startswith("https://"):
        raise vol.Invalid("documentation URL is not https")
    if url.startswith("https://www.home-assistant.io/integrations"):
        raise vol.Invalid("documentation URL must point at the custom integration's docs")
    return str(url)


def _unmodelled(what: str) -> Callable[[Any], Any]:
    """A key the original allows with a schema not restated here: port it before using it."""

    def _fail(value: Any) -> Any:
        raise vol.Invalid(f"{what} is not modelled in tests/test_validators.py; port its rules")

    return _fail


# Integration types of a non-virtual integration, from Home Assistant's own manifest type.
INTEGRATION_TYPES = [
    value
    for value in typing.get_args(typing.get_type_hints(Manifest)["integration_type"])
    if value != "virtual"
]
# hassfest manifest.py SUPPORTED_IOT_CLASSES and SUPPORTED_QUALITY_SCALES.
IOT_CLASSES = [
    "assumed_state",
    "calculated",
    "cloud_polling",
    "cloud_push",
    "local_polling",
    "local_push",
]
QUALITY_SCALES = [
    "bronze",
    "silver",
    "gold",
    "platinum",
    "custom",
    "no_score",
    "internal",
    "legacy",
]
DISCOVERY_KEYS = ["bluetooth", "dhcp", "homekit", "mqtt", "ssdp", "usb", "zeroconf"]

# hassfest manifest.py CUSTOM_INTEGRATION_MANIFEST_SCHEMA: no key outside this schema. Stricter:
# version, iot_class and issue_tracker are required here (hassfest requires the first two by
# separate checks, HACS the third).
MANIFEST_SCHEMA = vol.Schema(
    {
        vol.Required("domain"): str,
        vol.Required("name"): str,
        vol.Optional("integration_type"): vol.In(INTEGRATION_TYPES),
        vol.Optional("config_flow"): bool,
        **{vol.Optional(key): _unmodelled(f"manifest {key}") for key in DISCOVERY_KEYS},
        vol.Required("documentation"): _custom_documentation_url,
        vol.Optional("quality_scale"): vol.In(QUALITY_SCALES),
        vol.Optional("requirements"): [str],
        vol.Optional("dependencies"): [str],
        vol.Optional("after_dependencies"): [str],
        vol.Required("codeowners"): [str],
        vol.Optional("loggers"): [str],
        vol.Optional("disabled"): str,
        vol.Required("iot_class"): vol.In(IOT_CLASSES),
        vol.Optional("single_config_entry"): bool,
        vol.Optional("preview_features"): _unmodelled("manifest preview_features"),
        vol.Required("version"): _version,
        vol.Required("issue_tracker"): vol.Url(),
        vol.Optional("import_executor"): bool,
    }
)

# HACS utils/validate.py INTEGRATION_MANIFEST_JSON_SCHEMA (other keys allowed).
HACS_MANIFEST_SCHEMA = vol.Schema(
    {
        vol.Required("codeowners"): list,
        vol.Required("documentation"): cv.url,
        vol.Required("domain"): str,
        vol.Required("issue_tracker"): cv.url,
        vol.Required("name"): str,
        vol.Required("version"): vol.Coerce(AwesomeVersion),
    },
    extra=vol.ALLOW_EXTRA,
)


def check_manifest(manifest: dict[str, Any], path: Path) -> Problems:
    """hassfest manifest.py `validate_manifest` and config_flow.py; HACS integration_manifest."""
    problems = _schema_problems(MANIFEST_SCHEMA, manifest)
    problems += _schema_problems(HACS_MANIFEST_SCHEMA, manifest)
    domain = manifest.get("domain")
    if domain != path.name:
        problems.append(f"domain {domain!r} does not match the directory name {path.name!r}")
    # hassfest warns when a custom integration shadows a core one.
    if domain and importlib.util.find_spec(f"homeassistant.components.{domain}") is not None:
        problems.append(f"domain {domain!r} collides with a core integration")
    if manifest.get("config_flow") and not (path / "config_flow.py").is_file():
        problems.append("config_flow is set but config_flow.py is missing")
    return problems


def test_manifest_key_order() -> None:
    assert check_manifest_order(_load(COMPONENT / "manifest.json")) == []


def test_manifest_schema() -> None:
    assert check_manifest(_load(COMPONENT / "manifest.json"), COMPONENT) == []


def test_manifest_checks_can_fail(tmp_path: Path) -> None:
    manifest = _load(COMPONENT / "manifest.json")
    unsorted = {"version": manifest["version"], **manifest}
    assert check_manifest_order(unsorted)
    assert check_manifest_order({"name": "x", "domain": "x"})
    for broken in (
        {**manifest, "iot_class": "cloud"},
        {**manifest, "integration_type": "virtual"},
        {**manifest, "version": "one"},
        {**manifest, "documentation": "http://example.com"},
        {**manifest, "documentation": "https://www.home-assistant.io/integrations/nezha"},
        {**manifest, "unknown_key": True},
        {**manifest, "zeroconf": ["_nezha._tcp.local."]},
        {key: value for key, value in manifest.items() if key != "issue_tracker"},
        {key: value for key, value in manifest.items() if key != "version"},
        {**manifest, "domain": "other"},
        {**manifest, "domain": "sensor"},
    ):
        assert check_manifest(broken, COMPONENT), broken
    (tmp_path / "nezha").mkdir()
    assert check_manifest(manifest, tmp_path / "nezha") == [
        "config_flow is set but config_flow.py is missing"
    ]


# --- hacs.json, LICENSE, information file --------------------------------------------------

# HACS utils/validate.py HACS_MANIFEST_JSON_SCHEMA: no other keys.
HACS_JSON_SCHEMA = vol.Schema(
    {
        vol.Optional("content_in_root"): bool,
        vol.Optional("country"): _unmodelled("hacs.json country"),
        vol.Optional("filename"): str,
        vol.Optional("hacs"): str,
        vol.Optional("hide_default_branch"): bool,
        vol.Optional("homeassistant"): str,
        vol.Optional("persistent_directory"): str,
        vol.Optional("render_readme"): bool,
        vol.Optional("zip_release"): bool,
        vol.Required("name"): str,
    }
)


def check_hacs_json(hacs: dict[str, Any]) -> Problems:
    """HACS validate/hacsjson.py; the minimum version as HACS compares it with AwesomeVersion."""
    problems = _schema_problems(HACS_JSON_SCHEMA, hacs)
    if hacs.get("zip_release") and not hacs.get("filename"):
        problems.append("zip_release is set but filename is not")
    if (minimum := hacs.get("homeassistant")) is not None:
        version = AwesomeVersion(minimum)
        if version.strategy is not AwesomeVersionStrategy.CALVER:
            problems.append(f"homeassistant {minimum!r} is not a Home Assistant version")
        # Stricter: the tests run against one Home Assistant; a minimum above it is untested.
        elif version > AwesomeVersion(HA_VERSION):
            problems.append(f"homeassistant {minimum!r} is newer than the tested {HA_VERSION}")
    return problems


def test_hacs_json() -> None:
    assert check_hacs_json(_load(ROOT / "hacs.json")) == []


def test_hacs_json_checks_can_fail() -> None:
    hacs = _load(ROOT / "hacs.json")
    for broken in (
        {**hacs, "domains": ["sensor"]},
        {key: value for key, value in hacs.items() if key != "name"},
        {**hacs, "render_readme": "yes"},
        {**hacs, "homeassistant": "latest"},
        {**hacs, "homeassistant": "1.2"},
        {**hacs, "homeassistant": "2999.1.0"},
        {**hacs, "zip_release": True},
    ):
        assert check_hacs_json(broken), broken


def test_repository_layout() -> None:
    # HACS: one integration under custom_components/ (the content is not in the root), a
    # hacs.json in the root (validate/hacsjson.py) and an information file
    # (validate/information.py: README, README.md, INFO or INFO.md).
    assert [path.name for path in (ROOT / "custom_components").iterdir() if path.is_dir()] == [
        COMPONENT.name
    ]
    assert (ROOT / "hacs.json").is_file()
    assert {"readme", "readme.md", "info", "info.md"} & {
        path.name.lower() for path in ROOT.iterdir()
    }


# SHA-256 of the Apache License 2.0 text as the Apache Software Foundation publishes it (the
# file with MD5 3b83ef96387f14655fc854ddc3c6bd57, also Debian's
# /usr/share/common-licenses/Apache-2.0), with whitespace runs collapsed to one space.
APACHE_2_SHA256 = "0ffddef9e48f8a09aed5caf2d44f7ba1c1be2d9b8e0a6f693b1635b2d5566645"


def license_sha256(text: str) -> str:
    """The fingerprint of a license text, independent of line breaks and indentation."""
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()


def test_license_is_apache_2() -> None:
    # HACS validate/license.py: GitHub must recognise an open-source license (here apache-2.0);
    # the unmodified standard text is what GitHub's detection matches for certain.
    assert license_sha256((ROOT / "LICENSE").read_text("utf-8")) == APACHE_2_SHA256
    assert license_sha256("Apache License Version 2.0") != APACHE_2_SHA256


# --- brand images --------------------------------------------------------------------------


def _image_problems(path: Path) -> Problems:
    """The image rules of home-assistant/brands (README, "Image specification")."""
    name = path.name
    problems: Problems = []
    if name not in ALLOWED_IMAGES:
        return [f"{name}: Home Assistant serves only {sorted(ALLOWED_IMAGES)}"]
    with Image.open(path) as image:
        if image.format != "PNG":
            problems.append(f"{name}: {image.format}, not PNG")
        if image.mode not in {"RGB", "RGBA"}:
            problems.append(f"{name}: colour mode {image.mode}, not RGB(A)")
        width, height = image.size
    scale = 2 if "@2x" in name else 1
    if "icon" in name and (width, height) != (256 * scale, 256 * scale):
        problems.append(f"{name}: {width}x{height}, icons are {256 * scale}x{256 * scale}")
    if "logo" in name and not 128 * scale <= min(width, height) <= 256 * scale:
        problems.append(f"{name}: shortest side {min(width, height)} outside its bounds")
    return problems


def check_brand(brand: Path) -> Problems:
    """HACS validate/brands.py (local brand/icon.png) and the brands image rules."""
    if not (brand / "icon.png").is_file():
        return [f"{brand}/icon.png missing: HACS's brands check fails"]
    return [problem for path in sorted(brand.iterdir()) for problem in _image_problems(path)]


def test_brand_images() -> None:
    assert check_brand(COMPONENT / "brand") == []


def test_brand_checks_can_fail(tmp_path: Path) -> None:
    assert check_brand(tmp_path)
    Image.new("RGBA", (256, 256)).save(tmp_path / "icon.png")
    assert check_brand(tmp_path) == []
    Image.new("RGBA", (300, 256)).save(tmp_path / "icon@2x.png")
    Image.new("RGBA", (512, 100)).save(tmp_path / "logo.png")
    Image.new("P", (256, 256)).save(tmp_path / "dark_icon.png")
    Image.new("RGB", (256, 256)).save(tmp_path / "dark_icon@2x.png", format="JPEG")
    (tmp_path / "banner.png").write_bytes((tmp_path / "icon.png").read_bytes())
    assert len(check_brand(tmp_path)) == 6


# --- translations --------------------------------------------------------------------------

# Stricter than hassfest's URL pattern (a scheme or www. followed by a host name): any scheme
# separator or www. at all.
URL_MARK = re.compile(r"://|www\.", re.IGNORECASE)
QUOTED_PLACEHOLDER = re.compile(r"'\{\w+\}'")


def placeholders(value: str) -> set[str]:
    """The {name} placeholders of a translation string."""
    return {field for _, field, _, _ in string.Formatter().parse(value) if field is not None}


def leaf_strings(tree: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf of a translation file with its dotted path."""
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from leaf_strings(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def check_string(path: str, value: Any) -> Problems:
    """hassfest translations.py `validate_translation_value`, applied to every string."""
    if not isinstance(value, str):
        return [f"{path}: not a string"]
    problems: Problems = []
    # Stricter: hassfest lets an empty string through; the UI would show nothing.
    if not value.strip():
        problems.append(f"{path}: empty")
    if value != value.strip():
        problems.append(f"{path}: leading or trailing whitespace")
    try:
        cv.string_with_no_html(value)
    except vol.Invalid:
        problems.append(f"{path}: contains HTML")
    if URL_MARK.search(value):
        problems.append(f"{path}: contains a URL; pass it as a description placeholder")
    if QUOTED_PLACEHOLDER.search(value):
        problems.append(f"{path}: placeholder inside single quotes")
    # `[%key:...%]` references are resolved when core's translations are built, never for a
    # custom integration, whose users would see the reference itself. This also covers
    # hassfest's rule against references combined with other text.
    if "[%key:" in value:
        problems.append(f"{path}: [%key:...%] reference in a custom integration")
    try:
        names = placeholders(value)
    except ValueError as err:
        return [*problems, f"{path}: unbalanced braces ({err})"]
    problems += [
        f"{path}: placeholder {{{name}}} is not an identifier"
        for name in names
        if not name.isidentifier()
    ]
    return problems


def _translation_key(value: Any) -> str:
    """hassfest translations.py `translation_key_validator`."""
    if (
        not isinstance(value, str)
        or not re.fullmatch(r"[a-z0-9_-]+", value)
        or value[0] in "_-"
        or value[-1] in "_-"
        or re.search(r"[_-]{2}", value)
    ):
        raise vol.Invalid(
            f"invalid translation key {value!r}: [a-z0-9-_], no leading, trailing or double - or _"
        )
    return value


def _no_placeholders(value: Any) -> str:
    """hassfest: entity states, state attributes and units take no placeholders."""
    if not isinstance(value, str):
        raise vol.Invalid("not a string")
    if placeholders(value):
        raise vol.Invalid(f"placeholders are not supported here: {value!r}")
    return value


def _data_description_in_data(flow: dict[str, Any]) -> dict[str, Any]:
    """hassfest: a data_description key describes a field of the same step's data."""
    for step_id, step in flow["step"].items():
        for key in step.get("data_description", {}):
            if key not in step.get("data", {}):
                raise vol.Invalid(f"step {step_id}: data_description {key} is not in data")
    return flow


def _data_entry_flow() -> vol.All:
    """hassfest translations.py `gen_data_entry_schema` (config and options flows).

    Stricter: no flow-level `title` (hassfest only warns a custom integration about it).
    """
    fields = {str: str}
    step = {
        vol.Optional("title"): str,
        vol.Optional("description"): str,
        vol.Optional("data"): fields,
        vol.Optional("data_description"): fields,
        vol.Optional("menu_options"): fields,
        vol.Optional("menu_option_descriptions"): fields,
        vol.Optional("submit"): str,
        vol.Optional("sections"): {
            str: {
                vol.Optional("data"): fields,
                vol.Optional("data_description"): fields,
                vol.Optional("description"): str,
                vol.Optional("name"): str,
            }
        },
    }
    return vol.All(
        vol.Schema(
            {
                vol.Optional("flow_title"): str,
                vol.Required("step"): {str: step},
                vol.Optional("error"): fields,
                vol.Optional("abort"): fields,
                vol.Optional("progress"): fields,
                vol.Optional("create_entry"): fields,
                vol.Optional("initiate_flow"): {vol.Required("user"): str},
            }
        ),
        _data_description_in_data,
    )


_ENTITY_TRANSLATION = {
    vol.Optional("name"): str,
    vol.Optional("state"): cv.schema_with_slug_keys(
        _no_placeholders, slug_validator=_translation_key
    ),
    vol.Optional("state_attributes"): cv.schema_with_slug_keys(
        {
            vol.Optional("name"): _no_placeholders,
            vol.Optional("state"): cv.schema_with_slug_keys(
                _no_placeholders, slug_validator=_translation_key
            ),
        },
        slug_validator=_translation_key,
    ),
    vol.Optional("unit_of_measurement"): _no_placeholders,
}

# hassfest translations.py `gen_strings_schema`: these top-level sections and no others. The
# ones this integration does not use are rejected until their rules are ported.
TRANSLATIONS_SCHEMA = vol.Schema(
    {
        vol.Optional("title"): str,
        vol.Optional("config"): _data_entry_flow(),
        vol.Optional("options"): _data_entry_flow(),
        vol.Optional("issues"): {
            str: vol.All(
                cv.has_at_least_one_key("description", "fix_flow"),
                vol.Schema(
                    {
                        vol.Required("title"): str,
                        vol.Exclusive("description", "fixable"): str,
                        vol.Exclusive("fix_flow", "fixable"): _unmodelled("issues fix_flow"),
                    }
                ),
            )
        },
        vol.Optional("device"): cv.schema_with_slug_keys(
            {vol.Optional("name"): str}, slug_validator=_translation_key
        ),
        vol.Optional("entity"): cv.schema_with_slug_keys(
            cv.schema_with_slug_keys(_ENTITY_TRANSLATION, slug_validator=_translation_key),
            slug_validator=cv.slug,
        ),
        vol.Optional("exceptions"): cv.schema_with_slug_keys(
            {vol.Optional("message"): str}, slug_validator=cv.slug
        ),
        **{
            vol.Optional(section): _unmodelled(f"translations section {section}")
            for section in (
                "application_credentials",
                "common",
                "conditions",
                "config_panel",
                "config_subentries",
                "conversation",
                "device_automation",
                "entity_component",
                "preview_features",
                "selector",
                "services",
                "system_health",
                "triggers",
            )
        },
    }
)


def check_translations(strings: dict[str, Any]) -> Problems:
    """hassfest translations.py, for every language (hassfest itself reads only en.json)."""
    problems = _schema_problems(TRANSLATIONS_SCHEMA, strings)
    for path, value in leaf_strings(strings):
        problems += check_string(path, value)
    return problems


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations(language: str) -> None:
    assert check_translations(_load(COMPONENT / "translations" / f"{language}.json")) == []


def test_translation_checks_can_fail() -> None:
    good = {"entity": {"sensor": {"cpu": {"name": "CPU usage"}}}}
    assert check_translations(good) == []
    for broken in (
        {"entity": {"sensor": {"cpu": {"name": "See https://example.com"}}}},
        {"entity": {"sensor": {"cpu": {"name": "See www.example.com"}}}},
        {"entity": {"sensor": {"cpu": {"name": " CPU"}}}},
        {"entity": {"sensor": {"cpu": {"name": ""}}}},
        {"entity": {"sensor": {"cpu": {"name": "<b>CPU</b>"}}}},
        {"entity": {"sensor": {"cpu": {"name": "CPU '{x}'"}}}},
        {"entity": {"sensor": {"cpu": {"name": "CPU {1x}"}}}},
        {"entity": {"sensor": {"cpu": {"name": "CPU {x"}}}},
        {"entity": {"sensor": {"cpu": {"name": "[%key:common::state::on%]"}}}},
        {"entity": {"sensor": {"cpu": {"name": 5}}}},
        {"entity": {"sensor": {"CPU": {"name": "CPU usage"}}}},
        {"entity": {"sensor": {"cpu__x": {"name": "CPU usage"}}}},
        {"entity": {"sensor": {"cpu_": {"name": "CPU usage"}}}},
        {"entity": {"Sensor": {"cpu": {"name": "CPU usage"}}}},
        {"entity": {"sensor": {"cpu": {"state": {"on": "On {x}"}}}}},
        {"entity": {"sensor": {"cpu": {"unit_of_measurement": "{x}"}}}},
        {"entity": {"sensor": {"cpu": {"icon": "mdi:cpu"}}}},
        {"services": {"refresh": {"name": "Refresh", "description": "Refresh."}}},
        {"unknown": {}},
        {"config": {"title": "Nezha", "step": {}}},
        {"config": {"step": {"user": {"data_description": {"url": "The URL."}}}}},
        {"issues": {"skew": {"description": "Off."}}},
        {"issues": {"skew": {"title": "Off"}}},
        {"exceptions": {"Bad Key": {"message": "Failed."}}},
    ):
        assert check_translations(broken), broken


# --- icons.json ----------------------------------------------------------------------------


def _icon(value: Any) -> str:
    """hassfest icons.py `icon_value_validator`."""
    value = cv.string_with_no_html(value)
    if not value.startswith("mdi:"):
        raise vol.Invalid(f"{value!r} is not a Material Design Icon (mdi:...)")
    return str(value)


def _state_icons_differ_from_default(entity: dict[str, Any]) -> dict[str, Any]:
    """hassfest icons.py `ensure_not_same_as_default`."""
    for key, icons in entity.items():
        for state, icon in icons.get("state", {}).items():
            if icon == icons.get("default"):
                raise vol.Invalid(f"{key}.state.{state} repeats the default icon")
    return entity


# hassfest icons.py `icon_schema` for a hub integration.
_ICONS_BY_KEY = cv.schema_with_slug_keys(
    {
        vol.Optional("default"): _icon,
        vol.Optional("state"): cv.schema_with_slug_keys(_icon, slug_validator=_translation_key),
        vol.Optional("range"): _unmodelled("icons range"),
        vol.Optional("state_attributes"): _unmodelled("icons state_attributes"),
    },
    slug_validator=_translation_key,
)
ICONS_SCHEMA = vol.Schema(
    {
        vol.Optional("entity"): cv.schema_with_slug_keys(
            vol.All(_ICONS_BY_KEY, _state_icons_differ_from_default), slug_validator=cv.slug
        ),
        vol.Optional("services"): cv.schema_with_slug_keys(_icon, slug_validator=_translation_key),
        **{
            vol.Optional(section): _unmodelled(f"icons section {section}")
            for section in ("config", "issues", "options")
        },
    }
)


def test_icons() -> None:
    assert _schema_problems(ICONS_SCHEMA, _load(COMPONENT / "icons.json")) == []


def test_icon_checks_can_fail() -> None:
    for broken in (
        {"entity": {"sensor": {"cpu": {"default": "cpu"}}}},
        {"entity": {"sensor": {"cpu": {"default": "mdi:cpu", "state": {"on": "mdi:cpu"}}}}},
        {"entity": {"sensor": {"Cpu": {"default": "mdi:cpu"}}}},
        {"entity": {"sensor": {"cpu": {"icon": "mdi:cpu"}}}},
    ):
        assert _schema_problems(ICONS_SCHEMA, broken), broken


def test_json_files_parse() -> None:
    # hassfest json.py: every JSON file of the integration is valid JSON (and here an object).
    files = sorted(COMPONENT.rglob("*.json"))
    assert len(files) >= 4
    for path in files:
        assert isinstance(_load(path), dict), path


# --- quality_scale.yaml --------------------------------------------------------------------

# hassfest quality_scale.py ALL_RULES (newest sources, late 2026), in its tier order.
QUALITY_SCALE_RULES = (
    # Bronze
    "action-setup",
    "appropriate-polling",
    "brands",
    "common-modules",
    "config-flow",
    "config-flow-test-coverage",
    "dependency-transparency",
    "docs-actions",
    "docs-conditions",
    "docs-high-level-description",
    "docs-installation-instructions",
    "docs-removal-instructions",
    "docs-triggers",
    "entity-event-setup",
    "entity-unique-id",
    "has-entity-name",
    "runtime-data",
    "test-before-configure",
    "test-before-setup",
    "unique-config-entry",
    # Silver
    "action-exceptions",
    "config-entry-unloading",
    "docs-configuration-parameters",
    "docs-installation-parameters",
    "entity-unavailable",
    "integration-owner",
    "log-when-unavailable",
    "parallel-updates",
    "reauthentication-flow",
    "test-coverage",
    # Gold
    "devices",
    "diagnostics",
    "discovery",
    "discovery-update-info",
    "docs-data-update",
    "docs-examples",
    "docs-known-limitations",
    "docs-supported-devices",
    "docs-supported-functions",
    "docs-troubleshooting",
    "docs-use-cases",
    "dynamic-devices",
    "entity-category",
    "entity-device-class",
    "entity-disabled-by-default",
    "entity-translations",
    "exception-translations",
    "icon-translations",
    "reconfiguration-flow",
    "repair-issues",
    "stale-devices",
    # Platinum
    "async-dependency",
    "inject-websession",
    "strict-typing",
)

# hassfest quality_scale.py SCHEMA: a status, with a comment for exempt ones (and for done/todo
# written as a mapping).
QUALITY_SCALE_SCHEMA = vol.Schema(
    {
        vol.Required("rules"): vol.Schema(
            {
                vol.Optional(rule): vol.Any(
                    vol.In(["todo", "done"]),
                    {
                        vol.Required("status"): vol.In(["todo", "done"]),
                        vol.Required("comment"): str,
                    },
                    {vol.Required("status"): "exempt", vol.Required("comment"): str},
                )
                for rule in QUALITY_SCALE_RULES
            }
        )
    }
)


def _module(name: str, component: Path) -> ast.Module:
    path = component / f"{name}.py"
    return (
        ast.parse(path.read_text("utf-8"))
        if path.is_file()
        else ast.Module(body=[], type_ignores=[])
    )


def _defines(module: ast.Module, *names: str) -> bool:
    return any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in names
        for node in ast.walk(module)
    )


def _assigns_module_constant(module: ast.Module, name: str) -> bool:
    return any(
        isinstance(node, ast.Assign | ast.AnnAssign)
        and any(
            isinstance(target, ast.Name) and target.id == name
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        )
        for node in module.body
    )


def _done_rule_problems(rule: str, manifest: dict[str, Any], component: Path) -> Problems:
    """hassfest quality_scale_validation/: what a `done` rule needs in the code.

    hassfest runs these for core integrations only; they are as true of a custom one.
    """
    if rule == "parallel-updates":
        return [
            f"parallel-updates done but {platform}.py sets no PARALLEL_UPDATES"
            for platform in Platform
            if (component / f"{platform}.py").is_file()
            and not _assigns_module_constant(_module(platform, component), "PARALLEL_UPDATES")
        ]
    flow = _module("config_flow", component)
    discovery_steps = [f"async_step_{key}" for key in [*DISCOVERY_KEYS, "hassio"]]
    needs: dict[str, tuple[Callable[[], Any], str]] = {
        "config-flow": (
            lambda: manifest.get("config_flow") and (component / "config_flow.py").is_file(),
            "config_flow in the manifest and config_flow.py",
        ),
        "reauthentication-flow": (
            lambda: _defines(flow, "async_step_reauth"),
            "async_step_reauth",
        ),
        "reconfiguration-flow": (
            lambda: _defines(flow, "async_step_reconfigure"),
            "async_step_reconfigure",
        ),
        "diagnostics": (
            lambda: _defines(
                _module("diagnostics", component),
                "async_get_config_entry_diagnostics",
                "async_get_device_diagnostics",
            ),
            "a diagnostics platform",
        ),
        "discovery": (
            lambda: set(DISCOVERY_KEYS) & set(manifest) or _defines(flow, *discovery_steps),
            "a discovery source in the manifest or a discovery step",
        ),
        # Project check: these rules are about PyPI requirements; with none they are exempt.
        "dependency-transparency": (
            lambda: manifest.get("requirements"),
            "requirements in the manifest",
        ),
        "async-dependency": (lambda: manifest.get("requirements"), "requirements in the manifest"),
        "unique-config-entry": (
            lambda: (
                "async_set_unique_id" in ast.unparse(flow) or manifest.get("single_config_entry")
            ),
            "a unique id or single_config_entry",
        ),
    }
    if rule in needs and not needs[rule][0]():
        return [f"{rule} done without {needs[rule][1]}"]
    return []


def _exempt_rule_problems(rule: str, manifest: dict[str, Any], component: Path) -> Problems:
    """Exemptions whose reason the files can confirm (a project check, not hassfest's)."""
    source = "\n".join(path.read_text("utf-8") for path in component.rglob("*.py"))
    match rule:
        case "dependency-transparency" | "async-dependency" if manifest.get("requirements"):
            return [f"{rule} exempt although the manifest has requirements"]
        case "action-setup" | "docs-actions" | "action-exceptions" if (
            component / "services.yaml"
        ).is_file() or any(
            # Service actions (a webhook's async_register is none).
            call in source
            for call in ("services.async_register", "async_register_entity_service")
        ):
            return [f"{rule} exempt although the integration registers actions"]
        case "docs-triggers" if any(
            (component / name).is_file()
            for name in ("trigger.py", "device_trigger.py", "triggers.yaml")
        ):
            return ["docs-triggers exempt although the integration provides triggers"]
        case "docs-conditions" if any(
            (component / name).is_file()
            for name in ("condition.py", "device_condition.py", "conditions.yaml")
        ):
            return ["docs-conditions exempt although the integration provides conditions"]
        case "discovery" | "discovery-update-info" if set(DISCOVERY_KEYS) & set(manifest):
            return [f"{rule} exempt although the manifest declares discovery"]
    return []


def check_quality_scale(
    data: dict[str, Any], manifest: dict[str, Any], component: Path
) -> Problems:
    """hassfest quality_scale.py: the schema, every rule listed, and the rule validators."""
    problems = _schema_problems(QUALITY_SCALE_SCHEMA, data)
    rules = data.get("rules", {})
    if missing := [rule for rule in QUALITY_SCALE_RULES if rule not in rules]:
        # hassfest lists them as unmet for the declared tier; here every rule must be stated.
        problems.append(f"rules not stated: {missing}")
    for rule, value in rules.items():
        status = value["status"] if isinstance(value, dict) else value
        if status == "done":
            problems += _done_rule_problems(rule, manifest, component)
        elif status == "exempt":
            problems += _exempt_rule_problems(rule, manifest, component)
    return problems


def test_quality_scale() -> None:
    data = load_yaml_dict(str(COMPONENT / "quality_scale.yaml"))
    assert list(data["rules"]) == list(QUALITY_SCALE_RULES)
    assert check_quality_scale(data, _load(COMPONENT / "manifest.json"), COMPONENT) == []


def test_quality_scale_checks_can_fail(tmp_path: Path) -> None:
    data = load_yaml_dict(str(COMPONENT / "quality_scale.yaml"))
    manifest = _load(COMPONENT / "manifest.json")
    rules = data["rules"]
    for sample in (
        {"rules": {**rules, "no-such-rule": "done"}},
        {"rules": {**rules, "brands": "maybe"}},
        {"rules": {**rules, "brands": {"status": "exempt"}}},
        {"rules": {rule: value for rule, value in rules.items() if rule != "docs-triggers"}},
    ):
        assert check_quality_scale(sample, manifest, COMPONENT), sample
    # An empty integration directory meets none of the rules that need code.
    for rule in ("dependency-transparency", "async-dependency"):
        assert _done_rule_problems(rule, manifest, COMPONENT), rule
    for rule in (
        "config-flow",
        "reauthentication-flow",
        "reconfiguration-flow",
        "diagnostics",
        "discovery",
        "unique-config-entry",
    ):
        assert _done_rule_problems(rule, {}, tmp_path), rule
        assert _done_rule_problems(rule, manifest, COMPONENT) == [] or rule == "discovery"
    (tmp_path / "sensor.py").write_text("PARALLEL = 0\n", "utf-8")
    assert _done_rule_problems("parallel-updates", manifest, tmp_path)
    with_requirements = {**manifest, "requirements": ["nezha-client==1.0"]}
    for rule in ("dependency-transparency", "async-dependency"):
        assert _exempt_rule_problems(rule, with_requirements, COMPONENT), rule
    (tmp_path / "services.yaml").write_text("refresh:\n", "utf-8")
    (tmp_path / "device_trigger.py").write_text("", "utf-8")
    (tmp_path / "condition.py").write_text("", "utf-8")
    for rule in (
        "action-setup",
        "docs-actions",
        "action-exceptions",
        "docs-triggers",
        "docs-conditions",
    ):
        assert _exempt_rule_problems(rule, manifest, tmp_path), rule
        assert _exempt_rule_problems(rule, manifest, COMPONENT) == [], rule
    zeroconf = {**manifest, "zeroconf": ["_nezha._tcp.local."]}
    assert _exempt_rule_problems("discovery", zeroconf, COMPONENT)


# --- imports -------------------------------------------------------------------------------


def _imported_components(module: ast.Module) -> Iterator[tuple[str, bool]]:
    """(component, whether from a submodule) for each homeassistant.components import."""
    for node in ast.walk(module):
        if (
            isinstance(node, ast.If)
            and isinstance(node.test, ast.Name)
            and node.test.id == "TYPE_CHECKING"
        ):
            node.body = []  # hassfest ignores imports made only for type checking
    for node in ast.walk(module):
        modules: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "homeassistant.components":
                modules = [f"homeassistant.components.{alias.name}" for alias in node.names]
            else:
                modules = [node.module]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        for name in modules:
            parts = name.split(".")
            if parts[:2] == ["homeassistant", "components"] and len(parts) > 2:
                yield parts[2], len(parts) > 3


# The plugin's own exemptions (_IGNORE_ROOT_IMPORT): components whose submodules are their
# API, such as recorder.statistics and sensor.const.
ROOT_IMPORT_EXEMPT = frozenset(
    {
        *("assist_pipeline", "automation", "bluetooth", "camera", "cast", "device_automation"),
        *("device_tracker", "ffmpeg", "ffmpeg_motion", "google_assistant", "hardware"),
        *("homeassistant", "homeassistant_hardware", "http", "manual", "plex", "recorder"),
        *("rest", "script", "sensor", "stream", "zha"),
    }
)


def check_imports(component: Path, manifest: dict[str, Any]) -> Problems:
    """Imports of other integrations.

    hassfest dependencies.py: a component used must be declared in (after_)dependencies, be an
    entity platform, or have a platform module of the same name here. Stricter: hassfest also
    allows a list of internal integrations, none of which this integration uses.
    Home Assistant's pylint plugin (hass-component-root-import): import from the component's
    root, not from its submodules such as `.const`.
    """
    allowed = {platform.value for platform in Platform}
    allowed |= set(manifest.get("dependencies", [])) | set(manifest.get("after_dependencies", []))
    problems: Problems = []
    for path in sorted(component.rglob("*.py")):
        for domain, submodule in _imported_components(ast.parse(path.read_text("utf-8"))):
            where = path.relative_to(component)
            if submodule and domain != component.name and domain not in ROOT_IMPORT_EXEMPT:
                problems.append(
                    f"{where}: import from homeassistant.components.{domain}, not a submodule"
                )
            if domain not in allowed and not (component / f"{domain}.py").is_file():
                problems.append(f"{where}: uses component {domain}, not in dependencies")
    return problems


def test_imports() -> None:
    assert check_imports(COMPONENT, _load(COMPONENT / "manifest.json")) == []


def test_import_checks_can_fail(tmp_path: Path) -> None:
    (tmp_path / "binary_sensor.py").write_text(
        "from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass\n"
        "from homeassistant.components import recorder\n"
        "import homeassistant.components.webhook.const\n"
        # Exempt from the root rule, as in core's plugin: only the dependency is missing.
        "from homeassistant.components.recorder.statistics import get_metadata\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from homeassistant.components.zeroconf import ZeroconfServiceInfo\n"
    )
    assert len(check_imports(tmp_path, {})) == 5
    assert len(check_imports(tmp_path, {"dependencies": ["recorder", "webhook"]})) == 2


# Core's pylint plugin `home-assistant-config-flow-polling-field` (checkers/config_flow/
# no_polling.py, quality rule appropriate-polling): no schema field of the config or options
# flow may be a polling interval.
POLLING_FIELD_NAMES = frozenset(
    {
        "CONF_POLLING_INTERVAL",
        "CONF_REFRESH_INTERVAL",
        "CONF_SCAN_INTERVAL",
        "CONF_UPDATE_FREQUENCY",
        "CONF_UPDATE_INTERVAL",
        "polling_interval",
        "refresh_interval",
        "scan_interval",
        "update_frequency",
        "update_interval",
    }
)


def check_no_polling_field(source: str) -> Problems:
    """The polling-interval fields a config flow module puts in a schema."""
    problems: Problems = []
    for node in ast.walk(ast.parse(source)):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"Required", "Optional"}
            and node.args
        ):
            continue
        field = node.args[0]
        name = (
            field.id
            if isinstance(field, ast.Name)
            else field.value
            if isinstance(field, ast.Constant) and isinstance(field.value, str)
            else None
        )
        if name in POLLING_FIELD_NAMES:
            problems.append(f"config flow line {node.lineno}: polling field {name}")
    return problems


def test_config_flow_has_no_polling_field() -> None:
    source = (COMPONENT / "config_flow.py").read_text(encoding="utf-8")
    assert check_no_polling_field(source) == []


def test_polling_field_check_can_fail() -> None:
    source = (
        "import voluptuous as vol\n"
        "SCHEMA = vol.Schema({vol.Required(CONF_SCAN_INTERVAL, default=30): int,"
        " vol.Optional('update_interval'): int, vol.Required('online_threshold'): int})\n"
    )
    assert len(check_no_polling_field(source)) == 2
