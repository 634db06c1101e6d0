"""One content decoder for streams and whole bodies; the shared header and request helpers;
raw deflate (no zlib header) recorded end to end through the real SDK."""

from __future__ import annotations

import gzip
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import openai
import pytest
import zstandard

from replaystream import Cassette, ReplayStreamError, use_cassette
from replaystream.emulator import ProviderEmulator, ScriptedResponse, openai_chat_stream
from replaystream.wire import http as wire_http
from replaystream.wire.http import (
    ContentDecoder,
    ContentDecodingError,
    MissingDecoderError,
    header_dict,
    parse_body,
    stored_response_headers,
)

EVENTS = [f'data: {{"n": {n}, "text": "token {n} of the stream"}}\n\n'.encode() for n in range(200)]
PAYLOAD = b"".join(EVENTS)


def _zlib(wbits: int) -> Callable[[bytes], bytes]:
    return lambda data: zlib.compress(data, wbits=wbits)


ENCODERS: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "gzip": ("gzip", gzip.compress),
    "x-gzip": ("x-gzip", gzip.compress),
    "deflate-zlib": ("deflate", _zlib(zlib.MAX_WBITS)),
    "deflate-raw": ("deflate", _zlib(-zlib.MAX_WBITS)),
    "gzip-then-deflate": ("gzip, deflate", lambda d: zlib.compress(gzip.compress(d))),
    "zstd": ("zstd", lambda d: zstandard.ZstdCompressor().compress(d)),
    "zstd-two-frames": ("zstd", lambda d: b"".join(zstandard.ZstdCompressor().compress(h) for h in (d[:999], d[999:]))),
    "identity": ("identity", lambda d: d),
}


def chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000, 10**9])
@pytest.mark.parametrize("name", list(ENCODERS))
def test_chunk_by_chunk_equals_the_whole_body(name: str, size: int) -> None:
    coding, encode = ENCODERS[name]
    encoded = encode(PAYLOAD)
    decoder = ContentDecoder(coding)
    streamed = b"".join(decoder.feed(c) for c in chunks(encoded, size)) + decoder.flush()
    assert streamed == ContentDecoder.decode(encoded, coding) == PAYLOAD


def test_brotli_when_installed() -> None:
    brotli = pytest.importorskip("brotli")
    encoded = brotli.compress(PAYLOAD)
    decoder = ContentDecoder("br")
    assert b"".join(decoder.feed(c) for c in chunks(encoded, 5)) + decoder.flush() == PAYLOAD


def test_brotli_missing_is_a_typed_error_naming_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "brotli", None)  # import brotli now raises ImportError
    assert not ContentDecoder.supports("br")
    with pytest.raises(ContentDecodingError, match="pip install brotli"):
        ContentDecoder("br")


