"""``replaystream check``: schema validation and a scan for secrets that must not be there."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..cassette.framing import by_name as framing_by_name
from ..cassette.model import Cassette
from ..errors import CassetteError
from ..wire.scrub import TOKEN_PATTERN, secret_headers, secret_query_keys


@dataclass
class Finding:
    path: Path
    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.path}: {self.where}: {self.problem}"


def check_file(path: Path, extra_values: tuple[str, ...] = ()) -> list[Finding]:
    try:
        cassette = Cassette.load(path)
    except CassetteError as exc:
        return [Finding(path, exc.position or "$", exc.problem)]
    findings: list[Finding] = []
    dropped, secret_keys = secret_headers(), secret_query_keys()
    for n, inter in enumerate(cassette.interactions):
        for side, headers in (("request", inter.request.headers), ("response", inter.response.headers)):
            for name in headers:
                if name in dropped:
                    findings.append(Finding(path, f"interactions[{n}].{side}.headers.{name}",
                                            "secret header present (scrub it: replaystream import, or re-record)"))
        for pair in inter.request.query.split("&"):
            if pair.split("=", 1)[0].lower() in secret_keys:
                findings.append(Finding(path, f"interactions[{n}].request.query", "key in the query string"))
    # Token-shaped strings anywhere in the file, bodies and events included.
    text = path.read_text("utf-8")
    for lineno, line in enumerate(text.splitlines(), 1):
        findings += _scan(path, f"line {lineno}", line, extra_values)
    # Binary frames are base64 in the file: their payloads are scanned decoded.
    for n, inter in enumerate(cassette.interactions):
        framing = framing_by_name(inter.response.framing)
        if framing.binary:
            for k, event in enumerate(inter.response.events or ()):
                findings += _scan(path, f"interactions[{n}].response.events[{k}]", framing.view(event.raw).text,
                                  extra_values)
    return findings


def _scan(path: Path, where: str, text: str, extra_values: tuple[str, ...]) -> list[Finding]:
    found = [Finding(path, where, f"token-shaped string {m.group(0)[:12] + '...'!r}")
             for m in TOKEN_PATTERN.finditer(text)]
    return found + [Finding(path, where, "contains the value of a secret environment variable")
                    for value in extra_values if value and value in text]


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
