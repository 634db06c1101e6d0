"""Shared pieces of the agent-loop tests: two tools, the turns that call them, and a
one-line-per-part rendering of what ``graph.stream`` yields (the random parts left out:
ToolMessage ids, interrupt ids, task ids inside namespaces)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from langchain_core.messages import BaseMessage
from langchain_core.tools import BaseTool, tool

QUESTION = "What's the weather and the local time in Paris?"

#: The model's turns: text and a tool call, a bare tool call, the answer.
TURNS: list[Any] = [
    {"text": "Let me| check the weather.", "tool_calls": [{"name": "get_weather", "args": '{"city":| "Paris"}'}]},
    {"tool_calls": [{"name": "get_time", "args": {"city": "Paris"}}]},
    "It is 18°C| and sunny in Paris;| the local time is 14:05.",
]


def make_tools(log: list[Any] | None = None, weather: str = "18°C and sunny") -> list[BaseTool]:
    """``get_weather`` and ``get_time``; each appends a marker to ``log`` when it runs."""

    @tool
    def get_weather(city: str) -> str:
        """The current weather in a city."""
        if log is not None:
            log.append(("tool", "get_weather"))
        return f"{weather} in {city}"

    @tool
    def get_time(city: str) -> str:
        """The local time in a city."""
        if log is not None:
            log.append(("tool", "get_time"))
        return "14:05"

    return [get_weather, get_time]


def user(text: str = QUESTION) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


def _message(m: BaseMessage) -> str:
    fields = [json.dumps(m.content, ensure_ascii=False, sort_keys=True)]
    if m.type in ("ai", "AIMessageChunk") and m.id:
        fields.append(f"id={m.id}")
    for key in ("tool_calls", "tool_call_chunks"):
        value = getattr(m, key, None)
        if value:
            fields.append(f"{key}={json.dumps(value, ensure_ascii=False, sort_keys=True)}")
    for key in ("tool_call_id", "name"):
        value = getattr(m, key, None)
        if value:
            fields.append(f"{key}={value}")
    if getattr(m, "status", "success") != "success":
        fields.append(f"status={m.status}")  # type: ignore[attr-defined]
    return f"{type(m).__name__}({', '.join(fields)})"


def _value(value: Any) -> str:
    if isinstance(value, BaseMessage):
        return _message(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if type(value).__name__ == "Interrupt":
        return f"Interrupt({json.dumps(value.value, ensure_ascii=False)})"
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


_RUN_ID = re.compile(r"lc_run--[0-9a-f]{8}-[0-9a-f-]{27}")


def render(parts: Iterable[Any], mode: str | None = None) -> list[str]:
    """One line per stream part: ``[namespace] mode node payload``; a run's random message id
    (``lc_run--<uuid>``) becomes ``run#N`` in order of first appearance."""
    lines = _render(parts, mode)
    seen: dict[str, str] = {}
    return [_RUN_ID.sub(lambda m: seen.setdefault(m.group(0), f"run#{len(seen)}"), line) for line in lines]


def _render(parts: Iterable[Any], mode: str | None) -> list[str]:
    lines = []
    for part in parts:
        ns: tuple[str, ...] = ()
        if isinstance(part, tuple) and len(part) == 3:
            ns, kind, payload = part
        elif isinstance(part, tuple) and len(part) == 2 and isinstance(part[0], str) and mode is None:
            kind, payload = part
        else:
            kind, payload = mode or "?", part
        label = "|".join(n.split(":")[0] for n in ns)
        head = f"[{label}] {kind}" if label else kind
        if kind == "messages":
            message, meta = payload
            lines.append(f"{head} {meta['langgraph_node']} {_message(message)}")
        else:
            lines.append(f"{head} {_value(payload)}")
    return lines
