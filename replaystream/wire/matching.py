"""Request matching: O(1) lookup by a canonical key, and a readable diff on a miss."""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from ..cassette.model import Interaction, Request
from .secrets import MATCH_PLACEHOLDER, PLACEHOLDER, secret_query_keys


@dataclass(frozen=True)
class MatchConfig:
    """What makes two requests "the same".

    Always: method, path, query (order-insensitive) and the JSON body. ``ignore_fields``
    removes volatile body fields by dotted path (``*`` matches every list item or key),
    e.g. ``("metadata.user_id", "messages.*.id")``. ``headers`` adds request headers
    to the key, e.g. ``("anthropic-beta", "api-version")``. ``ignore_query`` leaves query
    parameters out; by default ``beta``, which older anthropic SDKs added to their beta
    endpoints (``/v1/messages?beta=true``) and current ones do not, so a cassette recorded
    with either replays with both (``ignore_query=()`` matches on it again). ``body=False``
    matches on the route alone (method, path, query). Query keys that carry credentials
    (Gemini's ``key``, Azure's ``api-key``) never count: recordings hold them scrubbed.
    """

    ignore_fields: Sequence[str] = ()
    headers: Sequence[str] = ()
    ignore_query: Sequence[str] = ("beta",)
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
    # Keys sent in the query (Gemini's ?key=, Azure's ?api-key=) and scrubbed values (a
    # placeholder) are left out: a cassette that dropped the key, or numbered it otherwise, still matches.
    ignored_q = {q.lower() for q in config.ignore_query} | secret_query_keys()
    query = sorted((k, v) for k, v in parse_qsl(request.query, keep_blank_values=True)
                   if k.lower() not in ignored_q and not PLACEHOLDER.fullmatch(v))
    out: dict[str, Any] = {"method": request.method.upper(), "path": request.path, "query": query, "body": body}
    if config.headers:
        out["headers"] = {h.lower(): request.headers.get(h.lower()) for h in config.headers}
    return out


def unnumbered(text: str) -> str:
    """Every ``<scrubbed:N>`` read as one: the numbers tell secrets apart for a reader, and
    the key sent at replay is not the one recorded."""
    return PLACEHOLDER.sub(MATCH_PLACEHOLDER, text) if "<scrubbed" in text else text


def request_key(request: Request, config: MatchConfig) -> str:
    return unnumbered(json.dumps(canonical(request, config), sort_keys=True, separators=(",", ":"),
                                  ensure_ascii=False))


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


# A miss diff must stay readable when a body holds a huge string (a 1 MB prompt): long
# strings are abridged in the line diff, and each one that differs gets an excerpt around
# its first difference, with a ^ under it. The whole diff is capped.
_LONG = 200  # strings longer than this are abridged in the line diff
_CONTEXT = 80  # characters shown either side of the first difference
_EXCERPTS = 3  # long strings given an excerpt, at most
_DIFF_CAP = 4000  # characters of diff, at most


def _abridge(value: Any, path: str, longs: dict[str, str]) -> Any:
    """``value`` with each long string replaced by a short stand-in (its start, length and a
    digest, so two different strings never look alike); ``longs`` collects them by path."""
    if isinstance(value, str):
        if len(value) <= _LONG:
            return value
        longs[path] = value
        digest = hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=4).hexdigest()
        return f"{value[:60]}... ({len(value)} characters, digest {digest})"
    if isinstance(value, dict):
        return {k: _abridge(v, f"{path}.{k}" if path else str(k), longs) for k, v in value.items()}
    if isinstance(value, list):
        return [_abridge(v, f"{path}[{i}]", longs) for i, v in enumerate(value)]
    return value


def _pretty(data: dict[str, Any], longs: dict[str, str]) -> list[str]:
    return unnumbered(json.dumps(_abridge(data, "", longs), indent=2, sort_keys=True,
                                  ensure_ascii=False)).splitlines()


def _escaped(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)[1:-1]


def _common_prefix(a: str, b: str) -> int:
    """The length of the common prefix, by bisection: slice compares run in C, a loop would not."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _excerpt(path: str, have: str, want: str) -> list[str]:
    """Where two long strings first differ: ``@ path, char K:`` and both sides around it."""
    k = _common_prefix(have, want)
    start = max(0, k - _CONTEXT)
    lead = "..." if start else ""
    lines = [f"@ {path}, char {k} (recorded {len(have)} characters, this request {len(want)}):"]
    for sign, text in (("-", have), ("+", want)):
        end = k + _CONTEXT
        lines.append(f"{sign} {lead}{_escaped(text[start:end])}{'...' if end < len(text) else ''}")
    lines.append("  " + " " * (len(lead) + len(_escaped(have[start:k]))) + "^")
    return lines


def _capped(lines: list[str], budget: int) -> list[str]:
    out: list[str] = []
    for n, line in enumerate(lines):
        budget -= len(line) + 1
        if budget < 0:
            out.append(f"... ({len(lines) - n} more diff lines not shown)")
            break
        out.append(line)
    return out


def closest(request: Request, interactions: Sequence[Interaction], config: MatchConfig) -> tuple[int, str] | None:
    """The recorded interaction most like ``request``, and a unified diff of the two.

    Only candidates with the same method and path are compared when there are any. Long
    strings are abridged in the diff and excerpted around their first difference.
    """
    if not interactions:
        return None
    want = canonical(request, config)
    same_route = [n for n, i in enumerate(interactions)
                  if i.request.method == request.method and i.request.path == request.path]
    pool = same_route or list(range(len(interactions)))
    want_longs: dict[str, str] = {}
    want_lines = _pretty(want, want_longs)
    best: tuple[float, int, list[str], dict[str, str]] | None = None
    for n in pool[:200]:  # a diff per candidate is costly; 200 is plenty to find the nearest
        have_longs: dict[str, str] = {}
        have_lines = _pretty(canonical(interactions[n].request, config), have_longs)
        ratio = difflib.SequenceMatcher(None, have_lines, want_lines, autojunk=False).ratio()
        if best is None or ratio > best[0]:
            best = (ratio, n, have_lines, have_longs)
    assert best is not None
    _, n, have_lines, have_longs = best
    diff = list(difflib.unified_diff(have_lines, want_lines, f"recorded interaction {n}", "this request",
                                     lineterm="", n=2))
    changed = [p for p in have_longs if p in want_longs and have_longs[p] != want_longs[p]]
    excerpts = [line for p in changed[:_EXCERPTS] for line in _excerpt(p, have_longs[p], want_longs[p])]
    shown = _capped(diff, _DIFF_CAP - sum(len(line) + 1 for line in excerpts)) + excerpts
    return n, "\n".join(shown)
