"""Sans-I/O recording of one response body: framing (by content type), timing and decoding.

The transports feed it each chunk *after* handing that chunk on to the caller's
stream, so recording never delays a token; the same object serves sync and async.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from ..cassette.model import END_CLIENT_CLOSED, END_COMPLETE, END_ERROR, EndState, Event, Response
from ..cassette.framing import SSE, Framing, by_content_type
from ..errors import RecordingError
from .http import ContentDecoder, ContentDecodingError, MissingDecoderError, stored_response_headers
from .pacing import REAL_CLOCK, Clock

#: Last events after which a stream is over by its protocol, whatever the body does next.
_STREAM_TERMINATORS = frozenset({b"data: [DONE]", b"data:[DONE]"})
#: The class httpx and httpx2 both raise for a body that does not decode; replay raises it again.
DECODING_ERROR = "DecodingError"


def _decoder_for(headers: dict[str, str]) -> ContentDecoder | None:
    """The decoder of the recorded copy: ``None`` when there is nothing to undo, or the coding
    is one no client undoes either (it is stored as it came, and says so in its header)."""
    encoding = headers.get("content-encoding", "")
    if not ContentDecoder.known(encoding):
        return None
    try:
        decoder = ContentDecoder(encoding)
    except MissingDecoderError as exc:  # stored compressed, a secret inside would never be scrubbed
        raise RecordingError(f"cannot record a response with {exc}: replaystream stores bodies decoded, so "
                             f"that secrets in them can be scrubbed (install {exc.package})") from exc
    return None if decoder.identity else decoder


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
        # The recorded copy is decoded (the caller still gets the raw bytes and decodes them
        # itself); bytes that do not decode end the recording as they end the caller's read.
        self._decoder = _decoder_for(headers)
        self._decode_error: ContentDecodingError | None = None
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
        if self._decoder is None:
            self._take(chunk)
        elif self._decode_error is None:  # past damaged bytes the caller got nothing more
            try:
                self._take(self._decoder.feed(chunk))
            except ContentDecodingError as exc:  # the caller's own decoder fails on this chunk too
                self._decode_error = exc

    def complete(self) -> None:
        self._finish(END_COMPLETE, None, whole=True)

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

    def _finish(self, end: EndState, error: dict[str, str] | None, whole: bool = False) -> None:
        with self._lock:
            if self.done:
                return
            self.done = True
        if self._decoder is not None and self._decode_error is None:
            try:
                self._take(self._decoder.flush())
            except ContentDecodingError as exc:  # a truncated gzip member: keep what decoded
                if whole and exc.client_raises:  # read to its end inside a zstd frame: httpx raises
                    self._decode_error = exc
        if self._decode_error is not None:  # the caller saw this error first, whatever came next
            end, error = END_ERROR, {"type": DECODING_ERROR, "message": self._decode_error.detail}
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
