"""Load-time validation: damage the field-by-field reader lets through, or that escapes it as
a builtin error, raised as :class:`~replaystream.errors.CassetteError` naming the file and
the position (interaction, event, field) and the one action that fixes it.

The loader (``Cassette.loads``) is wrapped by :func:`guarded`:

- builtin errors escaping the parse or the reader become a positioned ``CassetteError``:
  JSON nested too deep (``RecursionError``), an integer too long for Python
  (``ValueError``) or for a float (``OverflowError``), a lone surrogate in a raw event
  (``UnicodeEncodeError``);
- what loads is then checked for what would fail later: a lone surrogate anywhere (a
  header fails on replay, any string when the file is saved or a miss is printed), an
  ``error`` object whose fields are not strings (replay looks its ``type`` up by name),
  timings that are not a number of milliseconds from 0 to a day (recorded pacing sleeps on
  them: ``Infinity`` overflows the sleep, a negative or NaN one is no time at all), and a
  response header name that is not an HTTP token (the client refuses it on replay).

The checks on a loaded cassette cost one regular-expression scan of the file and one pass
over each stream's offsets; the slower walks that find a position run only on damage.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ..errors import CassetteError, ReplayStreamError

if TYPE_CHECKING:
    from .model import Cassette, Response

#: The longest offset a recorded event may have: no recorded stream lasts a day.
MAX_OFFSET_MS = 86_400_000.0
#: Nesting deeper than this is reported at the spot it is reached (replaystream writes ~10).
_DEEP = 200
#: A ``\uD800``-``\uDFFF`` escape in the JSON text: the only way a surrogate gets into a
#: cassette (UTF-8 cannot carry one), so files without it need no walk.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_RESTORE = "restore it from version control, or delete it and record again"
#: An HTTP header name (RFC 9110 token): the client refuses any other on replay.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

_Loads = TypeVar("_Loads", bound=Callable[..., Any])


def guarded(loads: _Loads) -> _Loads:
    """Wrap ``Cassette.loads(cls, data, path=None)``: its builtin errors become positioned
    ``CassetteError``, and what it returns is checked by :func:`check`."""

    @functools.wraps(loads)
    def wrapper(cls: Any, data: bytes | str, path: Path | None = None) -> Cassette:
        try:
            cassette = cast("Cassette", loads(cls, data, path))
        except ReplayStreamError:
            raise
        except RecursionError:
            raise CassetteError(path, _deep_position(data), f"nests JSON deeper than Python can read "
                                f"(more than {_DEEP} levels here); a cassette is never written so", _RESTORE) from None
        except (ValueError, TypeError, OverflowError, KeyError, AttributeError, IndexError) as exc:
            raise _located(data, path, exc) from exc
        check(cassette, data)
        return cassette

    return cast(_Loads, wrapper)


def check(cassette: Cassette, data: bytes | str | None = None) -> None:
    """Raise :class:`CassetteError` for damage the reader lets through (see the module doc).
    ``data``: the file's text, scanned for surrogates (without it, every string is)."""
    path = cassette.path
    for n, interaction in enumerate(cassette.interactions):
        where = f"$.interactions[{n}].response"
        _check_timings(interaction.response, where, path)
        _check_error(interaction.response, where, path)
        for name in interaction.response.headers:
            if not _TOKEN.fullmatch(name):
                raise CassetteError(path, f"{where}.headers.{name}", f"header name {name!r} is not an HTTP "
                                    "token: the client refuses it on replay",
                                    "rename it (letters, digits and !#$%&'*+-.^_`|~ only) or delete it")
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if raw is None or _SURROGATE_ESCAPE.search(raw):
        doc = cassette.to_document() if raw is None else json.loads(raw)
        found = next(_lone_surrogates(doc, "$"), None)
        if found is not None:
            raise _surrogate_error(path, found)


# -- what loaded, checked -----------------------------------------------------------------
def _bad_offset(ms: float) -> bool:
    return not 0.0 <= ms <= MAX_OFFSET_MS  # NaN fails every comparison


def _check_timings(response: Response, where: str, path: Path | None) -> None:
    if response.events is not None:
        offsets = [e.ms for e in response.events]
        total = sum(offsets)
        if offsets and (total != total or min(offsets) < 0.0 or max(offsets) > MAX_OFFSET_MS):
            n = next(i for i, ms in enumerate(offsets) if _bad_offset(ms))
            raise _timing_error(path, f"{where}.events[{n}].ms", offsets[n])
    elif _bad_offset(response.body_ms):
        raise _timing_error(path, f"{where}.body_ms", response.body_ms)


