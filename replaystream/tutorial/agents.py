"""The demo's agent sections: LangGraph agents streamed offline from shipped cassettes.

Each section runs a ``langchain`` ``create_agent`` agent (two tools) on the real
``ChatAnthropic``, answered at the wire level by its cassette: the model turns were
served by the provider emulator (``scripts/record_agents.py``), the tools run for real
on every replay, and each follow-up request carries the earlier tool results exactly as
recorded. What is printed is what a user of ``agent.stream`` sees: the model's tokens
and tool-call fragments as they stream (``messages`` mode), each node's update
(``updates`` mode), and a parent graph's and its subgraph's updates (``subgraphs=True``).

LangGraph and ``langchain`` come with the ``[agents]`` extra and are imported only when
a section runs; without them the demo says which extra to install and skips these.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage
from langchain_core.tools import BaseTool, tool
from pydantic import SecretStr

from ..errors import CassetteError, ReplayStreamError, has_extras
from ..wire.session import use_cassette
from .runner import ANTHROPIC_URL, MODEL, REPLAY_KEY

AGENT_EXTRAS = ("agents",)
QUESTION = "What's the weather and the local time in Paris?"
#: The model's turns (``ReplayChatModel.from_turns`` / ``replaystream.emulator.turns`` format):
#: a text and a tool call, a bare tool call, the answer; one call per turn, so the order of
#: tool runs is fixed (parallel calls would run in any order).
TURNS: tuple[Any, ...] = (
    {"text": "I'll look up| the weather first.",
     "tool_calls": [{"name": "get_weather", "args": '{"city":| "Paris"}', "id": "toolu_01WeatherParis"}]},
    {"text": "Now the local time.",
     "tool_calls": [{"name": "get_time", "args": {"city": "Paris"}, "id": "toolu_02TimeParis"}]},
    "In Paris it is| 18°C and sunny,| and the local time| is 14:05.",
)
Run = Callable[[BaseChatModel], Awaitable[list[str]]]


@dataclass(frozen=True)
class AgentSection:
    """One agent section: what it shows, the coroutine that streams it, the turns served."""

    name: str
    seed_section: str
    run: Run
    turns: tuple[Any, ...] = TURNS

    @property
    def cassette(self) -> str:
        return f"{self.name}.json"


def make_tools() -> list[BaseTool]:
    @tool
    def get_weather(city: str) -> str:
        """The current weather in a city."""
        return f"18°C and sunny in {city}"

    @tool
    def get_time(city: str) -> str:
        """The local time in a city."""
        return "14:05"

    return [get_weather, get_time]


def agent_model(base_url: str = ANTHROPIC_URL, api_key: str = REPLAY_KEY) -> BaseChatModel:
    """``ChatAnthropic`` streaming every turn (an agent's ``invoke`` then streams too)."""
    from langchain_anthropic import ChatAnthropic

    return ChatAnthropic(model_name=MODEL, temperature=0, max_tokens_to_sample=1024, base_url=base_url,
                         api_key=SecretStr(api_key), max_retries=0, timeout=None, stop=None, streaming=True)


def _agent(model: BaseChatModel) -> Any:
    from langchain.agents import create_agent

    return create_agent(model, make_tools(), system_prompt="You answer with the tools you have.")


def _user() -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": QUESTION}]}


# -- what a user sees -----------------------------------------------------------------------------
def _calls(message: AIMessage) -> str:
    return ", ".join(f"{c['name']}({json.dumps(c['args'], ensure_ascii=False)})" for c in message.tool_calls)


def message_line(message: BaseMessage) -> str:
    """A node's message in one line: the text, the tool calls asked for, a tool's result."""
    if isinstance(message, ToolMessage):
        return f"tool result {message.name}: {message.content!r}"
    text = message.text if isinstance(message, AIMessage) else str(message.content)
    calls = _calls(message) if isinstance(message, AIMessage) and message.tool_calls else ""
    return " ".join(p for p in (repr(text) if text else "", f"calls {calls}" if calls else "") if p)


def token_line(node: str, token: BaseMessage) -> str | None:
    """One ``messages``-mode part: a text token, a tool-call fragment, or a tool's result."""
    if isinstance(token, AIMessageChunk):
        pieces = [repr(token.text)] if token.text else []
        for chunk in token.tool_call_chunks:
            name, args = chunk.get("name"), chunk.get("args")
            if name or args:  # the name comes first, then the JSON arguments in fragments
                pieces.append(" ".join(["tool call", *([name] if name else []), *([f"args+={args!r}"] if args else [])]))
        return f"{node}: {' '.join(pieces)}" if pieces else None
    return f"{node}: {message_line(token)}"


# -- the sections ---------------------------------------------------------------------------------
async def agent_messages(model: BaseChatModel) -> list[str]:
    lines = []
    async for token, metadata in _agent(model).astream(_user(), stream_mode="messages"):
        line = token_line(metadata["langgraph_node"], token)
        if line:  # empty chunks (the stream's start and stop events) print nothing
            lines.append(line)
    return lines


async def agent_updates(model: BaseChatModel) -> list[str]:
    lines = []
    async for update in _agent(model).astream(_user(), stream_mode="updates"):
        for node, value in update.items():
            lines += [f"{node}: {message_line(m)}" for m in value["messages"]]
    return lines


def _parent_graph(model: BaseChatModel) -> Any:
    """``weather_desk``: the agent as a subgraph node, then a ``report`` node."""
    from langgraph.graph import START, MessagesState, StateGraph

    def report(state: MessagesState) -> dict[str, Any]:
        answer = state["messages"][-1].text
        return {"messages": [AIMessage(f"Report: {answer}", id="report")]}

    builder = StateGraph(MessagesState)
    builder.add_node("weather_agent", _agent(model))
    builder.add_node("report", report)
    builder.add_edge(START, "weather_agent")
    builder.add_edge("weather_agent", "report")
    return builder.compile(name="weather_desk")


async def subgraph_updates(model: BaseChatModel) -> list[str]:
    lines = []
    async for namespace, update in _parent_graph(model).astream(_user(), stream_mode="updates", subgraphs=True):
        # A namespace entry is "node:<task id>"; the task id changes on every run.
        where = " > ".join(n.split(":")[0] for n in namespace) or "weather_desk"
        for node, value in update.items():
            messages = value["messages"] if node != "weather_agent" else value["messages"][-1:]
            lines += [f"[{where}] {node}: {message_line(m)}" for m in messages]
    return lines


AGENT_SECTIONS: tuple[AgentSection, ...] = (
    AgentSection("agent_messages", "Agents: create_agent with two tools, stream_mode='messages'", agent_messages),
    AgentSection("agent_updates", "Agents: create_agent with two tools, stream_mode='updates'", agent_updates),
    AgentSection("agent_subgraph", "Agents: a graph with the agent as a subgraph, subgraphs=True",
                 subgraph_updates),
)


def skipped_reason() -> str | None:
    """Why the agent sections cannot run here (the extra to install), or ``None``."""
    if has_extras(*AGENT_EXTRAS):
        return None
    names = ",".join(AGENT_EXTRAS)
    return f"skipped: needs the [{names}] extra: pip install 'replaystream[{names}]'"


async def replay_agent(sec: AgentSection, cassette_dir: Path) -> list[str]:
    """Run ``sec`` offline from its cassette; every recorded turn must be used."""
    path = cassette_dir / sec.cassette
    if not path.is_file():
        raise CassetteError(path, "", "no such cassette",
                            "record it with python scripts/record_agents.py, or pass the folder that has it")
    async with use_cassette(path) as session:
        lines = await sec.run(agent_model())
    if session.unused():
        raise ReplayStreamError(f"{path}: section {sec.name!r} left recorded turn(s) {session.unused()} unused: "
                                "the agent no longer makes the requests it was recorded with; record it again "
                                "(python scripts/record_agents.py)")
    return lines
