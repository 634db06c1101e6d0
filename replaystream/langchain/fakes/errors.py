"""Typed errors raised by the message-level fakes.

Each one subclasses an existing :mod:`replaystream.errors` class, so code that catches
``CassetteMissError`` (or the base ``ReplayStreamError``) catches these too.
"""

from __future__ import annotations

from ...errors import CassetteExhaustedError, CassetteMissError, ReplayStreamError


class ReplayExhaustedError(CassetteExhaustedError):
    """A fake was asked for more responses than were recorded (and ``cycle`` is off)."""


class EmbeddingMissError(CassetteMissError):
    """``ReplayEmbeddings`` (strict) was asked to embed a text it has no vector for."""


class ToolReplayMissError(CassetteMissError):
    """``ReplayTool`` (replay mode, strict) was called with an input it has no record for."""


class ChunkFormatError(ReplayStreamError):
    """A recorded chunk (a dict or a cassette record) has the wrong shape."""
