"""A loopback HTTP server that speaks the providers' wire formats.

Record-mode tests point the real SDKs at it (``base_url``), and ``replaystream serve``
serves cassettes through it. Streams go out with ``Transfer-Encoding: chunked``, one
socket write per event (Nagle off), so each event really leaves when it is sent; scripted
faults (gaps, dropped connections, re-cut writes, gzip, hold-back) exercise a recorder
the way a real network would.

>>> from replaystream.emulator import ProviderEmulator, ScriptedResponse, openai_chat_stream
>>> with ProviderEmulator() as emu:
...     emu.enqueue(ScriptedResponse(events=openai_chat_stream(["Hi"])))
...     emu.base_url.startswith("http://127.0.0.1:")
True
"""

from __future__ import annotations

import json
import socket
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import accumulate
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from ..cassette.model import Cassette, Request
from ..wire.faults import Fault
from ..wire.http import header_dict, parse_body
from ..wire.matching import MatchConfig
from ..wire.pacing import REAL_CLOCK, Clock, schedule
from .scripts import Pacing, ScriptedResponse, cut_writes, plan_writes
from .serving import CassetteServing

__all__ = ["ProviderEmulator", "ReceivedRequest"]


@dataclass
class ReceivedRequest:
    """A request as the emulator received it (header names lower-cased)."""

    method: str
    path: str
    query: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)

    def as_request(self) -> Request:
        """replaystream's request model, for matching against a cassette."""
        return Request(self.method.upper(), self.path, self.query, dict(self.headers), *parse_body(self.body))


class _Aborted(Exception):
    """The script says to drop the connection here."""


