"""Import vcrpy / pytest-recording cassettes (YAML or JSON serializer).

Two shapes are read:

- vcrpy's own: ``request.body`` a string, bytes (``!!binary``) or null;
  ``response.body.string`` likewise, still in its ``Content-Encoding`` (httpx stubs
  record the wire bytes, so a gzip body arrives as ``!!binary``). Older httpx
  cassettes keep ``status_code`` / ``content`` at the top of the response.
- pydantic-ai's serializer: JSON bodies under ``parsed_body``; SSE bodies as a YAML
  literal block under ``body.string``.

Bodies are stored decoded; stream bodies are split into units byte-exactly by their content
type (SSE events, NDJSON lines, and Bedrock's binary event-stream frames, stored ``!!binary``).

>>> cassette = import_vcr("tests/cassettes/test_chat.yaml")  # doctest: +SKIP
>>> cassette.save("tests/cassettes/test_chat.json")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..cassette.model import FORMAT_META, Cassette, Interaction, Request
from ..errors import CassetteError, require_extras
from ..wire.http import ContentDecoder, ContentDecodingError, header_dict, parse_body
from ..wire.scrub import Scrubber
from ._common import NO_TIMING, finish, make_response, read_source, split_uri

_HINT = "vcrpy cassettes are YAML (or JSON) with a top-level 'interactions' list"


def _load_document(text: str, path: Path) -> Any:
    """Parse with vcrpy's own safe loader (``!!binary``, ``!!python/str``, old tuples...)."""
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)  # vcrpy's JSON serializer; faster and exact
        except json.JSONDecodeError:
            pass  # YAML flow mappings also start with "{"
    require_extras(f"reading {path.name} (a vcrpy YAML cassette)", "vcr")  # PyYAML: imported only here
    import yaml

    try:
        from vcr.serializers import yamlserializer
        load: Any = yamlserializer.deserialize
    except ImportError:  # vcrpy absent: the safe loader reads every tag but the python/* ones
        load = yaml.safe_load
    try:
        return load(text)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise CassetteError(path, where, f"uses a YAML tag the safe loader refuses ({exc.problem})",
                            "vcrpy cassettes hold only plain data; re-record it, or remove the tag") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise CassetteError(path, where, f"is not valid YAML ({exc.problem or exc})",
                            "check the file is a vcrpy cassette and not truncated") from None
    except yaml.YAMLError as exc:
        raise CassetteError(path, "", f"is not valid YAML ({exc})", _HINT) from None


