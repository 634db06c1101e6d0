"""Typed errors. Every message says what happened, where, and what to do next."""

from __future__ import annotations

from pathlib import Path


class ReplayStreamError(Exception):
    """Base class of every error replaystream raises on purpose."""


class CassetteError(ReplayStreamError):
    """A cassette file cannot be read: damaged, truncated, wrong version or wrong shape.

    ``path`` is the file, ``position`` a JSON path or line/column inside it.
    """

    def __init__(self, path: Path | str | None, position: str, problem: str, hint: str = "") -> None:
        self.path = Path(path) if path is not None else None
        self.position = position
        self.problem = problem
        self.hint = hint
        where = f"{self.path}" if self.path is not None else "<cassette>"
        if position:
            where += f" at {position}"
        msg = f"{where}: {problem}"
        if hint:
            msg += f"\n  hint: {hint}"
        super().__init__(msg)


class CassetteVersionError(CassetteError):
    """The cassette was written by a format version this release cannot read."""


class CassetteMissError(ReplayStreamError):
    """A request has no recording in the active cassette and the mode forbids recording."""


class CassetteExhaustedError(CassetteMissError):
    """Every recorded response for this request was already replayed."""


class NetworkBlockedError(ReplayStreamError):
    """Something tried to reach a non-loopback address while replaying offline."""


class RecordingError(ReplayStreamError):
    """Recording could not be completed (the cassette on disk is left untouched)."""


class StrictMismatchError(ReplayStreamError):
    """A fake was called with input that differs from what was recorded."""


class UsageError(ReplayStreamError, ValueError):
    """An argument or option replaystream cannot use; the message names it and what it accepts.

    Also a :class:`ValueError`, so code that caught the builtin before keeps working.
    """
