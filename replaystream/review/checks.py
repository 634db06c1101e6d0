"""``replaystream check``: schema validation and a scan for secrets that must not be there."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

from ..cassette.framing import by_name as framing_by_name
from ..cassette.model import Cassette, Interaction
from ..errors import CassetteError
from ..providers import UNKNOWN
from ..wire.scrub import Scrubber, highest_in, secret_headers
from ..wire.secrets import MODEL_CONTENT_FIELDS, PROVIDER_KEY_PATTERN, is_credential_name, looks_random


@dataclass
class Finding:
    path: Path
    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.path}: {self.where}: {self.problem}"


def check_file(path: Path, extra_values: tuple[str, ...] = (), allow: Sequence[str] = ()) -> list[Finding]:
    """Damage, secret headers, random-looking values in credential-named fields, and
    provider-key-shaped strings anywhere; a value matching an ``allow`` pattern (a regex,
    searched) is a known false positive and not reported."""
    try:
        cassette = Cassette.load(path)
    except CassetteError as exc:
        return [Finding(path, exc.position or "$", exc.problem)]
    allowed = [re.compile(a) for a in allow]

    def ok(value: str) -> bool:
        return any(a.search(value) for a in allowed)

    findings: list[Finding] = []
    dropped = secret_headers()
    for n, inter in enumerate(cassette.interactions):
        for side, headers in (("request", inter.request.headers), ("response", inter.response.headers)):
            for name, value in headers.items():
                if (name in dropped or is_credential_name(name, "header")) and not ok(value):
                    findings.append(Finding(path, f"interactions[{n}].{side}.headers.{name}",
                                            "secret header present (scrub it: replaystream scrub PATH)"))
        for where, value in _credential_values(inter):
            if looks_random(value) and not ok(value):
                findings.append(Finding(path, f"interactions[{n}].{where}",
                                        f"random-looking value in a credential field ({_shown(value)}): a secret "
                                        "left in clear? (scrub it: replaystream scrub PATH; or --allow it)"))
    for n, record in enumerate(cassette.records):
        for where, value in _fields(record.data, f"records[{n}].data", "", skip=False):
            if looks_random(value) and not ok(value):
                findings.append(Finding(path, where, f"random-looking value in a credential field ({_shown(value)})"))
    # Key-shaped strings anywhere in the file, bodies and events included.
    text = path.read_text("utf-8")
    for lineno, line in enumerate(text.splitlines(), 1):
        findings += _scan(path, f"line {lineno}", line, extra_values, ok)
    # Binary frames are base64 in the file: their payloads are scanned decoded.
    for n, inter in enumerate(cassette.interactions):
        framing = framing_by_name(inter.response.framing)
        if framing.binary:
            for k, event in enumerate(inter.response.events or ()):
                findings += _scan(path, f"interactions[{n}].response.events[{k}]", framing.view(event.raw).text,
                                  extra_values, ok)
    return findings


def _scan(path: Path, where: str, text: str, extra_values: tuple[str, ...],
          ok: Callable[[str], bool]) -> list[Finding]:
    found = [Finding(path, where, f"token-shaped string {_shown(m.group(0))}")
             for m in PROVIDER_KEY_PATTERN.finditer(text) if not ok(m.group(0))]
    return found + [Finding(path, where, "contains the value of a secret environment variable")
                    for value in extra_values if value and value in text]


def _shown(value: str) -> str:
    return repr(value[:12] + "...")  # enough to find it, not enough to use it


def _pairs(text: str, where: str) -> Iterator[tuple[str, str]]:
    for part in text.split("&"):
        name, _, value = part.partition("=")
        if value and is_credential_name(unquote_plus(name), "query"):
            yield f"{where}.{unquote_plus(name)}", unquote_plus(value)


def _fields(value: Any, where: str, name: str, skip: bool = True) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            if not (skip and k in MODEL_CONTENT_FIELDS):
                yield from _fields(v, f"{where}.{k}", str(k), skip)
    elif isinstance(value, list):
        for n, v in enumerate(value):
            yield from _fields(v, f"{where}[{n}]", name, skip)
    elif isinstance(value, str) and name and is_credential_name(name, "json"):
        yield where, value


def _credential_values(inter: Interaction) -> Iterator[tuple[str, str]]:
    """``(where, value)`` of every credential-named field the scrubber would have masked."""
    rq, rs = inter.request, inter.response
    yield from _pairs(rq.query, "request.query")
    if rq.body_text is not None:
        yield from _pairs(rq.body_text, "request.body_text")
    yield from _fields(rq.body, "request.body", "")
    if inter.api == UNKNOWN and rs.body:
        try:
            yield from _fields(json.loads(rs.body), "response.body", "")
        except ValueError:
            yield from _pairs(rs.body.decode("utf-8", "replace"), "response.body")


def scrub_file(path: Path, scrubber: Scrubber | None = None, *, write: bool = True) -> list[str]:
    """Apply today's scrubbing rules to a cassette already written; returns the places that
    changed (``interactions[3].request.query.apikey``, ...) and rewrites the file if any did."""
    scrubber = scrubber or Scrubber()
    cassette = Cassette.load(path)
    before = cassette.dumps()
    book = scrubber.book(start=lambda: highest_in(cassette))
    old = [set(inter.scrubbed) for inter in cassette.interactions]
    for n, inter in enumerate(cassette.interactions):
        out = scrubber(inter, book)
        assert out is not None  # no hooks: nothing is dropped
        cassette.interactions[n] = out
    scrubber.finish(cassette, book)
    changed = [f"interactions[{n}].{w}" for n, inter in enumerate(cassette.interactions)
               for w in inter.scrubbed if w not in old[n]]
    if cassette.dumps() == before:
        return []
    if write:
        cassette.save(path)
    return changed or ["records"]


def cassette_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted(f for f in p.rglob("*.json") if "__snapshots__" not in f.parts and _looks_like_cassette(f))
        else:
            files.append(p)
    return files


def looks_like_vcrpy(path: Path) -> bool:
    """Is this file a vcrpy / pytest-recording cassette (YAML, or vcrpy's JSON) rather than ours?"""
    if path.suffix.lower() in (".yaml", ".yml"):
        return True
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    if b"replaystream_cassette" in head:
        return False
    start = head.lstrip()
    return start.startswith(b"interactions:") or (start.startswith(b"{") and b'"interactions"' in head
                                                  and b'"request"' in head)


def _looks_like_cassette(path: Path) -> bool:
    # In a folder, only files that say they are cassettes; a named file is always checked.
    try:
        with path.open("rb") as fh:
            return b"replaystream_cassette" in fh.read(200)
    except OSError:
        return True  # unreadable: let check_file report it
