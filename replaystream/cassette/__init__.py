"""The cassette format: the data model, its JSON file, SSE framing and format upgrades.

The bottom layer: it imports nothing of replaystream but :mod:`replaystream.errors`.
"""

from __future__ import annotations

from .model import (
    END_CLIENT_CLOSED,
    END_COMPLETE,
    END_ERROR,
    END_STATES,
    FORMAT_VERSION,
    SUFFIX,
    Cassette,
    EndState,
    Event,
    Interaction,
    Record,
    Request,
    Response,
    atomic_write,
)

__all__ = [
    "END_CLIENT_CLOSED", "END_COMPLETE", "END_ERROR", "END_STATES", "FORMAT_VERSION", "SUFFIX", "Cassette",
    "EndState", "Event", "Interaction", "Record", "Request", "Response", "atomic_write",
]
