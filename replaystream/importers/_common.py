"""What every importer shares: reading the source, building interactions.

Imported responses carry no timing (the source formats never stored any), so every
event and plain body gets offset 0.0 and the interaction says so in its ``note``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from ..cassette.model import Event, Interaction, Request, Response
from ..cassette.framing import by_content_type
from ..errors import CassetteError
from ..providers import detect
from ..wire.http import stored_response_headers
from ..wire.scrub import Scrubber

NO_TIMING = "event timing was not recorded by the source, so every event has ms 0.0"


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


def split_uri(uri: str) -> tuple[str, str, str]:
    """``(host, path, query)`` of an absolute or path-only URI."""
    parts = urlsplit(uri)
    return parts.hostname or "", parts.path or "/", parts.query


def make_response(status: int, headers: dict[str, str], body: bytes) -> Response:
    """A stream when the content type names a framing (SSE, NDJSON, AWS event-stream: split
    byte-exactly into its units), else a plain body."""
    kept = stored_response_headers(headers, decoded=True)
    framing = by_content_type(kept.get("content-type"))
    if framing is not None:
        return Response(status, kept, events=[Event(raw, 0.0) for raw in framing.split(body)], framing=framing.name)
    return Response(status, kept, body=body)


def finish(request: Request, response: Response, host: str, note: str,
           scrub: Scrubber | None) -> Interaction | None:
    """Classify and scrub one interaction (``None`` when a scrub hook drops it)."""
    provider, api = detect(request.path, request.headers, host)  # the host tells OpenAI from look-alikes
    interaction = Interaction(request, response, provider, api, note=note)
    return (scrub or Scrubber())(interaction)
