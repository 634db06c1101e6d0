"""Reading older cassette format versions.

Each past version keeps a step that lifts a document to the next version, so old
cassettes stay readable forever and ``replaystream upgrade`` can rewrite them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import CassetteError, CassetteVersionError

CURRENT = 2
VERSION_KEY = "replaystream_cassette"

def _v1_to_v2(doc: dict[str, Any]) -> dict[str, Any]:
    """v1 streams were all SSE: v2 names each stream's framing (the provider was already a
    registry name). Anything malformed is left for the loader to report with its position."""
    for item in doc.get("interactions") or ():
        response = item.get("response") if isinstance(item, dict) else None
        if isinstance(response, dict) and "events" in response and "framing" not in response:
            response["framing"] = "sse"
    meta = doc.get("meta")
    if isinstance(meta, dict) and isinstance(meta.get("format"), str) and meta["format"].startswith(
            "replaystream cassette v1"):
        meta["format"] = meta["format"].replace("v1", "v2", 1)
    return doc


# version N -> function lifting a version-N document to N+1
_STEPS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}


def document_version(doc: Any, path: Path | None) -> int:
    if not isinstance(doc, dict):
        raise CassetteError(path, "$", f"expected a JSON object, found {type(doc).__name__}",
                            "restore the file from version control")
    if VERSION_KEY not in doc:
        raise CassetteVersionError(
            path, f"$.{VERSION_KEY}", "has no format version: not a replaystream cassette",
            "a vcrpy / pytest-recording cassette can be converted with 'replaystream import SRC DEST'")
    version = doc[VERSION_KEY]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CassetteVersionError(path, f"$.{VERSION_KEY}", f"{version!r} is not a format version",
                                   "restore the file from version control")
    return version


def upgrade_document(doc: Any, path: Path | None) -> dict[str, Any]:
    version = document_version(doc, path)
    if version > CURRENT:
        raise CassetteVersionError(
            path, f"$.{VERSION_KEY}",
            f"was written in format version {version}; this replaystream reads up to {CURRENT}",
            "upgrade replaystream (pip install -U replaystream)")
    while version < CURRENT:
        doc = _STEPS[version](doc)
        version += 1
        doc[VERSION_KEY] = version
    assert isinstance(doc, dict)
    return doc
