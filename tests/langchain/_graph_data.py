"""Graphs for the graph-stream tests, driven by ReplayChatModel (no network, no randomness
but LangGraph's own: task ids, checkpoint ids, message ids, timestamps).

- ``two_node_graph()``: ``first`` (a custom part, a model call) -> ``second``, a subgraph whose ``child``
  node writes a custom part and calls the model, then its ``nested`` node, itself a subgraph
  whose ``leaf`` writes a custom part: namespaces ``second#0`` and ``second#0|nested#0``.
- ``weather_agent()``: ``create_agent`` with two tools (``get_time`` writes a custom part),
  one tool call per model turn.
  Two tool calls in one turn run in parallel (the order of their tasks and messages is the
  threads'), so every turn here calls one tool: the order is then fixed.
"""

from __future__ import annotations

from typing import Any

from langchain.agents import create_agent
from langchain_core.messages import AnyMessage, HumanMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from typing_extensions import Annotated, TypedDict

from replaystream.langchain.fakes import ReplayChatModel

#: Every stream mode of LangGraph 1.x.
ALL_MODES = ["values", "updates", "messages", "custom", "debug", "checkpoints", "tasks"]
CONFIG = {"configurable": {"thread_id": "thread-1"}}


class State(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


def tool_turn(name: str, args: str, call_id: str, text: str = "") -> list[dict[str, Any]]:
    """A model turn that streams an optional text, then one tool call (name and id first, then its arguments)."""
    chunks: list[dict[str, Any]] = [{"content": text}] if text else []
    chunks += [
        {"content": "", "tool_call_chunks": [{"name": name, "args": "", "id": call_id, "index": 0}]},
        {"content": "", "tool_call_chunks": [{"name": None, "args": args, "id": None, "index": 0}]},
        {"content": "", "response_metadata": {"stop_reason": "tool_use"}, "chunk_position": "last"},
    ]
    return chunks


def two_node_graph() -> Any:
    model = ReplayChatModel(responses=[[{"content": "Polar bears"}, {"content": " are white."}],
                                       [{"content": "Their fur"}, {"content": " is clear."}]])

    def first(state: State) -> dict[str, Any]:
        get_stream_writer()({"progress": "first started"})
        return {"messages": [model.invoke(state["messages"])]}

    def child(state: State) -> dict[str, Any]:
        get_stream_writer()({"progress": "child started"})
        return {"messages": [model.invoke(state["messages"])]}

    def leaf(state: State) -> dict[str, Any]:
        get_stream_writer()({"progress": "leaf", "seen": len(state["messages"])})
        return {}

    nested = StateGraph(State).add_node("leaf", leaf).add_edge(START, "leaf").add_edge("leaf", END).compile()
    sub = (StateGraph(State).add_node("child", child).add_node("nested", nested)
           .add_edge(START, "child").add_edge("child", "nested").add_edge("nested", END).compile())
    return (StateGraph(State).add_node("first", first).add_node("second", sub)
            .add_edge(START, "first").add_edge("first", "second").add_edge("second", END)
            .compile(checkpointer=InMemorySaver()))


def weather_agent(marks: list[Any] | None = None) -> Any:
    """An agent whose tools append ``("tool", name)`` to ``marks`` when they run."""
    model = ReplayChatModel(responses=[
        tool_turn("get_weather", '{"city": "Paris"}', "call_weather", text="Let me check."),
        tool_turn("get_time", '{"city": "Paris"}', "call_time"),
        [{"content": "Sunny"}, {"content": " at noon."}],
    ], name="ChatAnthropic", provider="anthropic", model="claude-sonnet-4-5")

    @tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        if marks is not None:
            marks.append(("tool", "get_weather"))
        return f"sunny in {city}"

    @tool
    def get_time(city: str) -> str:
        """The local time in a city."""
        if marks is not None:
            marks.append(("tool", "get_time"))
        get_stream_writer()({"tool": "get_time", "city": city})
        return "noon"

    return create_agent(model, [get_weather, get_time], system_prompt="Answer briefly.",
                        checkpointer=InMemorySaver())


GRAPH_INPUT = {"messages": [HumanMessage("What color is a polar bear?", id="question")]}
AGENT_INPUT = {"messages": [HumanMessage("Weather and time in Paris?", id="question")]}
