"""The documents a user and a contributor read: their links lead somewhere inside the repository.

On GitHub a relative link that climbs out of the repository (``../blueprints/…``) is a 404, and
an anchor that no heading makes goes nowhere; the my.home-assistant buttons must name this
repository, its domain and a blueprint that exists.
"""

from __future__ import annotations

from collections import Counter
import json
from pathlib import Path
import re
from urllib.parse import parse_qs, urlsplit

PROJECT = Path(__file__).parent.parent
DOCUMENTS = (
    PROJECT / "README.md",
    PROJECT / "CONTRIBUTING.md",
    *sorted((PROJECT / "docs").rglob("*.md")),
)
MANIFEST = json.loads((PROJECT / "custom_components/nezha/manifest.json").read_text("utf-8"))
REPOSITORY = MANIFEST["documentation"].rstrip("/")  # https://github.com/<owner>/<name>
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
# Markdown links and images ("](target)", which also finds the image inside a badge's link)
# and HTML src/href attributes.
TARGET = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|(?:src|href)=\"([^\"]+)\"")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def _targets(text: str) -> list[str]:
    text = FENCE.sub("", text)
    return [match.group(1) or match.group(2) for match in TARGET.finditer(text)]


def _anchors(text: str) -> set[str]:
    """The anchors GitHub makes from a document's headings (its slugger, duplicates numbered)."""
    seen: Counter[str] = Counter()
    anchors = set()
    for heading in HEADING.findall(FENCE.sub("", text)):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        anchors.add(f"{slug}-{seen[slug]}" if seen[slug] else slug)
        seen[slug] += 1
    return anchors


def link_problems(document: Path, root: Path = PROJECT) -> list[str]:
    """What is wrong with the links of one document: each problem as a sentence."""
    text = document.read_text("utf-8")
    problems = []
    for target in _targets(text):
        parts = urlsplit(target)
        if parts.scheme in {"http", "https"}:
            if target.startswith((f"{REPOSITORY}/blob/", f"{REPOSITORY}/tree/")):
                problems.append(f"{target}: a file of this repository, link it relatively")
            continue
        if parts.scheme:  # mailto: and the like
            continue
        path = (document.parent / parts.path).resolve() if parts.path else document
        if not path.is_relative_to(root.resolve()):
            problems.append(f"{target}: leads outside the repository")
            continue
        if not path.exists():
            problems.append(f"{target}: no such file")
            continue
        if (
            parts.fragment
            and path.suffix == ".md"
            and parts.fragment not in _anchors(path.read_text("utf-8"))
        ):
            problems.append(f"{target}: no heading makes #{parts.fragment}")
    return problems


def test_documents_exist_and_link_each_other() -> None:
    readme, contributing = DOCUMENTS[0], DOCUMENTS[1]
    assert readme.exists()
    assert contributing.exists()
    assert "CONTRIBUTING.md" in _targets(readme.read_text("utf-8"))
    assert "README.md" in _targets(contributing.read_text("utf-8"))


def test_every_relative_link_resolves_inside_the_repository() -> None:
    checked = 0
    for document in DOCUMENTS:
        assert link_problems(document) == [], document.name
        checked += len(_targets(document.read_text("utf-8")))
    assert checked > 20  # the documents' links were found at all


def test_every_screenshot_of_the_readme_is_shown() -> None:
    """The README shows the English and the Chinese screenshots the browser check takes."""
    shown = {target for target in _targets(DOCUMENTS[0].read_text("utf-8")) if ".png" in target}
    for name in ("device", "device-zh", "config-flow", "config-flow-zh"):
        assert f"docs/screenshot-{name}.png" in shown
    for path in shown:
        assert (PROJECT / path).stat().st_size > 10_000, path


def test_my_home_assistant_buttons_name_this_repository() -> None:
    """HACS, add-integration and blueprint-import buttons open what this repository holds."""
    owner, name = urlsplit(REPOSITORY).path.strip("/").split("/")
    redirects = {
        parts.path.split("/")[2]: parse_qs(parts.query)
        for parts in map(urlsplit, _targets(DOCUMENTS[0].read_text("utf-8")))
        if parts.netloc == "my.home-assistant.io" and parts.path.startswith("/redirect/")
    }
    assert redirects["hacs_repository"] == {
        "owner": [owner],
        "repository": [name],
        "category": ["integration"],
    }
    assert redirects["config_flow_start"] == {"domain": [MANIFEST["domain"]]}
    (blueprint,) = redirects["blueprint_import"]["blueprint_url"]
    raw = f"https://raw.githubusercontent.com/{owner}/{name}/main/"
    assert blueprint.startswith(raw)
    assert (PROJECT / blueprint.removeprefix(raw)).is_file()


def test_link_check_can_fail(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "shot.png").write_bytes(b"png")
    document = tmp_path / "README.md"
    document.write_text(
        "# Title\n\n## Set it up: `now`\n\n"
        "[ok](docs/shot.png) [ok](#set-it-up-now) [ok](https://example.com)\n"
        "[out](../blueprints/x.yaml) [gone](docs/missing.png) [anchor](#nowhere)\n"
        f"[![badge](docs/shot.png)]({REPOSITORY}/blob/main/LICENSE)\n"
        "```\n[in a fence](nowhere.md)\n```\n",
        "utf-8",
    )
    problems = link_problems(document, tmp_path)
    assert [problem.split(":")[0] for problem in problems] == [
        "../blueprints/x.yaml",
        "docs/missing.png",
        "#nowhere",
        "https",
    ]
    assert _anchors("# A\n## A\n## 中文 标题") == {"a", "a-1", "中文-标题"}
