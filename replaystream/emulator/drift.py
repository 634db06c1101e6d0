"""Drift check: has the provider's stream *shape* changed since a cassette was recorded?

Each recorded request is sent again (to the live API, or to ``base_url``) and the two
responses are compared by shape only: status, content type, the order of event types
(runs of the same type collapsed, since text length varies), the JSON fields each event
type carries, and the usage fields. Different text is expected and never reported.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..cassette.model import Cassette, Interaction
from ..cassette.framing import SSE, Framing, by_content_type, by_name
from ..errors import ReplayStreamError

LIVE_BASE = {"openai": "https://api.openai.com", "anthropic": "https://api.anthropic.com",
             "google": "https://generativelanguage.googleapis.com"}
KEY_ENV = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "google": "GOOGLE_API_KEY",
           "azure-openai": "AZURE_OPENAI_API_KEY"}
#: Where a live check sends each provider's key (``Bearer`` prefixed for authorization).
KEY_HEADER = {"anthropic": "x-api-key", "google": "x-goog-api-key", "azure-openai": "api-key"}
#: Providers whose live base URL is the user's own, from a variable.
BASE_ENV = {"azure-openai": "AZURE_OPENAI_ENDPOINT", "ollama": "OLLAMA_HOST"}


@dataclass
class Shape:
    status: int
    content_type: str
    sequence: list[str] = field(default_factory=list)  # event types, repeats collapsed
    fields: dict[str, set[str]] = field(default_factory=dict)  # event type -> JSON key paths
    usage: set[str] = field(default_factory=set)


def _paths(value: Any, prefix: str = "") -> Iterable[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            path = f"{prefix}.{k}" if prefix else str(k)
            yield path
            yield from _paths(v, path)
    elif isinstance(value, list):
        for item in value:
            yield from _paths(item, f"{prefix}[]")


def _event_type(name: str | None, data: Any, raw_data: str) -> str:
    if name:
        return name
    if isinstance(data, dict):
        for key in ("type", "object"):
            if isinstance(data.get(key), str):
                return str(data[key])
        return "error" if "error" in data else "data"
    return "[DONE]" if raw_data.strip() == "[DONE]" else "data"


def _usage_paths(data: Any) -> set[str]:
    # OpenAI and Anthropic say ``usage``, Gemini ``usageMetadata``, Ollama counts at top level.
    return {p.split(key, 1)[1] for p in _paths(data) for key in ("usage.", "usageMetadata.") if key in p}


def shape_of(status: int, content_type: str, events: Iterable[bytes] | None, body: bytes | None,
             framing: Framing = SSE) -> Shape:
    shape = Shape(status, content_type.split(";", 1)[0].strip().lower())
    if events is None:
        try:
            data = json.loads(body or b"")
        except ValueError:
            return shape
        shape.fields["body"] = set(_paths(data))
        shape.usage = _usage_paths(data)
        return shape
    for raw in events:
        unit = framing.view(raw)  # an SSE event, an NDJSON line, an event-stream frame (decoded)
        if not unit.text and unit.name is None:
            continue  # comments / keep-alives carry no shape
        data = unit.data
        kind = _event_type(unit.name, data, unit.text)
        if not shape.sequence or shape.sequence[-1] != kind:
            shape.sequence.append(kind)
        if data is not None:
            shape.fields.setdefault(kind, set()).update(_paths(data))
            shape.usage |= _usage_paths(data)
    return shape


def recorded_shape(inter: Interaction) -> Shape:
    r = inter.response
    events = [e.raw for e in r.events] if r.events is not None else None
    return shape_of(r.status, r.headers.get("content-type", ""), events, r.body, by_name(r.framing))


def compare(old: Shape, new: Shape) -> list[str]:
    """Human-readable differences in shape (empty: no drift)."""
    out: list[str] = []
    if old.status != new.status:
        out.append(f"status {old.status} -> {new.status}")
    if old.content_type != new.content_type:
        out.append(f"content type {old.content_type!r} -> {new.content_type!r}")
    if old.sequence != new.sequence:
        gone = [t for t in old.sequence if t not in new.sequence]
        added = [t for t in new.sequence if t not in old.sequence]
        detail = "; ".join(filter(None, [f"gone: {', '.join(dict.fromkeys(gone))}" if gone else "",
                                         f"new: {', '.join(dict.fromkeys(added))}" if added else ""]))
        out.append(f"event types/order changed ({detail or 'reordered'}):\n      recorded: "
                   f"{' '.join(old.sequence)}\n      now:      {' '.join(new.sequence)}")
    for kind in sorted(set(old.fields) & set(new.fields)):
        lost, extra = old.fields[kind] - new.fields[kind], new.fields[kind] - old.fields[kind]
        if lost:
            out.append(f"{kind}: fields gone: {', '.join(sorted(lost))}")
        if extra:
            out.append(f"{kind}: new fields: {', '.join(sorted(extra))}")
    if old.usage != new.usage:
        out.append(f"usage fields {sorted(old.usage)} -> {sorted(new.usage)}")
    return out


@dataclass
class DriftResult:
    index: int
    target: str
    differences: list[str]
    error: str = ""  # the server answered with an HTTP error: no shape to compare


class DriftUnavailable(ReplayStreamError):
    """The check cannot run (no key, no explicit permission); the message says why."""


class DriftUnreachable(ReplayStreamError):
    """The server could not be reached; the message names the URL."""


_ERROR_BODY_CAP = 500
_ERROR_HINTS = {401: "the key was refused: check the API key variable",
                403: "the key may not use this model or endpoint",
                404: "check the URL (the recorded path is appended to the base URL) and the model name"}


def join_url(base: str, target: str) -> str:
    """``base`` + the recorded ``target``; a base that already ends in the target's first
    segments (``.../v1`` with ``/v1/messages``) does not repeat them."""
    base = base.rstrip("/")
    prefix = urlsplit(base).path
    if prefix and (target == prefix or target.startswith(prefix + "/")):
        base = base[: len(base) - len(prefix)]
    return base + target


def http_error(status: int, reason: str, body: bytes) -> str:
    """An HTTP error answer as one readable line: status, the body (capped), a hint."""
    text = " ".join(body.decode("utf-8", "replace").split())
    if len(text) > _ERROR_BODY_CAP:
        text = text[:_ERROR_BODY_CAP] + f" ... ({len(text) - _ERROR_BODY_CAP} more characters)"
    hint = _ERROR_HINTS.get(status, "")
    return f"HTTP {status} {reason}".rstrip() + (f": {text}" if text else "") + (f" ({hint})" if hint else "")


def check_cassette(cassette: Cassette, *, base_url: str | None, live: bool, timeout: float = 60.0) -> list[DriftResult]:
    """Re-send every recorded request and compare shapes (``base_url`` wins over live)."""
    import httpx2

    results: list[DriftResult] = []
    with httpx2.Client(timeout=timeout) as client:
        for n, inter in enumerate(cassette.interactions):
            headers = dict(inter.request.headers)
            if base_url is None:
                base = _live_base(inter, n, live, headers)
            else:
                base = base_url
            url = join_url(base, inter.request.target)
            content = (json.dumps(inter.request.body).encode() if inter.request.body is not None
                       else (inter.request.body_text or "").encode())
            target = f"{inter.request.method} {inter.request.target}"
            try:
                results.append(_send(client, inter, n, url, headers, content, target))
            except httpx2.TransportError as exc:
                raise DriftUnreachable(f"cannot reach {url}: {exc or type(exc).__name__}") from None
    return results


def _live_base(inter: Interaction, n: int, live: bool, headers: dict[str, str]) -> str:
    """The provider's own base URL, with its key put in ``headers``; raises when not allowed."""
    if inter.provider not in (*KEY_ENV, *BASE_ENV, "openai-compatible", "unknown"):
        raise DriftUnavailable(
            f"interaction {n} ({inter.provider}): no live drift check for this provider (its requests "
            "are signed per run); point --drift-base-url at another server (the emulator)")
    provider = "openai" if inter.provider == "unknown" else inter.provider  # a gateway: only with a base URL
    var = KEY_ENV.get(provider)
    key = os.environ.get(var, "") if var else ""
    base = os.environ.get(BASE_ENV[provider], "") if provider in BASE_ENV else LIVE_BASE.get(provider, "")
    if provider == "ollama":
        base = base if "://" in base else f"http://{base or 'localhost:11434'}"
    if not live or (var and not key) or not base:
        needs = " and ".join(filter(None, [var, BASE_ENV.get(provider)]))
        raise DriftUnavailable(
            f"interaction {n} ({inter.provider}): a live drift check needs --live" + (f" and {needs} set" if needs else "")
            + "; or point --drift-base-url at another server (the emulator)")
    if key:
        header = KEY_HEADER.get(provider, "authorization")
        headers[header] = key if header != "authorization" else f"Bearer {key}"
    return base


def _send(client: Any, inter: Interaction, n: int, url: str, headers: dict[str, str], content: bytes,
          target: str) -> DriftResult:
    with client.stream(inter.request.method, url, headers=headers, content=content) as response:
        ctype = response.headers.get("content-type", "")
        if response.status_code >= 400 and inter.response.status < 400:
            return DriftResult(n, target, [], http_error(response.status_code, response.reason_phrase,
                                                         response.read()))
        framing = by_content_type(ctype)
        if framing is not None:  # a stream: SSE events, NDJSON lines, event-stream frames
            framer = framing.new_framer()
            events = [e for chunk in response.iter_bytes() for e in framer.feed(chunk)] + framer.finish()
            now = shape_of(response.status_code, ctype, events, None, framing)
        else:
            now = shape_of(response.status_code, ctype, None, response.read())
    return DriftResult(n, target, compare(recorded_shape(inter), now))
