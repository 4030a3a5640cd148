"""The library tests stand on their own, and no test module leans on another.

tests/api tests the dashboard client, which imports no Home Assistant: so do these tests and
every module of tests/ they import (tests/helpers.py). The rule is about imports that run:
an import under ``if TYPE_CHECKING:`` (types of the fixtures) never does. pytest itself still
loads tests/conftest.py, which imports Home Assistant for the integration's tests; that is
the runner's business, not the library tests'.

Across tests/, shared code lives in tests/helpers.py and in fixtures (conftest.py): a test
module never imports from another test module or from a conftest.py.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
import subprocess
import sys
import textwrap

import pytest

TESTS = Path(__file__).resolve().parents[1]
PROJECT = TESTS.parent
LIBRARY_TESTS = TESTS / "api"
HOME_ASSISTANT = ("homeassistant", "pytest_homeassistant_custom_component")


def _imports(tree: ast.Module, package: str) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import that runs; relative ones are resolved."""

    def walk(nodes: list[ast.stmt]) -> Iterator[ast.AST]:
        for node in nodes:
            if isinstance(node, ast.If) and _is_type_checking(node.test):
                yield from walk(node.orelse)
                continue
            yield node
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    yield from walk([child])
                elif isinstance(child, (ast.excepthandler, ast.match_case)):
                    yield from walk(child.body)

    for node in walk(tree.body):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield node.lineno, module
            # ``from package import module`` imports that module too.
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}"


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _source(module: str) -> Path | None:
    """The file of a module of tests/, if there is one."""
    base = PROJECT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _package(module: str) -> str:
    path = _source(module)
    return module if path is not None and path.name == "__init__.py" else module.rpartition(".")[0]


def _read(module: str) -> str | None:
    path = _source(module)
    return None if path is None else path.read_text("utf-8")


def home_assistant_imports(
    modules: Iterable[str], read: Callable[[str], str | None] = _read
) -> list[str]:
    """Home Assistant imports of these modules of tests/ and of the tests/ modules they
    import, followed through; as "module:line imports name"."""
    problems: list[str] = []
    pending = list(modules)
    seen = set(pending)
    while pending:
        name = pending.pop()
        text = read(name)
        if text is None:
            continue
        for line, module in _imports(ast.parse(text), _package(name)):
            if module.split(".")[0] in HOME_ASSISTANT:
                problems.append(f"{name}:{line} imports {module}")
            elif module.split(".")[0] == "tests" and module not in seen:
                seen.add(module)
                pending.append(module)
    return sorted(problems)


def imports_between_tests(name: str, text: str) -> list[str]:
    """Imports of a test module or of a conftest.py by this module of tests/."""
    return [
        f"{name}:{line} imports {module}"
        for line, module in _imports(ast.parse(text), _package(name))
        if module.split(".")[0] == "tests"
        and module.rsplit(".", 1)[-1].startswith(("test_", "conftest"))
    ]


LIBRARY_MODULES = [_module_name(path) for path in sorted(LIBRARY_TESTS.rglob("*.py"))]


def test_library_tests_import_no_home_assistant() -> None:
    assert len(LIBRARY_MODULES) >= 10
    assert home_assistant_imports(LIBRARY_MODULES) == []


def test_no_test_module_imports_another() -> None:
    problems = [
        problem
        for path in sorted(TESTS.rglob("*.py"))
        for problem in imports_between_tests(_module_name(path), path.read_text("utf-8"))
    ]
    assert problems == []


def test_import_checks_can_fail() -> None:
    library_test = textwrap.dedent(
        """
        from typing import TYPE_CHECKING
        import homeassistant.core
        from pytest_homeassistant_custom_component.common import MockConfigEntry
        from tests.helpers import TOKEN

        if TYPE_CHECKING:
            from homeassistant.core import HomeAssistant

        def later():
            from homeassistant import config_entries
        """
    )
    sources = {"tests.api.test_x": library_test}
    assert home_assistant_imports(sources, lambda name: sources.get(name) or _read(name)) == [
        "tests.api.test_x:11 imports homeassistant",
        "tests.api.test_x:11 imports homeassistant.config_entries",
        "tests.api.test_x:3 imports homeassistant.core",
        "tests.api.test_x:4 imports pytest_homeassistant_custom_component.common",
        "tests.api.test_x:4 imports pytest_homeassistant_custom_component.common.MockConfigEntry",
    ]
    leaning = "from . import test_client\nfrom ..conftest import clock\nfrom .. import helpers\n"
    assert imports_between_tests("tests.api.test_x", leaning) == [
        "tests.api.test_x:1 imports tests.api.test_client",
        "tests.api.test_x:2 imports tests.conftest",
    ]


@pytest.mark.parametrize("shared", ["tests.helpers", "tests.api.conftest"])
def test_shared_modules_are_followed(shared: str) -> None:
    """The check reaches the modules the library tests import, and sees their imports."""
    text = _read(shared)
    assert text is not None
    line = len(text.splitlines()) + 1
    sources = {
        "tests.api.test_x": f"import {shared}\n",
        shared: f"{text}import homeassistant.const\n",
    }
    assert home_assistant_imports(["tests.api.test_x"], sources.get) == [
        f"{shared}:{line} imports homeassistant.const"
    ]


# Run in a fresh interpreter: Home Assistant made unimportable, and the integration's package
# replaced by an empty one so that its __init__.py (which sets up the integration in Home
# Assistant) does not run; only the library below it, custom_components/nezha/api, is there.
_IMPORT_WITHOUT_HOME_ASSISTANT = """
import importlib, importlib.abc, sys, types

class NoHomeAssistant(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ImportError(f"{{name}} imported")
        return None

sys.meta_path.insert(0, NoHomeAssistant())
integration = types.ModuleType("custom_components.nezha")
integration.__path__ = [{integration!r}]
sys.modules["custom_components.nezha"] = integration
for module in sys.argv[1:]:
    importlib.import_module(module)
print("imported", len(sys.argv) - 1)
"""


def _import_without_home_assistant(
    modules: list[str], extra_path: Path | None = None
) -> subprocess.CompletedProcess[str]:
    script = _IMPORT_WITHOUT_HOME_ASSISTANT.format(
        blocked=set(HOME_ASSISTANT),
        integration=str(PROJECT / "custom_components" / "nezha"),
    )
    path = [str(PROJECT)] + ([str(extra_path)] if extra_path else [])
    return subprocess.run(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-c", script, *modules],
        cwd=PROJECT,
        env={"PYTHONPATH": ":".join(path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_library_tests_load_without_home_assistant() -> None:
    """Every module of tests/api, and the client package, imported with no Home Assistant."""
    modules = ["custom_components.nezha.api", *LIBRARY_MODULES]
    result = _import_without_home_assistant(modules)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"imported {len(modules)}"


def test_loading_without_home_assistant_can_fail(tmp_path: Path) -> None:
    (tmp_path / "leans_on_home_assistant.py").write_text("import homeassistant.core\n")
    result = _import_without_home_assistant(["leans_on_home_assistant"], tmp_path)
    assert result.returncode != 0
    assert "ImportError: homeassistant imported" in result.stderr