def _headers(raw: Any, path: Path, where: str) -> dict[str, str]:
    """vcrpy keeps each header as a list of values; join repeats as HTTP does."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise CassetteError(path, where, f"expected a mapping of headers, found {type(raw).__name__}", _HINT)
    return header_dict((str(name), v.decode("latin-1") if isinstance(v, bytes) else str(v))
                       for name, value in raw.items()
                       for v in (value if isinstance(value, (list, tuple)) else [value]))


def _as_bytes(value: Any, path: Path, where: str) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise CassetteError(path, where, f"expected a string or binary body, found {type(value).__name__}", _HINT)


def _request(raw: Any, path: Path, where: str) -> tuple[Request, str]:
    if not isinstance(raw, dict):
        raise CassetteError(path, where, "expected a mapping with method, uri, headers and body", _HINT)
    for key in ("method", "uri"):
        if not isinstance(raw.get(key), str):
            raise CassetteError(path, f"{where}.{key}", "required string field is missing", _HINT)
    host, url_path, query = split_uri(raw["uri"])
    headers = _headers(raw.get("headers"), path, f"{where}.headers")
    body: Any = None
    body_text: str | None = None
    if raw.get("parsed_body") is not None:
        body = raw["parsed_body"]  # pydantic-ai: the JSON body, already parsed
    else:
        data = _as_bytes(raw.get("body"), path, f"{where}.body")
        if data and headers.get("content-encoding"):
            try:
                data = ContentDecoder.decode(data, headers["content-encoding"])
            except ContentDecodingError as exc:
                raise CassetteError(path, f"{where}.body", f"cannot undo content-encoding: {exc}") from None
            headers.pop("content-encoding")
        body, body_text = parse_body(data)
    request = Request(raw["method"].upper(), url_path, query, headers, body, body_text)
    return request, host


def _status(raw: dict[str, Any], path: Path, where: str) -> int:
    status = raw.get("status")
    code = status.get("code") if isinstance(status, dict) else status
    if code is None:
        code = raw.get("status_code")  # httpx cassettes from vcrpy < 4
    if isinstance(code, str) and code.isdigit():
        code = int(code)
    if not isinstance(code, int) or isinstance(code, bool) or not 100 <= code <= 599:
        raise CassetteError(path, f"{where}.status", f"expected an HTTP status code, found {code!r}", _HINT)
    return code


def _response_body(raw: dict[str, Any], path: Path, where: str) -> tuple[bytes, bool]:
    """The body as stored, and whether it was text in the file (then it may be decoded already)."""
    if raw.get("parsed_body") is not None:  # pydantic-ai JSON response
        return json.dumps(raw["parsed_body"]).encode("utf-8"), True
    if "content" in raw and "body" not in raw:  # httpx cassettes from vcrpy < 4
        value = raw["content"]
    else:
        body = raw.get("body")
        value = body.get("string") if isinstance(body, dict) else body
    return _as_bytes(value, path, f"{where}.body.string"), not isinstance(value, bytes)


def _interaction(item: Any, n: int, path: Path, scrub: Scrubber | None) -> Interaction | None:
    where = f"interactions[{n}]"
    if not isinstance(item, dict) or not isinstance(item.get("response"), dict):
        raise CassetteError(path, where, "expected a mapping with 'request' and 'response'", _HINT)
    request, host = _request(item.get("request"), path, f"{where}.request")
    raw = item["response"]
    w = f"{where}.response"
    status = _status(raw, path, w)
    headers = _headers(raw.get("headers"), path, f"{w}.headers")
    body, was_text = _response_body(raw, path, w)
    encoding = headers.get("content-encoding", "")
    if body and encoding:
        try:
            body = ContentDecoder.decode(body, encoding)
        except ContentDecodingError as exc:
            if not was_text:
                raise CassetteError(path, f"{w}.body.string", f"cannot undo content-encoding {encoding!r}: {exc}",
                                    "the body may be damaged; record the cassette again") from None
            # A text body under a gzip header was decoded before it was saved
            # (vcrpy's decode_compressed_response): keep it as it is.
    response = make_response(status, headers, body)
    note = f"imported from vcrpy cassette (recorded from {host})" if host else "imported from vcrpy cassette"
    if response.events is not None:
        note += f"; {NO_TIMING}"
    return finish(request, response, host, note, scrub)


def import_vcr(path: str | os.PathLike[str], *, scrub: Scrubber | None = None) -> Cassette:
    """Convert a vcrpy / pytest-recording cassette into a :class:`Cassette` (not saved).

    Secrets are scrubbed on the way with ``scrub`` (default: :class:`Scrubber`). Any
    file that cannot be read as a vcrpy cassette raises :class:`CassetteError`.

    >>> import_vcr("cassettes/test_stream.yaml").save("cassettes/test_stream.json")  # doctest: +SKIP
    """
    p = Path(path)
    data = read_source(p)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CassetteError(p, f"byte {exc.start}", "is not UTF-8 text, so not a vcrpy cassette", _HINT) from None
    doc = _load_document(text, p)
    if isinstance(doc, list) and doc and isinstance(doc[0], dict) and "request" in doc[0]:
        raise CassetteError(p, "", "is a vcrpy cassette from before vcrpy 1.0",
                            "migrate it first: python -m vcr.migration <file>")
    if not isinstance(doc, dict) or not isinstance(doc.get("interactions"), list):
        found = type(doc).__name__ if not isinstance(doc, dict) else f"keys {sorted(map(str, doc))[:5]}"
        raise CassetteError(p, "top level", f"is not a vcrpy cassette (found {found})", _HINT)
    version = doc.get("version", 1)
    if version != 1:
        raise CassetteError(p, "version", f"unknown vcrpy cassette version {version!r} (known: 1)", _HINT)
    variant = "pydantic-ai parsed_body" if any(
        isinstance(i, dict) and any(isinstance(part, dict) and "parsed_body" in part for part in i.values())
        for i in doc["interactions"]) else "vcrpy"
    interactions = [i for n, item in enumerate(doc["interactions"])
                    if (i := _interaction(item, n, p, scrub)) is not None]
    meta = {
        "format": FORMAT_META,
        "source": p.name,
        "imported_from": "vcrpy cassette",
        "source_variant": variant,
        "note": f"imported from vcrpy cassette {p.name}; {NO_TIMING}",
    }
    return Cassette(interactions=interactions, meta=meta)
