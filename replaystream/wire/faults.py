"""Deterministic faults on replay: the same declaration fails the same way at the same event.

>>> Fault.parse("disconnect:after=5")
Fault(kind='disconnect', at=5, status=0, retry_after=None, seconds=0.0, times=1, request=0)

Kinds:
- ``disconnect``: the connection drops after event ``at`` (the client sees the exception a
  dropped connection raises: ``httpx2.RemoteProtocolError``).
- ``status``: an HTTP error (429 with ``Retry-After``, 500, 529, ...) *instead of* the
  recorded response, ``times`` times; the recorded stream answers the retry.
- ``malformed``: event ``at`` arrives with its JSON cut in half (its ``event:`` line kept).
- ``delay``: a pause of ``seconds`` before event ``at`` (for timeout tests).

``request`` picks which replayed request (0 = the first) the fault applies to; faults
never change the cassette.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from ..cassette.model import Event, Interaction, Request, Response
from ..errors import ReplayStreamError

FaultKind = Literal["disconnect", "status", "malformed", "delay"]
KINDS: tuple[FaultKind, ...] = get_args(FaultKind)


def malform(raw: bytes) -> bytes:
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
    """The connection drops right after event ``k`` (counting from 0) reached the client."""
    return Fault("disconnect", at=k, request=request)


def http_error(status: int, *, retry_after: float | None = None, times: int = 1, request: int = 0) -> Fault:
    """Answer ``times`` attempts with ``status`` before the recorded response."""
    return Fault("status", status=status, retry_after=retry_after, times=times, request=request)


def malformed_event(k: int, *, request: int = 0) -> Fault:
    return Fault("malformed", at=k, request=request)


def delay_before(k: int, seconds: float, *, request: int = 0) -> Fault:
    return Fault("delay", at=k, seconds=seconds, request=request)


def error_interaction(fault: Fault, request: Request, provider: str) -> Interaction:
    """An error response shaped like the provider's own, for a ``status`` fault."""
    names = {429: "rate_limit_error", 500: "api_error", 503: "overloaded_error", 529: "overloaded_error"}
    kind = names.get(fault.status, "invalid_request_error" if fault.status < 500 else "api_error")
    message = f"injected by replaystream: HTTP {fault.status}"
    if provider == "anthropic":
        body = {"type": "error", "error": {"type": kind, "message": message}}
    else:
        body = {"error": {"message": message, "type": kind, "param": None, "code": kind}}
    headers = {"content-type": "application/json"}
    if fault.retry_after is not None:
        headers["retry-after"] = f"{fault.retry_after:g}"
        headers["retry-after-ms"] = f"{fault.retry_after * 1000:g}"
    return Interaction(request, Response(fault.status, headers, body=json.dumps(body).encode()), provider,
                       note="injected fault")


def apply_stream_faults(response: Response, faults: list[Fault]) -> tuple[Response, dict[int, float]]:
    """The response as replayed under ``faults`` (a copy), and delays before given events."""
    if response.events is None:
        return response, {}
    events = list(response.events)
    delays: dict[int, float] = {}
    end, error = response.end, response.error
    for fault in faults:
        if fault.kind == "malformed" and fault.at < len(events):
            events[fault.at] = Event(malform(events[fault.at].raw), events[fault.at].ms)
        elif fault.kind == "delay":
            delays[fault.at] = delays.get(fault.at, 0.0) + fault.seconds
        elif fault.kind == "disconnect" and fault.at + 1 < len(events):
            events = events[: fault.at + 1]
            end = "error"
            error = {"type": "RemoteProtocolError",
                     "message": "peer closed connection without sending complete message body (incomplete chunked read)"}
    return Response(response.status, response.headers, events, response.body, response.body_ms, end, error), delays


class FaultPlan:
    """Which fault hits which replayed request: shared by replay sessions and ``serve``.

    Requests are numbered by the recorded responses handed out so far, so a ``status``
    fault answers ``times`` attempts *before* recorded response ``request`` and the
    retry then gets the recording.
    """

    def __init__(self, faults: Sequence[Fault | str | dict[str, object]] = ()) -> None:
        self.faults = [Fault.coerce(f) for f in faults]
        self._status_left = {n: f.times for n, f in enumerate(self.faults) if f.kind == "status"}
        self.replayed = 0
        self._lock = threading.Lock()

    def intercept(self, request: Request, provider: str) -> Response | None:
        """An injected error response for this attempt, or ``None`` to go on to the recording."""
        with self._lock:
            for n, left in self._status_left.items():
                if left and self.faults[n].request == self.replayed:
                    self._status_left[n] = left - 1
                    return error_interaction(self.faults[n], request, provider).response
        return None

    def shape(self, response: Response) -> tuple[Response, dict[int, float]]:
        """The next recorded response as replayed under its faults, and delays before events."""
        with self._lock:
            number = self.replayed
            self.replayed += 1
        faults = [f for f in self.faults if f.request == number and f.kind != "status"]
        return apply_stream_faults(response, faults) if faults else (response, {})
