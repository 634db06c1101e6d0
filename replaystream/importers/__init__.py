"""Importers: turn other tools' recordings into replaystream cassettes.

- :func:`import_vcr`: vcrpy / pytest-recording cassettes (YAML or JSON, ``!!binary``
  gzip bodies, pydantic-ai's ``parsed_body`` variant).
- :func:`import_raw_sse`: a raw SSE response body, with a synthesized request.
- :func:`import_file` (alias :func:`import_cassette`): picks one of the above by content.
- :func:`convert`: import and write the cassette atomically (for ``replaystream import``).

>>> from replaystream.importers import convert
>>> convert("cassettes/test_chat.yaml", "cassettes/test_chat.json")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..cassette.model import VERSION_KEY, Cassette
from ..wire.scrub import Scrubber
from ._common import read_source
from .raw import import_raw_sse, looks_like_sse
from .vcr import import_vcr

__all__ = ["convert", "import_cassette", "import_file", "import_raw_sse", "import_vcr"]


def _is_native(data: bytes) -> bool:
    if not data.lstrip().startswith(b"{"):
        return False
    try:
        doc = json.loads(data)
    except ValueError:
        return False
    return isinstance(doc, dict) and VERSION_KEY in doc


def import_file(src: str | os.PathLike[str], *, scrub: Scrubber | None = None) -> Cassette:
    """Read any supported recording, deciding by content rather than by file name.

    A raw SSE body goes to :func:`import_raw_sse` (OpenAI chat, synthesized request), a
    replaystream cassette is loaded as it is, anything else must be a vcrpy cassette.
    Raises :class:`~replaystream.errors.CassetteError` (path, position, hint) otherwise.

    >>> import_file("tests/cassettes/old.yaml").interactions[0].provider  # doctest: +SKIP
    'openai'
    """
    path = Path(src)
    data = read_source(path)
    if looks_like_sse(data):
        return import_raw_sse(path, scrub=scrub)
    if _is_native(data):
        return Cassette.load(path)
    return import_vcr(path, scrub=scrub)


#: The name the package root exports.
import_cassette = import_file


def convert(src: str | os.PathLike[str], dest: str | os.PathLike[str], *,
            scrub: Scrubber | None = None) -> Cassette:
    """Import ``src`` and write it to ``dest`` atomically; returns the cassette.

    Nothing is written when the import fails, so an existing ``dest`` stays intact.

    >>> convert("old.yaml", "new.json").interactions  # doctest: +SKIP
    """
    cassette = import_file(src, scrub=scrub)
    cassette.save(dest)
    return cassette
