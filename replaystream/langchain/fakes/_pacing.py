"""Which recorded response comes next, and when each of its chunks is due.

Both are sans-I/O: :func:`schedule` yields ``(wait_seconds, index)`` pairs and never
sleeps, so the sync and async replay loops differ only in how they wait (on the
model's :class:`~replaystream.wire.pacing.Clock`). The timing is the one of
:func:`replaystream.wire.pacing.schedule`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Generic, TypeVar

from ...wire.pacing import REAL_CLOCK, Clock, Pacing, parse_pacing
from ...wire.pacing import schedule as _offsets_schedule
from .errors import ReplayExhaustedError

__all__ = ["Clock", "Pacing", "REAL_CLOCK", "Sequencer", "parse_pacing", "schedule"]

T = TypeVar("T")


def schedule(count: int, ms: Sequence[float] | None, pacing: Pacing,
             clock: Clock = REAL_CLOCK) -> Iterator[tuple[float, int]]:
    """``(seconds to wait, chunk index)`` for each of ``count`` chunks.

    Offsets count from the moment the first chunk is requested; chunks without
    recorded offsets (``ms`` is ``None``) come at once.
    """
    waits = _offsets_schedule(ms, pacing, clock) if ms is not None else (0.0 for _ in range(count))
    for n, wait in zip(range(count), waits):
        yield wait, n


class Sequencer(Generic[T]):
    """Hands out recorded responses in order, from any thread.

    When every response was used it raises :class:`ReplayExhaustedError`, or starts
    again from the first when ``cycle`` is true.
    """

    def __init__(self, items: Sequence[T], *, cycle: bool, owner: str) -> None:
        self.items = list(items)
        self.cycle = cycle
        self.owner = owner
        self.position = 0
        self._lock = threading.Lock()

    def take(self) -> tuple[int, T]:
        with self._lock:
            n = self.position
            if n >= len(self.items):
                if not self.cycle or not self.items:
                    raise ReplayExhaustedError(
                        f"{self.owner}: all {len(self.items)} recorded response(s) were already "
                        f"replayed (this is call {n + 1})\n"
                        "  hint: record one more response, pass cycle=True to start over, "
                        "or call reset() between runs")
                n = 0
                self.position = 0
            self.position += 1
            return n, self.items[n]

    def peek(self) -> T | None:
        """What the next :meth:`take` hands out (``None`` when it would raise)."""
        with self._lock:
            n = self.position
            if n >= len(self.items):
                if not self.cycle or not self.items:
                    return None
                n = 0
            return self.items[n]

    def reset(self) -> None:
        with self._lock:
            self.position = 0
