"""Collect ``astream_events`` runs, filtered by LangChain itself or after the fact.

:func:`collect_events` runs the real ``astream_events`` with its ``include_*`` /
``exclude_*`` filters, so a snapshot shows exactly what LangChain keeps, quirks included:
the first event that passes the filter has ``data.input`` overwritten with the *root*
input (langchain-core patches it in, because inputs of streamed runs are only known at the
end), and the end event of that same run loses its ``input``.

:func:`filter_events` applies the same name/type/tag rules to events already collected
from an unfiltered run; it cannot reproduce that input quirk.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, TypedDict, Unpack

from ..errors import UsageError
from .events import normalize_events, run_type


class EventFilters(TypedDict, total=False):
    """LangChain's ``astream_events`` filters, by their own names."""

    include_names: Sequence[str] | None
    include_types: Sequence[str] | None
    include_tags: Sequence[str] | None
    exclude_names: Sequence[str] | None
    exclude_types: Sequence[str] | None
    exclude_tags: Sequence[str] | None

__all__ = ["collect_events", "filter_events"]


async def collect_events(
    runnable: Any,
    input: Any,  # LangChain's own parameter name
    config: Any = None,
    *,
    version: Literal["v2", "v3"] = "v2",
    normalize: bool = True,
    include_names: Sequence[str] | None = None,
    include_types: Sequence[str] | None = None,
    include_tags: Sequence[str] | None = None,
    exclude_names: Sequence[str] | None = None,
    exclude_types: Sequence[str] | None = None,
    exclude_tags: Sequence[str] | None = None,
    **kwargs: Any,
) -> list[dict[str, Any]]:
    """Every event of ``runnable.astream_events(input, config, version=...)``, normalised.

    ``version="v3"`` (chat models only, beta in langchain-core 1.8) awaits the
    content-block stream and collects its events; filters do not apply to it.
    ``normalize=False`` returns the raw events. ::

        events = await collect_events(chain, "hi", include_names=["my_parser"])
        assert events[0]["data"]["input"] == "hi"   # the root input, see the module doc
    """
    filters: EventFilters = {
        "include_names": include_names,
        "include_types": include_types,
        "include_tags": include_tags,
        "exclude_names": exclude_names,
        "exclude_types": exclude_types,
        "exclude_tags": exclude_tags,
    }
    raw: list[Any]
    if version == "v3":
        if any(v is not None for v in filters.values()):
            raise UsageError("astream_events(version='v3') takes no include_*/exclude_* filters")
        stream = await runnable.astream_events(input, config, version="v3", **kwargs)
        raw = [ev async for ev in stream]
    else:
        raw = [ev async for ev in runnable.astream_events(input, config, version=version, **filters, **kwargs)]
    return normalize_events(raw) if normalize else raw


def _keep(event: Mapping[str, Any], f: EventFilters) -> bool:
    # The rules of langchain_core.runnables.utils._RootEventFilter.include_event.
    name = event.get("name")
    tags = event.get("tags") or []
    kind = run_type(str(event.get("event", "")), str(name))
    inc_names, inc_types, inc_tags = f.get("include_names"), f.get("include_types"), f.get("include_tags")
    keep = inc_names is None and inc_types is None and inc_tags is None
    if inc_names is not None:
        keep = keep or name in inc_names
    if inc_types is not None:
        keep = keep or kind in inc_types
    if inc_tags is not None:
        keep = keep or any(t in inc_tags for t in tags)
    if (exc_names := f.get("exclude_names")) is not None:
        keep = keep and name not in exc_names
    if (exc_types := f.get("exclude_types")) is not None:
        keep = keep and kind not in exc_types
    if (exc_tags := f.get("exclude_tags")) is not None:
        keep = keep and all(t not in exc_tags for t in tags)
    return keep


def filter_events(events: Iterable[Mapping[str, Any]], **filters: Unpack[EventFilters]) -> list[Mapping[str, Any]]:
    """The events LangChain's ``include_*``/``exclude_*`` filters would keep, in order.

    Works on raw or normalised events and returns the same objects (no copies). Includes
    are OR-ed, excludes then remove; a run's type is its event kind (``on_parser_stream``
    -> ``parser``); a custom event's type is its name. Unlike :func:`collect_events` it
    leaves ``data.input`` as it was. ::

        parser_events = filter_events(events, include_types=["parser"])
    """
    unknown = set(filters) - set(EventFilters.__annotations__)
    if unknown:
        raise UsageError(f"filter_events() got unknown filter(s) {sorted(unknown)}; "
                        f"use {', '.join(EventFilters.__annotations__)}")
    return [ev for ev in events if _keep(ev, filters)]
