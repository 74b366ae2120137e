"""The import graph among provhub/provdm/ and provhub/importers/ modules has no circle.

Read from the source with ``ast``: every ``import`` counts, at module level or inside a function
(a function-level import that only dodges a circle is still a circle). A package's
``__init__`` is an edge only when it is imported by name (``from importers import import_fits``),
not when a submodule is (``from . import ids``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("provhub.provdm", "provhub.importers")
#: Circles known and not yet broken, as the import that closes each (left out of the check).
#: provhub.provdm.voprov imports parse_w3c from provhub.provdm.formats, whose parse_any imports voprov inside the
#: function; breaking it means moving parse_w3c and its helpers to a module of their own.
KNOWN_CIRCLES = {("provhub.provdm.formats", "provhub.provdm.voprov")}


def module_names(root: Path = ROOT) -> dict[str, Path]:
    """Dotted name -> file of every module of :data:`PACKAGES` (``pkg`` for ``pkg/__init__.py``)."""
    out = {}
    for package in PACKAGES:
        for path in sorted((root / package.replace(".", "/")).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ``modules`` that ``name`` imports anywhere in its source."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(base + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            submodules = [f"{base}.{alias.name}" for alias in node.names]
            targets = [t for t in submodules if t in modules] or [base]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # "import provhub.provdm.codec.x" -> provhub.provdm.codec
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    modules = module_names(root)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of ``graph`` as ``[a, b, ..., a]``, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        path.append(name)
        for other in sorted(graph.get(name, ())):
            if state.get(other) == 1:
                return path[path.index(other) :] + [other]
            if other not in state:
                circle = visit(other)
                if circle:
                    return circle
        path.pop()
        state[name] = 2
        return None

    for name in sorted(graph):
        if name not in state:
            circle = visit(name)
            if circle:
                return circle
    return None


def test_no_import_circle_in_provdm_and_importers():
    graph = import_graph()
    for importer, imported in KNOWN_CIRCLES:
        graph[importer].discard(imported)
    circle = find_circle(graph)
    assert circle is None, "import circle: " + " -> ".join(circle)


@pytest.mark.parametrize("importer, imported", sorted(KNOWN_CIRCLES))
def test_known_circles_are_still_circles(importer, imported):
    """A known circle that is broken must leave :data:`KNOWN_CIRCLES` (so the check covers it)."""
    graph = import_graph()
    assert imported in graph[importer]
    graph = {name: {t for t in targets if (name, t) != (importer, imported)} for name, targets in graph.items()}
    seen, todo = set(), [imported]  # does ``imported`` still reach ``importer``?
    while todo:
        name = todo.pop()
        seen.add(name)
        todo.extend(graph[name] - seen)
    assert importer in seen, f"{importer} -> {imported} closes no circle any more: drop it from KNOWN_CIRCLES"


def test_provdm_imports_nothing_from_importers():
    graph = import_graph()
    wrong = {
        name: sorted(t for t in targets if t.startswith("provhub.importers.") or t == "provhub.importers")
        for name, targets in graph.items()
        if name.startswith("provhub.provdm")
    }
    assert not {name: t for name, t in wrong.items() if t}


@pytest.mark.parametrize(
    "source, circle",
    [
        (
            {"a": "from . import b\n", "b": "def f():\n    from .a import x\n"},
            ["provhub.provdm.a", "provhub.provdm.b", "provhub.provdm.a"],
        ),
        (
            {"a": "from .b import x\n", "b": "import provhub.provdm.c\n", "c": "from provhub.provdm import a\n"},
            ["provhub.provdm.a", "provhub.provdm.b", "provhub.provdm.c", "provhub.provdm.a"],
        ),
        ({"a": "from . import b\n", "b": "from provhub.provdm.c import y\n", "c": ""}, None),
    ],
)
def test_the_check_sees_a_circle(tmp_path, source, circle):
    """The check itself: a function-level import back is a circle, a chain is not."""
    (tmp_path / "provhub" / "provdm").mkdir(parents=True)
    (tmp_path / "provhub" / "importers").mkdir()
    (tmp_path / "provhub" / "provdm" / "__init__.py").write_text("")
    for name, text in source.items():
        (tmp_path / "provhub" / "provdm" / f"{name}.py").write_text(text)
    assert find_circle(import_graph(tmp_path)) == circle


def test_one_import_root_is_installed():
    """Issue 21: the distribution installs ``provhub`` and nothing else at the top level of
    site-packages (no generic ``app`` or ``importers`` to collide with other projects)."""
    import tomllib

    from setuptools import find_packages

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    packages = find_packages(str(ROOT), include=config["include"])
    assert {"provhub", "provhub.app", "provhub.provdm", "provhub.importers", "provhub.app.stores"} <= set(packages)
    assert {name.split(".")[0] for name in packages} == {"provhub"}, packages
    entry = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["provhub"]
    assert entry == "provhub.app.cli:main"
