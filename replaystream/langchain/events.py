"""Normalise ``astream_events`` runs into stable plain data.

Run ids are random UUIDs and chunks are LangChain objects, so a raw event stream can be
neither snapshotted nor compared across runs. :func:`normalize_events` turns it into plain
dicts whose ids are labels given by first appearance (``RunnableSequence#0``,
``model#0``), keeping the parent tree; everything else about the events stays.

It understands the v2 stream (``astream_events(version="v2")``), the v3 content-block
stream of chat models (``await model.astream_events(x, version="v3")`` and the sync
``model.stream_events(x, version="v3")``, whose events carry no run ids but a message id),
and its own output (normalising twice gives the same result).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import gc
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel

from ._models import CONVERTERS, model_converter, same

__all__ = ["EVENT_KEYS", "TYPE_KEY", "gc_paused", "normalize_events", "run_type", "to_plain"]

#: Keys of a v2 event, in the order a normalised event lists them.
EVENT_KEYS = ("event", "name", "run_id", "parent_ids", "tags", "metadata", "data")
#: Key naming the class of an object turned into a dict (``{"_type": "AIMessageChunk", ...}``).
TYPE_KEY = "_type"

_UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_ADDRESS_RE = re.compile(r" at 0x[0-9a-fA-F]+")
# Provider timestamps ("created": 1717000000, "created_at": "2025-...") change on every
# recording; they are only blanked inside metadata, never in a runnable's own output.
_META_KEYS = frozenset({"metadata", "response_metadata", "generation_info", "llm_output"})
_TIME_KEYS = frozenset({"created", "created_at", "timestamp", "start_time", "end_time", "time"})
_TIMESTAMP = "<timestamp>"
_DATETIME = "<datetime>"
_SCALARS = (str, int, float, bool, type(None))
_PLAIN_DATA_KEYS = frozenset({"input", "output", "chunk"})  # str values there pass as they are
_ABSENT = "<filtered>"  # the name given to parents that are not in the stream
# LangGraph: checkpoint namespaces (``node:<task id>|child:<task id>``) and the maps keyed
# by them; checkpoint ids; interrupt ids (a 32-digit hash of the namespace).
_NS_KEYS = frozenset({"checkpoint_ns", "langgraph_checkpoint_ns", "parent_ns"})
_NS_MAP_KEYS = frozenset({"checkpoint_map", "parents"})
_CHECKPOINT_KEYS = frozenset({"checkpoint_id", "parent_checkpoint_id"})
_HASH_RE = re.compile(r"[0-9a-f]{32}")


def run_type(kind: str, name: str = "") -> str:
    """The run type LangChain filters on for an event kind: ``on_chat_model_stream`` -> ``chat_model``.

    Custom events are typed by their own name, as langchain-core does.
    """
    if kind == "on_custom_event":
        return name
    body = kind.removeprefix("on_")
    return body.rpartition("_")[0] or body


class _Labels:
    """Maps raw ids to labels; one instance per :func:`normalize_events` call."""

    def __init__(self) -> None:
        self.labels: dict[str, str] = {}
        self._per_name: dict[str, int] = {}
        self._counters: dict[str, int] = {}
        self._scrubbed: dict[str, str] = {}
        self._tasks: dict[str, int] = {}
        self._namespaces: dict[str, str] = {}

    def add_run(self, run_id: str, name: str) -> None:
        self._label(run_id, name, self._per_name, "#")

    def other(self, raw: str, prefix: str) -> str:
        return self._label(raw, prefix, self._counters, ":")

    def task(self, raw: str, name: str) -> str:
        """A LangGraph task id: ``<node name>#<n>``, n counting that node's tasks (not its runs)."""
        return self._label(raw, name, self._tasks, "#")

    def namespace(self, ns: str) -> str:
        """``parent:<task id>|child:<task id>`` -> ``parent#0|child#0``; other text is kept."""
        done = self._namespaces.get(ns)
        if done is None:
            segments = []
            for segment in ns.split("|"):
                name, sep, task = segment.rpartition(":")
                segments.append(self.task(task, name) if sep and name else segment)
            done = self._namespaces[ns] = "|".join(segments)
        return done

    def parent(self, raw: str) -> str:
        """A parent that never shows up as a run: filtered out (``include_names=...``), or never
        reported. Its name is unknown, so it is ``<filtered>#N`` by first appearance."""
        return self._label(raw, _ABSENT, self._per_name, "#")

    def _label(self, raw: str, name: str, counters: dict[str, int], sep: str) -> str:
        """``raw``'s label, or a new one: ``name``, ``sep`` and the count of ``name`` so far."""
        label = self.labels.get(raw)
        if label is None:
            k = counters.get(name, 0)
            counters[name] = k + 1
            label = self.labels[raw] = f"{name}{sep}{k}"
        return label

    def scrub(self, text: str, prefix: str = "id") -> str:
        """Replace every UUID inside ``text`` (``lc_run--<uuid>``, ``run-<uuid>``) by its label."""
        done = self._scrubbed.get(text)
        if done is not None:
            return done
        if len(text) < 36:
            done = text
        elif text in self.labels:
            done = self.labels[text]
        else:
            done = _UUID_RE.sub(lambda m: self._uuid(m.group(0), prefix), text)
        self._scrubbed[text] = done
        return done

    def _uuid(self, raw: str, prefix: str) -> str:
        label = self.labels.get(raw) or self.labels.get(raw.lower())
        return label if label is not None else self.other(raw.lower(), prefix)


