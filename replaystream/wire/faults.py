"""Deterministic faults: the same declaration fails the same way at the same event, on
replay and while recording.

>>> Fault.parse("disconnect:after=5")
Fault(kind='disconnect', at=5, status=0, retry_after=None, seconds=0.0, times=1, request=0)

Positions count events from 0, and every ``at=K`` names event ``K``:

- ``disconnect:after=K`` (the same as ``disconnect:at=K``): the client gets exactly ``K``
  events (events 0 to K-1; ``after=0``: none), then the connection drops before event
  ``K`` with the exception a dropped connection raises (``httpx2.RemoteProtocolError``,
  which the openai and anthropic SDKs wrap as ``APIConnectionError``; urllib3's
  ``ProtocolError`` under botocore). A stream with ``K`` events or fewer is not cut.

An "event" is a stream's unit in its framing: an SSE event, an NDJSON line, or an AWS
event-stream frame.
- ``malformed:at=K``: event ``K`` (the K+1-th) arrives damaged: an SSE event or NDJSON
  line with its JSON cut in half (its ``event:`` line kept), an AWS event-stream frame with
  a wrong CRC (botocore raises its own ``ChecksumMismatch``).
- ``delay:at=K:seconds=S``: a pause of ``S`` seconds before event ``K``; longer than the
  client's read timeout, it raises the client's ``ReadTimeout``.
- ``status:CODE``: an HTTP error (429 with ``Retry-After``, 500, 529, ...) shaped like the
  provider's own, *instead of* the response, ``times`` times; the retry gets the response.

``request=N`` picks the answered request the fault applies to (0 = the first): requests
are numbered by the responses handed out, replayed or recorded, so the injected errors of
a ``status`` fault do not count. A ``status`` fault answers any request to a provider's
API (recorded or not) before the cassette is consulted.

Faults never change the cassette. While recording, the fault shapes what the *client*
sees and the full response is recorded: at the first faulted event the transport reads
the provider's stream to its end, so the recording is complete whether the client then
meets a dropped connection, a malformed event or a read timeout; a ``status`` fault never
reaches the provider (the injected error answers, the retry goes upstream). So a fault
test records its own cassette and fails the same way in every mode.

A fault that stops the code under test also stops the requests it would have sent next:
in replay, recorded interactions from the first request a fault changed on may go unused
without failing the pytest teardown check (:meth:`FaultPlan.explains_unused`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from ..cassette.framing import SSE, Framing, by_name
from ..cassette.model import END_ERROR, Event, Interaction, Request, Response
from ..errors import ReplayStreamError

FaultKind = Literal["disconnect", "status", "malformed", "delay"]
KINDS: tuple[FaultKind, ...] = get_args(FaultKind)

#: The error a ``disconnect`` fault ends a stream with (as a recorded mid-body failure).
DISCONNECTED = {"type": "RemoteProtocolError",
                "message": "peer closed connection without sending complete message body (incomplete chunked read)"}


def malform(raw: bytes, framing: Framing = SSE) -> bytes:
    """The same unit damaged the way a corrupt stream is: an SSE event or NDJSON line with its
    JSON cut in half (field names and framing kept, so the SDK fails to parse it rather than
    skipping it), an event-stream frame with a wrong CRC (the client's own checksum error)."""
    return framing.malform(raw)


class FaultSpecError(ReplayStreamError):
    """A fault declaration that cannot be understood."""


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    at: int = 0
    status: int = 0
    retry_after: float | None = None
    seconds: float = 0.0
    times: int = 1
    request: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise FaultSpecError(f"unknown fault kind {self.kind!r}: use one of {', '.join(KINDS)}")
        if self.kind == "status" and not 400 <= self.status <= 599:
            raise FaultSpecError(f"a status fault needs an error status (400-599), got {self.status}")
        if self.at < 0 or self.times < 1 or self.request < 0 or self.seconds < 0:
            raise FaultSpecError(f"fault {self} has a negative position, count or delay")

    @classmethod
    def parse(cls, spec: str) -> Fault:
        """``kind[:N][:key=value...]``, e.g. ``status:429:retry_after=0.1``, ``delay:at=3:seconds=2``."""
        kind, *parts = spec.split(":")
        fields: dict[str, float | int] = {}
        for part in parts:
            key, eq, value = part.partition("=")
            if not eq:
                key, value = ("status" if kind == "status" else "at"), key
            if key not in ("at", "after", "status", "retry_after", "seconds", "times", "request"):
                raise FaultSpecError(f"fault {spec!r}: unknown field {key!r}")
            try:
                number = float(value) if key in ("retry_after", "seconds") else int(value)
            except ValueError:
                raise FaultSpecError(f"fault {spec!r}: {key}={value!r} is not a number") from None
            fields["at" if key == "after" else key] = number
        return cls(kind, **fields)  # type: ignore[arg-type]

    @classmethod
    def coerce(cls, value: Fault | str | dict[str, object]) -> Fault:
        if isinstance(value, Fault):
            return value
        if isinstance(value, str):
            return cls.parse(value)
        return cls(**value)  # type: ignore[arg-type]


def disconnect_after(k: int, *, request: int = 0) -> Fault:
    """The client gets exactly ``k`` events (``k=0``: none), then the connection drops."""
    return Fault("disconnect", at=k, request=request)


def http_error(status: int, *, retry_after: float | None = None, times: int = 1, request: int = 0) -> Fault:
    """Answer ``times`` attempts with ``status`` before the response."""
    return Fault("status", status=status, retry_after=retry_after, times=times, request=request)


def malformed_event(k: int, *, request: int = 0) -> Fault:
    """Event ``k`` (counting from 0) arrives with its JSON cut in half."""
    return Fault("malformed", at=k, request=request)


def delay_before(k: int, seconds: float, *, request: int = 0) -> Fault:
    """A pause of ``seconds`` before event ``k`` (counting from 0)."""
    return Fault("delay", at=k, seconds=seconds, request=request)


_AWS_ERRORS = {429: "ThrottlingException", 503: "ServiceUnavailableException", 500: "InternalServerException",
               403: "AccessDeniedException", 404: "ResourceNotFoundException"}


def error_interaction(fault: Fault, request: Request, provider: str) -> Interaction:
    """An error response shaped like the provider's own, for a ``status`` fault."""
    names = {429: "rate_limit_error", 500: "api_error", 503: "overloaded_error", 529: "overloaded_error"}
    kind = names.get(fault.status, "invalid_request_error" if fault.status < 500 else "api_error")
    message = f"injected by replaystream: HTTP {fault.status}"
    headers = {"content-type": "application/json"}
    if provider == "anthropic":
        body: object = {"type": "error", "error": {"type": kind, "message": message}}
    elif provider == "google":
        status = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED",
                  500: "INTERNAL", 503: "UNAVAILABLE"}.get(fault.status, "UNKNOWN")
        body = {"error": {"code": fault.status, "message": message, "status": status}}
    elif provider == "ollama":
        body = {"error": message}
    elif provider == "bedrock":  # AWS JSON errors: the type in a header, botocore raises it by name
        body = {"message": message}
        headers["x-amzn-errortype"] = _AWS_ERRORS.get(fault.status, "ValidationException" if fault.status < 500
                                                      else "InternalServerException")
    else:
        body = {"error": {"message": message, "type": kind, "param": None, "code": kind}}
    if fault.retry_after is not None:
        headers["retry-after"] = f"{fault.retry_after:g}"
        headers["retry-after-ms"] = f"{fault.retry_after * 1000:g}"
    return Interaction(request, Response(fault.status, headers, body=json.dumps(body).encode()), provider,
                       note="injected fault")


