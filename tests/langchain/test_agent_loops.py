"""Agent loops that replay: ``ReplayChatModel`` drives ``create_agent`` and hand-built
``ToolNode`` graphs through several model turns with tool calls in between."""

from __future__ import annotations

from typing import Any

import pytest
from _agents import QUESTION, TURNS, make_tools, render, user
from langchain.agents import create_agent
from langchain_core.messages import AIMessageChunk, ToolMessage
from langchain_core.tools import BaseTool, tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from langgraph.types import Command, interrupt

from replaystream import Cassette, StrictMismatchError
from replaystream.langchain.fakes import ReplayChatModel, ReplayTool
from replaystream.langchain.graph import normalize_graph_stream


def agent_model(**kwargs: Any) -> ReplayChatModel:
    return ReplayChatModel.from_turns(TURNS, name="ChatAnthropic", provider="anthropic", **kwargs)


def stream_agent(model: ReplayChatModel, tools: list[BaseTool], mode: Any = ("messages", "updates")) -> list[str]:
    agent = create_agent(model, tools)
    return render(agent.stream(user(), stream_mode=list(mode) if isinstance(mode, tuple) else mode), None
                  if isinstance(mode, tuple) else mode)


# -- create_agent ---------------------------------------------------------------------------------
def test_the_agent_streams_each_turns_chunks_and_calls_both_tools(event_snapshot: Any) -> None:
    runs = [stream_agent(agent_model(), make_tools()) for _ in range(2)]
    assert runs[0] == runs[1]  # deterministic: message ids, tool-call ids
    lines = runs[0]
    # The tool call's arguments arrive as chunks, while the model streams (not only at the end).
    args = [line for line in lines if line.startswith("messages model") and "tool_call_chunks" in line]
    assert len(args) == 3 and '"args": "{\\"city\\":"' in args[0] and '"id": "call_0_0"' in args[0]
    assert [line.split(" ", 2)[1] for line in lines if line.startswith("updates")] == \
        ["{model:", "{tools:", "{model:", "{tools:", "{model:"]
    tool_results = [line for line in lines if line.startswith("updates {tools")]
    assert "tool_call_id=call_0_0, name=get_weather" in tool_results[0]
    assert "tool_call_id=call_1_0, name=get_time" in tool_results[1]
    parts = list(create_agent(agent_model(), make_tools()).stream(user(), stream_mode=["messages", "updates"]))
    assert event_snapshot == normalize_graph_stream(parts)


async def test_the_async_agent_streams_the_same_parts() -> None:
    agent = create_agent(agent_model(), make_tools())
    parts = [p async for p in agent.astream(user(), stream_mode=["messages", "updates"])]
    assert render(parts) == stream_agent(agent_model(), make_tools())


def test_messages_mode_puts_every_chunk_of_a_turn_before_its_tool_runs() -> None:
    """The ordering langgraph issue 4653 reports broken: the tool appends its marker to the
    list the consumer appends stream parts to; each turn's chunks must all come first."""
    log: list[Any] = []
    agent = create_agent(agent_model(), make_tools(log))
    for message, meta in agent.stream(user(), stream_mode="messages"):
        if isinstance(message, AIMessageChunk):
            log.append(("chunk", message.id))
    chunk_turns = [entry[1] for entry in log if entry[0] == "chunk"]
    assert chunk_turns == ["lc_run--replay-0"] * 4 + ["lc_run--replay-1"] + ["lc_run--replay-2"] * 3
    tool_at = {entry[1]: n for n, entry in enumerate(log) if entry[0] == "tool"}
    for turn, name in ((0, "get_weather"), (1, "get_time")):
        last_chunk = max(n for n, entry in enumerate(log) if entry == ("chunk", f"lc_run--replay-{turn}"))
        assert last_chunk < tool_at[name], log
    first_answer = log.index(("chunk", "lc_run--replay-2"))
    assert tool_at["get_time"] < first_answer


def test_tool_call_ids_come_from_the_recording() -> None:
    recorded = ReplayChatModel.from_turns([
        {"tool_calls": [{"name": "get_weather", "args": {"city": "Paris"}, "id": "toolu_01ABC"}]}, "Done."])
    agent = create_agent(recorded, make_tools())
    result = agent.invoke(user())
    tool_message = next(m for m in result["messages"] if isinstance(m, ToolMessage))
    assert tool_message.tool_call_id == "toolu_01ABC"
    assert tool_message.content == "18°C and sunny in Paris"


# -- strict: the tool results the agent sends back -------------------------------------------------
def _record_run() -> Cassette:
    model = agent_model()
    stream_agent(model, make_tools(), "updates")
    return model.to_cassette()


def test_strict_replay_accepts_the_recorded_tool_results() -> None:
    cassette = _record_run()
    assert [len(r.data["request"]) for r in cassette.records] == [1, 3, 5]
    strict = ReplayChatModel.from_records(cassette, strict=True)
    assert stream_agent(strict, make_tools(), "updates") == stream_agent(agent_model(), make_tools(), "updates")


