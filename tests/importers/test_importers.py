"""Importers: cassettes really recorded by vcrpy, raw SSE bodies, and files they must refuse.

The vcrpy cassettes here are not hand-written: a small ``http.server`` on 127.0.0.1
answers like OpenAI (a gzip JSON body, an SSE stream, a gzip SSE stream) and vcrpy
records the openai SDK talking to it. The import is then replayed with the server gone.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import openai
import pytest
import vcr

from replaystream import CassetteError
from replaystream.importers import (
    convert,
    import_cassette,
    import_file,
    import_raw_sse,
    import_vcr,
)
from replaystream.wire.session import use_cassette

SSE_CHUNKS = [
    {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
     "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]},
    {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
     "choices": [{"index": 0, "delta": {"content": "Hello"}, "finish_reason": None}]},
    {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
     "choices": [{"index": 0, "delta": {"content": " there"}, "finish_reason": "stop"}]},
]
SSE_BODY = b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in SSE_CHUNKS) + b"data: [DONE]\n\n"
COMPLETION = {"id": "c2", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
              "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi (gzip)"},
                           "finish_reason": "stop"}]}
SENSITIVE = ("set-cookie", "openai-organization", "openai-project", "x-request-id")


class FakeOpenAI(BaseHTTPRequestHandler):
    """Chat completions: JSON gzip-encoded; streams plain, or gzip when the user asks for it."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        if body.get("stream"):
            payload, ctype = SSE_BODY, "text/event-stream; charset=utf-8"
            gzipped = body.get("user") == "gzip"
        else:
            payload, ctype, gzipped = json.dumps(COMPLETION).encode(), "application/json", True
        if gzipped:
            payload = gzip.compress(payload)
        self.send_response(200)
        self.send_header("content-type", ctype)
        if gzipped:
            self.send_header("content-encoding", "gzip")
        self.send_header("content-length", str(len(payload)))
        self.send_header("set-cookie", "__cf_bm=secret-cookie; path=/")
        self.send_header("openai-organization", "org-secret")
        self.send_header("openai-project", "proj_secret")
        self.send_header("x-request-id", "req_123")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def client(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key="sk-test-not-a-real-key", max_retries=0)


MESSAGES = [{"role": "user", "content": "Say hello"}]


def exercise(oc: openai.OpenAI) -> tuple[str | None, list[dict[str, Any]], list[dict[str, Any]]]:
    """The three calls: a gzip JSON completion, a plain stream, a gzip stream."""
    done = oc.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)  # type: ignore[arg-type]
    plain = oc.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
    zipped = oc.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True,  # type: ignore[arg-type]
                                        user="gzip")
    return (done.choices[0].message.content,
            [c.model_dump(exclude_unset=True) for c in plain],
            [c.model_dump(exclude_unset=True) for c in zipped])


@pytest.fixture(params=[("yaml", False), ("yaml", True), ("json", True)],
                ids=["yaml-binary-gzip", "yaml-decode_compressed_response", "json-decode_compressed_response"])
def recorded(request: pytest.FixtureRequest, server: str, tmp_path: Path) -> tuple[Path, Any, bool]:
    """A cassette vcrpy really recorded: the default (gzip bodies kept as ``!!binary``), or
    with ``decode_compressed_response`` (vcrpy's JSON serializer cannot store binary)."""
    serializer, decode = request.param
    path = tmp_path / f"recorded.{serializer}"
    with vcr.VCR(serializer=serializer, decode_compressed_response=decode).use_cassette(str(path)):
        live = exercise(client(server))
    return path, live, decode