class StreamFaults:
    """The stream faults of one response, decided event by event: the one rule replay
    (:func:`apply_stream_faults`) and recording (:class:`FaultedDelivery`) share."""

    def __init__(self, faults: Sequence[Fault], framing: Framing = SSE) -> None:
        self.framing = framing
        cuts = [f.at for f in faults if f.kind == "disconnect"]
        self.cut = min(cuts) if cuts else None  # events before the drop
        self.malformed = frozenset(f.at for f in faults if f.kind == "malformed")
        self.delays: dict[int, float] = {}  # extra seconds before event n
        for f in faults:
            if f.kind == "delay":
                self.delays[f.at] = self.delays.get(f.at, 0.0) + f.seconds

    def raw(self, n: int, raw: bytes) -> bytes:
        """Event ``n`` as the client gets it."""
        return self.framing.malform(raw) if n in self.malformed else raw

    def hits(self, n: int) -> bool:
        """Whether event ``n`` is faulted (malformed, delayed, or at or past the drop)."""
        return n in self.malformed or n in self.delays or (self.cut is not None and n >= self.cut)

    def cuts(self, length: int) -> bool:
        """Whether a stream of ``length`` events is cut short."""
        return self.cut is not None and self.cut < length

    def touches(self, length: int) -> bool:
        """Whether any of these faults changes a stream of ``length`` events."""
        return self.cuts(length) or any(n < length for n in (*self.malformed, *self.delays))


