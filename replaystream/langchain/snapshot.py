"""Event-sequence snapshots: one normalised event per line, diffed by syrupy line by line.

::

    on_chain_start       RunnableSequence#0 input='hello'
    on_chat_model_stream model#0 < RunnableSequence#0 [seq:step:1] chunk=AIMessageChunk('{')
    on_parser_stream     my_parser#0 < RunnableSequence#0 [seq:step:2] chunk={"countries":[{}]}

A line is: the event kind (padded to 20 columns), the run label, ``< parent label`` (the
nearest parent), the sorted tags, a ``name=`` only when it differs from the label's
(custom events), then the data: strings as ``repr``, messages as ``Type('content', ...)``,
everything else as compact JSON with sorted keys. Metadata is left out unless asked for
(``render_events(events, metadata=True)``, which still drops ``lc_versions``): it
repeats on every event.

Works with syrupy 5, 6 and 7 (only the public ``SingleFileSnapshotExtension`` surface and
``serialize`` are used).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from .events import EVENT_KEYS, TYPE_KEY, gc_paused, normalize_events
from .graph import GRAPH_PART_KEYS, normalize_graph_stream

__all__ = ["EventSnapshotExtension", "event_snapshot", "render_event", "render_events", "render_graph_stream"]

_KIND_WIDTH = 20
_EVENT_KEYSET = frozenset(EVENT_KEYS)
_DATA_ORDER = ("input", "output", "chunk")
_SAFE_TAG = re.compile(r"[\w:.\-/@#]+")
_encode_str = json.JSONEncoder(ensure_ascii=False).encode
_MESSAGE_SUFFIXES = ("Message", "MessageChunk")
# ReplayChatModel's stand-in (its default ``id_prefix``) for the ``lc_run--<run id>`` LangChain
# gives a chunk of a real run: shown neither, so a snapshot recorded from the real model
# matches its replay.
_STAND_IN_ID = re.compile(r"lc_run--replay-\d+")


def _fmt(value: Any) -> str:
    """Compact JSON (sorted keys, no spaces); typed dicts as ``Type(...)``."""
    cls = type(value)
    if cls is str:
        return _encode_str(value)
    if cls is dict:
        if TYPE_KEY in value:
            return _fmt_typed(value, None)
        return "{" + ",".join(f"{_encode_str(k)}:{_fmt(value[k])}" for k in sorted(value)) + "}"
    if cls is list:
        return "[" + ",".join(_fmt(v) for v in value) + "]"
    if value is None:
        return "null"
    if cls is bool:
        return "true" if value else "false"
    if cls is int or cls is float:
        return repr(value) if math.isfinite(value) else json.dumps(value)
    return _encode_str(str(value))


def _fmt_arg(value: Any) -> str:
    """A top-level value or a ``Type(...)`` argument: strings as Python ``repr``."""
    return repr(value) if type(value) is str else _fmt(value)


def _fmt_typed(value: Mapping[str, Any], own_label: str | None) -> str:
    type_name = str(value[TYPE_KEY])
    # Which keys to show in which order depends only on the type and the keys: a stream's
    # chunks share a handful of such shapes, so each is worked out once.
    shape = (type_name, *value)
    plan = _PLANS.get(shape)
    if plan is None:
        shown = [k for k in value if k != TYPE_KEY]
        content = type_name.endswith(_MESSAGE_SUFFIXES) and "content" in value
        if content:
            shown.remove("content")
        plan = _PLANS[shape] = (content, tuple(sorted(shown)))
    content, keys = plan
    args = [_fmt_arg(value["content"])] if content else []
    for key in keys:
        item = value[key]
        # The id LangChain gives a message of this very run says nothing new.
        if key == "id" and own_label is not None and (item in (f"lc_run--{own_label}", f"run-{own_label}")
                                                      or (type(item) is str and _STAND_IN_ID.fullmatch(item))):
            continue
        args.append(f"{key}={repr(item) if type(item) is str else _fmt(item)}")
    return f"{type_name}({', '.join(args)})"


_PLANS: dict[tuple[Any, ...], tuple[bool, tuple[str, ...]]] = {}


def _fmt_data(value: Any, own_label: str | None) -> str:
    if type(value) is dict and TYPE_KEY in value:
        return _fmt_typed(value, own_label)
    return _fmt_arg(value)


def _fmt_tags(tags: list[str]) -> str:
    if all(_SAFE_TAG.fullmatch(t) for t in tags):
        return "[" + ",".join(tags) + "]"
    return _fmt(tags)


def _head(kind: str, label: Any, parent: Any, name: Any, tags: tuple[str, ...]) -> str:
    """Everything of a line before the data: kind, label, parent, name, tags."""
    parts = [kind.ljust(_KIND_WIDTH)] if len(kind) < _KIND_WIDTH else [kind]
    if label is not None:
        parts.append(str(label))
        if parent is not None:
            parts.append(f"< {parent}")
        if name is not None and str(label).rpartition("#")[0] != name:
            parts.append(f"name={_fmt_arg(name)}")
    elif name is not None:
        parts.append(f"name={_fmt_arg(name)}")
    if tags:
        parts.append(_fmt_tags(list(tags)))
    return " ".join(parts)


class _Renderer:
    """Renders lines; the head of a line repeats for every chunk of a run, so it is cached."""

    def __init__(self, metadata: bool) -> None:
        self.metadata = metadata
        self.heads: dict[tuple[Any, ...], str] = {}

    def line(self, event: Mapping[str, Any]) -> str:
        kind = str(event.get("event", "?"))
        label = event.get("run_id")
        parents = event.get("parent_ids")
        parent = parents[-1] if parents else None
        name = event.get("name")
        tags = tuple(event.get("tags") or ())
        key = (kind, label, parent, name, tags)
        head = self.heads.get(key)
        if head is None:
            head = self.heads[key] = _head(kind, label, parent, name, tags)
        parts = [head]
        data = event.get("data")
        own = str(label) if label is not None else None
        if type(data) is dict and len(data) == 1:
            ((k, v),) = data.items()
            parts.append(f"{k}={v!r}" if type(v) is str else f"{k}={_fmt_data(v, own)}")
        elif isinstance(data, Mapping):
            keys = [k for k in _DATA_ORDER if k in data] + sorted(k for k in data if k not in _DATA_ORDER)
            parts.extend(f"{k}={_fmt_data(data[k], own)}" for k in keys)
        elif data is not None:
            parts.append(f"data={_fmt_data(data, own)}")
        if not _EVENT_KEYSET.issuperset(event):
            # v3 content-block events and anything else: their own keys, sorted.
            parts.extend(f"{k}={_fmt_data(event[k], own)}" for k in sorted(event) if k not in EVENT_KEYS)
        if self.metadata and event.get("metadata"):
            # lc_versions names the installed langchain-core: it changes with an upgrade,
            # not with the run, so it stays out of snapshots.
            meta = {k: v for k, v in event["metadata"].items() if k != "lc_versions"}
            if meta:
                parts.append(f"meta={_fmt(meta)}")
        return " ".join(parts)


def render_event(event: Mapping[str, Any], *, metadata: bool = False) -> str:
    """One line for one *normalised* event (see :func:`render_events`)."""
    return _Renderer(metadata).line(event)


def render_events(events: Iterable[Mapping[str, Any]], *, metadata: bool = False) -> str:
    """The snapshot text of an event stream (raw or already normalised): one line per event.

    ::

        text = render_events([e async for e in chain.astream_events("hi", version="v2")])
    """
    line = _Renderer(metadata).line
    with gc_paused():
        lines = [line(ev) for ev in normalize_events(events)]
    return "\n".join(lines) + "\n" if lines else ""


_MODE_WIDTH = len("checkpoints")


class _GraphRenderer:
    """``<mode> <namespace or -> <data>``; a message as ``Type(...)`` and its node and step.

    A model call's chunks share one (normalised) metadata dict and one namespace, so the
    head and the metadata suffix are made once each."""

    def __init__(self, metadata: bool) -> None:
        self.metadata = metadata
        self.heads: dict[tuple[Any, Any], str] = {}
        self.metas: dict[int, tuple[Any, str]] = {}

    def meta(self, meta: dict[str, Any]) -> str:
        hit = self.metas.get(id(meta))
        if hit is None or hit[0] is not meta:
            if self.metadata:
                text = f"meta={_fmt({k: v for k, v in meta.items() if k != 'lc_versions'})}"
            else:
                text = " ".join(f"{short}={_fmt_arg(meta[key])}" for key, short in
                                (("langgraph_node", "node"), ("langgraph_step", "step")) if key in meta)
            hit = self.metas[id(meta)] = (meta, " " + text if text else "")
        return hit[1]

    def line(self, part: Mapping[str, Any]) -> str:
        mode, ns, data = part["type"], part["ns"], part["data"]  # normalised: always there
        head = self.heads.get((mode, ns))
        if head is None:
            head = self.heads[(mode, ns)] = f"{str(mode or '?').ljust(_MODE_WIDTH)} {ns or '-'} "
        if mode == "messages" and type(data) is list and len(data) == 2 and type(data[1]) is dict:
            message, meta = data
            hit = self.metas.get(id(meta))
            suffix = hit[1] if hit is not None and hit[0] is meta else self.meta(meta)
            text = head + (_fmt_typed(message, None) if type(message) is dict and TYPE_KEY in message
                           else _fmt_arg(message)) + suffix
        else:
            text = head + _fmt_data(data, None)
        if len(part) > len(GRAPH_PART_KEYS):
            # Keys a typed (v2) part adds, such as an empty ``interrupts``: shown only when set.
            text += "".join(f" {k}={_fmt_data(part[k], None)}" for k in sorted(part)
                            if k not in GRAPH_PART_KEYS and part[k])
        return text


def render_graph_stream(parts: Iterable[Any], *, stream_mode: str | list[str] | None = None,
                        metadata: bool = False) -> str:
    """The snapshot text of a graph stream (raw parts or :func:`normalize_graph_stream` output):
    one line per part, ``<stream mode> <namespace label, - for the root graph> <data>``.

    ``messages`` parts show the message and its node and step; ``metadata=True`` shows
    all their metadata but ``lc_versions``::

        text = render_graph_stream(graph.stream(inputs, stream_mode=["updates", "messages"], subgraphs=True))
    """
    with gc_paused():
        line = _GraphRenderer(metadata).line
        lines = [line(p) for p in normalize_graph_stream(parts, stream_mode=stream_mode)]
    return "\n".join(lines) + "\n" if lines else ""


def _is_graph_stream(data: list[Any]) -> bool:
    """Graph parts: normalised or typed (v2) ones, or the tuples of several modes / subgraphs
    (an event stream is never made of tuples)."""
    first = data[0] if data else None
    return type(first) is tuple or isinstance(first, Mapping) and "ns" in first and "type" in first and "event" not in first


class EventSnapshotExtension(SingleFileSnapshotExtension):
    """syrupy extension: one ``<test name>.events.txt`` file per snapshot, one event per line.

    Accepts raw ``astream_events`` events, normalised ones, graph stream parts normalised by
    :func:`~replaystream.langchain.graph.normalize_graph_stream` (or typed v2 parts), or text
    already made by :func:`render_events` / :func:`render_graph_stream` (to snapshot with
    options such as ``metadata=True``)::

        def test_chain(snapshot):
            assert snapshot.use_extension(EventSnapshotExtension) == events
    """

    file_extension = "events.txt"
    _write_mode = WriteMode.TEXT

    def serialize(self, data: Any, **kwargs: Any) -> str:
        # syrupy passes exclude/include/matcher (and may add more): property filters do
        # not apply to an event stream, so they are accepted and ignored.
        if isinstance(data, str):
            return data
        if isinstance(data, Mapping):
            data = [data]
        data = data if isinstance(data, list) else list(data)
        return render_graph_stream(data) if _is_graph_stream(data) else render_events(data)


def event_snapshot(snapshot: Any) -> Any:
    """``snapshot`` (syrupy's fixture value) switched to :class:`EventSnapshotExtension`.

    ::

        def test_events(snapshot):
            assert event_snapshot(snapshot) == events   # raw or normalised events
    """
    return snapshot.use_extension(EventSnapshotExtension)
