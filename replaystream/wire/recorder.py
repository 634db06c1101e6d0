"""Sans-I/O recording of one response body: framing (by content type), timing and decoding.

The transports feed it each chunk *after* handing that chunk on to the caller's
stream, so recording never delays a token; the same object serves sync and async.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from ..cassette.model import END_CLIENT_CLOSED, END_COMPLETE, END_ERROR, EndState, Event, Response
from .pacing import REAL_CLOCK, Clock
from ..cassette.framing import SSE, Framing, by_content_type
from .http import ContentDecoder, stored_response_headers

#: Last events after which a stream is over by its protocol, whatever the body does next.
_STREAM_TERMINATORS = frozenset({b"data: [DONE]", b"data:[DONE]"})


def stream_framing(headers: dict[str, str]) -> Framing | None:
    """The framing of a response with these (lower-cased) headers; ``None``: a plain body."""
    return by_content_type(headers.get("content-type"))


class StreamRecorder:
    """Collects one response body as units of its framing (SSE events, NDJSON lines,
    event-stream frames) or as a plain body, with time offsets.

    ``on_done`` is called exactly once with the finished :class:`Response`, whether the
    body was read to the end, abandoned, or cut by a network error.
    """

    def __init__(self, status: int, headers: dict[str, str], *, stream: bool, started: float,
                 on_done: Callable[[Response], None], clock: Clock = REAL_CLOCK,
                 framing: Framing | None = None) -> None:
        self.status = status
        # The recorded copy is decoded (the caller still gets the raw bytes); a coding that
        # cannot be undone here is stored as it came, and says so in its header.
        encoding = headers.get("content-encoding", "")
        decoder = ContentDecoder(encoding) if ContentDecoder.supports(encoding) else None
        self._decoder = decoder if decoder is not None and not decoder.identity else None
        self.headers = stored_response_headers(headers, decoded=self._decoder is not None)
        self.stream = stream
        self.started = started  # on ``clock``: when the request was sent
        self.clock = clock
        self._on_done = on_done
        # A stream is framed as its content type says (SSE when it says nothing known).
        self.framing = (framing or stream_framing(headers) or SSE) if stream else None
        self._framer = self.framing.new_framer() if self.framing is not None else None
        self._events: list[Event] = []
        self._body = bytearray()
        self._body_ms = 0.0
        self._lock = threading.Lock()
        self.done = False

    @property
    def events(self) -> Sequence[Event]:
        """The events framed so far (read only; a stream only): a faulted recording hands
        them to the client one by one."""
        return self._events

    def _now_ms(self) -> float:
        return (self.clock.now() - self.started) * 1000.0

    def _take(self, data: bytes) -> None:
        if not data:
            return
        if self._framer is not None:
            now = self._now_ms()
            self._events.extend(Event(raw, now) for raw in self._framer.feed(data))
        else:
            self._body += data
            self._body_ms = self._now_ms()

    def feed(self, chunk: bytes) -> None:
        if self.done:  # read on after the cassette closed: what was saved must not change
            return
        self._take(self._decoder.feed(chunk) if self._decoder else chunk)

    def complete(self) -> None:
        self._finish(END_COMPLETE, None)

    def fail(self, exc: BaseException) -> None:
        self._finish(END_ERROR, {"type": type(exc).__name__, "message": str(exc)})

    def close(self) -> None:
        """The caller closed the response; if it had not read to the end, say so.

        The OpenAI SDK closes the response as soon as it has read ``data: [DONE]``, before
        the body's closing (empty) chunk arrives: a stream that ends on that terminator,
        with nothing pending after it, was read whole.
        """
        self._finish(END_COMPLETE if self._ended_by_protocol() else END_CLIENT_CLOSED, None)

    def _ended_by_protocol(self) -> bool:
        if self._framer is None or self._framer.pending or not self._events:
            return False
        return self._events[-1].raw.rstrip(b"\r\n") in _STREAM_TERMINATORS

    def _finish(self, end: EndState, error: dict[str, str] | None) -> None:
        with self._lock:
            if self.done:
                return
            self.done = True
        if self._decoder is not None:
            try:
                self._take(self._decoder.flush())
            except Exception:  # a truncated gzip member: keep what decoded
                pass
        if self._framer is not None:
            now = self._now_ms()
            self._events.extend(Event(raw, now) for raw in self._framer.finish())
            # A copy: the list the transport keeps feeding is not the one that gets saved.
            response = Response(self.status, self.headers, events=list(self._events), end=end, error=error,
                                framing=self.framing.name if self.framing is not None else SSE.name)
        else:
            response = Response(self.status, self.headers, body=bytes(self._body), body_ms=self._body_ms,
                                end=end, error=error)
        self._on_done(response)
