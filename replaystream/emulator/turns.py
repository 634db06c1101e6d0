"""Agent turns for the emulator: one scripted stream per model turn, in a provider's format.

A turn is what ``ReplayChatModel.from_turns`` takes, so one script drives both levels::

    {"text": "Let me| check.", "tool_calls": [{"name": "get_weather", "args": {"city": "Paris"}, "id": "toolu_01"}]}

``text`` is cut at ``|`` into deltas; ``args`` is a dict (one fragment) or JSON cut at
``|`` into fragments. A call without an id gets one in the provider's style
(``toolu_<turn><n>`` / ``call_<turn><n>``), the same on every run, so the follow-up
requests an agent sends (carrying the earlier tool results) are the same too.

>>> [path for path, _ in scripted_turns(["Hi| there."], "openai")]
['/v1/chat/completions']
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from .scripts import ScriptedResponse, ToolCall, anthropic_messages_stream, openai_chat_stream

Provider = Literal["anthropic", "openai"]
Turn = str | Mapping[str, Any]
PATHS = {"anthropic": "/v1/messages", "openai": "/v1/chat/completions"}
_ID_STYLE = {"anthropic": "toolu_replay{turn:02d}{n}", "openai": "call_replay{turn:02d}{n}"}


def _calls(turn: Turn, number: int, provider: Provider) -> list[ToolCall]:
    calls = [] if isinstance(turn, str) else list(turn.get("tool_calls") or ())
    out: list[ToolCall] = []
    for n, call in enumerate(calls):
        args = call.get("args", {})
        pieces = args.split("|") if isinstance(args, str) else [json.dumps(args, ensure_ascii=False)]
        out.append({"id": call.get("id") or _ID_STYLE[provider].format(turn=number, n=n), "name": call["name"],
                    "arguments_chunks": pieces})
    return out


def scripted_turns(turns: Sequence[Turn], provider: Provider, *, model: str | None = None,
                   input_tokens: int = 40) -> list[tuple[str, ScriptedResponse]]:
    """``(path, response)`` for each turn, in order, to ``ProviderEmulator.enqueue``."""
    out: list[tuple[str, ScriptedResponse]] = []
    for number, turn in enumerate(turns):
        text = turn if isinstance(turn, str) else turn.get("text") or ""
        chunks = text.split("|") if text else []
        calls = _calls(turn, number, provider)
        if provider == "anthropic":
            events = anthropic_messages_stream(chunks, model=model or "claude-3-5-sonnet-latest", tool_use=calls,
                                               input_tokens=input_tokens, id=f"msg_replayturn{number:02d}")
        else:
            events = openai_chat_stream(chunks, model=model or "gpt-4o-mini", tool_calls=calls,
                                        prompt_tokens=input_tokens, id=f"chatcmpl-replayturn{number:02d}")
        out.append((PATHS[provider], ScriptedResponse(events=events)))
    return out
