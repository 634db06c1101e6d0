"""HTTP details every part of replaystream agrees on: which headers describe the transfer
rather than the content, how a ``Content-Encoding`` is undone, and how a request's
headers and body become the cassette's :class:`~replaystream.cassette.model.Request`.

The bottom of the wire layer: it imports nothing of replaystream but the errors.
"""

from __future__ import annotations

import importlib
import json
import zlib
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import Any, Protocol

from ..errors import ReplayStreamError

#: Response headers that describe the transfer, not the content: never stored (the body is
#: stored whole and decoded) and recomputed on replay.
TRANSFER_RESPONSE_HEADERS = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})
#: Request headers that only make diffs noisy (SDK versions, transport details). They play
#: no part in replay, so they are not kept; they are not secrets either.
NOISY_REQUEST_HEADERS = frozenset({"content-length", "host", "connection", "accept-encoding", "user-agent"})
NOISY_REQUEST_HEADER_PREFIXES = ("x-stainless-",)


class ContentDecodingError(ReplayStreamError, ValueError):
    """A body's ``Content-Encoding`` is unknown, or its bytes do not decode.

    ``detail`` is the decompressor's own message (what httpx puts in its ``DecodingError``);
    ``client_raises`` says whether httpx and httpx2 fail on the same bytes too: they do on
    damaged bytes and on an unfinished zstd frame, but read a truncated gzip, deflate or br
    body without complaint.
    """

    def __init__(self, message: str, detail: str = "", client_raises: bool = True) -> None:
        super().__init__(message)
        self.detail = detail or message
        self.client_raises = client_raises


class MissingDecoderError(ContentDecodingError):
    """A known coding whose decoder package is not installed (``package`` says which)."""

    def __init__(self, message: str, package: str) -> None:
        super().__init__(message)
        self.package = package


class _Stage(Protocol):
    def feed(self, data: bytes) -> bytes: ...
    def flush(self) -> bytes: ...


def _damaged(coding: str, exc: BaseException) -> ContentDecodingError:
    return ContentDecodingError(f"the {coding} body does not decode ({exc}); the server sent damaged bytes: "
                                "record it again", detail=str(exc))


def _truncated(coding: str, client_raises: bool = False) -> ContentDecodingError:
    return ContentDecodingError(f"the {coding} body is truncated: it ends before its compressed stream does; "
                                "record it again", client_raises=client_raises)


