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

# LangChain-based parts load on first use, so `import replaystream` (and the pytest
# plugin, for every test) stays light.
_LAZY = {
    "ReplayChatModel": "fakes",
    "RecordedResponse": "fakes",
    "ReplayEmbeddings": "fakes",
    "FaissRetriever": "fakes",
    "ReplayTool": "fakes",
    "ReplayExhaustedError": "fakes",
    "EmbeddingMissError": "fakes",
    "ToolReplayMissError": "fakes",
    "ChunkFormatError": "fakes",
    "normalize_events": "events",
    "to_plain": "events",
    "render_events": "snapshot",
    "EventSnapshotExtension": "snapshot",
    "event_snapshot": "snapshot",
    "assert_propagated": "propagation",
    "run_tree": "propagation",
    "RunTree": "propagation",
    "PropagationError": "propagation",
    "collect_events": "filtering",
    "filter_events": "filtering",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'replaystream' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value

__all__ = [  # noqa: RUF022  (grouped: core, then lazily loaded)
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
    *_LAZY,
]
