"""Pacing, once: how fast recorded offsets are replayed, and the clock everything waits on.

Every replay path (the transport's :class:`~.player.Player`, the emulator's socket
writes, the message-level fakes) turns recorded millisecond offsets into waits with
:func:`schedule`, and reads time or sleeps only through a :class:`Clock`. This module is
the only one that touches ``time`` or ``asyncio.sleep``: a test injects a
:class:`ManualClock` instead of patching ``time`` for the whole process.

>>> clock = ManualClock()
>>> [round(w, 3) for w in schedule([0.0, 500.0, 1500.0], 2.0, clock)]
[0.0, 0.25, 0.75]
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, Union

from ..errors import ReplayStreamError

Pacing = Union[Literal["instant", "recorded"], float]

__all__ = ["Clock", "ManualClock", "Pacing", "PacingError", "REAL_CLOCK", "RealClock", "parse_pacing",
           "schedule", "speed"]


class PacingError(ReplayStreamError, ValueError):
    """A pacing that is not ``"instant"``, ``"recorded"`` or a positive speed factor."""


def parse_pacing(value: str | float | None) -> Pacing:
    """``"instant"``, ``"recorded"`` or a speed factor (``2`` plays twice as fast)."""
    if value is None or value == "instant":
        return "instant"
    if value == "recorded":
        return "recorded"
    try:
        factor = float(value)
    except (TypeError, ValueError):
        raise PacingError(
            f"pacing {value!r} is not understood: use 'instant', 'recorded' or a speed factor such as 2") from None
    if not factor > 0:
        raise PacingError(f"pacing factor must be positive, got {factor}")
    return "recorded" if factor == 1.0 else factor


def speed(pacing: Pacing) -> float:
    """The divisor applied to recorded offsets: 0.0 means instant (no waits at all)."""
    if pacing == "instant":
        return 0.0
    if pacing == "recorded":
        return 1.0
    if isinstance(pacing, (int, float)) and not isinstance(pacing, bool) and pacing > 0:
        return float(pacing)
    raise PacingError(f"pacing must be 'instant', 'recorded' or a positive speed factor, not {pacing!r}")


class Clock(Protocol):
    """Where replay reads the time and waits: real by default, a fake one in tests."""

    def now(self) -> float:
        """Seconds on a monotonic scale (only differences mean anything)."""
        ...

    def sleep(self, seconds: float) -> None: ...

    async def asleep(self, seconds: float) -> None: ...


@dataclass(frozen=True)
class RealClock:
    """The process's monotonic high-resolution clock."""

    def now(self) -> float:
        return time.perf_counter()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        import asyncio  # here, not at the top: it takes ~30 ms to import, and only async replays wait on it

        await asyncio.sleep(seconds)


REAL_CLOCK: Clock = RealClock()


@dataclass
class ManualClock:
    """A clock that moves only when slept on or advanced; it keeps every sleep, for assertions."""

    at: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def now(self) -> float:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.at += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)

    def advance(self, seconds: float) -> None:
        """Time the consumer spends between units (no sleep recorded)."""
        self.at += seconds


def schedule(offsets_ms: Sequence[float], pacing: Pacing, clock: Clock = REAL_CLOCK, *,
             started: float | None = None, extra: Mapping[int, float] | None = None) -> Iterator[float]:
    """Seconds to wait before each unit (event, chunk, write), computed as each is requested.

    Unit ``n`` is due ``offsets_ms[n]`` (divided by the speed factor) after ``started``,
    by default the moment the first unit is requested. Waits run to those due times, not
    from the previous unit, so time the consumer spends between units is not added twice.
    ``extra`` adds seconds before given units (injected delay faults). Instant pacing
    never reads the clock.
    """
    factor = speed(pacing)
    extra = extra or {}
    if not factor:
        for n in range(len(offsets_ms)):
            yield extra.get(n, 0.0)
        return
    start = clock.now() if started is None else started
    for n, ms in enumerate(offsets_ms):
        yield max(0.0, start + ms / 1000.0 / factor - clock.now()) + extra.get(n, 0.0)