def _is_id_key(key: str) -> bool:
    return key == "id" or key.endswith("_id")


_KINDS: dict[type, str] = {}  # class -> "mapping", "model" or "" (anything else)


class _Plain:
    """Turns objects into plain data, sharing one label map."""

    def __init__(self, labels: _Labels) -> None:
        self.labels = labels
        self._field = self.field  # bound once: a model converter is handed them per object
        self._doc = self._doc_id

    def convert(self, obj: Any, meta: bool = False) -> Any:
        cls = type(obj)
        if cls is str or cls is int or cls is float or cls is bool or obj is None:
            return obj
        if cls is dict:
            return self.mapping(obj, meta)
        if cls is list or cls is tuple:
            return [self.convert(v, meta) for v in obj]
        kind = _KINDS.get(cls)
        if kind is None:  # isinstance on an ABC is slow: decide once per class
            kind = _KINDS[cls] = "mapping" if isinstance(obj, Mapping) else "model" if isinstance(obj, BaseModel) else ""
        if kind == "model":
            convert = CONVERTERS.get(cls) or model_converter(cls, _str_kept_below)
            return convert(obj.__dict__, self._field, meta, self._doc)
        if kind == "mapping":
            return self.mapping(obj, meta)
        return self.other(obj, meta)

    def mapping(self, obj: Mapping[Any, Any], meta: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in obj.items():
            key = key if type(key) is str else str(self.convert(key))
            out[key] = self.field(key, value, meta)
        return out

    def field(self, key: str, value: Any, meta: bool) -> Any:
        cls = type(value)
        if cls is str:
            if key in _NS_KEYS:
                return self.labels.namespace(value)
            if len(value) >= 36 and _is_id_key(key):
                return self.labels.scrub(value, "checkpoint" if key in _CHECKPOINT_KEYS else "id")
            if key == "id" and len(value) == 32 and _HASH_RE.fullmatch(value):
                return self.labels.other(value, "interrupt")
            if meta and key in _TIME_KEYS:
                return _TIMESTAMP
            return value
        if meta and key in _TIME_KEYS and cls in (int, float):
            return _TIMESTAMP
        if key.endswith("_ids") and cls is list:
            return [self.labels.scrub(v) if type(v) is str else self.convert(v, meta) for v in value]
        if key in _META_KEYS and not meta:
            return self.convert(value, True)
        if key in _NS_MAP_KEYS and cls is dict and all(type(k) is str and type(v) is str for k, v in value.items()):
            return {self.labels.namespace(k): self.field("checkpoint_id", v, meta) for k, v in value.items()}
        return self.convert(value, meta)

    def model(self, obj: BaseModel, meta: bool) -> dict[str, Any]:
        cls = type(obj)
        convert = CONVERTERS.get(cls) or model_converter(cls, _str_kept_below)
        return convert(obj.__dict__, self._field, meta, self._doc)

    def _doc_id(self, value: str) -> str:
        return self.labels.scrub(value, "doc")

    def other(self, obj: Any, meta: bool) -> Any:
        if isinstance(obj, str):  # str subclasses (StrEnum members included)
            return str(obj)
        if isinstance(obj, bool | int | float):
            return obj.value if isinstance(obj, enum.Enum) else obj
        if isinstance(obj, enum.Enum):
            return self.convert(obj.value, meta)
        if isinstance(obj, uuid.UUID):
            return self.labels.scrub(str(obj))
        if isinstance(obj, _dt.date | _dt.time | _dt.timedelta):
            return _DATETIME
        if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # a NamedTuple (LangGraph's StateSnapshot)
            named = dict(zip(obj._fields, obj, strict=True))
            return {TYPE_KEY: type(obj).__name__, **{k: self.field(k, v, meta) for k, v in named.items()}}
        if isinstance(obj, list | tuple):
            return [self.convert(v, meta) for v in obj]
        if isinstance(obj, set | frozenset):
            return sorted((self.convert(v, meta) for v in obj), key=repr)
        if isinstance(obj, BaseException):
            return {TYPE_KEY: type(obj).__name__, "message": self.labels.scrub(str(obj))}
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            out: dict[str, Any] = {TYPE_KEY: type(obj).__name__}
            for f in dataclasses.fields(obj):
                value = getattr(obj, f.name)
                if f.default is not dataclasses.MISSING and same(value, f.default):
                    continue
                out[f.name] = self.field(f.name, value, meta)
            return out
        if isinstance(obj, bytes | bytearray):
            return repr(bytes(obj))
        # Unknown objects: a repr without memory addresses, which change on every run.
        return self.labels.scrub(_ADDRESS_RE.sub("", repr(obj)))


def _str_kept_below(key: str) -> int | None:
    """The length under which :meth:`_Plain.field` returns a ``str`` value of ``key`` unchanged
    (0: any length; None: it may change any)."""
    if key in _NS_KEYS or key in _TIME_KEYS:
        return None
    return 32 if _is_id_key(key) else 0


def to_plain(obj: Any) -> Any:
    """Plain data (dicts, lists, str, numbers, bool, None) for any event payload.

    Pydantic models (messages, ``Document``, ``ChatGenerationChunk``...) and dataclasses
    become ``{"_type": "<class name>", <non-default fields>}``; UUIDs in id fields become
    ``id:N`` labels. ``to_plain(AIMessageChunk(content="hi"))`` is
    ``{"_type": "AIMessageChunk", "content": "hi"}``.
    """
    return _Plain(_Labels()).convert(obj)


def _first_names(events: list[Mapping[str, Any]], labels: _Labels) -> None:
    """Label every run by first appearance, named by its first non-custom event."""
    order: list[str] = []
    names: dict[str, str] = {}
    for ev in events:
        rid = ev.get("run_id")
        if rid is None:
            continue
        rid = str(rid)
        if rid not in names:
            order.append(rid)
            names[rid] = ""
        if not names[rid] and ev.get("event") != "on_custom_event":
            names[rid] = str(ev.get("name") or "")
    for rid in order:
        labels.add_run(rid, names[rid] or "run")


def normalize_events(events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Stable, plain-data copies of ``astream_events`` events (v2 or v3); inputs are untouched.

    - ``run_id`` becomes ``<name>#<n>`` (n counts runs of that name, by first appearance);
      ``parent_ids`` use the same labels, and an id that is never a ``run_id`` (a parent
      whose events were filtered out) becomes ``<filtered>#<n>``, so the tree stays visible.
    - UUIDs inside id fields (``lc_run--<uuid>``, ``run-<uuid>``) become the label of the
      run they name, else ``id:<n>``; ``Document`` ids become ``doc:<n>``.
    - Timestamps in metadata become ``"<timestamp>"``, datetimes ``"<datetime>"``.
    - Tags are sorted; messages, documents and other objects become plain dicts
      (see :func:`to_plain`).

    Each result keeps its event's own keys, so ``ev["event"]``, ``ev["data"]["chunk"]``
    read as before (a chunk is now ``{"_type": "AIMessageChunk", "content": ...}``)::

        events = [e async for e in chain.astream_events("hi", version="v2")]
        assert normalize_events(events)[0]["run_id"] == "RunnableSequence#0"
    """
    evs = events if isinstance(events, list) else list(events)
    with gc_paused():
        return _normalize(evs)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small acyclic objects.

    Normalising allocates a few dicts per event and creates no cycles; with the collector
    on, its full passes over the (large) heap of events cost as much as the work itself.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _normalize(evs: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    labels = _Labels()
    _first_names(evs, labels)
    known = labels.labels
    plain = _Plain(labels)
    convert = plain.convert
    # Events of one run often share their metadata object: convert it once and share the
    # result the same way (keyed by identity; the source is kept alive in the cache).
    metas: dict[int, tuple[Any, Any]] = {}
    out: list[dict[str, Any]] = []
    append = out.append
    for ev in evs:
        norm: dict[str, Any] = {}
        if "event" in ev:
            value = ev["event"]
            norm["event"] = value if type(value) is str else convert(value)
        if "name" in ev:
            value = ev["name"]
            norm["name"] = value if type(value) is str else convert(value)
        if "run_id" in ev:
            value = ev["run_id"]
            norm["run_id"] = known[value if type(value) is str else str(value)] if value is not None else None
        if "parent_ids" in ev:
            norm["parent_ids"] = [known.get(p) or labels.parent(str(p)) for p in ev["parent_ids"] or ()]
        if "tags" in ev:
            norm["tags"] = _sorted_tags(ev["tags"])
        if "metadata" in ev:
            value = ev["metadata"]
            hit = metas.get(id(value))
            if hit is None or hit[0] is not value:
                hit = metas[id(value)] = (value, convert(value, True))
            norm["metadata"] = hit[1]
        if "data" in ev:
            value = ev["data"]
            if type(value) is dict:
                norm["data"] = {
                    k: v if type(v) is str and k in _PLAIN_DATA_KEYS else plain.field(str(k), v, False)
                    for k, v in value.items()
                }
            else:
                norm["data"] = convert(value)
        if len(norm) != len(ev):
            for key, value in ev.items():
                if key not in norm:
                    norm[key] = plain.field(str(key), value, False)
        append(norm)
    return out


def _sorted_tags(tags: Any) -> list[str]:
    try:
        return sorted(tags or ())
    except TypeError:  # mixed types: compare as text
        return sorted(str(t) for t in tags)