def _timing_error(path: Path | None, position: str, ms: float) -> CassetteError:
    return CassetteError(path, position, f"timing {ms!r} is not a number of milliseconds from 0 to "
                         f"{MAX_OFFSET_MS:.0f} (one day); recorded pacing would wait on it",
                         "set it to the previous event's offset (or 0 for the first): pacing then hands "
                         "the event over at once")


def _check_error(response: Response, where: str, path: Path | None) -> None:
    error = response.error
    if error is None:
        return
    for key in ("type", "message"):
        value = error.get(key, "")
        if not isinstance(value, str):
            raise CassetteError(path, f"{where}.error.{key}", f"expected str, found {type(value).__name__}: "
                                "replay raises the error named by 'type' with 'message' as its text",
                                'write it as {"type": "RemoteProtocolError", "message": "..."} (the name of an '
                                "httpx exception class), or remove 'error' and set 'end' to \"complete\"")


# -- positions of escaped builtin errors -----------------------------------------------------
def _surrogate_error(path: Path | None, position: str) -> CassetteError:
    return CassetteError(path, position, "holds a lone surrogate (a \\ud800-\\udfff escape that is not half of "
                         "a pair): no UTF-8 text, header or file can carry it",
                         "delete the escape, or replace it by the character it was meant to be")


def _located(data: bytes | str, path: Path | None, exc: BaseException) -> CassetteError:
    """A positioned error for a builtin one that escaped the reader, found by walking the
    document for what raises it (only on this failure path)."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    digits = re.search(r"\d{4000,}", text) if isinstance(exc, ValueError) and "digits" in str(exc) else None
    if digits is not None:
        line = text.count("\n", 0, digits.start()) + 1
        column = digits.start() - (text.rfind("\n", 0, digits.start()) + 1) + 1
        return CassetteError(path, f"line {line}, column {column}",
                             f"holds an integer of {len(digits.group())} digits, too long to read",
                             "replace it by the value it stands for (a status, an offset in ms, ...)")
    try:
        doc = json.loads(text)
    except Exception:  # not even parseable again: report what escaped, without a position
        doc = None
    found = next(_lone_surrogates(doc, "$"), None) if doc is not None else None
    if found is not None:
        return _surrogate_error(path, found)
    huge = next(_huge_numbers(doc, "$"), None) if doc is not None else None
    if huge is not None:
        return CassetteError(path, huge, "holds a number too large for a float",
                             "replace it by the value it stands for (a status, an offset in ms, ...)")
    return CassetteError(path, "", f"cannot be read ({type(exc).__name__}: {exc})", _RESTORE)


def _walk(node: Any, where: str) -> Iterator[tuple[Any, str]]:
    stack = [(node, where)]
    while stack:
        value, at = stack.pop()
        yield value, at
        if isinstance(value, dict):
            stack.extend((v, f"{at}.{k}") for k, v in reversed(list(value.items())))
        elif isinstance(value, list):
            stack.extend((v, f"{at}[{i}]") for i, v in reversed(list(enumerate(value))))


def _lone_surrogates(doc: Any, where: str) -> Iterator[str]:
    for value, at in _walk(doc, where):
        if isinstance(value, dict):  # keys too: a header name is a key
            yield from (f"{at}.{k}" for k in value if isinstance(k, str) and _LONE_SURROGATE.search(k))
        elif isinstance(value, str) and _LONE_SURROGATE.search(value):
            yield at


def _huge_numbers(doc: Any, where: str) -> Iterator[str]:
    for value, at in _walk(doc, where):
        if isinstance(value, int) and not isinstance(value, bool) and not math.isfinite(_as_float(value)):
            yield at


def _as_float(value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf


def _deep_position(data: bytes | str) -> str:
    """Line and column where nesting first passes ``_DEEP`` levels (strings skipped)."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    depth, in_string, escaped, line, start = 0, False, False, 1, 0
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > _DEEP:
                return f"line {line}, column {i - start + 1}"
        elif ch in "]}":
            depth -= 1
        elif ch == "\n":
            line, start = line + 1, i + 1
    return ""
