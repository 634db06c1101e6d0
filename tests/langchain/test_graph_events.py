"""``astream_events`` (v2) of LangGraph graphs: normalised with the graph's nesting kept
(graph -> node -> subgraph -> model/tool), and ``assert_propagated`` reading graph runs."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
from _graph_data import AGENT_INPUT, CONFIG, GRAPH_INPUT, State, two_node_graph, weather_agent
from langgraph.graph import START, StateGraph

from replaystream.langchain.events import normalize_events
from replaystream.langchain.fakes import ReplayChatModel
from replaystream.langchain.propagation import PropagationError, assert_propagated, run_tree
from replaystream.langchain.snapshot import render_events

TARGETS = {"graph": (two_node_graph, GRAPH_INPUT), "agent": (weather_agent, AGENT_INPUT)}
_RANDOM = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-|[0-9a-f]{32}|\d{4}-\d\d-\d\dT\d\d:")

GRAPH_TREE = """\
LangGraph#0 (chain)
|-- first#0 (chain) @first#0
|   `-- ReplayChatModel#0 (chat_model)
`-- second#0 (chain) @second#0
    `-- LangGraph#1 (chain)
        |-- child#0 (chain) @second#0|child#0
        |   `-- ReplayChatModel#1 (chat_model)
        `-- nested#0 (chain) @second#0|nested#0
            `-- LangGraph#2 (chain)
                `-- leaf#0 (chain) @second#0|nested#0|leaf#0"""


async def graph_events(target: str) -> list[dict[str, Any]]:
    build, inputs = TARGETS[target]
    return [e async for e in build().astream_events(inputs, CONFIG, version="v2")]


@pytest.mark.parametrize("target", list(TARGETS))
async def test_graph_events_snapshot(event_snapshot: Any, target: str) -> None:
    first, second = await graph_events(target), await graph_events(target)
    assert first[0]["run_id"] != second[0]["run_id"]
    # Metadata included: the checkpoint namespaces (random task ids) are labels too.
    assert normalize_events(first) == normalize_events(second)
    with_metadata = render_events(first, metadata=True)
    assert '"langgraph_checkpoint_ns":"' in with_metadata and not _RANDOM.search(with_metadata)
    assert event_snapshot == first


async def test_graph_run_tree_keeps_the_nesting() -> None:
    tree = assert_propagated(await graph_events("graph"),
                             expect_children={"second": ["LangGraph"], "first": ["ReplayChatModel"]},
                             expect_descendants={"second": ["child", "ReplayChatModel", "leaf"]})
    assert tree.draw() == GRAPH_TREE
    model = tree.nodes["ReplayChatModel#1"]
    assert [n.label for n in tree.ancestors(model)] == ["child#0", "LangGraph#1", "second#0", "LangGraph#0"]
    assert model.graph_nodes == ["second", "child"]


async def test_agent_run_tree_nodes_own_their_model_and_tool_runs() -> None:
    tree = assert_propagated(await graph_events("agent"), expect_children={"model": ["ChatAnthropic"]})
    for tool, node in (("get_weather#0", "tools#0"), ("get_time#0", "tools#1")):
        assert tree.nodes[tool].parent == node and tree.nodes[tool].type == "tool"
    assert [n.label for n in tree.roots] == ["LangGraph#0"]
    assert [c.label for c in tree.roots[0].children] == ["model#0", "tools#0", "model#1", "tools#1", "model#2"]


def _threaded_graph() -> Any:
    """A node that calls its model in a thread started without the context: the model runs,
    but its events never reach astream_events."""
    model = ReplayChatModel.from_text("Polar bears| are white.")

    def first(state: State) -> dict[str, Any]:
        out: list[Any] = []
        thread = threading.Thread(target=lambda: out.append(model.invoke(state["messages"])))
        thread.start()
        thread.join()
        return {"messages": out}

    return StateGraph(State).add_node("first", first).add_edge(START, "first").compile()


async def test_a_node_whose_model_vanished() -> None:
    events = [e async for e in _threaded_graph().astream_events(GRAPH_INPUT, version="v2")]
    assert events[-1]["data"]["output"]["messages"][-1].content == "Polar bears are white."  # it ran
    with pytest.raises(PropagationError) as info:
        assert_propagated(events, expect_descendants={"first": ["ReplayChatModel"]})
    assert "first#0 has no descendant run 'ReplayChatModel' (its descendants: none)" in str(info.value)


async def test_a_run_outside_its_graph_node_is_named() -> None:
    events = await graph_events("graph")
    # What a model run handed the graph's callbacks instead of its node's looks like: its
    # parent is the graph, though its metadata says it runs in node "child" of "second".
    node_id = next(e["run_id"] for e in events if e["name"] == "child")
    bent = [dict(e, parent_ids=[p for p in e["parent_ids"] if p != node_id]) if e["name"] == "ReplayChatModel"
            else e for e in events]
    with pytest.raises(PropagationError) as info:
        assert_propagated(bent)
    message = str(info.value)
    assert ("ReplayChatModel#1 runs in graph node 'child' (namespace second#0|child#0) but no 'child' run "
            "is above it (above it: LangGraph#0 > second#0 > LangGraph#1)") in message
    assert run_tree(bent).nodes["ReplayChatModel#1"].parent == "LangGraph#1"
