"""Import a raw SSE body (a ``.bin`` file holding only what the server sent).

Such a file has no request, so one is synthesized: the usual endpoint of the API and
a plausible JSON body (model taken from the stream, ``stream: true``). The interaction
``note`` and the cassette ``meta`` say so; pass ``request_body`` to match a real call.

>>> cassette = import_raw_sse("refusal.bin")  # doctest: +SKIP
>>> cassette.interactions[0].request.body["stream"]  # doctest: +SKIP
True
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..cassette.model import FORMAT_META, Cassette, Request
from ..errors import CassetteError, UsageError
from ..wire.scrub import Scrubber
from ..cassette.sse import parse_event, split_events
from ._common import NO_TIMING, finish, make_response, read_source

#: Where each API's requests go, and the host that serves it.
_ENDPOINTS: dict[tuple[str, str], tuple[str, str]] = {
    ("openai", "chat.completions"): ("/v1/chat/completions", "api.openai.com"),
    ("openai", "responses"): ("/v1/responses", "api.openai.com"),
    ("openai", "completions"): ("/v1/completions", "api.openai.com"),
    ("openai-compatible", "chat.completions"): ("/v1/chat/completions", "openai-compatible.invalid"),
    ("anthropic", "messages"): ("/v1/messages", "api.anthropic.com"),
}
_PROMPT = "(request not recorded: synthesized by replaystream import)"
_FIELDS = ("data:", "event:", "id:", "retry:", ":")


def looks_like_sse(data: bytes) -> bool:
    """Does the body start like a server-sent-event stream?"""
    head = data.lstrip(b"\r\n").lstrip(b"\xef\xbb\xbf")[:64]
    return any(head.startswith(f.encode()) for f in _FIELDS)


def synthesize_body(provider: str, api: str, chunks: list[Any]) -> dict[str, Any]:
    """A plausible request body for the stream whose parsed ``data:`` payloads are ``chunks``."""
    objects = [c for c in chunks if isinstance(c, dict)]
    model = next((str(c["model"]) for c in objects if c.get("model")), None)
    if model is None:  # responses / anthropic nest the model one level down
        model = next((str(c[k]["model"]) for c in objects for k in ("response", "message")
                      if isinstance(c.get(k), dict) and c[k].get("model")), "unknown-model")
    if provider == "anthropic":
        return {"model": model, "max_tokens": 1024, "stream": True,
                "messages": [{"role": "user", "content": _PROMPT}]}
    if api == "responses":
        return {"model": model, "input": _PROMPT, "stream": True}
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": _PROMPT}], "stream": True}
    choices = [ch.get("index", 0) for c in objects for ch in c.get("choices") or [] if isinstance(ch, dict)]
    if choices and max(choices) > 0:
        body["n"] = max(choices) + 1
    if any(c.get("usage") for c in objects):
        body["stream_options"] = {"include_usage": True}
    return body


def import_raw_sse(path: str | os.PathLike[str], *, provider: str = "openai", api: str = "chat.completions",
                   request_body: dict[str, Any] | None = None, scrub: Scrubber | None = None) -> Cassette:
    """A one-interaction cassette from a raw SSE body, with a synthesized request.

    ``request_body`` replaces the synthesized JSON body (the SDK call that replays the
    cassette must send exactly this body to match).
    """
    p = Path(path)
    if (provider, api) not in _ENDPOINTS:
        known = ", ".join(f"{a}/{b}" for a, b in _ENDPOINTS)
        raise UsageError(f"import_raw_sse: no endpoint known for {provider}/{api} (known: {known})")
    data = read_source(p)
    if not looks_like_sse(data):
        raise CassetteError(p, "byte 0", "is not a server-sent-event body (it does not start with "
                            "'data:', 'event:' or ':')",
                            "import_raw_sse reads raw SSE bodies; use import_vcr for vcrpy cassettes")
    raws = split_events(data)
    parsed = [parse_event(r) for r in raws]
    if not any(e.data or e.event for e in parsed):
        raise CassetteError(p, "", "holds no SSE event with a 'data:' or 'event:' field",
                            "check the file is a whole response body")
    url_path, host = _ENDPOINTS[(provider, api)]
    synthesized = request_body is None
    body = synthesize_body(provider, api, [e.json() for e in parsed]) if request_body is None else request_body
    headers = {"content-type": "application/json", "accept": "application/json"}
    if provider == "anthropic":
        headers["anthropic-version"] = "2023-06-01"
    request = Request("POST", url_path, "", headers, body)
    response = make_response(200, {"content-type": "text/event-stream; charset=utf-8"}, data)
    what = "request synthesized (the source holds only the response body)" if synthesized \
        else "request body given by the importer's caller (the source holds only the response body)"
    interaction = finish(request, response, host, f"imported from raw SSE body; {what}; {NO_TIMING}", scrub)
    meta = {
        "format": FORMAT_META,
        "source": p.name,
        "imported_from": "raw SSE body",
        "synthesized_request": synthesized,
        "note": f"imported from raw SSE body {p.name}; {what}; {NO_TIMING}",
    }
    return Cassette(interactions=[interaction] if interaction is not None else [], meta=meta)
