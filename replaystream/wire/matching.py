"""Request matching: O(1) lookup by a canonical key, and a readable diff on a miss."""

from __future__ import annotations

import copy
import difflib
import json
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from ..cassette.model import Interaction, Request


@dataclass(frozen=True)
class MatchConfig:
    """What makes two requests "the same".

    Always: method, path, query (order-insensitive) and the JSON body. ``ignore_fields``
    removes volatile body fields by dotted path (``*`` matches every list item or key),
    e.g. ``("metadata.user_id", "messages.*.id")``. ``headers`` adds request headers
    to the key, e.g. ``("anthropic-beta", "api-version")``. ``ignore_query`` leaves query
    parameters out (e.g. ``("beta",)``, which older anthropic SDKs sent); ``body=False``
    matches on the route alone (method, path, query).
    """

    ignore_fields: Sequence[str] = ()
    headers: Sequence[str] = ()
    ignore_query: Sequence[str] = ()
    body: bool = True


def _drop(value: Any, parts: list[str]) -> None:
    if not parts:
        return
    head, rest = parts[0], parts[1:]
    if isinstance(value, dict):
        keys = list(value) if head == "*" else [head]
        for k in keys:
            if k in value:
                if rest:
                    _drop(value[k], rest)
                else:
                    del value[k]
    elif isinstance(value, list):
        if head == "*":
            idx = list(range(len(value)))
        elif head.isdigit():
            idx = [int(head)] if int(head) < len(value) else []
        else:
            idx = []
        for i in reversed(idx):
            if rest:
                _drop(value[i], rest)
            else:
                del value[i]


def canonical(request: Request, config: MatchConfig) -> dict[str, Any]:
    """The parts of a request that matching compares, as plain data."""
    body: Any = request.body if request.body is not None else request.body_text
    if not config.body:
        body = None
    elif config.ignore_fields and isinstance(body, (dict, list)):
        body = copy.deepcopy(body)
        for path in config.ignore_fields:
            _drop(body, path.split("."))
    ignored_q = {q.lower() for q in config.ignore_query}
    query = sorted((k, v) for k, v in parse_qsl(request.query, keep_blank_values=True)
                   if k.lower() not in ignored_q)
    out: dict[str, Any] = {"method": request.method.upper(), "path": request.path, "query": query, "body": body}
    if config.headers:
        out["headers"] = {h.lower(): request.headers.get(h.lower()) for h in config.headers}
    return out


def request_key(request: Request, config: MatchConfig) -> str:
    return json.dumps(canonical(request, config), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class MatchIndex:
    """Recorded interactions by request key; identical requests replay in recorded order.

    Thread-safe: concurrent requests through one cassette each take a distinct response.
    """

    def __init__(self, interactions: Sequence[Interaction], config: MatchConfig) -> None:
        self.config = config
        self.interactions = list(interactions)
        self._queues: dict[str, deque[int]] = {}
        self._all: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        self.used: set[int] = set()
        for n, inter in enumerate(self.interactions):
            key = request_key(inter.request, config)
            self._queues.setdefault(key, deque()).append(n)
            self._all.setdefault(key, []).append(n)

    def take(self, request: Request, repeat: bool = False) -> tuple[int, Interaction] | None:
        """Pop the next unplayed interaction for this request (``None`` when there is none).

        With ``repeat``, a request whose responses are all used gets the last one again.
        """
        key = request_key(request, self.config)
        with self._lock:
            queue = self._queues.get(key)
            if queue:
                n = queue.popleft()
            elif repeat and key in self._all:
                n = self._all[key][-1]
            else:
                return None
            self.used.add(n)
        return n, self.interactions[n]

    def was_recorded(self, request: Request) -> int:
        """How many interactions in the cassette have this request's key (played or not)."""
        return len(self._all.get(request_key(request, self.config), ()))

    def mark_used(self, indices: Sequence[int]) -> None:
        """Count interactions as replayed by other means (e.g. message-level fakes)."""
        with self._lock:
            self.used.update(indices)

    def unused(self) -> list[int]:
        with self._lock:
            return [n for n in range(len(self.interactions)) if n not in self.used]


def _pretty(data: dict[str, Any]) -> list[str]:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False).splitlines()


def closest(request: Request, interactions: Sequence[Interaction], config: MatchConfig) -> tuple[int, str] | None:
    """The recorded interaction most like ``request``, and a unified diff of the two.

    Only candidates with the same method and path are compared when there are any.
    """
    if not interactions:
        return None
    want = canonical(request, config)
    same_route = [n for n, i in enumerate(interactions)
                  if i.request.method == request.method and i.request.path == request.path]
    pool = same_route or list(range(len(interactions)))
    want_lines = _pretty(want)
    best: tuple[float, int, list[str]] | None = None
    for n in pool[:200]:  # a diff per candidate is costly; 200 is plenty to find the nearest
        have_lines = _pretty(canonical(interactions[n].request, config))
        ratio = difflib.SequenceMatcher(None, have_lines, want_lines, autojunk=False).ratio()
        if best is None or ratio > best[0]:
            best = (ratio, n, have_lines)
    assert best is not None
    _, n, have_lines = best
    diff = difflib.unified_diff(have_lines, want_lines, f"recorded interaction {n}", "this request", lineterm="", n=2)
    return n, "\n".join(diff)
