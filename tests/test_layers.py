"""The package's layers hold: no module imports a higher layer, nothing imports in a cycle.

The layer order is read from the table in docs/architecture.md, its only copy.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "replaystream"
TABLE_ROW = re.compile(r"^\|\s*(\d+)\s*\|\s*(\w+)\s*\|([^|]*)\|")


def layer_table() -> dict[str, int]:
    """``{"replaystream.wire": 2, ...}`` from the architecture doc's table."""
    ranks: dict[str, int] = {}
    for line in (ROOT / "docs" / "architecture.md").read_text("utf-8").splitlines():
        m = TABLE_ROW.match(line)
        if m:
            for name in re.findall(r"`(\w+)`", m.group(3)):
                ranks["replaystream" if name == "replaystream" else f"replaystream.{name}"] = int(m.group(1))
    return ranks


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def rank_of(module: str, ranks: dict[str, int]) -> int:
    best = max((name for name in ranks if module == name or module.startswith(name + ".")), key=len, default=None)
    if best is None:
        raise AssertionError(f"{module} is in no layer of docs/architecture.md: add it to the table")
    return ranks[best]


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports(module: str, *, runtime_top_level: bool) -> Iterator[tuple[str, int]]:
    """``(imported replaystream module, line)`` for each import in ``module``.

    ``runtime_top_level``: only imports run when the module is imported (the ones that
    can form an import cycle), not those inside functions or ``if TYPE_CHECKING:``.
    """
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text("utf-8"))

    def walk(nodes: list[ast.stmt]) -> Iterator[ast.stmt]:
        for node in nodes:
            yield node
            if runtime_top_level:
                if isinstance(node, ast.If) and not _is_type_checking(node):
                    yield from walk(node.body + node.orelse)
                elif isinstance(node, ast.Try):
                    yield from walk(node.body + node.orelse + node.finalbody)
            else:
                yield from walk([c for c in ast.iter_child_nodes(node) if isinstance(c, ast.stmt)])

    for node in walk(tree.body):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("replaystream"):
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("replaystream"):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                yield (sub if sub in MODULES else target), node.lineno


def test_every_module_is_in_a_layer_and_the_table_is_read() -> None:
    ranks = layer_table()
    assert len(set(ranks.values())) >= 5, ranks  # the table was found and parsed
    for module in MODULES:
        rank_of(module, ranks)


def test_no_module_imports_a_higher_layer() -> None:
    ranks = layer_table()
    upward = []
    for module in MODULES:
        mine = rank_of(module, ranks)
        for target, line in imports(module, runtime_top_level=False):
            if rank_of(target, ranks) > mine:
                upward.append(f"{MODULES[module].relative_to(ROOT)}:{line} imports {target} "
                              f"(layer {rank_of(target, ranks)} > {mine})")
    assert not upward, "\n".join(upward)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module in MODULES:
        # A package's __init__ runs before its modules: importing a sibling through the
        # package is not a cycle of its own, so edges to a module's own package are left out.
        graph[module] = {t for t, _ in imports(module, runtime_top_level=True)
                         if t != module and not module.startswith(t + ".")}
    return graph


def test_no_import_cycles() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, " -> ".join(cycle or [])


def test_the_checks_catch_what_they_are_for() -> None:
    # The checker itself: a cycle and an upward import are found when they exist.
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    ranks = layer_table()
    assert rank_of("replaystream.cassette.model", ranks) < rank_of("replaystream.wire.session", ranks)
    assert rank_of("replaystream.wire.session", ranks) < rank_of("replaystream.plugin", ranks)
    with pytest.raises(AssertionError, match="no layer"):
        rank_of("replaystream_other.x", ranks)
