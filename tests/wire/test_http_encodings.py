"""Every content encoding a client decodes is decoded before scrubbing, recorded from a real
loopback server that echoes the caller's key into a compressed body; a damaged body raises
the client's own ``DecodingError`` live, while recording and on replay."""

from __future__ import annotations

import gzip
import json
import threading
import zlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import brotli
import httpx
import httpx2
import pytest
import zstandard

try:  # Python 3.14+: in the standard library, as httpx2 reads it there
    from compression import zstd as stdlib_zstd  # type: ignore[import-not-found,unused-ignore]
except ImportError:
    from backports import zstd as stdlib_zstd

from replaystream import Cassette, use_cassette
from replaystream.errors import RecordingError
from replaystream.wire import http as wire_http

KEY = "sk-echo-3f9a0c2b7d4e4b1a8c6d"
CLIENTS: dict[str, ModuleType] = {"httpx": httpx, "httpx2": httpx2}


def _zstd(data: bytes) -> bytes:
    # Two frames, one from each library: a body may hold several (RFC 8878), and each
    # client's decoder must be matched by the recorder's.
    half = len(data) // 2
    return zstandard.ZstdCompressor().compress(data[:half]) + stdlib_zstd.compress(data[half:])


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)  # the same bytes on every call: live and recorded compare equal


ENCODERS: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "gzip": ("gzip", _gzip),
    "x-gzip": ("x-gzip", _gzip),
    "deflate-zlib": ("deflate", lambda d: zlib.compress(d, wbits=zlib.MAX_WBITS)),
    "deflate-raw": ("deflate", lambda d: zlib.compress(d, wbits=-zlib.MAX_WBITS)),
    "br": ("br", brotli.compress),
    "zstd": ("zstd", _zstd),
    "gzip-then-br": ("gzip, br", lambda d: brotli.compress(_gzip(d))),
}
#: Codings neither httpx nor httpx2 undoes itself: its caller reads the compressed bytes live.
CLIENT_LEAVES_ENCODED = {"x-gzip"}


def sse_body(key: str) -> bytes:
    events = [f'data: {{"n": {n}, "text": "token {n}"}}\n\n' for n in range(40)]
    events.insert(2, f'data: {{"echo": "your key is {key}"}}\n\n')
    return "".join(events).encode() + b"data: [DONE]\n\n"


def _reference_decode(wire: bytes, coding: str) -> bytes:
    """Each coding's own library, not replaystream's decoder; br as the clients read it (an
    unfinished br stream is no error to them)."""
    if coding == "br":
        return brotli.Decompressor().process(wire)  # type: ignore[no-any-return]
    if coding == "zstd":
        return stdlib_zstd.decompress(wire)  # type: ignore[no-any-return]
    return zlib.decompress(wire, wbits=47 if coding == "gzip" else zlib.MAX_WBITS if wire[:1] == b"x" else -15)