def test_vcrpy_recording_with_gzip_binary_bodies_imports_and_replays(
        recorded: tuple[Path, Any, bool], tmp_path: Path, no_sockets: list[object]) -> None:
    path, live, decoded = recorded
    assert live == ("Hi (gzip)", SSE_CHUNKS, SSE_CHUNKS)
    if not decoded:
        assert "!!binary" in path.read_text()  # vcrpy keeps the gzip wire bytes
    cassette = import_vcr(path)
    plain, stream, zipped = cassette.interactions
    assert plain.response.body == json.dumps(COMPLETION).encode()  # stored decoded
    for inter in cassette.interactions:
        assert "content-encoding" not in inter.response.headers
        assert (inter.provider, inter.api) == ("openai", "chat.completions")
        assert inter.request.path == "/v1/chat/completions" and inter.request.body["messages"] == MESSAGES
        assert inter.note and inter.note.startswith("imported from vcrpy cassette")
    for inter in (stream, zipped):
        assert inter.response.events is not None and len(inter.response.events) == 4
        assert b"".join(e.raw for e in inter.response.events) == SSE_BODY
        assert "timing was not recorded" in (inter.note or "")
    assert cassette.meta["source"] == path.name and cassette.meta["imported_from"] == "vcrpy cassette"

    dest = tmp_path / "imported.json"
    convert(path, dest)
    text = dest.read_text().lower()
    for name in SENSITIVE + ("cookie",):
        assert f'"{name}"' not in text
    assert "secret" not in text and "sk-test-not-a-real-key" not in text
    with use_cassette(dest, mode="none") as session:  # the server is still up: the guard proves it unused
        replayed = exercise(client("http://127.0.0.1:9/v1"))
    assert replayed == live
    assert session.unused() == []


PYDANTIC_STYLE = """\
interactions:
- request:
    headers:
      content-type:
      - application/json
      cookie:
      - __cf_bm=abc
      host:
      - api.groq.com
    method: POST
    parsed_body:
      messages:
      - content: hi
        role: user
      model: llama
      stream: true
    uri: https://api.groq.com/openai/v1/chat/completions
  response:
    body:
      string: |+
        : keep-alive

        data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"llama","choices":[]}

        data: [DONE]

    headers:
      content-type:
      - text/event-stream
      x-request-id:
      - req_1
    status:
      code: 200
      message: OK
- request:
    headers: {}
    method: POST
    parsed_body: {"model": "m", "messages": []}
    uri: https://openrouter.ai/api/v1/chat/completions
  response:
    headers:
      content-type:
      - application/json
    parsed_body: {"ok": true}
    status:
      code: 200
      message: OK
version: 1
"""


def test_pydantic_ai_variant_and_openai_compatible_hosts(tmp_path: Path) -> None:
    path = tmp_path / "pyd.yaml"
    path.write_text(PYDANTIC_STYLE)
    stream, plain = import_cassette(path).interactions
    assert (stream.provider, stream.request.path) == ("openai-compatible", "/openai/v1/chat/completions")
    assert stream.request.body == {"messages": [{"content": "hi", "role": "user"}], "model": "llama", "stream": True}
    assert [e.raw for e in stream.response.events or []] == [
        b": keep-alive\n\n",
        b'data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"llama","choices":[]}\n\n',
        b"data: [DONE]\n\n"]
    assert "request.headers.cookie" in stream.scrubbed and "response.headers.x-request-id" in stream.scrubbed
    assert plain.provider == "openai-compatible" and json.loads(plain.response.body or b"") == {"ok": True}


def test_old_httpx_cassette_shape(tmp_path: Path) -> None:
    path = tmp_path / "old.yaml"
    path.write_text("interactions:\n- request:\n    method: GET\n    uri: https://api.openai.com/v1/models?limit=2\n"
                    "    body: null\n    headers: {}\n  response:\n    status_code: 200\n"
                    "    headers:\n      content-type: application/json\n    content: '{\"data\": []}'\n")
    (inter,) = import_vcr(path).interactions
    assert (inter.request.method, inter.request.path, inter.request.query) == ("GET", "/v1/models", "limit=2")
    assert inter.response.status == 200 and inter.response.body == b'{"data": []}'


