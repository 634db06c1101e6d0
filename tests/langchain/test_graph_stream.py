"""Graph streams snapshotted: every LangGraph stream mode, alone and together, with and
without ``subgraphs=True``, on a two-node graph with a subgraph and on a ``create_agent``
agent with two tools, driven by ReplayChatModel. Each stream runs twice in the test and
both runs must normalise to the same data (task, checkpoint and message ids differ)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from _graph_data import AGENT_INPUT, ALL_MODES, CONFIG, GRAPH_INPUT, two_node_graph, weather_agent

from replaystream.langchain.graph import normalize_graph_stream
from replaystream.langchain.snapshot import EventSnapshotExtension, render_graph_stream

TARGETS = {"graph": (two_node_graph, GRAPH_INPUT), "agent": (weather_agent, AGENT_INPUT)}
MODES = [pytest.param(m, id=m) for m in ALL_MODES] + [
    pytest.param(ALL_MODES, id="all"),
    pytest.param(["updates", "messages"], id="updates+messages"),
]
# What a random value left in a snapshot would look like: a UUID, a 32-digit hash, an ISO time.
_RANDOM = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-|[0-9a-f]{32}|\d{4}-\d\d-\d\dT\d\d:")


def stream(target: str, modes: Any, subgraphs: bool, version: str = "v1") -> list[Any]:
    build, inputs = TARGETS[target]
    return list(build().stream(inputs, CONFIG, stream_mode=modes, subgraphs=subgraphs, version=version))


@pytest.mark.parametrize("subgraphs", [False, True], ids=["flat", "subgraphs"])
@pytest.mark.parametrize("modes", MODES)
@pytest.mark.parametrize("target", list(TARGETS))
def test_stream_modes_snapshot(event_snapshot: Any, target: str, modes: Any, subgraphs: bool) -> None:
    first_raw, second_raw = stream(target, modes, subgraphs), stream(target, modes, subgraphs)
    first = normalize_graph_stream(first_raw, stream_mode=modes)
    assert first == normalize_graph_stream(second_raw, stream_mode=modes)  # two runs, one result
    assert len(first) == len(first_raw)  # one part each, none dropped or merged
    text = render_graph_stream(first)
    assert text.count("\n") == len(first_raw)
    assert not _RANDOM.search(text), _RANDOM.search(text)
    assert event_snapshot == first


@pytest.mark.parametrize("target", list(TARGETS))
def test_typed_v2_parts_read_like_tuples(target: str) -> None:
    tuples = stream(target, ALL_MODES, True)
    typed = stream(target, ALL_MODES, True, version="v2")
    assert isinstance(typed[0], dict) and isinstance(tuples[0], tuple)
    normalised = normalize_graph_stream(typed)
    assert [p.pop("interrupts") for p in normalised if p["type"] == "values"] == [[]] * sum(
        1 for p in tuples if p[1] == "values")  # the one key v2 adds to a part; empty here
    assert normalised == normalize_graph_stream(tuples)
    assert render_graph_stream(typed) == render_graph_stream(tuples)


@pytest.mark.parametrize("target", list(TARGETS))
async def test_astream_reads_like_stream(target: str) -> None:
    build, inputs = TARGETS[target]
    parts = [p async for p in build().astream(inputs, CONFIG, stream_mode=ALL_MODES, subgraphs=True)]
    assert normalize_graph_stream(parts) == normalize_graph_stream(stream(target, ALL_MODES, True))


def test_subgraph_namespaces_are_node_labels() -> None:
    parts = normalize_graph_stream(stream("graph", ["custom", "tasks"], True))
    namespaces = list(dict.fromkeys(p["ns"] for p in parts))
    assert namespaces == ["", "second#0", "second#0|nested#0"]
    customs = [(p["ns"], p["data"]) for p in parts if p["type"] == "custom"]
    assert customs == [("", {"progress": "first started"}), ("second#0", {"progress": "child started"}),
                       ("second#0|nested#0", {"progress": "leaf", "seen": 3})]
    # The task that runs node "second" has the label its namespace uses.
    assert [p["data"]["id"] for p in parts if p["type"] == "tasks" and p["ns"] == ""][2:4] == ["second#0"] * 2


def test_agent_turns_are_labelled_in_order() -> None:
    parts = normalize_graph_stream(stream("agent", "tasks", False), stream_mode="tasks")
    started = [p["data"]["id"] for p in parts if "input" in p["data"]]
    assert started == ["model#0", "tools#0", "model#1", "tools#1", "model#2"]
    tool_messages = [p["data"]["result"]["messages"][0] for p in parts
                     if p["data"]["name"] == "tools" and "result" in p["data"]]
    assert [(m["tool_call_id"], m["content"]) for m in tool_messages] == [
        ("call_weather", "sunny in Paris"), ("call_time", "noon")]
    assert [m["id"] for m in tool_messages] == ["id:0", "id:1"]  # add_messages' random ids, labelled


def test_messages_metadata_on_request() -> None:
    parts = stream("graph", "messages", True)
    text = render_graph_stream(parts, stream_mode="messages", metadata=True)
    line = text.splitlines()[-1]
    assert line.startswith("messages    second#0 AIMessageChunk(")
    assert '"langgraph_checkpoint_ns":"second#0|child#0"' in line and "lc_versions" not in line
    assert render_graph_stream(parts, stream_mode="messages").splitlines()[-1].endswith("node='child' step=1")


def test_event_snapshot_takes_raw_tuples_too() -> None:
    raw = stream("graph", ["updates", "custom"], True)
    assert EventSnapshotExtension().serialize(raw) == render_graph_stream(raw)
