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
from .matching import MatchConfig
from .network import block_network
from .scrub import Scrubber
from .session import CassetteContext, Session, use_cassette
from .sse import SSEEvent, SSEFramer, parse_event, split_events

__version__ = "0.1.0"

__all__ = [
    "Cassette",
    "CassetteContext",
    "CassetteError",
    "CassetteExhaustedError",
    "CassetteMissError",
    "CassetteVersionError",
    "Event",
    "Interaction",
    "MatchConfig",
    "NetworkBlockedError",
    "Record",
    "RecordingError",
    "ReplayStreamError",
    "Request",
    "Response",
    "SSEEvent",
    "Scrubber",
    "Session",
    "SSEFramer",
    "StrictMismatchError",
    "block_network",
    "parse_event",
    "split_events",
    "use_cassette",
]
