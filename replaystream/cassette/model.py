"""Cassette format v2: the data model, and loading / saving it.

A cassette is one JSON file (see ``docs/cassette-format.md``). The raw bytes of every
response unit (an SSE event, an NDJSON line, an event-stream frame: the response's
``framing`` says which) are the source of truth; everything else is there to match
requests and to help a reviewer read the file.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, get_args

from .. import providers
from ..errors import CassetteError, UsageError
from ..providers import UNKNOWN
from . import validate
from .framing import FRAMINGS, SSE
from .serialize import dump_cassette
from .store import atomic_write as atomic_write  # re-exported: its home before store.py

FORMAT_VERSION = 2
VERSION_KEY = "replaystream_cassette"
#: What ``meta.format`` says in every cassette replaystream writes, for a reader of the file.
FORMAT_META = f"replaystream cassette v{FORMAT_VERSION}: see docs/cassette-format.md"
SUFFIX = ".json"

#: How a recorded response ended.
EndState = Literal["complete", "client_closed", "error"]
END_COMPLETE: Final = "complete"  # the body was read to the end
END_CLIENT_CLOSED: Final = "client_closed"  # the caller stopped reading early; events are a prefix
END_ERROR: Final = "error"  # the connection failed mid-body; replay raises ``error`` again
END_STATES: tuple[EndState, ...] = get_args(EndState)


@dataclass(slots=True)  # a long stream holds 10^4 of these: no per-event __dict__
class Event:
    """One stream unit (SSE event, NDJSON line, event-stream frame) exactly as it arrived,
    and when its last byte arrived."""

    raw: bytes
    ms: float = 0.0


@dataclass
class Request:
    method: str
    path: str
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None  # parsed JSON, or None
    body_text: str | None = None  # a body that is not JSON, verbatim

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path


@dataclass
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    events: list[Event] | None = None  # a stream; None for a plain body
    body: bytes | None = None  # a plain body, decoded (no gzip/br)
    body_ms: float = 0.0  # when a plain body finished arriving
    end: EndState = END_COMPLETE
    error: dict[str, str] | None = None  # {"type": ..., "message": ...} when end == "error"
    framing: str = SSE.name  # how ``events`` were split (a name in cassette.framing.FRAMINGS)

    @property
    def is_stream(self) -> bool:
        return self.events is not None

    def content(self) -> bytes:
        """The whole body as the client received it."""
        if self.events is not None:
            return b"".join(e.raw for e in self.events)
        return self.body or b""


@dataclass
class Interaction:
    request: Request
    response: Response
    provider: str = "unknown"
    api: str = "unknown"
    scrubbed: list[str] = field(default_factory=list)
    note: str | None = None
    test: str | None = None  # the test that recorded it (written by the pytest plugin)


@dataclass
class Record:
    """A typed non-HTTP record: a tool call, a message-level chunk list, ..."""

    kind: str
    name: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Cassette:
    interactions: list[Interaction] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    # -- persistence -------------------------------------------------------------
    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Cassette:
        """Read a cassette; any damage raises :class:`CassetteError` naming the spot."""
        p = Path(path)
        if p.is_dir():
            raise CassetteError(p, "", "is a directory, not a cassette file",
                                "point at the .json file inside, or remove the directory")
        try:
            raw = p.read_bytes()
        except FileNotFoundError:
            raise CassetteError(p, "", "no such cassette",
                                "record it first with mode='once' (pytest: --replay-mode=once)") from None
        except OSError as exc:
            raise CassetteError(p, "", f"cannot be read: {exc.strerror or exc}") from exc
        return cls.loads(raw, path=p)

    @classmethod
    @validate.guarded  # builtin errors and later-failing damage: typed, with a position
    def loads(cls, data: bytes | str, path: Path | None = None) -> Cassette:
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise CassetteError(path, f"byte {exc.start}", "is not UTF-8 text",
                                    "a cassette is a JSON file; restore it from version control") from None
        if not data or data.isspace():  # same test as ``not data.strip()``, without copying the file
            raise CassetteError(path, "", "is empty (an empty file is not an empty cassette)",
                                "delete it to record afresh, or restore it from version control")
        try:
            doc = json.loads(data)
        except json.JSONDecodeError as exc:
            raise CassetteError(path, f"line {exc.lineno}, column {exc.colno}",
                                f"is not valid JSON ({exc.msg}); the file may be truncated",
                                "restore it from version control, or delete it and record again") from None
        from .upgrade import upgrade_document  # older versions are read through upgrade steps

        doc = upgrade_document(doc, path)
        return _decode_cassette(doc, path)

    def dumps(self) -> str:
        return dump_cassette(self.to_document())

    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write atomically: a temp file in the same folder, fsync, then rename."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise UsageError("Cassette.save() needs a path: pass one, or load the cassette from a file first")
        text = self.dumps()
        atomic_write(target, text.encode("utf-8"))
        self.path = target
        return target

    def to_document(self) -> dict[str, Any]:
        return {
            VERSION_KEY: FORMAT_VERSION,
            "meta": self.meta,
            "interactions": [_encode_interaction(i) for i in self.interactions],
            "records": [{"kind": r.kind, "name": r.name, "data": r.data} for r in self.records],
        }


# -- encoding -------------------------------------------------------------------------
def _text_or_b64(data: bytes, key: str) -> dict[str, str]:
    try:
        return {key: data.decode("utf-8")}
    except UnicodeDecodeError:
        return {f"{key}_b64": base64.b64encode(data).decode("ascii")}


def _encode_interaction(i: Interaction) -> dict[str, Any]:
    req: dict[str, Any] = {"method": i.request.method, "path": i.request.path}
    if i.request.query:
        req["query"] = i.request.query
    req["headers"] = dict(sorted(i.request.headers.items()))
    if i.request.body is not None:
        req["body"] = i.request.body
    if i.request.body_text is not None:
        req["body_text"] = i.request.body_text
    r = i.response
    resp: dict[str, Any] = {"status": r.status, "headers": dict(sorted(r.headers.items()))}
    if r.events is not None:
        resp["framing"] = r.framing
        if FRAMINGS[r.framing].binary:  # frames are bytes: stored whole, base64 (inspect decodes them)
            resp["events"] = [{"ms": round(e.ms, 1), "raw_b64": base64.b64encode(e.raw).decode("ascii")}
                              for e in r.events]
        else:
            resp["events"] = [{"ms": round(e.ms, 1), **_text_or_b64(e.raw, "raw")} for e in r.events]
    else:
        resp["body_ms"] = round(r.body_ms, 1)
        resp.update(_text_or_b64(r.body or b"", "body"))
    resp["end"] = r.end
    if r.error is not None:
        resp["error"] = r.error
    out: dict[str, Any] = {"provider": i.provider, "api": i.api, "request": req, "response": resp}
    if i.scrubbed:
        out["scrubbed"] = sorted(set(i.scrubbed))
    if i.note:
        out["note"] = i.note
    if i.test:
        out["test"] = i.test
    return out


# -- decoding with positions --------------------------------------------------------------
class _Reader:
    """Typed field access that reports the JSON path of anything wrong."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def fail(self, where: str, problem: str) -> CassetteError:
        return CassetteError(self.path, where, problem,
                             "fix the field by hand, or delete the cassette and record it again")

    def get(self, obj: dict[str, Any], key: str, where: str, typ: type | tuple[type, ...],
            default: Any = ..., ) -> Any:
        if key not in obj:
            if default is ...:
                raise self.fail(f"{where}.{key}", "required field is missing")
            return default
        value = obj[key]
        if typ is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        bad_bool = isinstance(value, bool) and typ in (int, float)
        if not isinstance(value, typ) or bad_bool:
            names = typ.__name__ if isinstance(typ, type) else " or ".join(t.__name__ for t in typ)
            raise self.fail(f"{where}.{key}", f"expected {names}, found {type(value).__name__}")
        return value

    def headers(self, obj: dict[str, Any], where: str) -> dict[str, str]:
        headers = self.get(obj, "headers", where, dict, {})
        for k, v in headers.items():
            if not isinstance(v, str):
                raise self.fail(f"{where}.headers.{k}", f"expected str, found {type(v).__name__}")
        return {k.lower(): v for k, v in headers.items()}

    def blob(self, obj: dict[str, Any], key: str, where: str) -> bytes | None:
        if key in obj:
            return self.get(obj, key, where, str).encode("utf-8")  # type: ignore[no-any-return]
        if f"{key}_b64" in obj:
            text = self.get(obj, f"{key}_b64", where, str)
            try:
                return base64.b64decode(text, validate=True)
            except ValueError:
                raise self.fail(f"{where}.{key}_b64", "is not valid base64") from None
        return None


