"""Stream framings, chosen by content type: how a streamed body splits into units.

A *unit* is what one read hands over on replay: an SSE event, an NDJSON line, or an
AWS event-stream frame. Every framing keeps bytes exactly: the units a framer returns
always concatenate back to the bytes it was fed. Each framing also knows how to show a
unit (:meth:`Framing.view`), how to corrupt one the way a damaged stream would
(:meth:`Framing.malform`), and how to rewrite its payload (:meth:`Framing.rewrite`,
which re-encodes a binary frame).

>>> by_content_type("application/x-ndjson; charset=utf-8").name
'ndjson'
>>> NDJSON.split(b'{"a":1}\\n{"b":2}\\n')
[b'{"a":1}\\n', b'{"b":2}\\n']
>>> NDJSON.view(b'{"a":1}\\n').data
{'a': 1}
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from . import eventstream
from .sse import SSEFramer, parse_event

__all__ = ["EVENTSTREAM", "FRAMINGS", "NDJSON", "SSE", "Framer", "Framing", "UnitView",
           "by_content_type", "by_name", "names"]


class Framer(Protocol):
    """Incremental splitting: ``feed`` returns the units completed so far, ``finish`` the rest."""

    def feed(self, data: bytes) -> list[bytes]: ...

    def finish(self) -> list[bytes]: ...

    @property
    def pending(self) -> int: ...


@dataclass(frozen=True)
class UnitView:
    """What one unit says, for display and checks (never for replay)."""

    name: str | None  # SSE ``event:``, event-stream ``:event-type``; None for NDJSON
    data: Any  # the payload parsed as JSON, or None when it is not JSON
    text: str  # the payload as text ('' for none)
    headers: dict[str, Any] | None = None  # event-stream headers
    ok: bool = True  # False: the unit is damaged (a bad CRC, an unreadable frame)


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


# -- SSE --------------------------------------------------------------------------------
def _sse_view(raw: bytes) -> UnitView:
    event = parse_event(raw)
    return UnitView(event.event, event.json(), event.data)


def _sse_malform(raw: bytes) -> bytes:
    """The same event with its JSON cut in half: field names (``event:``) and framing stay,
    so the SDK does not skip it as unknown but fails to parse it, as with a corrupt chunk."""
    lines = raw.split(b"\n")
    for n, line in enumerate(lines):
        if line.startswith(b"data:"):
            payload = line[5:]
            lines[n] = b"data:" + payload[: max(2, len(payload) // 2)]
            break
    else:
        return b'data: {"malformed": tru\n\n'
    return b"\n".join(lines)


# -- NDJSON -----------------------------------------------------------------------------
class LineFramer:
    """Splits on ``\\n``; each line keeps its terminator (a ``\\r`` before it stays in the line)."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        cut = self._buf.rfind(b"\n")
        if cut < 0:
            return []
        whole = bytes(self._buf[:cut + 1])
        del self._buf[:cut + 1]
        return whole.splitlines(keepends=True) if b"\r" not in whole else _split_lf(whole)

    def finish(self) -> list[bytes]:
        rest = bytes(self._buf)
        self._buf.clear()
        return [rest] if rest else []

    @property
    def pending(self) -> int:
        return len(self._buf)


