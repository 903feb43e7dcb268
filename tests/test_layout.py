"""The layout shows the design, and the public API is one list that the docs follow.

- ``src/cocainate`` has five places (core; mechanisms, what holds; watchers, what says
  when; bindings; cli) and no import cycle, lazy imports included (only ``if
  TYPE_CHECKING:`` blocks are left out); every import goes down the layers (``LAYERS``).
- ``cocainate.__all__`` is the public API: docs/library.md names every entry, every
  ``EndReason``, every event kind and every public attribute of ``Session``; the README and
  docs/library.md name no ``cocainate.X`` that is not in it.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import cocainate
from cocainate.core.events import KINDS

ROOT = Path(cocainate.__file__).parent
DOCS = Path(__file__).parent.parent / "docs" / "library.md"
README = Path(__file__).parent.parent / "README.md"


def module_name(path: Path) -> str:
    parts = ["cocainate", *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in ROOT.rglob("*.py")}


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The cocainate modules ``name`` imports anywhere but under TYPE_CHECKING."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for child in node.body for n in ast.walk(child)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            target = f"{base}.{node.module}" if node.level else (node.module or "")
            if node.level and node.module is None:
                target = base
            for alias in node.names:
                child = f"{target}.{alias.name}"
                if child in known:
                    found.add(child)
                elif target in known:
                    found.add(target)
    found.discard(name)
    return found


def test_five_places() -> None:
    places = {p.name for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith("_")}
    assert places == {"core", "mechanisms", "watchers", "bindings", "cli"}


# The layers, bottom first: a module imports only from its own layer or those below (within
# a place, anything but a cycle). The reactor is the bottom of what wakes a session;
# mechanisms and watchers sit on it and never on the core; conditions describe watchers;
# the core drives them all; the package's names and the CLI come last.
LAYERS = (
    {"cocainate.errors", "cocainate.duration", "cocainate.bindings"},
    {"cocainate.reactor"},
    {"cocainate.mechanisms", "cocainate.watchers"},
    {"cocainate.conditions"},
    {"cocainate.core"},
    {"cocainate", "cocainate.__main__", "cocainate.cli"},
)


def layer(name: str) -> int:
    """The layer of module ``name``: that of its place (the longest prefix listed)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        for rank, places in enumerate(LAYERS):
            if ".".join(parts[:end]) in places:
                return rank
    raise AssertionError(f"{name} is in no layer: add its place to LAYERS")


def test_every_import_goes_down_the_layers() -> None:
    found = modules()
    wrong = []
    for name, path in found.items():
        for imported in imports(name, path, set(found)):
            if layer(imported) > layer(name):
                wrong.append(f"{name} (layer {layer(name)}) imports {imported} ({layer(imported)})")
    assert wrong == []


def test_no_import_cycles() -> None:
    found = modules()
    graph = {name: imports(name, path, set(found)) for name, path in found.items()}
    state: dict[str, int] = {}  # 1: on the path, 2: done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_the_docs_name_every_public_name_and_no_other() -> None:
    docs = DOCS.read_text()
    public = set(cocainate.__all__) - {"__version__"}
    for name in public:
        assert f"`{name}" in docs, f"docs/library.md does not document {name}"
    for member in cocainate.EndReason:
        assert f"`{member.name}`" in docs, f"EndReason.{member.name} is undocumented"
    for kind in KINDS:
        assert f'`"{kind}"`' in docs, f"the {kind!r} event is undocumented"
    attributes = {n for n, _ in inspect.getmembers(cocainate.Session) if not n.startswith("_")}
    for attribute in attributes:
        found = re.search(rf"`[^`\n]*\b{attribute}\b[^`\n]*`", docs)
        assert found, f"Session.{attribute} is undocumented"
    for text in (docs, README.read_text()):
        for used in re.findall(r"(?<![/\w])cocainate\.([A-Za-z_]+)", text):
            assert used in public, f"the docs use cocainate.{used}, which is not public"


def test_the_package_names_its_own_home_and_the_readme_links_work_on_pypi() -> None:
    """PyPI shows the README with no repository around it: a relative link is dead there."""
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib

    project = tomllib.loads((README.parent / "pyproject.toml").read_text())["project"]
    urls = project["urls"]
    for key in ("Homepage", "Source", "Issues", "Documentation"):
        assert urls[key].startswith("https://github.com/cocainate/cocainate"), key
    links = re.findall(r"\]\(([^)]+)\)|^\[[^]]+\]: (\S+)", README.read_text(), re.MULTILINE)
    targets = [a or b for a, b in links]
    assert targets and all(t.startswith("https://") for t in targets), targets
    from cocainate.bindings.control import PREFIX

    assert PREFIX == "io.github.cocainate"  # the D-Bus names follow the same address
