"""Sans-I/O replay schedule: which bytes to hand over, and when.

One :class:`Player` drives both the sync and the async replay stream; they differ
only in how they sleep.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Literal, Union

from ..cassette.model import Response
from ..errors import ReplayStreamError

Pacing = Union[Literal["instant", "recorded"], float]


def parse_pacing(value: str | float | None) -> Pacing:
    """``"instant"``, ``"recorded"`` or a speed factor (``2`` plays twice as fast)."""
    if value is None or value == "instant":
        return "instant"
    if value == "recorded":
        return "recorded"
    try:
        factor = float(value)
    except (TypeError, ValueError):
        raise ReplayStreamError(
            f"pacing {value!r} is not understood: use 'instant', 'recorded' or a speed factor such as 2") from None
    if not factor > 0:
        raise ReplayStreamError(f"pacing factor must be positive, got {factor}")
    return "recorded" if factor == 1.0 else factor


class Player:
    """Yields ``(wait_seconds, chunk)``: each recorded event is its own chunk."""

    def __init__(self, response: Response, pacing: Pacing = "instant", started: float | None = None,
                 delays: dict[int, float] | None = None) -> None:
        self.response = response
        self.pacing = pacing
        self.delays = delays or {}  # extra seconds before event n (injected faults)
        self.started = time.perf_counter() if started is None else started
        self.position = 0  # events handed over so far

    def _wait(self, ms: float) -> float:
        if self.pacing == "instant":
            return 0.0
        factor = 1.0 if self.pacing == "recorded" else float(self.pacing)
        due = self.started + ms / 1000.0 / factor
        return max(0.0, due - time.perf_counter())

    def __iter__(self) -> Iterator[tuple[float, bytes]]:
        r = self.response
        if r.events is None:
            if r.body:
                yield self._wait(r.body_ms), r.body
            return
        if self.pacing == "instant" and not self.delays:  # common case: no clock to read per event
            for event in r.events:
                yield 0.0, event.raw
                self.position += 1
            return
        delays = self.delays
        for n, event in enumerate(r.events):
            wait = self._wait(event.ms)
            if delays:
                wait += delays.get(n, 0.0)
            yield wait, event.raw
            self.position += 1

    @property
    def error(self) -> dict[str, str] | None:
        """The network error to raise after the last event, if the recording ended in one."""
        return self.response.error if self.response.end == "error" else None