@pytest.mark.parametrize("wbits", [31, zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["gzip", "deflate-zlib", "deflate-raw"])
def test_a_sync_flushed_stream_decodes_each_event_as_it_arrives(wbits: int) -> None:
    """What the recorder relies on for timing: an event is decoded when its chunk arrives,
    not when the body ends (even when the first chunk is one byte)."""
    compressor = zlib.compressobj(wbits=wbits)
    writes = [compressor.compress(e) + compressor.flush(zlib.Z_SYNC_FLUSH) for e in EVENTS[:20]]
    writes = [writes[0][:1], writes[0][1:], *writes[1:]]
    decoder = ContentDecoder("gzip" if wbits == 31 else "deflate")
    out = decoder.feed(writes[0])
    for n, write in enumerate(writes[1:]):
        out += decoder.feed(write)
        assert out == b"".join(EVENTS[:n + 1])


def test_unknown_coding_is_a_typed_error() -> None:
    assert not ContentDecoder.supports("compress") and not ContentDecoder.supports("gzip, compress")
    assert ContentDecoder.supports("gzip, identity") and ContentDecoder.supports("") and ContentDecoder.supports("zstd")
    assert not ContentDecoder.known("utf-8") and ContentDecoder.known("gzip, zstd, br")
    with pytest.raises(ContentDecodingError, match="unsupported content-encoding 'compress'") as info:
        ContentDecoder("gzip, compress")
    assert isinstance(info.value, ReplayStreamError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize("module", ["backports.zstd", "zstandard"])
def test_zstd_through_either_package_the_clients_use(module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx2 decodes zstd with backports.zstd (compression.zstd from 3.14), httpx with
    zstandard: either one installed is enough here."""
    for other in {"compression.zstd", "backports.zstd", "zstandard"} - {module}:
        monkeypatch.setitem(sys.modules, other, None)
    wire_http._zstd.cache_clear()
    monkeypatch.setattr(wire_http, "_zstd", wire_http._zstd.__wrapped__)
    coding, encode = ENCODERS["zstd-two-frames"]
    decoder = ContentDecoder(coding)
    assert b"".join(decoder.feed(c) for c in chunks(encode(PAYLOAD), 3)) + decoder.flush() == PAYLOAD


def test_zstd_missing_is_a_typed_error_naming_the_packages_and_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wire_http, "_zstd", lambda: None)
    assert not ContentDecoder.supports("zstd") and ContentDecoder.known("zstd")
    with pytest.raises(MissingDecoderError, match=r"zstandard \(httpx\) or backports.zstd \(httpx2\)") as info:
        ContentDecoder("gzip, zstd")
    assert "pip install 'replaystream[zstd]'" in str(info.value) and "backports.zstd" in info.value.package


def test_whether_the_clients_raise_too_is_told_apart() -> None:
    """httpx and httpx2 read a cut gzip body without complaint but fail on damaged bytes and
    on an unfinished zstd frame: the recorder follows them, so it needs to know which."""
    cases = [(gzip.compress(PAYLOAD)[:-10], "gzip", False), (b"\x00\x00\x00", "gzip", True),
             (zstandard.ZstdCompressor().compress(PAYLOAD)[:-3], "zstd", True), (b"not zstd", "zstd", True)]
    for data, coding, raises in cases:
        with pytest.raises(ContentDecodingError) as info:
            ContentDecoder.decode(data, coding)
        assert info.value.client_raises is raises and info.value.detail


def test_damaged_and_truncated_bodies_are_typed_errors_and_empty_bodies_are_empty() -> None:
    with pytest.raises(ContentDecodingError, match="does not decode"):
        ContentDecoder.decode(b"\x00\x00\x00", "gzip")
    with pytest.raises(ContentDecodingError, match="truncated"):
        ContentDecoder.decode(gzip.compress(PAYLOAD)[:-10], "gzip")
    with pytest.raises(ContentDecodingError, match="truncated"):
        ContentDecoder.decode(zlib.compress(PAYLOAD, wbits=-15)[:1], "deflate")
    assert ContentDecoder.decode(b"", "gzip, deflate") == b""
    assert ContentDecoder("identity").identity and not ContentDecoder("gzip").identity


def test_request_and_header_helpers() -> None:
    assert header_dict([("Accept", "a"), ("X-Y", "1"), ("accept", "b")]) == {"accept": "a, b", "x-y": "1"}
    assert parse_body(b'{"a": 1}') == ({"a": 1}, None)
    assert parse_body(b"a=1&b=\xff") == (None, "a=1&b=\ufffd")
    assert parse_body(b"") == (None, None)
    headers = {"content-type": "text/event-stream", "content-encoding": "gzip", "transfer-encoding": "chunked",
               "content-length": "5", "connection": "keep-alive", "keep-alive": "timeout=5"}
    assert stored_response_headers(headers, decoded=True) == {"content-type": "text/event-stream"}
    assert stored_response_headers(headers, decoded=False) == {"content-type": "text/event-stream",
                                                              "content-encoding": "gzip"}


def test_raw_deflate_is_recorded_end_to_end_through_the_sdk(tmp_path: Path) -> None:
    """Some servers send ``content-encoding: deflate`` without the zlib header; the SDK
    reads it, so recording must too (it used to raise in the recorder, failing the call)."""
    path = tmp_path / "deflate.json"
    words = ["Raw", " deflate", " streams", " record."]
    events = openai_chat_stream(words)
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(events=events, headers={"content-encoding": "deflate"}))
        emu.enqueue(ScriptedResponse(body=b'{"object": "list", "data": []}',
                                     headers={"content-type": "application/json", "content-encoding": "deflate"}),
                    path="/v1/models")
        client = openai.OpenAI(base_url=emu.base_url + "/v1", api_key="sk-test-deflate", max_retries=0)
        with use_cassette(path, mode="once"):
            stream = client.chat.completions.create(model="gpt-4o-mini", stream=True,
                                                    messages=[{"role": "user", "content": "hi"}])
            live = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
            models = client.models.list()
        assert len(emu.requests) == 2
    assert live == "".join(words) and models.data == []
    stream_inter, plain_inter = Cassette.load(path).interactions
    assert [e.raw for e in stream_inter.response.events or []] == events  # stored decoded, event by event
    assert plain_inter.response.body == b'{"object": "list", "data": []}'
    for inter in (stream_inter, plain_inter):
        assert "content-encoding" not in inter.response.headers and inter.response.end == "complete"
    with use_cassette(path):  # and it replays offline
        stream = client.chat.completions.create(model="gpt-4o-mini", stream=True,
                                                messages=[{"role": "user", "content": "hi"}])
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == live
