"""Sans-I/O recording of one response body: framing, timing and decoding.

The transports feed it each chunk *after* handing that chunk on to the caller's
stream, so recording never delays a token; the same object serves sync and async.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable
from typing import Any

from ..cassette.model import END_CLIENT_CLOSED, END_COMPLETE, END_ERROR, Event, Response
from .pacing import REAL_CLOCK, Clock
from .scrub import TRANSFER_RESPONSE_HEADERS
from ..cassette.sse import SSEFramer

#: Last events after which a stream is over by its protocol, whatever the body does next.
_STREAM_TERMINATORS = frozenset({b"data: [DONE]", b"data:[DONE]"})


class _Decoder:
    """Content-encoding decoder for the recorded copy (the caller gets the raw bytes)."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._obj: Any = None
        if encoding == "gzip":
            self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._obj = zlib.decompressobj()
        elif encoding == "br":
            import brotli  # type: ignore[import-not-found]  # optional, as in httpx

            self._obj = brotli.Decompressor()

    @classmethod
    def supported(cls, encoding: str) -> bool:
        if encoding in ("gzip", "deflate"):
            return True
        if encoding == "br":
            try:
                import brotli  # noqa: F401

                return True
            except ImportError:
                return False
        return False

    def decode(self, data: bytes) -> bytes:
        if self.encoding == "br":
            return bytes(self._obj.process(data))
        return bytes(self._obj.decompress(data))

    def flush(self) -> bytes:
        return bytes(self._obj.flush()) if self.encoding != "br" else b""


class StreamRecorder:
    """Collects one response body as SSE events (or a plain body) with time offsets.

    ``on_done`` is called exactly once with the finished :class:`Response`, whether the
    body was read to the end, abandoned, or cut by a network error.
    """

    def __init__(self, status: int, headers: dict[str, str], *, stream: bool, started: float,
                 on_done: Callable[[Response], None], clock: Clock = REAL_CLOCK) -> None:
        self.status = status
        # Transfer framing (chunked, length) is not content; it is recomputed on replay.
        self.headers = {k: v for k, v in headers.items() if k not in TRANSFER_RESPONSE_HEADERS}
        self.stream = stream
        self.started = started  # on ``clock``: when the request was sent
        self.clock = clock
        self._on_done = on_done
        self._framer = SSEFramer() if stream else None
        self._events: list[Event] = []
        self._body = bytearray()
        self._body_ms = 0.0
        self._decoder: _Decoder | None = None
        self._lock = threading.Lock()
        self.done = False
        encoding = self.headers.get("content-encoding", "").strip().lower()
        if encoding and encoding != "identity" and _Decoder.supported(encoding):
            self._decoder = _Decoder(encoding)
            del self.headers["content-encoding"]  # what we store is decoded

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
        self._take(self._decoder.decode(chunk) if self._decoder else chunk)

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

    def _finish(self, end: str, error: dict[str, str] | None) -> None:
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
            response = Response(self.status, self.headers, events=list(self._events), end=end, error=error)
        else:
            response = Response(self.status, self.headers, body=bytes(self._body), body_ms=self._body_ms,
                                end=end, error=error)
        self._on_done(response)
