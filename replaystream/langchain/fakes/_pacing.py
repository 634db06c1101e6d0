"""Which recorded response comes next, and when each of its chunks is due.

Both are sans-I/O: :func:`schedule` yields ``(wait_seconds, index)`` pairs and never
sleeps, so the sync and async replay loops differ only in how they wait. ``clock``,
``sleep`` and ``asleep`` are looked up on this module at call time, so a test can
swap them for a fake clock.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TypeVar

from ...wire.player import Pacing, parse_pacing
from .errors import ReplayExhaustedError

__all__ = ["Pacing", "Sequencer", "parse_pacing", "schedule"]

clock: Callable[[], float] = time.perf_counter
sleep: Callable[[float], None] = time.sleep
asleep = asyncio.sleep

T = TypeVar("T")


def schedule(count: int, ms: Sequence[float] | None, pacing: Pacing) -> Iterator[tuple[float, int]]:
    """``(seconds to wait, chunk index)`` for each of ``count`` chunks.

    Offsets are kept relative to the moment the first chunk is requested (not to the
    previous chunk), so time the consumer spends between chunks is not added twice.
    ``pacing`` is ``"instant"``, ``"recorded"``, or a speed factor (2 = twice as fast).
    """
    if pacing == "instant" or ms is None:
        for n in range(count):
            yield 0.0, n
        return
    factor = 1.0 if pacing == "recorded" else float(pacing)
    started = clock()
    for n in range(count):
        due = started + ms[n] / 1000.0 / factor
        yield max(0.0, due - clock()), n


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

    def reset(self) -> None:
        with self._lock:
            self.position = 0