class _Zlib:
    """gzip, or deflate with or without the zlib header (some servers send it raw)."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self._head = b""  # deflate: the first bytes, until the header can be told apart
        self._obj: Any = None  # made on the first bytes: an empty body is empty in every coding

    def feed(self, data: bytes) -> bytes:
        if self._obj is None and self.coding != "deflate":
            if not data:
                return b""
            self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self._obj is None:
            self._head += data
            if len(self._head) < 2:
                return b""
            data, self._head = self._head, b""
            self._obj = zlib.decompressobj(zlib.MAX_WBITS if _has_zlib_header(data) else -zlib.MAX_WBITS)
        try:
            return bytes(self._obj.decompress(data))
        except zlib.error as exc:
            raise _damaged(self.coding, exc) from None

    def flush(self) -> bytes:
        if self._obj is None and self._head:  # one byte in all: too short for either form
            self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self.feed(self._head)
        elif self._obj is None:
            return b""
        else:
            out = b""
        out += bytes(self._obj.flush())
        if not self._obj.eof:
            raise _truncated(self.coding)
        return out


def _has_zlib_header(head: bytes) -> bool:
    """RFC 1950: method 8 (deflate), window <= 32K, and a 16-bit check that is a multiple of 31."""
    return head[0] & 0x0F == 8 and head[0] >> 4 <= 7 and (head[0] << 8 | head[1]) % 31 == 0


class _Brotli:
    def __init__(self) -> None:
        import brotli  # type: ignore[import-not-found,unused-ignore]  # optional, as in httpx

        self._error: type[Exception] = getattr(brotli, "error", Exception)
        self._obj: Any = brotli.Decompressor()
        self._fed = False

    def feed(self, data: bytes) -> bytes:
        self._fed = self._fed or bool(data)
        try:
            return bytes(self._obj.process(data))
        except self._error as exc:
            raise _damaged("br", exc) from None

    def flush(self) -> bytes:
        finished = getattr(self._obj, "is_finished", None)
        if self._fed and finished is not None and not finished():
            raise _truncated("br")
        return b""


#: Where a zstd decompressor comes from, in the order tried: the standard library (3.14+)
#: and its backport, as httpx2 uses them, then ``zstandard``, as httpx does. Each yields
#: objects with ``decompress``, ``eof`` and ``unused_data``.
_ZSTD_MODULES = ("compression.zstd", "backports.zstd", "zstandard")
ZSTD_PACKAGES = "zstandard (httpx) or backports.zstd (httpx2)"


@cache
def _zstd() -> tuple[Callable[[], Any], type[Exception]] | None:
    for name in _ZSTD_MODULES:
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        if name == "zstandard":
            return (lambda: mod.ZstdDecompressor().decompressobj()), mod.ZstdError
        return mod.ZstdDecompressor, mod.ZstdError
    return None


class _Zstd:
    """One or more zstd frames, one after another (RFC 8878 allows several)."""

    def __init__(self) -> None:
        backend = _zstd()
        assert backend is not None  # ContentDecoder checked
        self._new, self._error = backend
        self._obj: Any = self._new()
        self._fed = False

    def feed(self, data: bytes) -> bytes:
        if not data:
            return b""
        self._fed = True
        try:
            if self._obj.eof:  # the last frame ended with the previous chunk
                self._obj = self._new()
            out = bytes(self._obj.decompress(data))
            while self._obj.eof and self._obj.unused_data:
                rest, self._obj = self._obj.unused_data, self._new()
                out += bytes(self._obj.decompress(rest))
        except self._error as exc:
            raise _damaged("zstd", exc) from None
        return out

    def flush(self) -> bytes:
        if self._fed and not self._obj.eof:  # httpx and httpx2 raise here too
            raise ContentDecodingError("the zstd body is truncated: it ends inside a frame; record it again",
                                       detail="Zstandard data is incomplete")
        return b""


def _brotli_available() -> bool:
    try:
        import brotli  # noqa: F401
    except ImportError:
        return False
    return True


_ZLIB_CODINGS = ("gzip", "x-gzip", "deflate")
#: Codings replaystream can undo when their package is installed, and that package.
_OPTIONAL = {"br": "brotli", "zstd": ZSTD_PACKAGES}


def _available(coding: str) -> bool:
    if coding == "br":
        return _brotli_available()
    return coding == "zstd" and _zstd() is not None


def _codings(content_encoding: str) -> list[str]:
    """The codings in the order they were applied, ``identity`` left out."""
    return [c for c in (part.strip().lower() for part in content_encoding.split(",")) if c and c != "identity"]


class ContentDecoder:
    """Undoes a ``Content-Encoding`` (gzip, x-gzip, deflate with or without the zlib
    header, br when :mod:`brotli` is installed, zstd when a zstd package is; a list of
    codings in the order applied).

    Incremental: :meth:`feed` each chunk as it arrives, then :meth:`flush` once. A whole
    body is the same thing in one go (:meth:`decode`), so streams and imports agree.
    An unknown coding raises :class:`ContentDecodingError` here (a known one whose package
    is missing: :class:`MissingDecoderError`); bytes that do not decode raise it from
    :meth:`feed` or :meth:`flush`.

    >>> ContentDecoder.decode(zlib.compress(b"hi", wbits=-15), "deflate")
    b'hi'
    """

    def __init__(self, content_encoding: str) -> None:
        self.content_encoding = content_encoding
        stages: list[_Stage] = []
        for coding in reversed(_codings(content_encoding)):  # the last applied is undone first
            if coding in _ZLIB_CODINGS:
                stages.append(_Zlib(coding))
            elif coding in _OPTIONAL and not _available(coding):
                raise MissingDecoderError(
                    f"content-encoding {content_encoding!r}: {coding} needs {_OPTIONAL[coding]}: "
                    + ("pip install brotli" if coding == "br" else "pip install 'replaystream[zstd]'"),
                    _OPTIONAL[coding])
            elif coding == "br":
                stages.append(_Brotli())
            elif coding == "zstd":
                stages.append(_Zstd())
            else:
                raise ContentDecodingError(f"unsupported content-encoding {coding!r} in {content_encoding!r} "
                                           "(known: gzip, x-gzip, deflate, br, zstd, identity); record the "
                                           "response without it (send accept-encoding: gzip)")
        self._stages = stages

    @property
    def identity(self) -> bool:
        """Nothing to undo: the bytes are the content."""
        return not self._stages

    @staticmethod
    def known(content_encoding: str) -> bool:
        """Is every coding listed one replaystream knows (whether or not its package is installed)?"""
        return all(c in _ZLIB_CODINGS or c in _OPTIONAL for c in _codings(content_encoding))

    @staticmethod
    def supports(content_encoding: str) -> bool:
        """Can every coding listed be undone here (br and zstd only with their packages)?"""
        return all(c in _ZLIB_CODINGS or (c in _OPTIONAL and _available(c)) for c in _codings(content_encoding))

    def feed(self, data: bytes) -> bytes:
        for stage in self._stages:
            data = stage.feed(data)
        return data

    def flush(self) -> bytes:
        """What is left once the last chunk was fed; raises if the body ended early."""
        out = b""
        for stage in self._stages:  # what one stage still held is the next one's last input
            out = stage.feed(out) + stage.flush()
        return out

    @classmethod
    def decode(cls, data: bytes, content_encoding: str) -> bytes:
        """A whole body, decoded."""
        decoder = cls(content_encoding)
        return decoder.feed(data) + decoder.flush()


def stored_response_headers(headers: Mapping[str, str], *, decoded: bool) -> dict[str, str]:
    """The response headers a cassette keeps: no transfer framing, and no
    ``content-encoding`` once the body is stored decoded."""
    return {k: v for k, v in headers.items()
            if k not in TRANSFER_RESPONSE_HEADERS and not (decoded and k == "content-encoding")}


def is_noisy_request_header(name: str) -> bool:
    return name in NOISY_REQUEST_HEADERS or name.startswith(NOISY_REQUEST_HEADER_PREFIXES)


def header_dict(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header pairs as one dict: names lower-cased, repeated headers joined with ``", "``
    as HTTP allows."""
    headers: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def parse_body(content: bytes) -> tuple[Any, str | None]:
    """``(json, None)`` for a JSON body, ``(None, text)`` for any other, ``(None, None)`` when empty."""
    if not content:
        return None, None
    try:
        return json.loads(content), None
    except ValueError:
        return None, content.decode("utf-8", errors="replace")
