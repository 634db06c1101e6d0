"""Ollama's wire format for the emulator: ``/api/chat`` streams as NDJSON (one JSON object a
line, ``application/x-ndjson``), non-streamed chat bodies and ``/api/embed``.

Shapes follow the ``ollama`` client's types: each line has ``model``, ``created_at``,
``message`` and ``done``; tool calls arrive whole (``arguments`` an object, no id) in a
line of their own; the last line says ``done: true`` with ``done_reason`` and the token
counts and durations.

>>> ollama_chat_stream(["Hi"])[0]
b'{"model":"llama3.2","created_at":"2025-01-01T00:00:00.000000Z","message":{"role":"assistant","content":"Hi"},"done":false}\\n'
"""

from __future__ import annotations

import json
from typing import Any

from .scripts import ScriptedResponse, ToolCall, _json

#: The headers of an Ollama stream: send them with its lines (``ScriptedResponse(headers=...)``).
NDJSON_HEADERS = {"content-type": "application/x-ndjson"}


def _created(n: int) -> str:
    return f"2025-01-01T00:00:{n // 10:02d}.{n % 10}00000Z"


def _done(model: str, n: int, prompt_tokens: int, eval_tokens: int, message: dict[str, Any]) -> dict[str, Any]:
    return {"model": model, "created_at": _created(n), "message": message, "done": True, "done_reason": "stop",
            "total_duration": 1_000_000 * (n + 1), "load_duration": 1_000, "prompt_eval_count": prompt_tokens,
            "prompt_eval_duration": 2_000, "eval_count": eval_tokens, "eval_duration": 3_000 * (n + 1)}


def _calls(tool_calls: list[ToolCall] | None) -> list[dict[str, Any]]:
    return [{"function": {"name": c["name"], "arguments": json.loads("".join(c["arguments_chunks"]) or "{}")}}
            for c in tool_calls or []]


def ollama_chat_stream(chunks: list[str], *, model: str = "llama3.2", tool_calls: list[ToolCall] | None = None,
                       prompt_tokens: int = 11) -> list[bytes]:
    """An ``/api/chat`` stream: a line per text chunk, one with the tool calls, the ``done`` line."""
    lines = [{"model": model, "created_at": _created(n), "message": {"role": "assistant", "content": text},
              "done": False} for n, text in enumerate(chunks)]
    if tool_calls:
        lines.append({"model": model, "created_at": _created(len(lines)), "done": False,
                      "message": {"role": "assistant", "content": "", "tool_calls": _calls(tool_calls)}})
    out = len(chunks) + len(tool_calls or [])
    lines.append(_done(model, len(lines), prompt_tokens, out, {"role": "assistant", "content": ""}))
    return [_json(line).encode() + b"\n" for line in lines]


def ollama_chat_response(text: str, *, model: str = "llama3.2", tool_calls: list[ToolCall] | None = None,
                         prompt_tokens: int = 11, eval_tokens: int = 5) -> bytes:
    """A non-streamed ``/api/chat`` body (``stream: false``)."""
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if tool_calls:
        message["tool_calls"] = _calls(tool_calls)
    return _json(_done(model, 0, prompt_tokens, eval_tokens, message)).encode()


def ollama_embeddings(vectors: list[list[float]], *, model: str = "nomic-embed-text") -> bytes:
    """An ``/api/embed`` body."""
    return _json({"model": model, "embeddings": vectors, "total_duration": 1_000, "load_duration": 100,
                  "prompt_eval_count": len(vectors)}).encode()


def ollama_error(status: int, message: str) -> ScriptedResponse:
    """An Ollama error (``{"error": "..."}``) with its status."""
    return ScriptedResponse(status, {"content-type": "application/json; charset=utf-8"},
                            body=_json({"error": message}).encode())
