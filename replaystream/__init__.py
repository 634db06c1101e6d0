"""replaystream: record and replay LLM provider streams event by event."""

from __future__ import annotations

from .cassette import Cassette, Event, Interaction, Record, Request, Response
from .errors import (
    CassetteError,
    CassetteExhaustedError,
    CassetteMissError,
    CassetteVersionError,
    NetworkBlockedError,
    RecordingError,
    ReplayStreamError,
    StrictMismatchError,
)
from .sse import SSEEvent, SSEFramer, parse_event, split_events

__version__ = "0.1.0"

__all__ = [
    "Cassette",
    "CassetteError",
    "CassetteExhaustedError",
    "CassetteMissError",
    "CassetteVersionError",
    "Event",
    "Interaction",
    "NetworkBlockedError",
    "Record",
    "RecordingError",
    "ReplayStreamError",
    "Request",
    "Response",
    "SSEEvent",
    "SSEFramer",
    "StrictMismatchError",
    "parse_event",
    "split_events",
]
