"""replaystream: record and replay LLM provider streams event by event."""

from __future__ import annotations

from .cassette.model import Cassette, Event, Interaction, Record, Request, Response
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
from .options import OptionsError, ReplayOptions
from .wire.matching import MatchConfig
from .wire.network import block_network
from .wire.scrub import Scrubber
from .wire.session import CassetteContext, Session, use_cassette
from .cassette.sse import SSEEvent, SSEFramer, parse_event, split_events

__version__ = "0.1.0"

# LangChain-based parts load on first use, so `import replaystream` (and the pytest
# plugin, for every test) stays light.
_LAZY = {
    "ReplayChatModel": "langchain.fakes",
    "RecordedResponse": "langchain.fakes",
    "ReplayEmbeddings": "langchain.fakes",
    "FaissRetriever": "langchain.fakes",
    "ReplayTool": "langchain.fakes",
    "ReplayExhaustedError": "langchain.fakes",
    "EmbeddingMissError": "langchain.fakes",
    "ToolReplayMissError": "langchain.fakes",
    "ChunkFormatError": "langchain.fakes",
    "normalize_events": "langchain.events",
    "to_plain": "langchain.events",
    "render_events": "langchain.snapshot",
    "EventSnapshotExtension": "langchain.snapshot",
    "event_snapshot": "langchain.snapshot",
    "assert_propagated": "langchain.propagation",
    "run_tree": "langchain.propagation",
    "RunTree": "langchain.propagation",
    "PropagationError": "langchain.propagation",
    "collect_events": "langchain.filtering",
    "filter_events": "langchain.filtering",
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
    "OptionsError",
    "Record",
    "RecordingError",
    "ReplayOptions",
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