def apply_stream_faults(response: Response, faults: Sequence[Fault]) -> tuple[Response, dict[int, float]]:
    """The response as replayed under ``faults`` (a copy), and delays before given events."""
    if response.events is None:
        return response, {}
    shape = StreamFaults(faults, by_name(response.framing))
    events = response.events
    end, error = response.end, response.error
    if shape.cuts(len(events)):
        events = events[:shape.cut]
        end, error = END_ERROR, dict(DISCONNECTED)
    events = [Event(shape.raw(n, e.raw), e.ms) if n in shape.malformed else e for n, e in enumerate(events)]
    return Response(response.status, response.headers, events, response.body, response.body_ms, end, error,
                    response.framing), dict(shape.delays)


class FaultedDelivery:
    """Sans-I/O: what the client gets of a stream being *recorded* under stream faults.

    The transport frames the provider's bytes into events (the recorder does) and asks
    :meth:`steps` what to do with the events framed so far: ``None`` means "read the rest
    of the provider's stream into the recording now" (asked once, before the first faulted
    event, so the cassette is complete whatever the client does after the fault), a float
    is a pause in seconds, bytes are handed to the client. Once :attr:`cut` is set the
    client gets nothing more: the transport raises the dropped connection.
    """

    def __init__(self, faults: Sequence[Fault], framing: Framing = SSE) -> None:
        self.shape = StreamFaults(faults, framing)
        self.position = 0  # events handed to the client
        self.cut = False
        self.drained = False

    def steps(self, events: Sequence[Event]) -> Iterator[float | bytes | None]:
        while not self.cut and self.position < len(events):
            n = self.position
            if not self.drained and self.shape.hits(n):
                self.drained = True
                yield None
                continue
            if self.shape.cut is not None and n >= self.shape.cut:
                self.cut = True
                return
            wait = self.shape.delays.get(n, 0.0)
            if wait:
                yield wait
            self.position = n + 1
            yield self.shape.raw(n, events[n].raw)


class FaultPlan:
    """Which fault hits which answered request: shared by sessions (replay and record) and ``serve``.

    Requests are numbered by the responses handed out so far (replayed or recorded), so a
    ``status`` fault answers ``times`` attempts *before* response ``request`` and the retry
    then gets the response. :attr:`fired` is the number of the first request a fault
    changed: the teardown check forgives unused interactions from there on
    (:meth:`explains_unused`).
    """

    def __init__(self, faults: Sequence[Fault | str | dict[str, object]] = ()) -> None:
        self.faults = [Fault.coerce(f) for f in faults]
        self._status_left = {n: f.times for n, f in enumerate(self.faults) if f.kind == "status"}
        self.answered = 0
        self.fired: int | None = None
        self._lock = threading.Lock()

    def intercept(self, request: Request, provider: str) -> Response | None:
        """An injected error response for this attempt, or ``None`` to go on to the response."""
        with self._lock:
            for n, left in self._status_left.items():
                if left and self.faults[n].request == self.answered:
                    self._status_left[n] = left - 1
                    self._fire(self.answered)
                    return error_interaction(self.faults[n], request, provider).response
        return None

    def shape(self, response: Response) -> tuple[Response, dict[int, float]]:
        """The next recorded response as replayed under its faults, and delays before events."""
        number, faults = self._next()
        if not faults:
            return response, {}
        if response.events is not None and StreamFaults(faults).touches(len(response.events)):
            with self._lock:
                self._fire(number)
        return apply_stream_faults(response, faults)

    def recording(self) -> tuple[Fault, ...]:
        """The stream faults of the next response, about to be recorded (its length is not known
        yet: the faults count as fired)."""
        number, faults = self._next()
        if faults:
            with self._lock:
                self._fire(number)
        return tuple(faults)

    def explains_unused(self, position: int) -> bool:
        """Whether an unused recorded interaction at ``position`` (cassette order) is explained by
        a fault: the requests after a fault that stopped the code under test are never sent, so
        every interaction from the first faulted request on may go unused."""
        return self.fired is not None and position >= self.fired

    def _next(self) -> tuple[int, list[Fault]]:
        with self._lock:
            number = self.answered
            self.answered += 1
        return number, [f for f in self.faults if f.request == number and f.kind != "status"]

    def _fire(self, number: int) -> None:  # under the lock
        if self.fired is None or number < self.fired:
            self.fired = number
