"""What strict replay compares: a conversation in a provider-neutral view, and where it differs.

A request recorded at the wire level comes back in its provider's shape (Anthropic sends
tool results as ``tool_result`` blocks of a user message and tool calls as ``tool_use``
blocks), while an agent hands the model LangChain messages (``ToolMessage``,
``AIMessage.tool_calls``, content blocks with streaming ``index`` keys). Both sides are
brought to one shape before comparing, so an agent loop replays strictly from either:

    {"type": "ai", "content": "Checking.", "tool_calls": [{"name": "get_weather", "args": {...}, "id": "toolu_01"}]}
    {"type": "tool", "content": "18C and sunny", "tool_call_id": "toolu_01"}

and a difference is reported by the first message that differs (``messages[k]``, with its
``tool_call_id`` for a tool result), then as a diff.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

_TEXT_TYPES = ("text", "output_text", "input_text")


def _text(content: Any) -> Any:
    """Text blocks joined into a string; other content (images, ...) kept as it is."""
    if not isinstance(content, list):
        return content
    kept = [b for b in content if not (isinstance(b, Mapping) and b.get("type") in ("tool_use", "tool_call"))]
    if all(isinstance(b, str) or (isinstance(b, Mapping) and b.get("type") in _TEXT_TYPES) for b in kept):
        return "".join(b if isinstance(b, str) else str(b.get("text", "")) for b in kept)
    return [{k: v for k, v in b.items() if k != "index"} if isinstance(b, Mapping) else b for b in kept]


def _calls(view: Mapping[str, Any]) -> list[dict[str, Any]]:
    calls = view.get("tool_calls")
    if calls:
        return [{"name": c.get("name"), "args": c.get("args"), "id": c.get("id")} for c in calls]
    content = view.get("content")
    blocks = content if isinstance(content, list) else []
    return [{"name": b.get("name"), "args": b.get("input", b.get("args")), "id": b.get("id")}
            for b in blocks if isinstance(b, Mapping) and b.get("type") in ("tool_use", "tool_call")]


def neutral(views: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``request_view`` output (recorded or live) in the provider-neutral shape."""
    out: list[dict[str, Any]] = []
    for view in views:
        kind, content = view.get("type"), view.get("content")
        if kind == "human" and isinstance(content, list) and any(
                isinstance(b, Mapping) and b.get("type") == "tool_result" for b in content):
            rest = [b for b in content if not (isinstance(b, Mapping) and b.get("type") == "tool_result")]
            out += [{"type": "tool", "content": _text(b.get("content", "")), "tool_call_id": b.get("tool_use_id")}
                    for b in content if isinstance(b, Mapping) and b.get("type") == "tool_result"]
            if rest:
                out.append({"type": "human", "content": _text(rest)})
            continue
        item: dict[str, Any] = {"type": kind, "content": _text(content)}
        if kind == "ai":
            calls = _calls(view)
            if calls:
                item["tool_calls"] = calls
        elif kind == "tool":
            item["tool_call_id"] = view.get("tool_call_id")
        out.append(item)
    return out


def _short(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def first_difference(recorded: Sequence[Mapping[str, Any]], actual: Sequence[Mapping[str, Any]],
                     names: Mapping[str, str] | None = None) -> str:
    """One line naming the first message that differs (``messages[k]``), or the length change.

    ``names`` maps tool-call ids to tool names, to name the tool a changed result came from.
    """
    for k, (want, got) in enumerate(zip(recorded, actual)):
        if want == got:
            continue
        if want.get("type") == got.get("type") == "tool":
            call_id = got.get("tool_call_id")
            tool = (names or {}).get(str(call_id))
            of = f" from tool {tool!r}" if tool else ""
            if want.get("tool_call_id") != call_id:
                return (f"messages[{k}] is the tool result for tool_call_id {call_id!r}{of}; "
                        f"the recording has tool_call_id {want.get('tool_call_id')!r} there")
            return (f"messages[{k}] (the tool result for tool_call_id {call_id!r}{of}) changed: "
                    f"recorded {_short(want.get('content'))}, now {_short(got.get('content'))}")
        return (f"messages[{k}] ({got.get('type')} message) differs: recorded {_short(want)}, "
                f"now {_short(got)}")
    if len(recorded) != len(actual):
        return f"the recording has {len(recorded)} input message(s), this call {len(actual)}"
    return "the input messages differ"


def tool_names(views: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Tool-call id -> tool name, from the AI messages' tool calls."""
    return {str(c["id"]): str(c["name"]) for v in views if v.get("type") == "ai" for c in _calls(v) if c.get("id")}


def mismatch(recorded: Sequence[Mapping[str, Any]], actual: Sequence[Mapping[str, Any]]) -> str | None:
    """``None`` when the two requests agree in the neutral view, else what differs: the
    first differing message, then a diff of the two conversations."""
    want, got = neutral(recorded), neutral(actual)
    if want == got:
        return None
    from ._chunks import request_diff

    return f"{first_difference(want, got, tool_names(got))}\n{request_diff(want, got)}"
