"""The order of a ``messages``-mode stream against the tools it triggers.

Each tool appends a marker to the very list the consumer appends stream parts to, so the
list is the order in which things really happened. Every chunk of a model turn must reach
the consumer before that turn's tool runs (LangGraph issue 4653 reports a tool running
before the chunks arrived). The interleaving itself is snapshotted, so a change in either
direction shows up as a diff.
"""

from __future__ import annotations

from typing import Any

import pytest
from _graph_data import AGENT_INPUT, CONFIG, weather_agent

from replaystream.langchain.graph import normalize_graph_stream
from replaystream.langchain.snapshot import render_graph_stream


def sync_run() -> list[Any]:
    marks: list[Any] = []
    for part in weather_agent(marks).stream(AGENT_INPUT, CONFIG, stream_mode="messages"):
        marks.append(("part", part))
    return marks


async def async_run() -> list[Any]:
    marks: list[Any] = []
    async for part in weather_agent(marks).astream(AGENT_INPUT, CONFIG, stream_mode="messages"):
        marks.append(("part", part))
    return marks


def check_chunks_before_tools(marks: list[Any]) -> None:
    tool_at = [i for i, (kind, _) in enumerate(marks) if kind == "tool"]
    assert [marks[i][1] for i in tool_at] == ["get_weather", "get_time"]
    for turn, at in enumerate(tool_at):
        chunks = [i for i, (kind, item) in enumerate(marks)
                  if kind == "part" and item[0].id == f"lc_run--replay-{turn}"]
        assert len(chunks) == 4 - turn  # turn 0 streams a text first
        assert max(chunks) < at, f"a chunk of model turn {turn} arrived after its tool ran"
        results = [i for i, (kind, item) in enumerate(marks) if kind == "part" and item[0].type == "tool"]
        assert results[turn] > at  # the tool's message follows the tool


def interleaving(marks: list[Any]) -> str:
    """One line per part (as a snapshot shows it) with ``tool ran: <name>`` where each tool ran."""
    lines = iter(render_graph_stream(normalize_graph_stream(
        [item for kind, item in marks if kind == "part"], stream_mode="messages")).splitlines())
    return "".join(f"tool ran: {item}\n" if kind == "tool" else next(lines) + "\n" for kind, item in marks)


@pytest.mark.parametrize("run", ["stream", "astream"])
async def test_model_chunks_reach_the_consumer_before_the_tool_runs(event_snapshot: Any, run: str) -> None:
    marks = sync_run() if run == "stream" else await async_run()
    check_chunks_before_tools(marks)
    assert event_snapshot == interleaving(marks)


def test_the_check_sees_a_late_chunk() -> None:
    marks = sync_run()
    late = next(i for i, (kind, item) in enumerate(marks) if kind == "part" and item[0].id == "lc_run--replay-0")
    marks.append(marks.pop(late))  # as if the first chunk had come after everything
    with pytest.raises(AssertionError, match="a chunk of model turn 0 arrived after its tool ran"):
        check_chunks_before_tools(marks)
