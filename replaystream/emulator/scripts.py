"""What the provider emulator sends: :class:`ScriptedResponse` and wire-format builders.

The builders copy the shapes of real recorded streams (the vendored corpus in ``tests/data/corpus``):
compact JSON, LF line endings, ``data:``-only OpenAI events ending in ``data: [DONE]``,
``event:`` + ``data:`` Anthropic events with a ``ping`` after the first block start.
Every builder's output is parsed by the real SDKs in ``tests/emulator/test_emulator.py``.
"""

from __future__ import annotations

import json
import struct
from base64 import b64encode
from dataclasses import dataclass, field
from typing import Any, TypedDict

from ..cassette.model import END_ERROR, Interaction
from ..errors import UsageError
from ..wire.pacing import Pacing as Pacing, speed  # Pacing: re-exported (was defined here)

#: Response headers that describe the recorded transfer, not the content: the emulator
#: re-frames (chunked, optionally gzip) what it serves, so these would lie.
_TRANSFER_HEADERS = frozenset({"content-length", "transfer-encoding", "content-encoding", "connection",
                               "keep-alive"})


class ToolCall(TypedDict):
    """A streamed tool call: ``arguments_chunks`` concatenate to the JSON arguments."""

    id: str
    name: str
    arguments_chunks: list[str]


@dataclass
class ScriptedResponse:
    """One response the emulator will serve, and how to put it on the wire.

    Give ``events`` (a stream, sent chunked, one write per event) or ``body`` (sent with
    Content-Length). ``gaps_ms`` is the wait before each event (a list, one per event) or
    between events (a number); for a body, the wait before it. ``close_after=k`` drops the
    connection after k events (or k body bytes) without the terminating chunk.
    ``write_sizes=n`` re-cuts the stream into n-byte writes; ``coalesce`` sends it in one
    write; ``hold_back`` waits for ``ProviderEmulator.ack()`` before each event after the
    first (with ``write_sizes`` the cut then happens inside each event only).

    >>> ScriptedResponse(events=[b"data: 1\\n\\n", b"data: [DONE]\\n\\n"], gaps_ms=5).status
    200
    """

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    events: list[bytes] | None = None
    body: bytes | None = None
    gaps_ms: float | list[float] = 0
    close_after: int | None = None
    write_sizes: int | None = None
    coalesce: bool = False
    gzip: bool = False
    hold_back: bool = False

    def __post_init__(self) -> None:
        if self.events is not None and self.body is not None:
            raise UsageError("a ScriptedResponse has either events (a stream) or a body, not both")
        if self.events is None and self.body is None:
            self.body = b""
        if isinstance(self.gaps_ms, list) and self.events is not None \
                and len(self.gaps_ms) != len(self.events):
            raise UsageError(f"gaps_ms has {len(self.gaps_ms)} entries for {len(self.events)} events; "
                             "give one per event (the wait before it) or a single number")
        if self.write_sizes is not None and self.write_sizes < 1:
            raise UsageError("write_sizes must be at least 1 byte")
        if self.hold_back and (self.coalesce or self.events is None):
            # Hold-back paces events one by one; a single write or a plain body has no events to pace.
            raise UsageError("hold_back needs a stream (events) sent event by event (not coalesce)")
        if self.close_after is not None and self.close_after < 0:
            raise UsageError("close_after must be >= 0")

    def gap_before(self, index: int) -> float:
        """Seconds to wait before event ``index`` (or before the body, index 0)."""
        if isinstance(self.gaps_ms, list):
            return self.gaps_ms[index] / 1000 if index < len(self.gaps_ms) else 0.0
        return self.gaps_ms / 1000 if index > 0 or self.events is None else 0.0

    @classmethod
    def from_interaction(cls, interaction: Interaction, pacing: Pacing = "instant",
                         delays: dict[int, float] | None = None) -> ScriptedResponse:
        """Serve a recorded interaction: its raw event bytes, status and headers.

        ``pacing``: ``"instant"`` (no waits), ``"recorded"`` (the recorded gaps, from each
        event's ``ms`` offset) or a factor that divides the recorded gaps (2.0 = twice as
        fast). A recording that ended in a connection error drops the connection again.
        ``delays`` adds seconds before given events (injected faults).
        """
        factor = speed(pacing)  # 0.0: instant
        resp = interaction.response
        headers = {k: v for k, v in resp.headers.items() if k.lower() not in _TRANSFER_HEADERS}
        if resp.events is None:
            gap = resp.body_ms / factor if factor else 0.0
            return cls(resp.status, headers, body=resp.body or b"", gaps_ms=gap)
        gaps: list[float] = []
        previous = 0.0
        for n, event in enumerate(resp.events):
            gaps.append((max(event.ms - previous, 0.0) / factor if factor else 0.0)
                        + (delays or {}).get(n, 0.0) * 1000.0)
            previous = event.ms
        close_after = len(resp.events) if resp.end == END_ERROR else None
        return cls(resp.status, headers, events=[e.raw for e in resp.events], gaps_ms=gaps,
                   close_after=close_after)