def test_raw_sse_body_gets_a_synthesized_request(tmp_path: Path) -> None:
    path = tmp_path / "stream.bin"
    path.write_bytes(SSE_BODY)
    cassette = import_file(path)  # dispatched by content
    (inter,) = cassette.interactions
    assert inter.request.path == "/v1/chat/completions"
    assert inter.request.body["stream"] is True and inter.request.body["model"] == "gpt-4o-mini"
    assert "synthesized" in (inter.note or "") and cassette.meta["synthesized_request"] is True
    assert b"".join(e.raw for e in inter.response.events or []) == SSE_BODY
    body = {"model": "gpt-4o", "messages": MESSAGES, "stream": True}
    given = import_raw_sse(path, request_body=body)
    assert given.interactions[0].request.body == body and given.meta["synthesized_request"] is False
    dest = tmp_path / "stream.json"
    given.save(dest)
    with use_cassette(dest, mode="none"):
        got = client("http://127.0.0.1:9/v1").chat.completions.create(**body)  # type: ignore[call-overload]
        assert [c.model_dump(exclude_unset=True) for c in got] == SSE_CHUNKS


def test_a_native_cassette_is_loaded_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "stream.bin"
    path.write_bytes(SSE_BODY)
    native = convert(path, tmp_path / "native.json")
    again = import_file(tmp_path / "native.json")
    assert again.to_document() == native.to_document()


@pytest.mark.parametrize(("content", "problem"), [
    (b"", "is empty"),
    (b"  \n\n", "is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\xff\xfe", "not UTF-8"),
    (b"interactions: [unclosed\n  - x: 1\n", "not valid YAML"),
    (b"key: value\nother: 1\n", "not a vcrpy cassette"),
    (b"- just\n- a list\n", "not a vcrpy cassette"),
    (b"just some prose, not a cassette\n", "not a vcrpy cassette"),
    (b"- request: {uri: x}\n  response: {}\n", "before vcrpy 1.0"),
    (b"interactions:\n- request: {method: GET, uri: 'http://x/'}\n", "interactions[0]"),
    (b"interactions:\n- request: {method: GET}\n  response: {status: {code: 200}}\n", "interactions[0].request.uri"),
    (b"interactions:\n- request: {method: GET, uri: 'http://x/'}\n  response: {status: {code: 9}}\n", "status"),
    ((b"interactions:\n- request: {method: GET, uri: 'http://x/'}\n  response:\n    status: {code: 200}\n"
      b"    headers: {content-encoding: [gzip]}\n    body: {string: !!binary AAAA}\n"), "content-encoding"),
    (b"interactions: []\nversion: 7\n", "version"),
    (b"!!python/object/apply:os.system ['true']\n", "YAML tag the safe loader refuses"),
])
def test_unreadable_files_raise_cassette_error_naming_the_file(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    with pytest.raises(CassetteError) as info:
        import_file(path)
    assert info.value.path == path
    assert str(path) in str(info.value) and problem in str(info.value)


def test_yaml_errors_carry_a_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("interactions:\n- request: {a: 1\n")
    with pytest.raises(CassetteError) as info:
        import_vcr(path)
    assert info.value.position.startswith("line ")


def test_missing_file_directory_and_non_sse_raw(tmp_path: Path) -> None:
    with pytest.raises(CassetteError, match="no such file"):
        import_file(tmp_path / "absent.yaml")
    with pytest.raises(CassetteError, match="is a directory"):
        import_file(tmp_path)
    path = tmp_path / "x.bin"
    path.write_bytes(b'{"not": "sse"}')
    with pytest.raises(CassetteError, match="not a server-sent-event body"):
        import_raw_sse(path)


def test_convert_failure_leaves_the_destination_intact(tmp_path: Path) -> None:
    dest = tmp_path / "out.json"
    dest.write_text("precious")
    bad = tmp_path / "bad.yaml"
    bad.write_text("nope: 1\n")
    with pytest.raises(CassetteError):
        convert(bad, dest)
    assert dest.read_text() == "precious"
