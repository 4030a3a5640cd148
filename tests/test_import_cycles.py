"""No import circle anywhere in the tree: the integration, the fake dashboard, scripts, tests.

Every import statement counts: at module level, under ``if TYPE_CHECKING:`` (a circle of
types is still a circle of design) and inside functions (an import deferred into a function
only hides one). Files are parsed with ``ast``, never imported; relative imports are resolved
against the importing module's package. ``from package import name`` depends on the
submodule ``package.name`` when there is one, and on the package itself otherwise.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TREES = ("custom_components", "fake_dashboard", "scripts", "tests")

# (importing module, imported module) → the line of the first import making it.
type Graph = dict[str, dict[str, int]]


def _modules(root: Path, trees: Iterable[str]) -> dict[str, tuple[Path, bool]]:
    """Module name → (file, whether it is a package's ``__init__``)."""
    modules: dict[str, tuple[Path, bool]] = {}
    for tree in trees:
        for path in sorted((root / tree).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            is_package = parts[-1] == "__init__"
            modules[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return modules


def _imported(node: ast.Import | ast.ImportFrom, package: str) -> Iterator[str]:
    """The modules one import statement names (not yet checked against the tree)."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    if node.level:
        base = package.split(".")[: len(package.split(".")) - node.level + 1]
        module = ".".join([*base, node.module] if node.module else base)
    else:
        module = node.module or ""
    yield module
    yield from (f"{module}.{alias.name}" for alias in node.names)


def _in_tree(name: str, modules: Mapping[str, object]) -> str:
    """The longest prefix of ``name`` that is a module of the tree ("" for none)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name


def import_graph(root: Path, trees: Iterable[str] = TREES) -> Graph:
    """Which module of the tree imports which other module of the tree, and on which line."""
    modules = _modules(root, trees)
    graph: Graph = {}
    for name, (path, is_package) in modules.items():
        package = name if is_package else name.rpartition(".")[0]
        edges = graph.setdefault(name, {})
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            named = list(_imported(node, package))
            if isinstance(node, ast.ImportFrom):
                module, names = named[0], named[1:]
                submodules = [item for item in names if item in modules]
                # ``from . import sub`` needs the submodule, not its (initialising) package.
                named = submodules + ([module] if len(submodules) < len(names) else [])
            for target in named:
                module = _in_tree(target, modules)
                if module and module != name:
                    edges.setdefault(module, node.lineno)
    return graph


def _components(graph: Graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _circle(graph: Graph, members: list[str]) -> list[str]:
    """One shortest circle through the first module of a component (breadth first)."""
    inside = set(members)
    start = members[0]
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for child in sorted(graph[node]):
                if child not in inside:
                    continue
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if child not in came_from:
                    came_from[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"{members} is not a circle")


def import_cycles(graph: Graph) -> list[str]:
    """Each circle as ``a:line → b:line → a``, one per group of modules importing each other."""
    problems: list[str] = []
    for members in _components(graph):
        circle = _circle(graph, members)
        steps = [f"{a}:{graph[a][b]}" for a, b in pairwise(circle)]
        problems.append(" → ".join([*steps, circle[-1]]))
    return sorted(problems)


def test_no_import_cycles() -> None:
    graph = import_graph(ROOT)
    # The whole tree was read: every part, and the imports inside it.
    for tree in TREES:
        assert any(name.startswith(f"{tree}.") for name in graph), tree
    assert graph["custom_components.nezha.coordinator"].keys() >= {
        "custom_components.nezha.api",
        "custom_components.nezha.repairs",
    }
    assert import_cycles(graph) == []


def test_import_cycle_check_can_fail(tmp_path: Path) -> None:
    package = tmp_path / "custom_components" / "demo"
    (package / "api").mkdir(parents=True)
    (package / "__init__.py").write_text("from . import runtime\n")
    # A circle through a TYPE_CHECKING import and a relative one.
    (package / "runtime.py").write_text(
        "from typing import TYPE_CHECKING\nfrom .feature import Feature\n"
    )
    (package / "feature.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .runtime import Runtime\n"
    )
    # A circle hidden in a function, between the package and a subpackage's module.
    (package / "api" / "__init__.py").write_text("from .client import Client\n")
    (package / "api" / "client.py").write_text(
        "def late():\n    from custom_components.demo.api import Client\n"
    )
    # Not circles: a submodule taken from its own package, a module importing itself.
    (package / "api" / "parse.py").write_text("from . import client\nimport custom_components\n")
    (package / "const.py").write_text("from custom_components.demo import const\n")

    problems = import_cycles(import_graph(tmp_path, ["custom_components"]))

    assert problems == [
        "custom_components.demo.api:1 → custom_components.demo.api.client:2"
        " → custom_components.demo.api",
        "custom_components.demo.feature:3 → custom_components.demo.runtime:2"
        " → custom_components.demo.feature",
    ]