# -- encoding helpers ------------------------------------------------------------------------
def _json(obj: Any) -> str:
    # Compact separators and raw UTF-8, as both providers send them.
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _data(obj: Any) -> bytes:
    return f"data: {_json(obj)}\n\n".encode()


def _named(name: str, obj: Any) -> bytes:
    return f"event: {name}\ndata: {_json(obj)}\n\n".encode()


def _json_response(status: int, obj: Any) -> ScriptedResponse:
    return ScriptedResponse(status, {"content-type": "application/json"}, body=_json(obj).encode())


# -- OpenAI chat completions -----------------------------------------------------------------
def openai_chat_stream(chunks: list[str], *, model: str = "gpt-4o-mini", tool_calls: list[ToolCall] | None = None,
                       include_usage: bool = True, id: str = "chatcmpl-replaystream0001",
                       created: int = 1700000000, prompt_tokens: int = 12,
                       completion_tokens: int | None = None) -> list[bytes]:
    """A Chat Completions stream: role chunk, content deltas, tool-call deltas (id and name
    first, then argument fragments), finish chunk, usage chunk (``choices: []``), ``[DONE]``.

    >>> openai_chat_stream(["Hi"])[-1]
    b'data: [DONE]\\n\\n'
    """
    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        body: dict[str, Any] = {"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
                                "system_fingerprint": "fp_replaystream",
                                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
        if include_usage:
            body["usage"] = None  # with include_usage the real API sends usage: null on every chunk
        return _data(body)

    calls = tool_calls or []
    events = [chunk({"role": "assistant", "content": None if calls and not chunks else "", "refusal": None})]
    events += [chunk({"content": text}) for text in chunks]
    for n, call in enumerate(calls):
        events.append(chunk({"tool_calls": [{"index": n, "id": call["id"], "type": "function",
                                             "function": {"name": call["name"], "arguments": ""}}]}))
        events += [chunk({"tool_calls": [{"index": n, "function": {"arguments": frag}}]})
                   for frag in call["arguments_chunks"]]
    events.append(chunk({}, "tool_calls" if calls else "stop"))
    if include_usage:
        out = completion_tokens if completion_tokens is not None else \
            len(chunks) + sum(len(c["arguments_chunks"]) + 1 for c in calls)
        events.append(_data({"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
                             "system_fingerprint": "fp_replaystream", "choices": [],
                             "usage": _openai_usage(prompt_tokens, out)}))
    events.append(b"data: [DONE]\n\n")
    return events


def _openai_usage(prompt: int, completion: int) -> dict[str, Any]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}


def openai_chat_completion(text: str | None, *, model: str = "gpt-4o-mini", tool_calls: list[ToolCall] | None = None,
                           id: str = "chatcmpl-replaystream0001", created: int = 1700000000,
                           prompt_tokens: int = 12, completion_tokens: int = 8) -> bytes:
    """A non-streamed Chat Completions body (JSON bytes)."""
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None, "annotations": []}
    if tool_calls:
        message["tool_calls"] = [{"id": c["id"], "type": "function",
                                  "function": {"name": c["name"], "arguments": "".join(c["arguments_chunks"])}}
                                 for c in tool_calls]
    return _json({"id": id, "object": "chat.completion", "created": created, "model": model,
                  "choices": [{"index": 0, "message": message, "logprobs": None,
                               "finish_reason": "tool_calls" if tool_calls else "stop"}],
                  "usage": _openai_usage(prompt_tokens, completion_tokens),
                  "system_fingerprint": "fp_replaystream"}).encode()


