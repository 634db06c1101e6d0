"""Server-sent-event framing that keeps every byte.

The framer only finds event *boundaries*; it never rewrites bytes, so the events it
returns always concatenate back to exactly the bytes it was fed. Parsing (``event:``,
``data:`` fields) is a separate, derived view used for display and matching.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

# One line and its terminator. A lone "\r" at the very end of the buffer may be the
# first half of "\r\n", so it is only trusted once more bytes (or the end) arrive.
_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)")


class SSEFramer:
    """Incrementally splits a byte stream into raw SSE events.

    >>> f = SSEFramer()
    >>> f.feed(b"data: a\\n\\ndata: ")
    [b'data: a\\n\\n']
    >>> f.feed(b"b\\n\\n")
    [b'data: b\\n\\n']
    >>> f.finish()
    []
    """

    __slots__ = ("_buf", "_scan", "_event_start_line")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._scan = 0  # where the next unread line starts
        self._event_start_line = True  # is _scan at the start of an event?

    def feed(self, data: bytes) -> list[bytes]:
        """Add bytes; return every event completed by them (terminator included)."""
        self._buf += data
        return self._drain(final=False)

    def finish(self) -> list[bytes]:
        """End of stream: return what is left as a last, unterminated event (if any)."""
        events = self._drain(final=True)
        if self._buf:
            events.append(bytes(self._buf))
            self._buf.clear()
        self._scan = 0
        self._event_start_line = True
        return events

    @property
    def pending(self) -> int:
        """Bytes received but not yet part of a completed event."""
        return len(self._buf)

    def _drain(self, final: bool) -> list[bytes]:
        events: list[bytes] = []
        buf = self._buf
        cut = 0  # end of the last completed event in buf
        pos = self._scan
        n = len(buf)
        while pos < n:
            m = _LINE.match(buf, pos)
            if m is None:
                break  # an unterminated line: wait for more
            end = m.end()
            if not final and end == n and buf[end - 1] == 0x0D:
                break  # "\r" at the edge: maybe half of "\r\n"
            blank = end - pos <= 2 and m.group(0) in (b"\n", b"\r", b"\r\n")
            pos = end
            if blank:
                events.append(bytes(buf[cut:end]))
                cut = end
        if cut:
            del buf[:cut]
            pos -= cut
        self._scan = pos
        return events


def split_events(body: bytes) -> list[bytes]:
    """Split a whole SSE body into raw events. ``b"".join(result) == body``."""
    framer = SSEFramer()
    return framer.feed(body) + framer.finish()


@dataclass(frozen=True)
class SSEEvent:
    """The parsed view of one raw event (for display and shape checks, never replay)."""

    event: str | None = None
    data: str = ""
    id: str | None = None
    retry: int | None = None
    comments: tuple[str, ...] = field(default_factory=tuple)

    def json(self) -> Any:
        """``data`` parsed as JSON, or ``None`` when it is not JSON (e.g. ``[DONE]``)."""
        try:
            return json.loads(self.data)
        except ValueError:
            return None


def parse_event(raw: bytes) -> SSEEvent:
    """Parse one raw event following the WHATWG field rules."""
    name: str | None = None
    data_lines: list[str] = []
    ident: str | None = None
    retry: int | None = None
    comments: list[str] = []
    # Only CR, LF and CRLF end SSE lines (str.splitlines would also split on U+2028...).
    for line in re.split(r"\r\n|\r|\n", raw.decode("utf-8", errors="replace")):
        if not line:
            continue
        if line.startswith(":"):
            comments.append(line[1:].lstrip(" "))
            continue
        key, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if key == "event":
            name = value
        elif key == "data":
            data_lines.append(value)
        elif key == "id":
            ident = value
        elif key == "retry" and value.isdigit():
            retry = int(value)
    return SSEEvent(name, "\n".join(data_lines), ident, retry, tuple(comments))
