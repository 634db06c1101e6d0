"""Run trees and callback-propagation checks for ``astream_events`` runs.

A runnable invoked inside a tool, a lambda or a thread only reports to the outer
``astream_events`` when the callbacks (the config) reach it. When they do not, its events
either vanish (a thread started without copying the context) or arrive as a second root
run (callbacks handed over without their parent run). :func:`assert_propagated` catches
both and draws the run tree in its message.

LangGraph runs are understood too: every run inside a graph carries its node and
checkpoint namespace in its metadata (``langgraph_node``, ``langgraph_checkpoint_ns``), so
each must sit under the run of every node of its namespace (a model or tool under its
node's run, a subgraph under the node that runs it). The tree shows the namespace as
``@second#0|child#0``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ReplayStreamError
from .events import normalize_events, run_type

__all__ = ["PropagationError", "RunNode", "RunTree", "assert_propagated", "run_tree"]

_HINT = (
    "hint: pass the config on (`runnable.invoke(x, config)` with `config: RunnableConfig` "
    "as a parameter), or run threads in a copied context "
    "(`contextvars.copy_context().run(...)`); with callbacks handed over by hand, the "
    "nested run has no parent."
)


class PropagationError(ReplayStreamError, AssertionError):
    """Callbacks did not reach a nested run: a parent is missing, a run is a detached root,
    or an expected child run is absent. ``tree`` is the :class:`RunTree` of the events."""

    def __init__(self, problems: list[str], tree: RunTree) -> None:
        self.problems = problems
        self.tree = tree
        lines = ["callback propagation is broken:"]
        lines += [f"  - {p}" for p in problems]
        lines += ["run tree:"] + [f"  {line}" for line in tree.draw().splitlines()] + [_HINT]
        super().__init__("\n".join(lines))


@dataclass
class RunNode:
    """One run of an event stream: its label (``reverse_word#0``), name and run type."""

    label: str
    name: str
    type: str
    parent: str | None = None
    children: list[RunNode] = field(default_factory=list)
    missing: bool = False  # a parent named by parent_ids that never shows up as a run
    namespace: str | None = None  # LangGraph: the normalised checkpoint namespace it runs in

    @property
    def graph_nodes(self) -> list[str]:
        """The graph nodes this run sits in, outermost first (``second#0|child#0`` -> second, child)."""
        return [seg.rpartition("#")[0] or seg for seg in self.namespace.split("|")] if self.namespace else []


@dataclass
class RunTree:
    """The runs of an event stream as a tree (``str(tree)`` draws it)."""

    roots: list[RunNode]
    nodes: dict[str, RunNode]

    @property
    def detached(self) -> list[RunNode]:
        """Real runs without a parent (a well-propagated run has exactly one)."""
        return [n for n in self.roots if not n.missing]

    @property
    def missing(self) -> list[RunNode]:
        """Placeholders for parents that are referenced but never appear as runs."""
        return [n for n in self.nodes.values() if n.missing]

    def by_name(self, name: str) -> list[RunNode]:
        return [n for n in self.nodes.values() if n.name == name and not n.missing]

    def ancestors(self, node: RunNode) -> list[RunNode]:
        """The runs above ``node``, nearest first."""
        out: list[RunNode] = []
        while node.parent is not None:
            node = self.nodes[node.parent]
            out.append(node)
        return out

    def descendants(self, node: RunNode) -> list[RunNode]:
        """Every run below ``node``, depth first."""
        out: list[RunNode] = []
        for child in node.children:
            out.append(child)
            out.extend(self.descendants(child))
        return out

    def draw(self) -> str:
        """ASCII tree, one run a line: ``label (type)``, children indented under it."""
        lines: list[str] = []
        extra_roots = len(self.detached) > 1

        def walk(node: RunNode, prefix: str, branch: str, root: bool) -> None:
            note = ""
            if node.missing:
                note = "  <- not in the stream"
            elif root and extra_roots and node is not self.detached[0]:
                note = "  <- detached root"
            text = f"{node.label} (missing parent)" if node.missing else f"{node.label} ({node.type})"
            if node.namespace and node.parent is not None and node.namespace != self.nodes[node.parent].namespace:
                text += f" @{node.namespace}"  # where the graph says it runs, when it changes
            lines.append(f"{prefix}{branch}{text}{note}")
            child_prefix = prefix + ("" if root else ("    " if branch == "`-- " else "|   "))
            for i, child in enumerate(node.children):
                walk(child, child_prefix, "`-- " if i == len(node.children) - 1 else "|-- ", False)

        for r in self.roots:
            walk(r, "", "", True)
        return "\n".join(lines)

    __str__ = draw


def run_tree(events: Iterable[Mapping[str, Any]]) -> RunTree:
    """The run tree of an event stream (raw or normalised v2 events).

    ::

        print(run_tree(events))
        # reverse_and_double#0 (chain)
        # `-- reverse_word#0 (chain)
    """
    nodes: dict[str, RunNode] = {}
    parents: dict[str, list[str]] = {}
    for ev in normalize_events(events):
        label = ev.get("run_id")
        if label is None or label in nodes:
            continue
        kind = str(ev.get("event", ""))
        name = str(ev.get("name", ""))
        if kind == "on_custom_event":
            name, kind = label.rpartition("#")[0], "on_custom_event"
        meta = ev.get("metadata") or {}
        ns = meta.get("langgraph_checkpoint_ns") if isinstance(meta, Mapping) else None
        nodes[label] = RunNode(label=label, name=name, type=run_type(kind, name),
                               namespace=ns if isinstance(ns, str) and ns else None)
        parents[label] = list(ev.get("parent_ids") or [])
    roots: list[RunNode] = []
    for label, node in list(nodes.items()):
        chain = parents[label]
        if not chain:
            roots.append(node)
            continue
        # parent_ids run root-first; hang placeholders for missing ancestors on the way down.
        above: RunNode | None = None
        for pid in chain:
            pnode = nodes.get(pid)
            if pnode is None:
                pnode = nodes[pid] = RunNode(label=pid, name="", type="", missing=True)
                if above is None:
                    roots.append(pnode)
                else:
                    pnode.parent = above.label
                    above.children.append(pnode)
            above = pnode
        assert above is not None
        node.parent = above.label
        above.children.append(node)
    return RunTree(roots=roots, nodes=nodes)


def _graph_problems(tree: RunTree) -> list[str]:
    """Runs inside a LangGraph graph that do not sit under the runs of their graph nodes."""
    problems: list[str] = []
    for node in tree.nodes.values():
        wanted = node.graph_nodes
        if node.missing or not wanted:
            continue
        path = [n.name for n in reversed(tree.ancestors(node))] + [node.name]
        at = 0
        for name in path:  # the node names must show up in order along the path from the root
            if at < len(wanted) and name == wanted[at]:
                at += 1
        if at < len(wanted):
            above = " > ".join(n.label for n in reversed(tree.ancestors(node))) or "nothing"
            problems.append(f"{node.label} runs in graph node {wanted[at]!r} (namespace {node.namespace}) "
                            f"but no {wanted[at]!r} run is above it (above it: {above})")
    return problems


def _expected(tree: RunTree, wanted: Mapping[str, Iterable[str]], below: str) -> list[str]:
    """Each run named as a key must have a run of each listed name among its children (or descendants)."""
    problems: list[str] = []
    for parent_name, names in wanted.items():
        owners = tree.by_name(parent_name)
        if not owners:
            problems.append(f"no run named {parent_name!r} in the stream")
            continue
        for owner in owners:
            under = owner.children if below == "child" else tree.descendants(owner)
            have = [c.name for c in under]
            for child in names:
                if child in have:
                    have.remove(child)
                else:
                    seen = ", ".join(c.name for c in under) or "none"
                    kin = "children" if below == "child" else "descendants"
                    problems.append(f"{owner.label} has no {below} run {child!r} (its {kin}: {seen})")
    return problems


def assert_propagated(
    events: Iterable[Mapping[str, Any]],
    *,
    expect_children: Mapping[str, Iterable[str]] | None = None,
    expect_descendants: Mapping[str, Iterable[str]] | None = None,
    max_roots: int = 1,
) -> RunTree:
    """Check that every run of an *unfiltered* event stream hangs off one root run.

    Fails with :class:`PropagationError` (an ``AssertionError``) when a ``parent_ids``
    entry never appears as a run, when there are more than ``max_roots`` root runs (a
    runnable called with callbacks but not its parent run), or when a run named in
    ``expect_children`` lacks a direct child of each listed name (a runnable invoked in a
    thread without the context reports nothing at all), or one in ``expect_descendants``
    lacks such a run anywhere below it. Runs of a LangGraph graph must also sit under the
    runs of the graph nodes their metadata names. Returns the tree.

    ::

        events = [e async for e in my_tool.astream_events("hello", version="v2")]
        assert_propagated(events, expect_children={"my_tool": ["reverse_word"]})

        events = [e async for e in agent.astream_events(inputs, version="v2")]
        assert_propagated(events, expect_descendants={"tools": ["get_weather"]})
    """
    tree = run_tree(events)
    problems: list[str] = []
    for node in tree.missing:
        kids = ", ".join(c.label for c in node.children)
        problems.append(f"{node.label} is a parent of {kids} but never appears as a run")
    if len(tree.detached) > max_roots:
        extra = ", ".join(n.label for n in tree.detached[1:])
        problems.append(
            f"{len(tree.detached)} root runs (expected at most {max_roots}): "
            f"{extra} started without its parent run"
        )
    if not tree.detached and not tree.missing:
        problems.append("the stream has no runs")
    problems += _graph_problems(tree)
    problems += _expected(tree, expect_children or {}, "child")
    problems += _expected(tree, expect_descendants or {}, "descendant")
    if problems:
        raise PropagationError(problems, tree)
    return tree
