"""What every importer shares: reading the source, decoding bodies, building interactions.

Imported responses carry no timing (the source formats never stored any), so every
event and plain body gets offset 0.0 and the interaction says so in its ``note``.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from ..cassette.model import Event, Interaction, Request, Response
from ..errors import CassetteError
from ..providers import detect, is_event_stream
from ..wire.scrub import TRANSFER_RESPONSE_HEADERS, Scrubber
from ..cassette.sse import split_events

#: Hosts that serve the OpenAI wire format without being OpenAI.
OPENAI_COMPATIBLE_HOSTS = (
    "api.groq.com", "openrouter.ai", "api.together.xyz", "api.fireworks.ai", "api.deepseek.com",
    "api.mistral.ai", "api.x.ai", "api.perplexity.ai", "api.cerebras.ai", "generativelanguage.googleapis.com",
)
#: Hosts that are OpenAI itself (Azure OpenAI speaks the same API under the same rules).
_OPENAI_HOST_SUFFIXES = ("api.openai.com", ".openai.azure.com")
_LOOPBACK = ("localhost", "127.0.0.1", "::1", "")

NO_TIMING = "event timing was not recorded by the source, so every event has ms 0.0"
FORMAT_META = "replaystream cassette v1: see docs/cassette-format.md"


def read_source(path: Path) -> bytes:
    """The file's bytes, or a :class:`CassetteError` saying why they cannot be had."""
    if path.is_dir():
        raise CassetteError(path, "", "is a directory, not a file to import",
                            "point at the cassette file inside it")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CassetteError(path, "", "no such file to import", "check the path") from None
    except OSError as exc:
        raise CassetteError(path, "", f"cannot be read: {exc.strerror or exc}") from exc
    if not data.strip():
        raise CassetteError(path, "", "is empty: there is nothing to import",
                            "point at a vcrpy cassette (.yaml) or a raw SSE body (.bin)")
    return data


def classify(host: str, path: str, headers: Mapping[str, str]) -> tuple[str, str]:
    """``(provider, api)`` from the request, with the host telling OpenAI from look-alikes."""
    provider, api = detect(path, headers)
    host = host.lower()
    if provider == "openai":
        known_openai = host.endswith(_OPENAI_HOST_SUFFIXES) or host in _LOOPBACK
        if host in OPENAI_COMPATIBLE_HOSTS or not known_openai:
            provider = "openai-compatible"
    return provider, api


def split_uri(uri: str) -> tuple[str, str, str]:
    """``(host, path, query)`` of an absolute or path-only URI."""
    parts = urlsplit(uri)
    return parts.hostname or "", parts.path or "/", parts.query


def _decode_one(coding: str, data: bytes) -> bytes:
    if coding in ("gzip", "x-gzip"):
        return zlib.decompress(data, 16 + zlib.MAX_WBITS)
    if coding == "deflate":
        try:
            return zlib.decompress(data)
        except zlib.error:  # some servers send raw deflate without the zlib wrapper
            return zlib.decompress(data, -zlib.MAX_WBITS)
    if coding == "br":
        try:
            import brotli  # type: ignore[import-not-found,unused-ignore]  # optional, as in httpx
        except ImportError:
            raise ValueError("brotli is not installed (pip install brotli)") from None
        return bytes(brotli.decompress(data))
    raise ValueError(f"unsupported content-encoding {coding!r}")


def decode_body(data: bytes, content_encoding: str) -> bytes:
    """Undo ``Content-Encoding`` (codings are listed in the order they were applied).

    Raises :class:`ValueError` for an unknown coding or bytes that do not decode.
    """
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    for coding in reversed(codings):
        if coding == "identity":
            continue
        try:
            data = _decode_one(coding, data)
        except ValueError:
            raise
        except Exception as exc:
            raise ValueError(str(exc)) from exc
    return data


def make_response(status: int, headers: dict[str, str], body: bytes) -> Response:
    """A stream when the content type says SSE (split byte-exactly), else a plain body."""
    kept = {k: v for k, v in headers.items()
            if k not in TRANSFER_RESPONSE_HEADERS and k != "content-encoding"}
    if is_event_stream(kept.get("content-type")):
        return Response(status, kept, events=[Event(raw, 0.0) for raw in split_events(body)])
    return Response(status, kept, body=body)


def finish(request: Request, response: Response, host: str, note: str,
           scrub: Scrubber | None) -> Interaction | None:
    """Classify and scrub one interaction (``None`` when a scrub hook drops it)."""
    provider, api = classify(host, request.path, request.headers)
    interaction = Interaction(request, response, provider, api, note=note)
    return (scrub or Scrubber())(interaction)
