"""Wire-level interception: httpx and httpx2 transports, patched on the class.

Patching ``HTTPTransport.handle_request`` / ``AsyncHTTPTransport.handle_async_request``
(as pytest_httpx does) catches every client, including those LangChain builds deep
inside ``ChatOpenAI`` / ``ChatAnthropic``. Both packages are patched because the current
openai and anthropic SDKs use ``httpx2`` while other clients still use ``httpx``.

The logic lives in :mod:`.engine` (what to answer), :mod:`.player` (when), :mod:`.recorder`,
:mod:`.faults` (what a faulted recording hands on) and :mod:`.session`; this module only
adapts it to each package's sync and async stream classes.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any, NamedTuple

from ..cassette.framing import SSE
from ..cassette.model import Request
from ..cassette.model import Response as RecordedResponse
from . import botocore_send
from .engine import Inject, Record, Replay
from .faults import DISCONNECTED, Fault, FaultedDelivery
from .pacing import Clock
from .player import Player
from .http import TRANSFER_RESPONSE_HEADERS, header_dict, parse_body
from .patching import Patch, Patcher, imported
from .recorder import StreamRecorder, stream_framing

if TYPE_CHECKING:
    from .session import Session

PACKAGES = ("httpx", "httpx2")

_resolve_session: Callable[[], Session | None] = lambda: None


def imported_modules() -> list[ModuleType]:
    """The ones of ``PACKAGES`` imported now. Read from ``sys.modules`` on each install (a
    test harness may drop and re-import a package: the current module is the one to patch)."""
    return [mod for name in PACKAGES if (mod := imported(name, "AsyncHTTPTransport")) is not None]


def to_request(request: Any) -> Request:
    """Our model of an httpx(2) request whose body has been read."""
    body, body_text = parse_body(request.content)
    query = request.url.query
    return Request(
        method=request.method.upper(),
        path=request.url.path,
        query=query.decode("ascii", errors="replace") if isinstance(query, bytes) else str(query),
        headers=header_dict(request.headers.multi_items()),
        body=body,
        body_text=body_text,
    )


def _replay_headers(r: RecordedResponse) -> list[tuple[str, str | bytes]]:
    # A non-ASCII value (httpx read it as UTF-8 or Latin-1) goes back as UTF-8 bytes: httpx
    # encodes str values as ASCII, and reads these back to the same text.
    headers: list[tuple[str, str | bytes]] = [(k, v if v.isascii() else v.encode("utf-8"))
                                              for k, v in r.headers.items() if k not in TRANSFER_RESPONSE_HEADERS]
    if not r.is_stream:
        headers.append(("content-length", str(len(r.body or b""))))
    return headers


def _network_error(mod: ModuleType, error: dict[str, str]) -> Exception:
    """The exception a recorded mid-body failure raised, as this package's class."""
    cls = getattr(mod, error.get("type", ""), None)
    if not (isinstance(cls, type) and issubclass(cls, (mod.TransportError, mod.DecodingError))):
        cls = mod.RemoteProtocolError
    return cls(error.get("message") or "peer closed connection without sending complete message body")  # type: ignore[no-any-return]


def _bounded(wait: float, read_timeout: float | None) -> float:
    return wait if read_timeout is None else min(wait, read_timeout)


def _check_timeout(mod: ModuleType, wait: float, read_timeout: float | None) -> None:
    # A gap longer than the client's read timeout fails as it would on the network.
    if read_timeout is not None and wait > read_timeout:
        raise mod.ReadTimeout(f"The read operation timed out (replayed gap {wait:.3f}s > read timeout {read_timeout}s)")


def _read_timeout(request: Any) -> float | None:
    timeout = request.extensions.get("timeout") or {}
    value = timeout.get("read") if isinstance(timeout, dict) else None
    return float(value) if isinstance(value, (int, float)) else None


class _Faulted(NamedTuple):
    """What a faulted recording stream needs besides the provider's stream and the recorder."""

    delivery: FaultedDelivery
    clock: Clock
    read_timeout: float | None


