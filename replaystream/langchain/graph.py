"""Normalise what a LangGraph graph streams (``graph.stream`` / ``graph.astream``) into stable plain data.

A graph's stream parts carry random values: task ids inside namespaces and
``checkpoint_ns``, checkpoint ids (time-based), interrupt ids (a hash of the namespace),
message ids given by ``add_messages``, timestamps in ``debug`` parts. :func:`normalize_graph_stream`
turns every part into ``{"type": <stream mode>, "ns": <label>, "data": <plain data>}``:

- a namespace ``("second:<task id>", "child:<task id>")`` becomes ``"second#0|child#0"``
  (``#n`` counts the tasks of that node by first appearance; the root graph is ``""``); a
  task id anywhere (``tasks`` and ``debug`` payloads, a checkpoint's task list) becomes the
  same label;
- checkpoint ids become ``checkpoint:<n>``, interrupt ids ``interrupt:<n>``, other UUIDs in
  id fields ``id:<n>`` (as :func:`~replaystream.langchain.events.normalize_events` does),
  ``debug`` timestamps ``"<timestamp>"``;
- messages, states and interrupts become plain dicts (:func:`~replaystream.langchain.events.to_plain`).

The order is kept exactly. Only data is read: LangGraph itself is never imported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..errors import UsageError
from .events import _TIMESTAMP, _Labels, _Plain, gc_paused

__all__ = ["GRAPH_PART_KEYS", "STREAM_MODES", "normalize_graph_stream"]

#: The stream modes of LangGraph 1.x, in its own order.
STREAM_MODES = ("values", "updates", "checkpoints", "tasks", "debug", "messages", "custom")
#: Keys of a normalised part, in order (a typed v2 part may add ``interrupts``).
GRAPH_PART_KEYS = ("type", "ns", "data")
_MODES = frozenset(STREAM_MODES)
_TASK_MODES = frozenset({"tasks", "checkpoints", "debug"})
_NO_EXTRA: dict[str, Any] = {}


def _is_ns(value: Any) -> bool:
    return type(value) is tuple or type(value) is list and all(type(s) is str for s in value)


def _split(part: Any, mode: str | None, several: bool) -> tuple[str | None, Any, Any, dict[str, Any]]:
    """``(mode, namespace, data, extra keys)`` of one part, whichever shape ``stream`` gave it."""
    if type(part) is tuple:
        n = len(part)
        if n == 3 and type(part[1]) is str and _is_ns(part[0]):
            return part[1], part[0], part[2], _NO_EXTRA  # several modes, subgraphs=True
        if n == 2:
            if _is_ns(part[0]):
                return mode, part[0], part[1], _NO_EXTRA  # one mode, subgraphs=True
            if several and type(part[0]) is str:
                return part[0], (), part[1], _NO_EXTRA  # several modes
    elif isinstance(part, Mapping) and "type" in part and "ns" in part and "data" in part:
        extra = {k: v for k, v in part.items() if k not in GRAPH_PART_KEYS}
        return part["type"], part["ns"], part["data"], extra
    return mode, (), part, _NO_EXTRA  # one mode: the data alone


def _plain_ns(ns: Any, labels: _Labels) -> str:
    if type(ns) is str:
        return labels.namespace(ns)
    return labels.namespace("|".join(str(s) for s in ns)) if ns else ""


def _register_tasks(mode: str | None, data: Any, labels: _Labels) -> None:
    """Name task ids after their node before anything else reads them."""
    if type(data) is not dict:
        return
    if mode == "debug":
        mode, data = ("tasks" if data.get("type") in ("task", "task_result") else "checkpoints"), data.get("payload")
        if type(data) is not dict:
            return
    if mode == "tasks":
        tasks: Any = [data]
    elif mode == "checkpoints":
        tasks = data.get("tasks") or ()
    else:
        return
    for task in tasks:
        if isinstance(task, Mapping) and type(task.get("id")) is str and type(task.get("name")) is str:
            labels.task(task["id"], task["name"])


def normalize_graph_stream(parts: Iterable[Any], *, stream_mode: str | Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Stable, plain-data copies of the parts a graph streamed; the parts are untouched.

    Takes every shape ``graph.stream`` / ``astream`` yields: the data alone (one mode),
    ``(mode, data)`` (several modes), ``(namespace, data)`` and ``(namespace, mode, data)``
    (``subgraphs=True``), the typed ``{"type", "ns", "data"}`` parts of ``version="v2"``,
    and its own output. With one mode and no ``subgraphs``, the parts do not say their
    mode: pass ``stream_mode=`` as given to ``stream`` (else ``type`` is ``None``, except
    for ``(message, metadata)`` pairs, which are ``messages``)::

        parts = list(graph.stream(inputs, config, stream_mode=["updates", "messages"], subgraphs=True))
        assert normalize_graph_stream(parts)[0] == {"type": "updates", "ns": "", "data": {...}}
    """
    several = stream_mode is None or not isinstance(stream_mode, str)
    if isinstance(stream_mode, str):
        modes: Sequence[str] = (stream_mode,)
    else:
        modes = tuple(stream_mode or ())
    unknown = [m for m in modes if m not in _MODES]
    if unknown:
        raise UsageError(f"normalize_graph_stream(stream_mode=...) got unknown mode(s) {unknown}; "
                         f"LangGraph's modes are {', '.join(STREAM_MODES)}")
    single = stream_mode if isinstance(stream_mode, str) else None
    labels = _Labels()
    plain = _Plain(labels)
    # The chunks of one model call share their metadata dict: convert it once (keyed by
    # identity; the source is kept alive in the cache so its id is not reused).
    metas: dict[int, tuple[Any, Any]] = {}
    ns_labels: dict[tuple[str, ...], str] = {}
    out: list[dict[str, Any]] = []
    convert = plain.convert
    append = out.append
    with gc_paused():
        for part in parts:
            if type(part) is tuple and len(part) == 3 and type(part[1]) is str and type(part[0]) is tuple:
                ns, mode, data = part  # the usual shape (several modes, subgraphs): no detour
                extra = _NO_EXTRA
            else:
                mode, ns, data, extra = _split(part, single, several)
                if mode is None and _is_message_pair(data):
                    mode = "messages"
            if mode in _TASK_MODES:
                _register_tasks(mode, data, labels)
            label = ns_labels.get(ns) if type(ns) is tuple else None  # one namespace, many parts
            if label is None:
                label = _plain_ns(ns, labels)
                if type(ns) is tuple:
                    ns_labels[ns] = label
            if mode == "messages" and (type(data) is tuple or type(data) is list) and len(data) == 2:
                meta = data[1]
                hit = metas.get(id(meta))
                if hit is None or hit[0] is not meta:
                    hit = metas[id(meta)] = (meta, convert(meta, True))
                value: Any = [convert(data[0]), hit[1]]
            elif mode == "debug" and type(data) is dict:
                value = {k: _TIMESTAMP if k == "timestamp" else plain.field(k, v, False) for k, v in data.items()}
            else:
                value = convert(data)
            norm: dict[str, Any] = {"type": mode, "ns": label, "data": value}
            if extra:
                for key, item in extra.items():
                    norm[key] = plain.field(str(key), item, False)
            append(norm)
    return out


def _is_message_pair(data: Any) -> bool:
    return (type(data) is tuple and len(data) == 2 and isinstance(data[1], Mapping)
            and hasattr(data[0], "content") and hasattr(data[0], "type"))
