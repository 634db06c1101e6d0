"""Sans-I/O replay of one response: which bytes to hand over, and when.

One :class:`Player` drives both the sync and the async replay stream; they differ
only in how they sleep (on the player's :class:`~.pacing.Clock`). The schedule itself
is :func:`.pacing.schedule`.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..cassette.model import Response
from .pacing import REAL_CLOCK, Clock, Pacing, PacingError, parse_pacing, schedule

__all__ = ["Pacing", "PacingError", "Player", "parse_pacing"]  # Pacing and parse_pacing: from here before


class Player:
    """Yields ``(wait_seconds, chunk)``: each recorded event is its own chunk.

    Recorded offsets count from when the request was sent, so the schedule starts when
    the player is made (the response is handed back), not when the body is first read.
    """

    def __init__(self, response: Response, pacing: Pacing = "instant", started: float | None = None,
                 delays: dict[int, float] | None = None, clock: Clock = REAL_CLOCK) -> None:
        self.response = response
        self.pacing = pacing
        self.delays = delays or {}  # extra seconds before event n (injected faults)
        self.clock = clock
        self.started = clock.now() if started is None else started
        self.position = 0  # events handed over so far

    def __iter__(self) -> Iterator[tuple[float, bytes]]:
        r = self.response
        if r.events is None:
            if r.body:
                yield next(schedule([r.body_ms], self.pacing, self.clock, started=self.started)), r.body
            return
        if self.pacing == "instant" and not self.delays:  # common case: no schedule to follow
            for event in r.events:
                yield 0.0, event.raw
                self.position += 1
            return
        waits = schedule([e.ms for e in r.events], self.pacing, self.clock, started=self.started,
                         extra=self.delays)
        for wait, event in zip(waits, r.events):
            yield wait, event.raw
            self.position += 1

    @property
    def error(self) -> dict[str, str] | None:
        """The network error to raise after the last event, if the recording ended in one."""
        return self.response.error if self.response.end == "error" else None
