"""Google Gemini's wire format for the emulator: ``streamGenerateContent?alt=sse`` streams,
``generateContent`` bodies and embeddings.

Shapes copied from the real streams in ``tests/data/corpus-providers`` (``test_google_*``):
``data: {...}`` events ending in CRLF CRLF, compact JSON, ``usageMetadata`` on every chunk
(the prompt count from the first, the candidates count growing), ``finishReason`` on the
last candidate, ``modelVersion`` and ``responseId`` on each. A function call arrives whole,
in one part (Gemini does not stream its arguments).

>>> gemini_stream(["Hi"])[0][:48]
b'data: {"candidates":[{"content":{"parts":[{"text'
"""

from __future__ import annotations

import json
from typing import Any

from .scripts import ScriptedResponse, ToolCall, _json


def _call_parts(calls: list[ToolCall] | None) -> list[dict[str, Any]]:
    return [{"functionCall": {"id": c["id"], "name": c["name"], "args": json.loads("".join(c["arguments_chunks"]) or "{}")}}
            for c in calls or []]


def _usage(prompt: int, candidates: int) -> dict[str, Any]:
    usage: dict[str, Any] = {"promptTokenCount": prompt}
    if candidates:
        usage["candidatesTokenCount"] = candidates
    usage["totalTokenCount"] = prompt + candidates
    usage["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": prompt}]
    return usage


def _chunk(parts: list[dict[str, Any]], finish: str | None, usage: dict[str, Any], model: str,
           response_id: str) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}}
    if finish:
        candidate["finishReason"] = finish
    candidate["index"] = 0
    return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": model, "responseId": response_id}


def gemini_stream(chunks: list[str], *, model: str = "gemini-2.0-flash", tool_calls: list[ToolCall] | None = None,
                  prompt_tokens: int = 9, response_id: str = "replaystream-gemini-0001") -> list[bytes]:
    """A ``streamGenerateContent?alt=sse`` body: one event per text chunk, then the function
    calls (if any) in one more; the last event carries ``finishReason: STOP``."""
    pieces: list[list[dict[str, Any]]] = [[{"text": t}] for t in chunks]
    if tool_calls:
        pieces.append(_call_parts(tool_calls))
    pieces = pieces or [[{"text": ""}]]
    events = []
    for n, parts in enumerate(pieces):
        last = n == len(pieces) - 1
        body = _chunk(parts, "STOP" if last else None, _usage(prompt_tokens, n + 1 if last else 0), model,
                      response_id)
        events.append(f"data: {_json(body)}\r\n\r\n".encode())
    return events


def gemini_response(text: str | None, *, model: str = "gemini-2.0-flash", tool_calls: list[ToolCall] | None = None,
                    prompt_tokens: int = 9, candidates_tokens: int = 5,
                    response_id: str = "replaystream-gemini-0001") -> bytes:
    """A non-streamed ``generateContent`` body (JSON bytes)."""
    parts = ([{"text": text}] if text is not None else []) + _call_parts(tool_calls)
    return _json(_chunk(parts, "STOP", _usage(prompt_tokens, candidates_tokens), model, response_id)).encode()


def gemini_embeddings(vectors: list[list[float]]) -> bytes:
    """A ``batchEmbedContents`` body: one ``values`` list per input, in order."""
    return _json({"embeddings": [{"values": v} for v in vectors]}).encode()


def gemini_error(status: int, message: str, reason: str = "INVALID_ARGUMENT") -> ScriptedResponse:
    """A Google API error (``{"error": {"code", "message", "status"}}``) with its status."""
    body = {"error": {"code": status, "message": message, "status": reason}}
    return ScriptedResponse(status, {"content-type": "application/json; charset=UTF-8"}, body=_json(body).encode())