def _decode_cassette(doc: Any, path: Path | None) -> Cassette:
    rd = _Reader(path)
    if not isinstance(doc, dict):
        raise rd.fail("$", f"expected a JSON object, found {type(doc).__name__}")
    meta = rd.get(doc, "meta", "$", dict, {})
    raw_interactions = rd.get(doc, "interactions", "$", list)
    interactions = [_decode_interaction(rd, item, f"$.interactions[{n}]")
                    for n, item in enumerate(raw_interactions)]
    records = []
    for n, item in enumerate(rd.get(doc, "records", "$", list, [])):
        where = f"$.records[{n}]"
        if not isinstance(item, dict):
            raise rd.fail(where, "expected an object")
        records.append(Record(rd.get(item, "kind", where, str), rd.get(item, "name", where, str),
                              rd.get(item, "data", where, dict, {})))
    return Cassette(interactions, records, meta, path)


def _decode_interaction(rd: _Reader, item: Any, where: str) -> Interaction:
    if not isinstance(item, dict):
        raise rd.fail(where, f"expected an object, found {type(item).__name__}")
    rq = rd.get(item, "request", where, dict)
    w = f"{where}.request"
    headers = rd.headers(rq, w)
    request = Request(
        method=rd.get(rq, "method", w, str).upper(),
        path=rd.get(rq, "path", w, str),
        query=rd.get(rq, "query", w, str, ""),
        headers=headers,
        body=rq.get("body"),
        body_text=rd.get(rq, "body_text", w, str, None),
    )
    rs = rd.get(item, "response", where, dict)
    w = f"{where}.response"
    rheaders = rd.headers(rs, w)
    events: list[Event] | None = None
    body: bytes | None = None
    framing = rd.get(rs, "framing", w, str, SSE.name)
    if framing not in FRAMINGS:
        raise rd.fail(f"{w}.framing", f"unknown framing {framing!r} (known: {', '.join(FRAMINGS)})")
    if "events" in rs:
        events = []
        append = events.append
        a2b = binascii.a2b_base64
        key = "raw_b64" if FRAMINGS[framing].binary else "raw"
        for n, ev in enumerate(rd.get(rs, "events", w, list)):
            # Fast path for the shapes the writer produces (a long stream has 10^4 of these):
            # it yields exactly what the checked path below would, without building a
            # position string per event. Anything else takes the checked path.
            if type(ev) is dict:
                text = ev.get(key)
                ms = ev.get("ms", 0.0)
                if type(text) is str and type(ms) is float:
                    if key == "raw":
                        append(Event(text.encode("utf-8"), ms))
                        continue
                    try:
                        append(Event(a2b(text, strict_mode=True), ms))
                        continue
                    except ValueError:
                        pass  # the checked path names the spot
            we = f"{w}.events[{n}]"
            if not isinstance(ev, dict):
                raise rd.fail(we, f"expected an object, found {type(ev).__name__}")
            raw = rd.blob(ev, "raw", we)
            if raw is None:
                raise rd.fail(f"{we}.raw", "required field is missing")
            append(Event(raw, rd.get(ev, "ms", we, float, 0.0)))
    else:
        body = rd.blob(rs, "body", w)
        if body is None:
            raise rd.fail(w, "needs either 'events' (a stream) or 'body' (a plain response)")
    end = rd.get(rs, "end", w, str, END_COMPLETE)
    if end not in END_STATES:
        raise rd.fail(f"{w}.end", f"unknown value {end!r} (expected {', '.join(END_STATES)})")
    error = rd.get(rs, "error", w, dict, None)
    status = rd.get(rs, "status", w, int)
    if not 100 <= status <= 599:
        raise rd.fail(f"{w}.status", f"{status} is not an HTTP status")
    response = Response(status, rheaders, events, body,
                        rd.get(rs, "body_ms", w, float, 0.0), end, error, framing)
    scrubbed = rd.get(item, "scrubbed", where, list, [])
    for n, entry in enumerate(scrubbed):
        if not isinstance(entry, str):
            raise rd.fail(f"{where}.scrubbed[{n}]", f"expected str, found {type(entry).__name__}")
    provider = rd.get(item, "provider", where, str, UNKNOWN)
    if provider not in (known := providers.names()):  # registered ones count: the set is open
        raise rd.fail(f"{where}.provider", f"unknown provider {provider!r} (known: {', '.join(known)})")
    return Interaction(request, response, provider, rd.get(item, "api", where, str, "unknown"),
                       list(scrubbed),
                       rd.get(item, "note", where, str, None), rd.get(item, "test", where, str, None))