def test_a_changed_tool_result_names_the_tool_message() -> None:
    cassette = _record_run()
    strict = ReplayChatModel.from_records(cassette, strict=True)
    with pytest.raises(StrictMismatchError) as info:
        stream_agent(strict, make_tools(weather="heavy rain"), "updates")
    text = str(info.value)
    assert "call 2 (response 1)" in text
    assert ("messages[2] (the tool result for tool_call_id 'call_0_0' from tool 'get_weather') changed: "
            'recorded "18°C and sunny in Paris", now "heavy rain in Paris"') in text
    assert '-    "content": "18°C and sunny in Paris",' in text and '+    "content": "heavy rain in Paris",' in text


def test_replay_tools_stand_in_for_the_real_ones(tmp_path: Any) -> None:
    calls: list[Any] = []
    real = make_tools(calls)
    path = tmp_path / "tools.json"
    recording = [ReplayTool.wrap(t, path, mode="record") for t in real]
    for t in recording:
        t.cassette.records = recording[0].cassette.records  # one cassette for both tools
    recorded_run = stream_agent(agent_model(), list(recording), "updates")
    recording[0].save()
    assert len(calls) == 2
    calls.clear()
    replaying = [ReplayTool.wrap(t, path) for t in make_tools(calls, weather="never called")]
    assert stream_agent(agent_model(), list(replaying), "updates") == recorded_run
    assert calls == []  # the recording answered


# -- a hand-built ToolNode graph -------------------------------------------------------------------
def tool_node_graph(model: ReplayChatModel, tools: list[BaseTool], **compile_kwargs: Any) -> Any:
    bound = model.bind_tools(tools)

    def call_model(state: MessagesState) -> dict[str, Any]:
        return {"messages": [bound.invoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("agent", call_model)
    builder.add_node("tools", ToolNode(tools, handle_tool_errors=True))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", tools_condition)
    builder.add_edge("tools", "agent")
    return builder.compile(**compile_kwargs)


def test_a_tool_node_graph_replays_turn_by_turn(event_snapshot: Any) -> None:
    runs = [list(tool_node_graph(agent_model(), make_tools()).stream(user(), stream_mode=["messages", "updates"]))
            for _ in range(2)]
    assert render(runs[0]) == render(runs[1])
    assert sum(line.startswith("updates {tools") for line in render(runs[0])) == 2
    assert normalize_graph_stream(runs[0]) == normalize_graph_stream(runs[1])
    assert event_snapshot == normalize_graph_stream(runs[0])


def test_a_tool_that_raises_gives_the_agent_an_error_message(event_snapshot: Any) -> None:
    @tool
    def get_weather(city: str) -> str:
        """The current weather in a city."""
        raise ValueError(f"weather service down for {city}")

    turns = [TURNS[0], "The weather service| is down, sorry."]
    model = ReplayChatModel.from_turns(turns)
    parts = list(tool_node_graph(model, [get_weather]).stream(user(), stream_mode="updates"))
    lines = render(parts, "updates")
    assert "status=error" in lines[1] and "weather service down for Paris" in lines[1]
    # Recorded once, the error result replays strictly; the agent's second turn saw it.
    strict = ReplayChatModel.from_records(model.to_cassette(), strict=True)
    again = render(tool_node_graph(strict, [get_weather]).stream(user(), stream_mode="updates"), "updates")
    assert again == lines
    assert event_snapshot == normalize_graph_stream(parts, stream_mode="updates")


def test_an_interrupt_stops_the_graph_and_command_resume_finishes_it(event_snapshot: Any) -> None:
    @tool
    def get_weather(city: str) -> str:
        """The current weather in a city (a human approves the call)."""
        answer = interrupt({"approve": f"get_weather({city!r})?"})
        return f"18°C and sunny in {city}" if answer == "yes" else "not allowed"

    lines: list[str] = []
    normalised: list[Any] = []
    for _ in range(2):  # twice in one process: the same lines, the same normalised parts
        graph = tool_node_graph(ReplayChatModel.from_turns([TURNS[0], "It is| 18°C."]), [get_weather],
                                checkpointer=InMemorySaver())
        config = {"configurable": {"thread_id": "t1"}}
        stopped = list(graph.stream(user(), config, stream_mode="updates"))
        first = render(stopped, "updates")
        assert first[-1] == 'updates {__interrupt__: [Interrupt({"approve": "get_weather(\'Paris\')?"})]}'
        assert graph.get_state(config).next == ("tools",)
        resumed = list(graph.stream(Command(resume="yes"), config, stream_mode=["messages", "updates"]))
        run = [*first, "-- resume --", *render(resumed)]
        both = normalize_graph_stream(stopped, stream_mode="updates") + normalize_graph_stream(resumed)
        assert lines in ([], run) and normalised in ([], both)
        lines, normalised = run, both
    assert any("18°C and sunny in Paris" in line for line in lines)
    assert event_snapshot == normalised


def test_the_question_is_what_the_recording_was_sent() -> None:
    model = agent_model()
    stream_agent(model, make_tools(), "updates")
    assert model.received[0] == [{"type": "human", "content": QUESTION}]


def test_a_malformed_turn_is_named() -> None:
    from replaystream.langchain.fakes import ChunkFormatError

    with pytest.raises(ChunkFormatError, match=r"turns\[1\].tool_calls\[0\]: expected"):
        ReplayChatModel.from_turns(["Hi.", {"tool_calls": [{"args": {}}]}])
    with pytest.raises(ChunkFormatError, match=r"turns\[0\]: unknown key\(s\) \['calls'\]"):
        ReplayChatModel.from_turns([{"calls": []}])
