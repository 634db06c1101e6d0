"""A JSON writer shaped for pull-request diffs.

Ordinary objects are indented two spaces with keys in a fixed order; the items of
``events``, ``chunks`` and ``vectors`` lists sit one per line, so re-recording a stream changes
only the lines of the events that changed.
"""

from __future__ import annotations

import json
from typing import Any

ONE_PER_LINE = frozenset({"events", "chunks", "vectors"})


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _dump(value: Any, indent: int, key: str | None, out: list[str]) -> None:
    pad = "  " * indent
    if isinstance(value, dict) and value:
        out.append("{\n")
        items = list(value.items())
        for n, (k, v) in enumerate(items):
            out.append(f"{pad}  {json.dumps(k, ensure_ascii=False)}: ")
            _dump(v, indent + 1, k, out)
            out.append(",\n" if n < len(items) - 1 else "\n")
        out.append(f"{pad}}}")
    elif isinstance(value, list) and value:
        out.append("[\n")
        for n, v in enumerate(value):
            out.append(f"{pad}  ")
            if key in ONE_PER_LINE:
                out.append(_compact(v))
            else:
                _dump(v, indent + 1, None, out)
            out.append(",\n" if n < len(value) - 1 else "\n")
        out.append(f"{pad}]")
    else:
        out.append(_compact(value))


def dump_cassette(doc: dict[str, Any]) -> str:
    out: list[str] = []
    _dump(doc, 0, None, out)
    out.append("\n")
    return "".join(out)
