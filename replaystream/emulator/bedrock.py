"""Bedrock's wire format for the emulator: AWS event-stream frames.

Shapes copied from the real streams in ``tests/data/corpus-providers`` (``converse-stream``):
each frame carries ``:event-type``, ``:content-type`` and ``:message-type`` string headers and
a compact JSON payload with a ``p`` padding field (Bedrock pads frames to hide token sizes).
``invoke-with-response-stream`` sends ``chunk`` frames whose payload is the model's own
event (here Anthropic's), base64 under ``bytes``. botocore parses both in
``tests/emulator/test_bedrock_emulator.py``.
"""

from __future__ import annotations

import json
from base64 import b64encode
from typing import Any

from ..cassette.eventstream import encode_frame
from .scripts import ScriptedResponse, ToolCall

__all__ = ["BEDROCK_HEADERS", "bedrock_converse_stream", "bedrock_frame", "bedrock_invoke_stream"]

#: Response headers of a Bedrock stream (the request id is a per-request id: dropped when recorded).
BEDROCK_HEADERS = {"content-type": "application/vnd.amazon.eventstream",
                   "x-amzn-requestid": "00000000-0000-4000-8000-000000000000"}
_PAD = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def bedrock_frame(event_type: str, payload: dict[str, Any], n: int = 0) -> bytes:
    """One event frame as Bedrock sends it (``n`` varies the padding length, as Bedrock's does)."""
    body = {**payload, "p": _PAD[: 1 + (n * 7) % len(_PAD)]}
    return encode_frame({":event-type": event_type, ":content-type": "application/json", ":message-type": "event"},
                        json.dumps(body, separators=(",", ":"), sort_keys=True).encode("utf-8"))


def bedrock_converse_stream(chunks: list[str], *, tool_calls: list[ToolCall] | None = None, input_tokens: int = 13,
                            output_tokens: int | None = None, gaps_ms: float = 0) -> ScriptedResponse:
    """A ``converse-stream`` answer: text deltas in block 0, then one block per tool call."""
    frames: list[tuple[str, dict[str, Any]]] = [("messageStart", {"role": "assistant"})]
    block = 0
    if chunks:
        frames += [("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": c}}) for c in chunks]
        frames.append(("contentBlockStop", {"contentBlockIndex": 0}))
        block = 1
    for call in tool_calls or ():
        frames.append(("contentBlockStart", {"contentBlockIndex": block, "start": {
            "toolUse": {"toolUseId": call["id"], "name": call["name"]}}}))
        frames += [("contentBlockDelta", {"contentBlockIndex": block, "delta": {"toolUse": {"input": part}}})
                   for part in call["arguments_chunks"]]
        frames.append(("contentBlockStop", {"contentBlockIndex": block}))
        block += 1
    out = output_tokens if output_tokens is not None else max(1, len(chunks) + len(tool_calls or ()))
    frames.append(("messageStop", {"stopReason": "tool_use" if tool_calls else "end_turn"}))
    frames.append(("metadata", {"metrics": {"latencyMs": 100}, "usage": {
        "inputTokens": input_tokens, "outputTokens": out, "totalTokens": input_tokens + out}}))
    events = [bedrock_frame(kind, payload, n) for n, (kind, payload) in enumerate(frames)]
    return ScriptedResponse(200, dict(BEDROCK_HEADERS), events=events, gaps_ms=gaps_ms)


def bedrock_invoke_stream(chunks: list[str], *, model: str = "claude-3-5-haiku", input_tokens: int = 13,
                          gaps_ms: float = 0) -> ScriptedResponse:
    """An ``invoke-with-response-stream`` answer of an Anthropic model: its Messages events,
    each base64 in a ``chunk`` frame."""
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": {"id": "msg_bdrk_replaystream", "type": "message", "role": "assistant",
                                              "model": model, "content": [], "stop_reason": None,
                                              "usage": {"input_tokens": input_tokens, "output_tokens": 1}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        *({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": c}} for c in chunks),
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": len(chunks)}},
        {"type": "message_stop", "amazon-bedrock-invocationMetrics": {
            "inputTokenCount": input_tokens, "outputTokenCount": len(chunks), "invocationLatency": 100}},
    ]
    frames = [bedrock_frame("chunk", {"bytes": b64encode(json.dumps(e, separators=(",", ":")).encode()).decode()}, n)
              for n, e in enumerate(events)]
    return ScriptedResponse(200, dict(BEDROCK_HEADERS), events=frames, gaps_ms=gaps_ms)
