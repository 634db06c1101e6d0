"""botocore interception: ``URLLib3Session.send`` patched on the class.

boto3 and botocore (Bedrock's ``converse_stream``, ``invoke_model_with_response_stream``,
and LangChain's ``ChatBedrockConverse`` on top of them) send through urllib3, not httpx.
Patching botocore's own HTTP send (after signing, before the network) hands each request
to the same session, engine, recorder and player as :mod:`.transport`; this module only
adapts botocore's request and the urllib3 response body it reads (``raw.stream()``).

A replayed body gives one read per recorded unit (an event-stream frame), so botocore's
own event-stream parser sees the recorded frames byte for byte.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..cassette.framing import SSE
from ..cassette.model import Request
from .engine import Inject, Record, Replay
from .faults import DISCONNECTED, Fault, FaultedDelivery
from .http import TRANSFER_RESPONSE_HEADERS, header_dict, parse_body
from .patching import Patch, imported
from .player import Player
from .recorder import StreamRecorder, stream_framing

if TYPE_CHECKING:
    from .session import Session

__all__ = ["patches", "to_request"]

#: The module whose import makes botocore patchable (it imports botocore.awsrequest itself).
WATCHED = "botocore.httpsession"



def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    read = getattr(body, "read", None)  # a file-like body: read it, then rewind for the real send
    if read is None:
        return b""
    start = body.tell() if hasattr(body, "tell") else None
    data = read()
    if start is not None and hasattr(body, "seek"):
        body.seek(start)
    return data if isinstance(data, bytes) else str(data).encode("utf-8")


def to_request(request: Any) -> Request:
    """Our model of a botocore ``AWSPreparedRequest``. The path stays as sent (the model id
    URL-encoded, ``us.amazon.nova-micro-v1%3A0``); ``host`` comes from the URL (urllib3
    adds the header itself), so detection and the recording key check see it."""
    url = urlsplit(request.url)
    items = [(str(k), v.decode("latin-1") if isinstance(v, bytes) else str(v)) for k, v in request.headers.items()]
    headers = header_dict(items)
    headers.setdefault("host", url.netloc)
    body, body_text = parse_body(_body_bytes(request.body))
    return Request(request.method.upper(), url.path, url.query, headers, body, body_text)


def _urllib3_errors() -> ModuleType:
    return importlib.import_module("urllib3.exceptions")


def _read_timeout(session_self: Any) -> float | None:
    timeout = getattr(session_self, "_timeout", None)
    read = getattr(timeout, "read_timeout", timeout)
    return float(read) if isinstance(read, (int, float)) else None


def _dropped(error: dict[str, str]) -> Exception:
    """A recorded mid-body failure as urllib3 raises it under botocore."""
    errors = _urllib3_errors()
    message = error.get("message") or DISCONNECTED["message"]
    return errors.ProtocolError(f"Connection broken: {message}", errors.IncompleteRead(0, 1))  # type: ignore[no-any-return]


class _Body:
    """What botocore reads of a urllib3 response: ``stream()`` (event streams, whole bodies)
    and ``read()`` (``StreamingBody``). Sub-classes give :meth:`_chunks`."""

    def __init__(self) -> None:
        self._leftover = b""
        self._iter: Iterator[bytes] | None = None
        self.closed = False

    def _chunks(self) -> Iterator[bytes]:
        raise NotImplementedError

    def stream(self, amt: int | None = 2 ** 16, decode_content: bool | None = None) -> Iterator[bytes]:
        if self._leftover:
            chunk, self._leftover = self._leftover, b""
            yield chunk
        if self._iter is None:
            self._iter = self._chunks()
        yield from self._iter

    def read(self, amt: int | None = None, decode_content: bool | None = None) -> bytes:
        out = bytearray()
        for chunk in self.stream():
            out += chunk
            if amt is not None and len(out) >= amt:
                break
        if amt is not None and len(out) > amt:
            self._leftover = bytes(out[amt:]) + self._leftover
            del out[amt:]
        return bytes(out)

    def release_conn(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


class _ReplayBody(_Body):
    """A recorded body as botocore reads it: one chunk per recorded unit, on the player's schedule."""

    def __init__(self, player: Player, read_timeout: float | None) -> None:
        super().__init__()
        self.player, self.read_timeout = player, read_timeout

    def _chunks(self) -> Iterator[bytes]:
        for wait, chunk in self.player:
            if wait:
                bounded = wait if self.read_timeout is None else min(wait, self.read_timeout)
                self.player.clock.sleep(bounded)
                if self.read_timeout is not None and wait > self.read_timeout:
                    raise _urllib3_errors().ReadTimeoutError(
                        None, "", f"Read timed out. (replayed gap {wait:.3f}s > read timeout {self.read_timeout}s)")
            yield chunk
        if self.player.error:
            raise _dropped(self.player.error)


