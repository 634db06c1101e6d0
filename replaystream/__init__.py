"""replaystream: record and replay LLM provider streams event by event."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .cassette.model import Cassette, Event, Interaction, Record, Request, Response
from .errors import (
    CassetteError,
    CassetteExhaustedError,
    CassetteMissError,
    CassetteVersionError,
    MissingExtraError,
    NetworkBlockedError,
    NoCassetteContextError,
    RecordingError,
    ReplayStreamError,
    StrictMismatchError,
)
from .errors import has_extras as _has_extras
from .options import OptionsError, ReplayOptions
from .wire.matching import MatchConfig
from .wire.scrub import Scrubber

__version__ = "0.1.0"

# The session stack, the SSE helpers and the LangChain-based parts load on first use, so
# `import replaystream` (and the pytest plugin, at every pytest start-up) stays light.
_LAZY = {
    "CassetteContext": "wire.session",
    "Session": "wire.session",
    "use_cassette": "wire.session",
    "block_network": "wire.network",
    "SSEEvent": "cassette.sse",
    "SSEFramer": "cassette.sse",
    "parse_event": "cassette.sse",
    "split_events": "cassette.sse",
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
    "normalize_graph_stream": "langchain.graph",
    "render_events": "langchain.snapshot",
    "render_graph_stream": "langchain.snapshot",
    "EventSnapshotExtension": "langchain.snapshot",
    "event_snapshot": "langchain.snapshot",
    "assert_propagated": "langchain.propagation",
    "run_tree": "langchain.propagation",
    "RunTree": "langchain.propagation",
    "PropagationError": "langchain.propagation",
    "collect_events": "langchain.filtering",
    "filter_events": "langchain.filtering",
}

if TYPE_CHECKING:  # the lazy names, typed; "X as X" exports them (mypy cannot read *_LAZY in __all__)
    from .cassette.sse import (
        SSEEvent as SSEEvent,
        SSEFramer as SSEFramer,
        parse_event as parse_event,
        split_events as split_events,
    )
    from .wire.network import block_network as block_network
    from .wire.session import CassetteContext as CassetteContext, Session as Session, use_cassette as use_cassette
    from .langchain.events import normalize_events as normalize_events, to_plain as to_plain
    from .langchain.fakes import (
        ChunkFormatError as ChunkFormatError,
        EmbeddingMissError as EmbeddingMissError,
        FaissRetriever as FaissRetriever,
        RecordedResponse as RecordedResponse,
        ReplayChatModel as ReplayChatModel,
        ReplayEmbeddings as ReplayEmbeddings,
        ReplayExhaustedError as ReplayExhaustedError,
        ReplayTool as ReplayTool,
        ToolReplayMissError as ToolReplayMissError,
    )
    from .langchain.filtering import collect_events as collect_events, filter_events as filter_events
    from .langchain.graph import normalize_graph_stream as normalize_graph_stream
    from .langchain.propagation import (
        PropagationError as PropagationError,
        RunTree as RunTree,
        assert_propagated as assert_propagated,
        run_tree as run_tree,
    )
    from .langchain.snapshot import (
        EventSnapshotExtension as EventSnapshotExtension,
        event_snapshot as event_snapshot,
        render_events as render_events,
        render_graph_stream as render_graph_stream,
    )


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'replaystream' has no attribute {name!r}")
    import importlib

    try:
        value = getattr(importlib.import_module(f".{module}", __name__), name)
    except MissingExtraError as exc:  # raised by replaystream.langchain: name what was asked for
        raise MissingExtraError(f"replaystream.{name}", exc.extras, exc.missing) from None
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
    "NoCassetteContextError",
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
    # Without the [langchain] extra, `from replaystream import *` leaves out what needs it.
    *(_LAZY if _has_extras("langchain") else ()),
]
