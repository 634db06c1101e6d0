"""Recorded chunks as data: the JSON form of an ``AIMessageChunk`` and of a request.

A chunk is stored as one small JSON object holding only what differs from the
defaults, in a fixed key order, so a cassette diff shows exactly what changed::

    {"content": "Polar bears actually", "id": "msg_01", "ms": 412.5}

``ms`` is not part of the message: it is when the chunk arrived, counted from the
start of the response, and drives ``pacing="recorded"``.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from langchain_core.utils.utils import LC_ID_PREFIX

from .errors import ChunkFormatError

#: Keys a stored chunk may carry, in the order they are written.
CHUNK_KEYS = ("content", "id", "name", "tool_call_chunks", "usage_metadata",
              "response_metadata", "additional_kwargs", "chunk_position", "ms")

ChunkLike = AIMessageChunk | Mapping[str, Any]


@dataclass(frozen=True)
class RecordedResponse:
    """One recorded model response: its chunks, their arrival times, and the request.

    ``ms`` holds one offset per chunk (milliseconds since the response started) or is
    ``None`` when timing was not recorded. ``request`` is the list of input messages in
    the view of :func:`request_view`, or ``None`` when it was not recorded.

    Example::

        RecordedResponse.build([{"content": "Hi"}, {"content": "!", "chunk_position": "last"}])
    """

    chunks: tuple[AIMessageChunk, ...]
    ms: tuple[float, ...] | None = None
    request: list[dict[str, Any]] | None = None
    texts: tuple[str, ...] = field(default=(), repr=False, compare=False)
    """``ChatGenerationChunk.text`` of each chunk, computed once by the validator."""
    identity: Mapping[str, Any] | None = field(default=None, compare=False)
    """The provider this response came from, in record keys (``name``, ``ls_provider``, ...),
    when it is its own: a cassette mixing providers reports each response's. Not part of
    equality: it describes where the chunks came from, not what they are."""

    @classmethod
    def build(cls, chunks: Sequence[ChunkLike], request: Sequence[Any] | None = None,
              where: str = "chunks", identity: Mapping[str, Any] | None = None) -> RecordedResponse:
        """Normalise chunk objects or dicts (with optional ``ms``) into a response."""
        msgs: list[AIMessageChunk] = []
        times: list[float | None] = []
        for n, item in enumerate(chunks):
            msg, ms = chunk_from_json(item, f"{where}[{n}]")
            msgs.append(msg)
            times.append(ms)
        timed = [t for t in times if t is not None]
        if timed and len(timed) != len(times):
            raise ChunkFormatError(f"{where}: some chunks have 'ms' and some do not; "
                                   "give every chunk an offset or none")
        ms_tuple = tuple(float(t) for t in timed) if timed else None
        req = None if request is None else request_view(request)
        texts = tuple(ChatGenerationChunk(message=m).text for m in msgs)
        return cls(tuple(msgs), ms_tuple, req, texts, None if identity is None else dict(identity))

    def to_json(self) -> list[dict[str, Any]]:
        return [chunk_to_json(c, None if self.ms is None else self.ms[n])
                for n, c in enumerate(self.chunks)]


def chunk_to_json(chunk: AIMessageChunk, ms: float | None = None) -> dict[str, Any]:
    """The stored form of ``chunk``: only non-default fields, in :data:`CHUNK_KEYS` order."""
    out: dict[str, Any] = {"content": copy.deepcopy(chunk.content)}
    if chunk.id is not None:
        out["id"] = chunk.id
    if chunk.name is not None:
        out["name"] = chunk.name
    if chunk.tool_call_chunks:
        out["tool_call_chunks"] = [dict(t) for t in chunk.tool_call_chunks]
    if chunk.usage_metadata is not None:
        out["usage_metadata"] = copy.deepcopy(dict(chunk.usage_metadata))
    if chunk.response_metadata:
        out["response_metadata"] = copy.deepcopy(chunk.response_metadata)
    if chunk.additional_kwargs:
        out["additional_kwargs"] = copy.deepcopy(chunk.additional_kwargs)
    if chunk.chunk_position is not None:
        out["chunk_position"] = chunk.chunk_position
    if ms is not None:
        out["ms"] = round(ms, 1)
    return out


def chunk_from_json(item: ChunkLike, where: str = "chunk") -> tuple[AIMessageChunk, float | None]:
    """A private copy of ``item`` as an ``AIMessageChunk``, and its ``ms`` offset.

    Ids of the form ``lc_run--<uuid>`` belong to the run that was recorded, not to the
    provider; they are dropped so that replay can give its own deterministic ids.
    """
    if isinstance(item, AIMessageChunk):
        data = chunk_to_json(item)
    elif isinstance(item, Mapping):
        data = dict(item)
        unknown = sorted(set(data) - set(CHUNK_KEYS))
        if unknown:
            raise ChunkFormatError(f"{where}: unknown key(s) {unknown}; a chunk may have {list(CHUNK_KEYS)}")
    else:
        raise ChunkFormatError(f"{where}: expected an AIMessageChunk or a dict, "
                               f"found {type(item).__name__}")
    ms = data.pop("ms", None)
    if ms is not None and (isinstance(ms, bool) or not isinstance(ms, (int, float))):
        raise ChunkFormatError(f"{where}.ms: expected a number of milliseconds, found {ms!r}")
    if isinstance(data.get("id"), str) and data["id"].startswith(LC_ID_PREFIX):
        data["id"] = None
    data.setdefault("content", "")
    try:
        msg = AIMessageChunk(**copy.deepcopy(data))
    except Exception as exc:  # pydantic's message already names the bad field
        raise ChunkFormatError(f"{where}: not a valid AIMessageChunk: {exc}") from exc
    return msg, None if ms is None else float(ms)


_new = object.__new__
_set = object.__setattr__
#: Fields LangChain mutates or merges in place; copied deeply when not empty.
_MUTABLE = ("content", "response_metadata", "additional_kwargs", "tool_call_chunks",
            "tool_calls", "invalid_tool_calls", "usage_metadata")
#: Fields ``BaseChatModel`` assigns on each streamed chunk.
_STREAM_SET = frozenset({"id", "response_metadata"})
#: ``ChatGenerationChunk(message=...)``'s fields set; LangChain never assigns to a generation.
_GENERATION_SET = {"message", "text"}


def fresh_copy(template: AIMessageChunk, msg_id: str | None) -> AIMessageChunk:
    """A copy ``BaseChatModel.astream`` may mutate without touching the recording.

    This is pydantic's ``__copy__`` without its overhead, and with fewer new objects:
    at 10,000 chunks the garbage collector's work on freshly allocated containers,
    not the copying itself, is what separates a replayed chunk from a pre-built one.
    The containers LangChain mutates or merges in place are copied when not empty;
    an empty ``__pydantic_extra__`` is shared (only setting an unknown attribute on a
    message would write to it), and so is the set of fields set: it already names the
    two LangChain assigns while streaming (``id``, ``response_metadata``), so pydantic's
    ``__setattr__`` adds nothing to it. Two fewer tracked objects a chunk keeps a
    10,000-chunk ``stream_mode="messages"`` run out of a full collection.
    """
    src = template.__dict__
    data = src.copy()
    if data["id"] is None:
        data["id"] = msg_id
    for key in _MUTABLE:
        value = src[key]
        if value and not isinstance(value, str):
            data[key] = copy.deepcopy(value)
    msg = _new(type(template))
    _set(msg, "__dict__", data)
    extra = template.__pydantic_extra__
    _set(msg, "__pydantic_extra__", dict(extra) if extra else extra)
    fields_set = template.__pydantic_fields_set__
    if not _STREAM_SET <= fields_set:  # a template not made by chunk_from_json: once per template
        fields_set.update(_STREAM_SET)
    _set(msg, "__pydantic_fields_set__", fields_set)
    private = template.__pydantic_private__
    _set(msg, "__pydantic_private__", dict(private) if private else private)
    return msg


def closing_chunk(last: AIMessageChunk, msg_id: str) -> AIMessageChunk:
    """The empty ``chunk_position="last"`` chunk LangChain appends to a stream that did not
    end with one; made here so its id is ``last``'s (or ``msg_id``), the same on every run,
    not the random ``lc_run--<uuid>`` of the run."""
    return AIMessageChunk(content="" if isinstance(last.content, str) else [], chunk_position="last",
                          id=last.id or msg_id)


def generation(message: AIMessageChunk, text: str) -> ChatGenerationChunk:
    """``ChatGenerationChunk(message=message)`` with ``text`` computed once, at load.

    Equal to the validated constructor's result (a test checks it); skipping the
    validator per chunk pays for the copy ``fresh_copy`` makes.
    """
    gen = _new(ChatGenerationChunk)
    _set(gen, "__dict__", {"text": text, "generation_info": None, "type": "ChatGenerationChunk",
                           "message": message})
    _set(gen, "__pydantic_extra__", None)
    _set(gen, "__pydantic_fields_set__", _GENERATION_SET)
    _set(gen, "__pydantic_private__", None)
    return gen


def split_text(text: str, sep: str = "|") -> list[dict[str, Any]]:
    """``"a| b|"`` -> chunks ``"a"``, ``" b"``, ``""``; the last is ``chunk_position="last"``."""
    parts = text.split(sep)
    chunks: list[dict[str, Any]] = [{"content": p} for p in parts]
    chunks[-1]["chunk_position"] = "last"
    return chunks


def turn_chunks(turn: str | Mapping[str, Any] | Sequence[ChunkLike], number: int,
                sep: str = "|") -> list[Any]:
    """One agent turn as chunk dicts: text cut at ``sep``, then each tool call streamed as
    ``tool_call_chunks`` (its name and id first, then the argument pieces).

    ``turn`` is a text, a list of chunks (kept), or ``{"text": ..., "tool_calls": [...]}``
    where a call is ``{"name": ..., "args": {...} or "JSON| cut|at sep", "id": ...}``. A
    call without an id gets ``call_<turn>_<n>``: the same on every run.

    >>> turn_chunks({"tool_calls": [{"name": "search", "args": '{"q":| "bears"}'}]}, 0)[0]["tool_call_chunks"]
    [{'name': 'search', 'args': '{"q":', 'id': 'call_0_0', 'index': 0, 'type': 'tool_call_chunk'}]
    """
    if isinstance(turn, str):
        return split_text(turn, sep)
    if not isinstance(turn, Mapping):
        return list(turn)
    unknown = sorted(set(turn) - {"text", "tool_calls"})
    if unknown:
        raise ChunkFormatError(f"turns[{number}]: unknown key(s) {unknown}; a turn may have 'text' and 'tool_calls'")
    text = turn.get("text")
    chunks: list[dict[str, Any]] = [{"content": p} for p in text.split(sep)] if text else []
    for n, call in enumerate(turn.get("tool_calls") or ()):
        if not isinstance(call, Mapping) or not isinstance(call.get("name"), str):
            raise ChunkFormatError(f"turns[{number}].tool_calls[{n}]: expected {{'name': ..., 'args': ...}}, "
                                   f"found {call!r}")
        args = call.get("args", {})
        pieces = args.split(sep) if isinstance(args, str) else [json.dumps(args, ensure_ascii=False)]
        for k, piece in enumerate(pieces):
            head = {"name": call["name"], "id": call.get("id") or f"call_{number}_{n}"} if k == 0 else \
                {"name": None, "id": None}
            chunks.append({"content": "", "tool_call_chunks": [{**head, "args": piece, "index": n,
                                                                 "type": "tool_call_chunk"}]})
    if not chunks:
        chunks.append({"content": ""})
    chunks[-1]["chunk_position"] = "last"
    return chunks


# -- requests ------------------------------------------------------------------------
def request_view(messages: Sequence[Any]) -> list[dict[str, Any]]:
    """The parts of input messages that strict replay compares (ids and metadata left out)."""
    out: list[dict[str, Any]] = []
    for m in messages:
        if isinstance(m, BaseMessage):
            view: dict[str, Any] = {"type": m.type, "content": m.content}
            if m.name:
                view["name"] = m.name
            tool_calls = getattr(m, "tool_calls", None)
            if tool_calls:
                view["tool_calls"] = [{"name": t["name"], "args": t["args"], "id": t.get("id")}
                                      for t in tool_calls]
            tool_call_id = getattr(m, "tool_call_id", None)
            if tool_call_id:
                view["tool_call_id"] = tool_call_id
            out.append(view)
        elif isinstance(m, Mapping):
            out.append(dict(m))  # already a view (read back from a cassette)
        else:
            raise ChunkFormatError(f"request message {m!r} is neither a message nor a dict")
    return out


def request_diff(recorded: list[dict[str, Any]], actual: list[dict[str, Any]]) -> str:
    """A unified diff of two request views, one message per line group."""
    def lines(view: list[dict[str, Any]]) -> list[str]:
        return json.dumps(view, indent=2, ensure_ascii=False, sort_keys=True, default=str).splitlines()

    return "\n".join(difflib.unified_diff(lines(recorded), lines(actual),
                                          "recorded request", "actual request", lineterm=""))