def _split_lf(data: bytes) -> list[bytes]:
    parts = data.split(b"\n")
    return [p + b"\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _ndjson_view(raw: bytes) -> UnitView:
    text = raw.decode("utf-8", "replace").strip()
    return UnitView(None, _json(text), text)


def _ndjson_malform(raw: bytes) -> bytes:
    """The line with its JSON cut in half, its newline kept."""
    body = raw.rstrip(b"\r\n")
    return body[: max(2, len(body) // 2)] + raw[len(body):] if body else b'{"malformed": tru\n'


# -- AWS event-stream -------------------------------------------------------------------
class EventStreamFramer:
    """Splits on each frame's declared total length. Bytes that cannot start a frame (a
    length no frame has) end framing: they are kept, whole, as the last unit."""

    __slots__ = ("_buf", "_broken")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._broken = False

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        units: list[bytes] = []
        pos = 0
        buf = self._buf
        while not self._broken:
            total = eventstream.frame_length(buf, pos)
            if total is None:
                break
            if not eventstream.MIN_FRAME <= total <= eventstream.MAX_FRAME:
                self._broken = True
                break
            if len(buf) - pos < total:
                break
            units.append(bytes(buf[pos:pos + total]))
            pos += total
        if pos:
            del buf[:pos]
        return units

    def finish(self) -> list[bytes]:
        rest = bytes(self._buf)
        self._buf.clear()
        self._broken = False
        return [rest] if rest else []

    @property
    def pending(self) -> int:
        return len(self._buf)


def _eventstream_view(raw: bytes) -> UnitView:
    try:
        frame = eventstream.decode_frame(raw)
    except eventstream.FrameError as exc:
        return UnitView(None, None, f"<{exc}>", None, False)
    text = frame.payload.decode("utf-8", "replace")
    name = frame.headers.get(":event-type") or frame.headers.get(":exception-type")
    return UnitView(str(name) if name is not None else None, _json(text), text, frame.headers, frame.crc_ok)


def _eventstream_rewrite(raw: bytes, change: Callable[[bytes], bytes]) -> bytes:
    try:
        payload = eventstream.decode_frame(raw).payload
    except eventstream.FrameError:
        return raw  # not a frame: nothing to re-encode, keep the bytes as recorded
    new = change(payload)
    return raw if new == payload else eventstream.replace_payload(raw, new)


# -- the registry -----------------------------------------------------------------------
def _whole(raw: bytes, change: Callable[[bytes], bytes]) -> bytes:
    return change(raw)


@dataclass(frozen=True)
class Framing:
    """One framing. ``binary`` framings are stored base64 in a cassette."""

    name: str
    content_types: tuple[str, ...]
    binary: bool
    new_framer: Callable[[], Framer]
    view: Callable[[bytes], UnitView]
    malform: Callable[[bytes], bytes]
    _rewrite: Callable[[bytes, Callable[[bytes], bytes]], bytes] = _whole

    def split(self, body: bytes) -> list[bytes]:
        """A whole body as units: ``b"".join(result) == body``."""
        framer = self.new_framer()
        return framer.feed(body) + framer.finish()

    @staticmethod
    def join(units: Iterable[bytes]) -> bytes:
        return b"".join(units)

    def rewrite(self, raw: bytes, change: Callable[[bytes], bytes]) -> bytes:
        """``raw`` with ``change`` applied to its payload (a binary frame is re-encoded:
        lengths and CRCs recomputed); the same object back when nothing changed."""
        return self._rewrite(raw, change)


SSE = Framing("sse", ("text/event-stream",), False, SSEFramer, _sse_view, _sse_malform)
NDJSON = Framing("ndjson", ("application/x-ndjson", "application/jsonl", "application/json-seq",
                            "application/ndjson"), False, LineFramer, _ndjson_view, _ndjson_malform)
EVENTSTREAM = Framing("eventstream", ("application/vnd.amazon.eventstream",), True, EventStreamFramer,
                      _eventstream_view, eventstream.break_crc, _eventstream_rewrite)
FRAMINGS: dict[str, Framing] = {f.name: f for f in (SSE, NDJSON, EVENTSTREAM)}


def names() -> tuple[str, ...]:
    return tuple(FRAMINGS)


def by_name(name: str | None) -> Framing:
    """A framing by its cassette name (``None``: SSE, what format v1 streams are)."""
    return SSE if name is None else FRAMINGS[name]


def by_content_type(content_type: str | None) -> Framing | None:
    """The framing of a response with this ``Content-Type``, or ``None`` for a plain body."""
    if not content_type:
        return None
    mime = content_type.split(";", 1)[0].strip().lower()
    return next((f for f in FRAMINGS.values() if mime in f.content_types), None)
