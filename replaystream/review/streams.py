"""What one stream event is, for ``inspect``: a kind to show, and the tool-call pieces it carries.

Read by wire format, not by provider name, so look-alikes and unknown providers read too:
chat-completions chunks (``choices``), Responses API events (``response.*`` types) and
Anthropic messages events (``content_block_*``), Bedrock converse-stream frames, Gemini
chunks (``candidates``) and Ollama lines (``message``, ``done``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ToolPiece:
    """A piece of one tool call: ``key`` tells the calls of a stream apart."""

    key: str
    name: str = ""
    call_id: str = ""
    args: str = ""


@dataclass
class EventView:
    kind: str
    tools: list[ToolPiece] = field(default_factory=list)
    args_only: bool = False  # the event carries tool-call arguments, no answer text


def view(event_name: str | None, data: Any, raw_data: str) -> EventView:
    """The kind of an event (its SSE ``event:`` name when it has one) and its tool-call pieces."""
    if not isinstance(data, dict):
        return EventView(event_name or ("[DONE]" if raw_data.strip() == "[DONE]" else "message"))
    typ = data.get("type")
    if isinstance(typ, str):
        out = EventView(event_name or typ)
        _typed_tools(typ, data, out)
        return out
    if "choices" in data or data.get("object") == "chat.completion.chunk":
        return _chat_chunk(data, event_name)
    if "contentBlockIndex" in data:
        return _converse_block(data, event_name)
    if "candidates" in data or ("message" in data and "done" in data):
        return _whole_calls(data, event_name)
    return EventView(event_name or ("error" if "error" in data else "message"))


def _converse_block(data: dict[str, Any], event_name: str | None) -> EventView:
    """A Bedrock converse-stream frame: a tool call starts in ``start.toolUse``, its
    arguments arrive in ``delta.toolUse.input``."""
    out = EventView(event_name or "contentBlock")
    key = str(data.get("contentBlockIndex"))
    start, delta = data.get("start"), data.get("delta")
    tool = (start.get("toolUse") if isinstance(start, dict) else None) or (
        delta.get("toolUse") if isinstance(delta, dict) else None)
    if isinstance(tool, dict):
        out.tools.append(ToolPiece(key, str(tool.get("name") or ""), str(tool.get("toolUseId") or ""),
                                   str(tool.get("input") or "")))
        out.args_only = True
    return out


def _whole_calls(data: dict[str, Any], event_name: str | None) -> EventView:
    """A Gemini chunk (``candidates[0].content.parts``: text, ``functionCall``) or an Ollama
    line (``message``, ``done``): each tool call arrives whole, arguments as an object."""
    candidates = data.get("candidates")
    first = candidates[0] if isinstance(candidates, list) and candidates and isinstance(candidates[0], dict) else {}
    found = first.get("content") if "candidates" in data else data.get("message")
    content: dict[str, Any] = found if isinstance(found, dict) else {}
    parts: list[Any] = content["parts"] if isinstance(content.get("parts"), list) else []
    tool_calls: list[Any] = content["tool_calls"] if isinstance(content.get("tool_calls"), list) else []
    calls = [p["functionCall"] for p in parts if isinstance(p, dict) and isinstance(p.get("functionCall"), dict)]
    calls += [c["function"] for c in tool_calls if isinstance(c, dict) and isinstance(c.get("function"), dict)]
    out = EventView(event_name or ("done" if data.get("done") else "chunk"))
    for n, call in enumerate(calls):
        args = call.get("args", call.get("arguments"))
        key = f"{n}:{json.dumps(call, sort_keys=True, default=str)}"  # each call is whole: its own key
        out.tools.append(ToolPiece(key, str(call.get("name") or ""), str(call.get("id") or ""),
                                   json.dumps(args, ensure_ascii=False) if args is not None else ""))
    out.args_only = bool(calls) and not any(isinstance(p, dict) and p.get("text") for p in parts) \
        and not content.get("content")
    if first.get("finishReason"):
        out.kind += f" finish={first['finishReason']}"
    return out


def _chat_chunk(data: dict[str, Any], event_name: str | None) -> EventView:
    parts: list[str] = []
    out = EventView("")
    choices = data.get("choices")
    for choice in choices if isinstance(choices, list) else ():
        if not isinstance(choice, dict):
            continue
        delta: dict[str, Any] = choice["delta"] if isinstance(choice.get("delta"), dict) else {}
        if delta.get("role"):
            parts.append(f"role={delta['role']}")
        parts += [k for k in ("content", "refusal", "reasoning_content") if delta.get(k)]
        calls = delta.get("tool_calls")
        for call in calls if isinstance(calls, list) else ():
            if isinstance(call, dict):
                parts.append("tool_calls")
                fn: dict[str, Any] = call["function"] if isinstance(call.get("function"), dict) else {}
                out.tools.append(ToolPiece(f"{choice.get('index', 0)}.{call.get('index', 0)}",
                                           str(fn.get("name") or ""), str(call.get("id") or ""),
                                           str(fn.get("arguments") or "")))
        if choice.get("finish_reason"):
            parts.append(f"finish={choice['finish_reason']}")
    if data.get("usage"):
        parts.append("usage")
    out.kind = event_name or ("chunk " + " ".join(dict.fromkeys(parts)) if parts else "chunk (empty)")
    out.args_only = bool(out.tools) and "content" not in parts
    return out


def _typed_tools(typ: str, data: dict[str, Any], out: EventView) -> None:
    # Anthropic: a tool_use block starts with its name, then input_json_delta pieces by index.
    if typ == "content_block_start" and isinstance(block := data.get("content_block"), dict) \
            and str(block.get("type", "")).endswith("tool_use"):
        out.tools.append(ToolPiece(str(data.get("index", 0)), str(block.get("name") or ""), str(block.get("id") or "")))
    elif typ == "content_block_delta" and isinstance(delta := data.get("delta"), dict) \
            and delta.get("type") == "input_json_delta":
        out.tools.append(ToolPiece(str(data.get("index", 0)), args=str(delta.get("partial_json") or "")))
        out.args_only = True
    # Responses API: a function_call output item, then argument deltas naming its item id.
    elif typ == "response.output_item.added" and isinstance(item := data.get("item"), dict) \
            and item.get("type") == "function_call":
        out.tools.append(ToolPiece(str(item.get("id") or data.get("output_index", 0)), str(item.get("name") or ""),
                                   str(item.get("call_id") or "")))
    elif typ == "response.function_call_arguments.delta":
        out.tools.append(ToolPiece(str(data.get("item_id") or data.get("output_index", 0)),
                                   args=str(data.get("delta") or "")))
        out.args_only = True


@dataclass
class ToolCall:
    name: str = ""
    call_id: str = ""
    args: str = ""


def gather(pieces: list[ToolPiece]) -> list[ToolCall]:
    """Tool calls in the order they started, each with its arguments put together."""
    calls: dict[str, ToolCall] = {}
    for piece in pieces:
        call = calls.setdefault(piece.key, ToolCall())
        call.name = call.name or piece.name
        call.call_id = call.call_id or piece.call_id
        call.args += piece.args
    return list(calls.values())