class ProviderEmulator:
    """A real HTTP/1.1 server on 127.0.0.1 serving queued :class:`ScriptedResponse` s.

    >>> with ProviderEmulator(hold_back_timeout=0.5) as emu:
    ...     emu.enqueue(ScriptedResponse(body=b"{}"), path="/v1/models")
    ...     emu.port > 0
    True
    """

    def __init__(self, *, hold_back_timeout: float = 5.0, port: int = 0, clock: Clock = REAL_CLOCK) -> None:
        self.hold_back_timeout = hold_back_timeout
        self.clock = clock  # every wait between writes, and the hold-back deadline, reads it
        self._want_port = port  # 0: any free port
        self._lock = threading.Condition()
        self._queue: list[tuple[str | None, ScriptedResponse]] = []
        self._serving: CassetteServing | None = None
        self._requests: list[ReceivedRequest] = []
        self._acks = 0
        self._holdback_timeouts = 0
        self._connections: set[socket.socket] = set()
        self._stopping = False
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> ProviderEmulator:
        """Bind 127.0.0.1 (a free port unless one was given) and serve in a daemon thread."""
        if self._server is not None:
            return self
        self._stopping = False
        server = _Server(("127.0.0.1", self._want_port), _Handler)
        server.emulator = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"replaystream-emulator-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; open connections (keep-alive or held back) are closed."""
        server = self._server
        if server is None:
            return
        with self._lock:
            self._stopping = True
            self._lock.notify_all()  # wake held-back streams so they abort
            connections = list(self._connections)
        for conn in connections:
            _shutdown(conn)
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def wait(self, timeout: float | None = None) -> None:
        """Block until the server stops (``replaystream serve`` runs until Ctrl-C)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def __enter__(self) -> ProviderEmulator:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not running; call start() or use it as a context manager")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (OpenAI clients want ``base_url + "/v1"``)."""
        return f"http://127.0.0.1:{self.port}"

    # -- scripting ----------------------------------------------------------------------------
    def enqueue(self, response: ScriptedResponse, path: str | None = None) -> None:
        """Queue a response; served first in, first out, only to ``path`` when given."""
        with self._lock:
            self._queue.append((path, response))

    def serve_cassette(self, cassette: Cassette, pacing: Pacing = "instant",
                       match: MatchConfig | None = None, faults: Sequence[Fault | str] = (), *,
                       allow_repeats: bool = False, log: Callable[[str], None] | None = None) -> None:
        """Answer requests from ``cassette`` with the replay engine sessions use: matched as
        replay matches them (method, path, query, JSON body; identical requests in recorded
        order), ``faults`` injected as in replay (see :mod:`replaystream.faults`).

        A request with no recording gets a 500 error naming the closest recorded request and
        the difference; one sent more often than recorded, a 500 saying it was already
        replayed, unless ``allow_repeats`` answers it with its last recording again.
        ``log`` gets one line per request: method, target and what answered it.
        """
        serving = CassetteServing(cassette, pacing, match, faults, allow_repeats=allow_repeats, log=log)
        with self._lock:
            self._serving = serving

    def ack(self, n: int = 1) -> None:
        """Tell a held-back stream that the client received ``n`` more events.

        Acks are counted from the moment the stream starts (earlier ones do not carry over),
        and one held-back stream at a time is assumed.
        """
        with self._lock:
            self._acks += n
            self._lock.notify_all()

    @property
    def requests(self) -> list[ReceivedRequest]:
        """Every request received so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def pending(self) -> int:
        """How many queued responses have not been served yet."""
        with self._lock:
            return len(self._queue)

    @property
    def holdback_timeouts(self) -> int:
        """How many held-back streams were cut because no ack came in time."""
        with self._lock:
            return self._holdback_timeouts

    # -- used by the handler threads ----------------------------------------------------------
    def _take(self, request: ReceivedRequest) -> ScriptedResponse | None:
        with self._lock:
            self._requests.append(request)
            if self._serving is None:
                return self._from_queue(request)
            return self._serving.answer(request.as_request(), lambda: self._from_queue(request))

    def _from_queue(self, request: ReceivedRequest) -> ScriptedResponse | None:
        for n, (path, response) in enumerate(self._queue):
            if path is None or path == request.path:
                del self._queue[n]
                return response
        return None

    def _queued_paths(self) -> list[str]:
        with self._lock:
            return [path or "*" for path, _ in self._queue]

    def _ack_mark(self) -> int:
        with self._lock:
            return self._acks

    def _wait_acks(self, target: int) -> bool:
        """Wait until ``target`` acks were counted; False (and a timeout counted) if not in time."""
        deadline = self.clock.now() + self.hold_back_timeout
        with self._lock:
            while self._acks < target and not self._stopping:
                left = deadline - self.clock.now()
                if left <= 0:
                    self._holdback_timeouts += 1
                    return False
                self._lock.wait(left)
            return not self._stopping

    def _track(self, conn: socket.socket, alive: bool) -> None:
        with self._lock:
            (self._connections.add if alive else self._connections.discard)(conn)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 resets bursts of concurrent connects
    emulator: ProviderEmulator

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up mid-stream is routine here, not worth a traceback


def _shutdown(conn: socket.socket) -> None:
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked transfer, as the providers use
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Without TCP_NODELAY, Nagle would hold a small event back until the previous one is acked.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.emulator._track(self.connection, True)

    def finish(self) -> None:
        self.server.emulator._track(self.connection, False)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass  # requests are logged on the emulator, not on stderr

    def _handle(self) -> None:
        emu = self.server.emulator
        url = urlsplit(self.path)
        request = ReceivedRequest(self.command, url.path, url.query, header_dict(self.headers.items()),
                                  self._read_body())
        response = emu._take(request)
        if response is None:
            message = (f"replaystream emulator: no response queued for {request.method} {request.path} "
                       f"(still queued for: {', '.join(emu._queued_paths()) or 'nothing'}); "
                       "call emulator.enqueue(...) before the request")
            response = ScriptedResponse(500, {"content-type": "application/json"}, body=json.dumps(
                {"error": {"message": message, "type": "replaystream_emulator_error"}}).encode())
        try:
            self._send(response)
        except (_Aborted, OSError):
            self.close_connection = True
            _shutdown(self.connection)  # FIN mid-body: the client sees an incomplete chunked read

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(parts)
        return self.rfile.read(int(self.headers.get("content-length") or 0))

    def _send(self, resp: ScriptedResponse) -> None:
        self.send_response(resp.status)
        headers = {k.lower(): v for k, v in resp.headers.items()}
        is_stream = resp.events is not None
        headers.setdefault("content-type", "text/event-stream; charset=utf-8" if is_stream else "application/json")
        if resp.gzip:
            headers["content-encoding"] = "gzip"
        # A script asking for deflate gets raw deflate (no zlib header), as some servers send it.
        wbits = 31 if resp.gzip else -zlib.MAX_WBITS if headers.get("content-encoding") == "deflate" else None
        # Framing headers are ours to set: a script's (or a recording's) would contradict them.
        headers.pop("content-length", None)
        headers.pop("transfer-encoding", None)
        if is_stream:
            headers["transfer-encoding"] = "chunked"
            headers.setdefault("cache-control", "no-cache")
            body = b""
        else:
            body = zlib.compress(resp.body or b"", wbits=wbits) if wbits else resp.body or b""
            headers["content-length"] = str(len(body))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if not is_stream:
            self.server.emulator.clock.sleep(resp.gap_before(0))
            if resp.close_after is not None:
                self.wfile.write(body[:resp.close_after])
                raise _Aborted
            self.wfile.write(body)
            return
        compressor = zlib.compressobj(wbits=wbits) if wbits else None
        for data in self._stream_writes(resp):
            if compressor is not None:
                # A sync flush per write keeps the compressor from holding events back.
                data = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
            self._chunk(data)
        if resp.close_after is not None:
            raise _Aborted
        if compressor is not None:
            self._chunk(compressor.flush())
        self.wfile.write(b"0\r\n\r\n")

    def _chunk(self, data: bytes) -> None:
        if data:  # an empty chunk would end the body
            self.wfile.write(b"%X\r\n%s\r\n" % (len(data), data))  # one write: one segment

    def _stream_writes(self, resp: ScriptedResponse) -> Iterator[bytes]:
        """The stream's writes, in order, each after its wait (and, held back, its ack)."""
        emu = self.server.emulator
        if not resp.hold_back:
            writes = plan_writes(resp)
            # The planned gaps as offsets from the first write, kept to by the one schedule.
            offsets = list(accumulate(wait * 1000.0 for wait, _ in writes))
            for wait, (_, data) in zip(schedule(offsets, "recorded", emu.clock), writes):
                emu.clock.sleep(wait)
                yield data
            return
        mark = emu._ack_mark()
        for n, event in enumerate(list(resp.events or [])[:resp.close_after]):
            if n and not emu._wait_acks(mark + n):
                raise _Aborted
            emu.clock.sleep(resp.gap_before(n))  # after the ack: a gap, not a due time
            yield from cut_writes(event, resp.write_sizes)  # cut inside the event only: acks count events