class _FaultedRecording:
    """What the sync and async faulted recording streams share; they differ only in how
    they read and sleep. The provider's whole stream is recorded; the client gets it event
    by event as the faults shape it (:class:`.faults.FaultedDelivery`). At the first faulted
    event the rest is read into the recording (``_drain``), so the cassette is complete
    however the client's stream ends; a client closing before that point drains it too."""

    def __init__(self, mod: ModuleType, inner: Any, recorder: StreamRecorder, faulted: _Faulted) -> None:
        self.mod, self.inner, self.recorder, self.faulted = mod, inner, recorder, faulted
        self._chunks = aiter(inner) if hasattr(inner, "__aiter__") else iter(inner)
        self._failed: Exception | None = None  # the provider's own failure while draining

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Around one read of the provider's stream: a network error is recorded, then raised."""
        try:
            yield
        except Exception as exc:
            self.recorder.fail(exc)
            raise

    def received(self, chunk: bytes | None) -> Iterator[float | bytes | None]:
        """Take one read (``None``: the stream ended) and say what to do, as
        :meth:`.faults.FaultedDelivery.steps` does, with a float already bounded by the read
        timeout; the timeout, the dropped connection or the provider's own failure is raised
        from here when the stream resumes it."""
        if chunk is None:
            self.recorder.complete()
        else:
            self.recorder.feed(chunk)
        read_timeout = self.faulted.read_timeout
        for step in self.faulted.delivery.steps(self.recorder.events):
            if isinstance(step, float):
                yield _bounded(step, read_timeout)
                _check_timeout(self.mod, step, read_timeout)
            else:
                yield step
        if self.faulted.delivery.cut:
            raise _network_error(self.mod, DISCONNECTED)
        if chunk is None and self._failed is not None:
            raise self._failed

    def failed(self, exc: Exception) -> None:
        """The provider's stream failed while draining: recorded, and raised at its end."""
        self._failed = exc
        self.recorder.fail(exc)


class Streams(NamedTuple):
    """One package's stream classes (each subclasses that package's own byte stream bases)."""

    replay: type
    async_replay: type
    recording: type
    async_recording: type
    faulted: type  # recording under stream faults
    async_faulted: type


@cache
def _streams(mod: ModuleType) -> Streams:
    """Stream classes subclassing this package's own bases (httpx checks isinstance)."""

    class ReplayStream(mod.SyncByteStream):  # type: ignore[name-defined,misc]
        def __init__(self, player: Player, read_timeout: float | None) -> None:
            self.player, self.read_timeout = player, read_timeout

        def __iter__(self) -> Iterator[bytes]:
            for wait, chunk in self.player:
                if wait:
                    self.player.clock.sleep(_bounded(wait, self.read_timeout))
                    _check_timeout(mod, wait, self.read_timeout)
                yield chunk
            if self.player.error:
                raise _network_error(mod, self.player.error)

    class AsyncReplayStream(mod.AsyncByteStream):  # type: ignore[name-defined,misc]
        def __init__(self, player: Player, read_timeout: float | None) -> None:
            self.player, self.read_timeout = player, read_timeout

        async def __aiter__(self) -> AsyncIterator[bytes]:
            for wait, chunk in self.player:
                if wait:
                    await self.player.clock.asleep(_bounded(wait, self.read_timeout))
                    _check_timeout(mod, wait, self.read_timeout)
                yield chunk
            if self.player.error:
                raise _network_error(mod, self.player.error)

    class RecordingStream(mod.SyncByteStream):  # type: ignore[name-defined,misc]
        def __init__(self, inner: Any, recorder: StreamRecorder) -> None:
            self.inner, self.recorder = inner, recorder

        def __iter__(self) -> Iterator[bytes]:
            try:
                for chunk in self.inner:
                    self.recorder.feed(chunk)  # microseconds: the caller is not held up
                    yield chunk
            except Exception as exc:
                self.recorder.fail(exc)
                raise
            self.recorder.complete()

        def close(self) -> None:
            self.recorder.close()
            self.inner.close()

    class AsyncRecordingStream(mod.AsyncByteStream):  # type: ignore[name-defined,misc]
        def __init__(self, inner: Any, recorder: StreamRecorder) -> None:
            self.inner, self.recorder = inner, recorder

        async def __aiter__(self) -> AsyncIterator[bytes]:
            try:
                async for chunk in self.inner:
                    self.recorder.feed(chunk)
                    yield chunk
            except Exception as exc:
                self.recorder.fail(exc)
                raise
            self.recorder.complete()

        async def aclose(self) -> None:
            self.recorder.close()
            await self.inner.aclose()

    class FaultedRecordingStream(_FaultedRecording, mod.SyncByteStream):  # type: ignore[name-defined,misc]
        def __iter__(self) -> Iterator[bytes]:
            while True:
                with self.reading():
                    chunk = next(self._chunks, None)
                for step in self.received(chunk):
                    if step is None:
                        self._drain()
                    elif isinstance(step, bytes):
                        yield step
                    else:
                        self.faulted.clock.sleep(step)
                if chunk is None:
                    return

        def _drain(self) -> None:
            try:
                for chunk in self._chunks:
                    self.recorder.feed(chunk)
            except Exception as exc:
                self.failed(exc)
            self.recorder.complete()

        def close(self) -> None:
            if not self.recorder.done:
                self._drain()
            self.inner.close()

    class AsyncFaultedRecordingStream(_FaultedRecording, mod.AsyncByteStream):  # type: ignore[name-defined,misc]
        async def __aiter__(self) -> AsyncIterator[bytes]:
            while True:
                with self.reading():
                    chunk = await anext(self._chunks, None)
                for step in self.received(chunk):
                    if step is None:
                        await self._drain()
                    elif isinstance(step, bytes):
                        yield step
                    else:
                        await self.faulted.clock.asleep(step)
                if chunk is None:
                    return

        async def _drain(self) -> None:
            try:
                async for chunk in self._chunks:
                    self.recorder.feed(chunk)
            except Exception as exc:
                self.failed(exc)
            self.recorder.complete()

        async def aclose(self) -> None:
            if not self.recorder.done:
                await self._drain()
            await self.inner.aclose()

    return Streams(ReplayStream, AsyncReplayStream, RecordingStream, AsyncRecordingStream,
                   FaultedRecordingStream, AsyncFaultedRecordingStream)


