"""The layers of the project: ``surrogates -> likelihoods -> fits -> workflows``.

Every import of every module of the four packages counts, wherever it stands: at the top,
inside a function (a lazy import) or under ``if TYPE_CHECKING``. A module may import modules
of its own package and of the packages to its left, never one to its right, and no two
modules may import each other, directly or through others.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: The packages, in layer order: each may import only itself and those before it.
LAYERS = ("surrogates", "likelihoods", "fits", "workflows")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for package in LAYERS
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def _imported(name: str, path: Path, known: set[str]) -> set[str]:
    """Project modules that module ``name`` imports (the deepest known module of each name).

    Importing ``a.b`` runs the package ``a`` first; that implicit import of a parent is not
    counted (Python finds the parent already importing and goes on), the explicit one of
    ``from a import name`` (a name defined in ``a/__init__.py``) is.
    """
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            # ``from pkg import name``: the module pkg.name where there is one, else pkg
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (a package's ``__init__`` counts as a module)."""
    modules = _modules()
    known = set(modules)
    return {name: _imported(name, path, known) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of modules (first repeated last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def _layer(module: str) -> int:
    return LAYERS.index(module.split(".")[0])


def test_the_graph_sees_lazy_and_type_checking_imports():
    graph = import_graph()
    assert "surrogates.base" in graph and "workflows.cli" in graph
    assert "fits.config" in graph["workflows.fit_commands"]  # imported inside a function


def test_no_module_imports_against_the_layers():
    wrong = sorted(
        f"{module} imports {other}"
        for module, imports in import_graph().items()
        for other in imports
        if _layer(other) > _layer(module)
    )
    assert not wrong, "imports against surrogates -> likelihoods -> fits -> workflows:\n" + (
        "\n".join(wrong)
    )


def test_no_import_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


@pytest.mark.parametrize(
    "graph, cyclic",
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, False),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, True),
        ({"a": {"a.b"}, "a.b": {"a"}}, True),
    ],
)
def test_find_cycle_finds_cycles(graph, cyclic):
    assert (find_cycle(graph) is not None) == cyclic