def openai_embeddings(vectors: list[list[float]], *, model: str = "text-embedding-3-small",
                      prompt_tokens: int | None = None, base64: bool = False) -> bytes:
    """An embeddings body. The SDK (and so ``OpenAIEmbeddings``) asks for
    ``encoding_format="base64"`` unless told otherwise; ``base64=True`` answers as the real
    API then does (little-endian float32), the default float lists are accepted either way."""
    tokens = prompt_tokens if prompt_tokens is not None else 2 * len(vectors)

    def encode(v: list[float]) -> list[float] | str:
        return b64encode(struct.pack(f"<{len(v)}f", *v)).decode("ascii") if base64 else v

    return _json({"object": "list", "model": model,
                  "data": [{"object": "embedding", "index": n, "embedding": encode(v)} for n, v in enumerate(vectors)],
                  "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}).encode()


def openai_error(status: int, message: str, type: str = "invalid_request_error",
                 code: str | None = None) -> ScriptedResponse:
    """An OpenAI error response (``{"error": {...}}``) with its status."""
    return _json_response(status, {"error": {"message": message, "type": type, "param": None, "code": code}})


# -- OpenAI Responses API --------------------------------------------------------------------
def openai_responses_stream(chunks: list[str], *, model: str = "gpt-4o-mini",
                            tool_calls: list[ToolCall] | None = None, id: str = "resp_replaystream0001",
                            created: int = 1700000000, input_tokens: int = 12,
                            output_tokens: int | None = None) -> list[bytes]:
    """A Responses API stream: ``response.created``, ``in_progress``, a message item with
    ``output_text.delta`` per chunk, function-call items, ``response.completed`` with usage."""
    events: list[bytes] = []
    output: list[dict[str, Any]] = []

    def emit(name: str, **payload: Any) -> None:
        events.append(_named(name, {"type": name, "sequence_number": len(events), **payload}))

    def response(status: str, items: list[dict[str, Any]], usage: dict[str, Any] | None) -> dict[str, Any]:
        return {"id": id, "object": "response", "created_at": created, "status": status, "background": False,
                "error": None, "incomplete_details": None, "instructions": None, "max_output_tokens": None,
                "model": model, "output": items, "parallel_tool_calls": True, "previous_response_id": None,
                "reasoning": {"effort": None, "summary": None}, "store": True, "temperature": 1.0,
                "text": {"format": {"type": "text"}}, "tool_choice": "auto", "tools": [], "top_p": 1.0,
                "truncation": "disabled", "usage": usage, "user": None, "metadata": {}}

    emit("response.created", response=response("in_progress", [], None))
    emit("response.in_progress", response=response("in_progress", [], None))
    if chunks or not tool_calls:
        msg_id, text, idx = f"msg_{id}", "".join(chunks), len(output)
        part_done = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
        emit("response.output_item.added", output_index=idx,
             item={"id": msg_id, "type": "message", "status": "in_progress", "role": "assistant", "content": []})
        emit("response.content_part.added", item_id=msg_id, output_index=idx, content_index=0,
             part={**part_done, "text": ""})
        for piece in chunks:
            emit("response.output_text.delta", item_id=msg_id, output_index=idx, content_index=0,
                 delta=piece, logprobs=[])
        emit("response.output_text.done", item_id=msg_id, output_index=idx, content_index=0, text=text, logprobs=[])
        emit("response.content_part.done", item_id=msg_id, output_index=idx, content_index=0, part=part_done)
        item = {"id": msg_id, "type": "message", "status": "completed", "role": "assistant", "content": [part_done]}
        emit("response.output_item.done", output_index=idx, item=item)
        output.append(item)
    for call in tool_calls or []:
        fc_id, idx, args = f"fc_{call['id']}", len(output), "".join(call["arguments_chunks"])
        head = {"id": fc_id, "type": "function_call", "status": "in_progress", "call_id": call["id"],
                "name": call["name"], "arguments": ""}
        emit("response.output_item.added", output_index=idx, item=head)
        for frag in call["arguments_chunks"]:
            emit("response.function_call_arguments.delta", item_id=fc_id, output_index=idx, delta=frag)
        emit("response.function_call_arguments.done", item_id=fc_id, output_index=idx, arguments=args)
        item = {**head, "status": "completed", "arguments": args}
        emit("response.output_item.done", output_index=idx, item=item)
        output.append(item)
    out = output_tokens if output_tokens is not None else max(len(chunks), 1)
    usage = {"input_tokens": input_tokens, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": out,
             "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": input_tokens + out}
    emit("response.completed", response=response("completed", output, usage))
    return events


# -- Anthropic Messages ----------------------------------------------------------------------
def anthropic_messages_stream(chunks: list[str], *, model: str = "claude-3-5-sonnet-latest", input_tokens: int = 14,
                              output_tokens: int | None = None, tool_use: list[ToolCall] | None = None,
                              ping: bool = True, id: str = "msg_replaystream0001",
                              stop_reason: str | None = None) -> list[bytes]:
    """A Messages stream: ``message_start`` (with usage), per block ``content_block_start`` /
    deltas (``text_delta``, or ``input_json_delta`` fragments for ``tool_use``) /
    ``content_block_stop``, a ``ping`` after the first block start, ``message_delta``
    (stop_reason and final usage, input tokens included as the current API sends them),
    ``message_stop``.
    """
    out = output_tokens if output_tokens is not None else len(chunks) + sum(
        len(t["arguments_chunks"]) for t in tool_use or [])
    usage = {"input_tokens": input_tokens, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    events = [_named("message_start", {"type": "message_start", "message": {
        "id": id, "type": "message", "role": "assistant", "model": model, "content": [], "stop_reason": None,
        "stop_sequence": None, "usage": {**usage, "output_tokens": 1, "service_tier": "standard"}}})]
    blocks: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    if chunks or not tool_use:
        blocks.append(({"type": "text", "text": ""}, [{"type": "text_delta", "text": t} for t in chunks]))
    for call in tool_use or []:
        # The real API opens a tool_use block with an empty partial_json before the fragments.
        blocks.append(({"type": "tool_use", "id": call["id"], "name": call["name"], "input": {}},
                       [{"type": "input_json_delta", "partial_json": p} for p in ["", *call["arguments_chunks"]]]))
    for index, (block, deltas) in enumerate(blocks):
        events.append(_named("content_block_start", {"type": "content_block_start", "index": index,
                                                     "content_block": block}))
        if ping and index == 0:
            events.append(b'event: ping\ndata: {"type": "ping"}\n\n')  # spaced JSON: copied from the wire
        events += [_named("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d})
                   for d in deltas]
        events.append(_named("content_block_stop", {"type": "content_block_stop", "index": index}))
    reason = stop_reason or ("tool_use" if tool_use else "end_turn")
    events.append(_named("message_delta", {"type": "message_delta",
                                           "delta": {"stop_reason": reason, "stop_sequence": None},
                                           "usage": {**usage, "output_tokens": out}}))
    events.append(_named("message_stop", {"type": "message_stop"}))
    return events


def anthropic_stream_error(type: str = "overloaded_error", message: str = "Overloaded") -> bytes:
    """A mid-stream ``event: error`` (the SDK raises an ``APIStatusError`` on it)."""
    return f"event: error\ndata: {_json({'type': 'error', 'error': {'type': type, 'message': message}})}\n\n".encode()


def anthropic_message(text: str | None, *, model: str = "claude-3-5-sonnet-latest", tool_use: list[ToolCall] | None = None,
                      id: str = "msg_replaystream0001", input_tokens: int = 14, output_tokens: int = 8) -> bytes:
    """A non-streamed Messages body (JSON bytes)."""
    content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text is not None else []
    content += [{"type": "tool_use", "id": c["id"], "name": c["name"],
                 "input": json.loads("".join(c["arguments_chunks"]) or "{}")} for c in tool_use or []]
    return _json({"id": id, "type": "message", "role": "assistant", "model": model, "content": content,
                  "stop_reason": "tool_use" if tool_use else "end_turn", "stop_sequence": None,
                  "usage": {"input_tokens": input_tokens, "cache_creation_input_tokens": 0,
                            "cache_read_input_tokens": 0, "output_tokens": output_tokens,
                            "service_tier": "standard"}}).encode()


def anthropic_error(status: int, type: str, message: str) -> ScriptedResponse:
    """An Anthropic error response (``{"type": "error", "error": {...}}``) with its status."""
    return _json_response(status, {"type": "error", "error": {"type": type, "message": message},
                                   "request_id": "req_replaystream0001"})


def plan_writes(resp: ScriptedResponse) -> list[tuple[float, bytes]]:
    """A stream's socket writes as ``(seconds to wait first, bytes)``, hold-back aside.

    >>> plan_writes(ScriptedResponse(events=[b"ab", b"cd"], write_sizes=3, gaps_ms=10))
    [(0.01, b'abc'), (0.0, b'd')]
    """
    events = list(resp.events or [])[:resp.close_after]
    waits = [resp.gap_before(n) for n in range(len(events))]
    if resp.coalesce:
        return [(sum(waits, 0.0), b"".join(events))]  # everything arrives when the last event would
    if resp.write_sizes is None:
        return list(zip(waits, events))
    # Re-cut across event boundaries; a write waits for the gaps of the events starting in it.
    size, plan, stream, starts = resp.write_sizes, [], b"".join(events), []
    offset = 0
    for event in events:
        starts.append(offset)
        offset += len(event)
    for begin in range(0, len(stream), size):
        wait = sum((w for w, s in zip(waits, starts) if begin <= s < begin + size), 0.0)
        plan.append((wait, stream[begin:begin + size]))
    return plan


def cut_writes(data: bytes, size: int | None) -> list[bytes]:
    if size is None:
        return [data]
    return [data[i:i + size] for i in range(0, len(data), size)]