def _replay_response(mod: ModuleType, request: Any, session: Session, planned: Replay | Inject,
                     is_async: bool) -> Any:
    """The planned response as this package's, its body played by the session's player."""
    player = session.play(planned)
    response = player.response
    streams = _streams(mod)
    stream_cls = streams.async_replay if is_async else streams.replay
    return mod.Response(
        status_code=response.status,
        headers=_replay_headers(response),
        stream=stream_cls(player, _read_timeout(request)),
        request=request,
        extensions={"http_version": b"HTTP/1.1"},
    )


def _recording_response(mod: ModuleType, request: Any, response: Any, session: Session, req: Request,
                        started: float, is_async: bool, faults: tuple[Fault, ...] = ()) -> Any:
    headers = {k.lower(): v for k, v in response.headers.items()}
    is_stream = stream_framing(headers) is not None
    recorder = StreamRecorder(
        response.status_code, headers, stream=is_stream, started=started,
        on_done=lambda resp: session.on_recorded(req, resp), clock=session.clock,
    )
    session.track(recorder)
    streams = _streams(mod)
    if faults and is_stream:
        # The client gets the events as the recorder decodes and frames them: the provider's
        # content-encoding and framing headers no longer describe that body.
        faulted = _Faulted(FaultedDelivery(faults, recorder.framing or SSE), session.clock, _read_timeout(request))
        stream: Any = (streams.async_faulted if is_async else streams.faulted)(mod, response.stream, recorder, faulted)
        client_headers: Any = list(recorder.headers.items())
    else:
        stream = (streams.async_recording if is_async else streams.recording)(response.stream, recorder)
        client_headers = response.headers
    return mod.Response(
        status_code=response.status_code,
        headers=client_headers,
        stream=stream,
        request=request,
        extensions=response.extensions,
    )


def _patch_module(mod: ModuleType) -> list[Patch]:
    sync_cls, async_cls = mod.HTTPTransport, mod.AsyncHTTPTransport
    orig_sync = sync_cls.handle_request
    orig_async = async_cls.handle_async_request

    def handle_request(self: Any, request: Any) -> Any:
        session = _resolve_session()
        if session is None:
            return orig_sync(self, request)
        request.read()
        req = to_request(request)
        planned = session.plan(req)
        if not isinstance(planned, Record):
            return _replay_response(mod, request, session, planned, is_async=False)
        started = session.clock.now()
        response = orig_sync(self, request)
        return _recording_response(mod, request, response, session, req, started, False, planned.faults)

    async def handle_async_request(self: Any, request: Any) -> Any:
        session = _resolve_session()
        if session is None:
            return await orig_async(self, request)
        await request.aread()
        req = to_request(request)
        planned = session.plan(req)
        if not isinstance(planned, Record):
            return _replay_response(mod, request, session, planned, is_async=True)
        started = session.clock.now()
        response = await orig_async(self, request)
        return _recording_response(mod, request, response, session, req, started, True, planned.faults)

    return [(sync_cls, "handle_request", handle_request), (async_cls, "handle_async_request", handle_async_request)]


def _imported_patches() -> list[Patch]:
    """The patches of the packages imported now; the others are patched if imported later
    (see :mod:`.patching`): an install never imports one."""
    patches = [patch for mod in imported_modules() for patch in _patch_module(mod)]
    return patches + botocore_send.patches(lambda: _resolve_session())  # boto3 sends through urllib3


_patcher = Patcher(_imported_patches, on_import={
    **dict.fromkeys(PACKAGES, _patch_module),
    botocore_send.WATCHED: lambda mod: botocore_send.patches(lambda: _resolve_session(), mod)})


def install(resolve: Callable[[], Session | None]) -> None:
    """Patch the transports (reference counted: nested cassettes patch once)."""
    global _resolve_session
    _resolve_session = resolve
    _patcher.acquire()


def uninstall() -> None:
    _patcher.release()


def is_installed() -> bool:
    return _patcher.active