class _RecordingBody(_Body):
    """The provider's urllib3 body, recorded as botocore reads it; under stream faults the
    client gets the recorded units as the faults shape them (the whole stream is recorded)."""

    def __init__(self, inner: Any, recorder: StreamRecorder, faults: tuple[Fault, ...]) -> None:
        super().__init__()
        self.inner, self.recorder = inner, recorder
        self.delivery = FaultedDelivery(faults, recorder.framing or SSE) if faults and recorder.stream else None

    def __getattr__(self, name: str) -> Any:  # status, headers, ... of the real response
        return getattr(self.inner, name)

    def _source(self) -> Iterator[bytes]:
        try:
            for chunk in self.inner.stream(2 ** 16, decode_content=False):
                self.recorder.feed(chunk)
                yield chunk
        except Exception as exc:
            self.recorder.fail(exc)
            raise
        self.recorder.complete()

    def _chunks(self) -> Iterator[bytes]:
        if self.delivery is None:
            yield from self._source()
            return
        source = self._source()
        more = True
        while more:
            more = next(source, None) is not None
            for step in self.delivery.steps(self.recorder.events):
                if step is None:
                    for _ in source:  # read the rest into the recording before the fault
                        pass
                    more = False
                elif isinstance(step, bytes):
                    yield step
                else:
                    self.recorder.clock.sleep(step)
            if self.delivery.cut:
                raise _dropped(DISCONNECTED)

    def close(self) -> None:
        super().close()
        self.recorder.close()
        self.inner.close()

    def release_conn(self) -> None:
        self.inner.release_conn()


def _response_headers(headers: dict[str, str], body: bytes | None) -> dict[str, str]:
    out = {k: v for k, v in headers.items() if k not in TRANSFER_RESPONSE_HEADERS}
    if body is not None:
        out["content-length"] = str(len(body))
    return out


def _patch(httpsession: ModuleType, awsrequest: ModuleType, resolve: Callable[[], Session | None]) -> list[Patch]:
    cls = httpsession.URLLib3Session
    original = cls.send

    def send(self: Any, request: Any) -> Any:
        session = resolve()
        if session is None:
            return original(self, request)
        req = to_request(request)
        planned = session.plan(req)
        if isinstance(planned, (Replay, Inject)):
            player = session.play(planned)
            recorded = player.response
            response = awsrequest.AWSResponse(request.url, recorded.status,
                                              _response_headers(recorded.headers, recorded.body),
                                              _ReplayBody(player, _read_timeout(self)))
        else:
            response = _record(self, request, req, session, planned, original, awsrequest)
        if not request.stream_output:
            response.content  # as botocore's own send: a whole body is read before it returns
        return response

    return [(cls, "send", send)]


def _record(self: Any, request: Any, req: Request, session: Session, planned: Record,
            original: Callable[[Any, Any], Any], awsrequest: ModuleType) -> Any:
    started = session.clock.now()
    wanted = request.stream_output
    request.stream_output = True  # the body is read through the recorder, not inside send
    try:
        real = original(self, request)
    finally:
        request.stream_output = wanted
    headers = {str(k).lower(): str(v) for k, v in real.headers.items()}
    recorder = StreamRecorder(real.status_code, headers, stream=stream_framing(headers) is not None,
                              started=started, on_done=lambda resp: session.on_recorded(req, resp),
                              clock=session.clock)
    session.track(recorder)
    return awsrequest.AWSResponse(request.url, real.status_code, real.headers,
                                  _RecordingBody(real.raw, recorder, planned.faults))


def patches(resolve: Callable[[], Session | None], httpsession: ModuleType | None = None) -> list[Patch]:
    """botocore's send, patched to ask ``resolve`` for the session; none while botocore is not
    imported (:mod:`.transport` has it patched on import, in one reference-counted set)."""
    httpsession = httpsession or imported(WATCHED, "URLLib3Session")
    awsrequest = imported("botocore.awsrequest", "AWSResponse")
    if httpsession is None or awsrequest is None:
        return []
    return _patch(httpsession, awsrequest, resolve)