def damage(wire: bytes, coding: str) -> bytes:
    """Flip bytes from the middle on, until the coding's own library rejects the body: some
    codings (raw deflate, br, zstd without checksum) decode many flips to mere garbage."""
    for start in range(len(wire) // 2, len(wire) - 8):
        damaged = wire[:start] + bytes(b ^ 0xA5 for b in wire[start:start + 8]) + wire[start + 8:]
        try:
            _reference_decode(damaged, coding)
        except Exception:  # rejected: what the test needs
            return damaged
    raise AssertionError(f"no damage found that {coding} rejects")


class Echo(BaseHTTPRequestHandler):
    """Answers ``/sse`` or ``/json`` with the caller's bearer token echoed in the body,
    encoded as ``?coding=`` says; ``&damage=1`` flips bytes in the middle of the encoded body."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        key = (self.headers.get("authorization") or "").removeprefix("Bearer ")
        if url.path == "/sse":
            body, ctype = sse_body(key), "text/event-stream"
        else:
            body, ctype = json.dumps({"echo": f"your key is {key}", "pad": "x" * 2000}).encode(), "application/json"
        coding, encode = ENCODERS[query["coding"]]
        wire = encode(body)
        if query.get("damage"):
            wire = damage(wire, coding)
        self.send_response(200)
        self.send_header("content-type", ctype)
        self.send_header("content-encoding", coding)
        self.send_header("content-length", str(len(wire)))
        self.end_headers()
        for start in range(0, len(wire), 97):  # many small writes: the decoder sees many chunks
            self.wfile.write(wire[start:start + 97])
            self.wfile.flush()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def echo_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def call(mod: ModuleType, base: str, route: str, encoding: str, damage: bool = False) -> bytes:
    """What the caller reads: the decoded body, streamed (``/sse``) or read whole (``/json``)."""
    params = {"coding": encoding, **({"damage": "1"} if damage else {})}
    with mod.Client(base_url=base, headers={"authorization": f"Bearer {KEY}"}, timeout=10) as client:
        if route == "/sse":
            with client.stream("POST", route, params=params, json={"q": 1}) as response:
                return b"".join(response.iter_bytes())
        return client.post(route, params=params, json={"q": 1}).content  # type: ignore[no-any-return]


@pytest.mark.parametrize("route", ["/sse", "/json"])
@pytest.mark.parametrize("client", sorted(CLIENTS))
@pytest.mark.parametrize("encoding", list(ENCODERS))
def test_each_encoding_is_stored_decoded_and_scrubbed(echo_server: str, tmp_path: Path, encoding: str,
                                                       client: str, route: str) -> None:
    mod, path = CLIENTS[client], tmp_path / "c.json"
    live = call(mod, echo_server, route, encoding)
    with use_cassette(path, mode="once"):
        recorded = call(mod, echo_server, route, encoding)
    assert recorded == live  # recording changes nothing the caller reads

    text = path.read_text()
    assert KEY not in text  # scrubbed: the body was decoded before scrubbing, never stored compressed
    (inter,) = Cassette.load(path).interactions
    assert "content-encoding" not in inter.response.headers and inter.response.end == "complete"
    assert b"your key is " in inter.response.content()

    with use_cassette(path, mode="none"):
        replayed = call(mod, echo_server, route, encoding)
    expected = live if encoding not in CLIENT_LEAVES_ENCODED else gzip.decompress(live)
    assert KEY.encode() not in replayed
    placeholder = replayed.split(b"your key is ", 1)[1].split(b'"', 1)[0]
    assert replayed == expected.replace(KEY.encode(), placeholder)  # the same text, but for the key


def _exception_type(run: Callable[[], Any]) -> type[BaseException] | None:
    try:
        run()
    except Exception as exc:  # the type is what the test compares
        return type(exc)
    return None


@pytest.mark.parametrize("route", ["/sse", "/json"])
@pytest.mark.parametrize("client", sorted(CLIENTS))
@pytest.mark.parametrize("encoding", ["gzip", "deflate-zlib", "deflate-raw", "br", "zstd"])
def test_a_damaged_body_raises_the_clients_decoding_error_live_recording_and_replaying(
        echo_server: str, tmp_path: Path, encoding: str, client: str, route: str) -> None:
    mod, path = CLIENTS[client], tmp_path / "c.json"
    read: list[bytes] = []

    def run() -> None:
        params = {"coding": encoding, "damage": "1"}
        with mod.Client(base_url=echo_server, headers={"authorization": f"Bearer {KEY}"}, timeout=10) as c:
            if route == "/sse":
                with c.stream("POST", route, params=params, json={"q": 1}) as response:
                    for chunk in response.iter_bytes():
                        read.append(chunk)
            else:
                c.post(route, params=params, json={"q": 1})

    live = _exception_type(run)
    live_prefix, read[:] = b"".join(read), []
    with use_cassette(path, mode="once"):
        recording = _exception_type(run)
    recorded_prefix, read[:] = b"".join(read), []
    with use_cassette(path, mode="none"):
        replay = _exception_type(run)
    replayed_prefix = b"".join(read)

    assert live is recording is replay is mod.DecodingError
    (inter,) = Cassette.load(path).interactions
    assert inter.response.end == "error" and inter.response.error is not None
    assert inter.response.error["type"] == "DecodingError"
    stored = inter.response.content()  # the decoded prefix the caller read while recording, scrubbed
    placeholder = stored.split(b"your key is ", 1)[1].split(b'"', 1)[0] if b"your key is " in stored else b""
    assert recorded_prefix.replace(KEY.encode(), placeholder) == stored == replayed_prefix  # the same point
    # Live, the error comes where the network cut the damaged bytes into reads: some prefix too.
    whole = sse_body(KEY) if route == "/sse" else b""
    assert whole.startswith(live_prefix) and whole.startswith(recorded_prefix)


def test_an_unfinished_zstd_frame_fails_at_the_end_as_live(echo_server: str, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx raises at the end of a body cut inside a zstd frame (it reads a cut gzip body
    without complaint): recording and replay do the same."""
    monkeypatch.setitem(ENCODERS, "zstd-cut", ("zstd", lambda d: zstandard.ZstdCompressor().compress(d)[:-4]))
    path = tmp_path / "c.json"
    for mode in ("once", "none"):
        with use_cassette(path, mode=mode), pytest.raises(httpx2.DecodingError, match="incomplete"):
            call(httpx2, echo_server, "/json", "zstd-cut")
    assert Cassette.load(path).interactions[0].response.end == "error"


def test_a_missing_decoder_package_is_a_recording_error_naming_it(echo_server: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a zstd package the body cannot be decoded, so it cannot be scrubbed: recording
    refuses, and names what to install, instead of storing it compressed."""
    monkeypatch.setattr(wire_http, "_zstd", lambda: None)
    path = tmp_path / "c.json"
    with pytest.raises(RecordingError) as info, use_cassette(path, mode="once"):
        call(httpx, echo_server, "/json", "zstd")
    message = str(info.value)
    assert "zstandard" in message and "backports.zstd" in message and "replaystream[zstd]" in message
    assert not path.exists()
    monkeypatch.undo()  # installed again: the same call records
    with use_cassette(path, mode="once"):
        call(httpx, echo_server, "/json", "zstd")
    assert KEY not in path.read_text() and "content-encoding" not in path.read_text()


class NonAsciiHeader(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def send_header(self, keyword: str, value: str) -> None:  # one header sent as UTF-8 bytes
        super().send_header(keyword, value)
        if keyword == "content-length":
            self._headers_buffer.append("x-title: caf\u00e9 \u2615\r\n".encode())  # type: ignore[attr-defined]

    def log_message(self, *args: Any) -> None:
        pass


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_a_non_ascii_header_value_replays_as_recorded(tmp_path: Path, client: str) -> None:
    """httpx reads a UTF-8 header value as text; replay used to hand that text back for httpx
    to encode as ASCII, a UnicodeEncodeError out of a valid cassette."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), NonAsciiHeader)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url, mod, path = f"http://127.0.0.1:{server.server_address[1]}/", CLIENTS[client], tmp_path / "c.json"
    try:
        live = mod.get(url).headers["x-title"]
        with use_cassette(path, mode="once"):
            assert mod.get(url).headers["x-title"] == live == "caf\u00e9 \u2615"
    finally:
        server.shutdown()
        server.server_close()
    with use_cassette(path, mode="none"):
        assert mod.get(url).headers["x-title"] == live
