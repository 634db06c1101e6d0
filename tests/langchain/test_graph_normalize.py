"""normalize_graph_stream on every part shape, labels by first appearance, order kept,
interrupts, and what it refuses."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from _graph_data import ALL_MODES, CONFIG, GRAPH_INPUT, State, two_node_graph
from langchain_core.messages import AIMessageChunk
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, StateGraph
from langgraph.types import Command, interrupt

from replaystream.errors import UsageError
from replaystream.langchain.graph import normalize_graph_stream
from replaystream.langchain.snapshot import render_graph_stream


def ns(*names: str) -> tuple[str, ...]:
    return tuple(f"{n}:{uuid.uuid4()}" for n in names)


def test_namespace_labels_count_tasks_by_first_appearance() -> None:
    a0, b0 = ns("a", "b")
    (a1,) = ns("a")
    parts = [((a0, b0), "custom", 1), ((a1,), "custom", 2), ((a0,), "custom", 3), ((), "custom", 4)]
    assert [p["ns"] for p in normalize_graph_stream(parts)] == ["a#0|b#0", "a#1", "a#0", ""]


def test_order_is_kept_never_sorted() -> None:
    parts = [("updates", {"z": 1}), ("custom", "late"), ("updates", {"a": 2}), ("custom", "early")]
    assert [(p["type"], p["data"]) for p in normalize_graph_stream(parts)] == [
        ("updates", {"z": 1}), ("custom", "late"), ("updates", {"a": 2}), ("custom", "early")]


def test_one_mode_parts_take_the_mode_given() -> None:
    parts = [{"first": {"n": 1}}, {"second": {"n": 2}}]
    assert [p["type"] for p in normalize_graph_stream(parts, stream_mode="updates")] == ["updates"] * 2
    assert render_graph_stream(parts) == '? - {"first":{"n":1}}\n? - {"second":{"n":2}}\n'.replace("? ", "?" + " " * 11)
    pair = (AIMessageChunk(content="hi"), {"langgraph_node": "n"})
    assert normalize_graph_stream([pair])[0]["type"] == "messages"  # a (message, metadata) pair says its mode
    # With one mode, a (str, data) tuple is data: only several modes make it (mode, data).
    assert normalize_graph_stream([("custom", 1)], stream_mode="custom")[0]["data"] == ["custom", 1]


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(UsageError, match=r"unknown mode\(s\) \['message'\].*values, updates"):
        normalize_graph_stream([], stream_mode=["values", "message"])


def test_idempotent_and_inputs_untouched() -> None:
    raw = list(two_node_graph().stream(GRAPH_INPUT, CONFIG, stream_mode=ALL_MODES, subgraphs=True))
    before = copy.deepcopy(raw)
    once = normalize_graph_stream(raw)
    assert raw == before
    assert normalize_graph_stream(once) == once
    assert render_graph_stream(once) == render_graph_stream(raw)


def interrupting_graph() -> Any:
    def ask(state: State) -> dict[str, Any]:
        city = interrupt({"question": "Which city?"})
        return {"messages": [("ai", f"Weather for {city}")]}

    return StateGraph(State).add_node("ask", ask).add_edge(START, "ask").compile(checkpointer=InMemorySaver())


def run_interrupt(version: str) -> list[Any]:
    graph = interrupting_graph()
    parts = list(graph.stream(GRAPH_INPUT, CONFIG, stream_mode=["updates", "values"], version=version))
    return parts + list(graph.stream(Command(resume="Paris"), CONFIG, stream_mode=["updates", "values"],
                                     version=version))


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_interrupt_ids_are_labelled(version: str) -> None:
    first, second = run_interrupt(version), run_interrupt(version)
    text = render_graph_stream(first)
    assert text == render_graph_stream(second)
    assert 'updates     - {"__interrupt__":[Interrupt(id=\'interrupt:0\', value={"question":"Which city?"})]}' in text
    if version == "v2":  # the typed values part carries the interrupts as a key of its own
        assert "interrupts=[Interrupt(id='interrupt:0', value={\"question\":\"Which city?\"})]" in text
    assert [p["data"]["messages"][-1]["id"] for p in normalize_graph_stream(first) if p["type"] == "values"][-1] == "id:0"
