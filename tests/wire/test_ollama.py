"""Ollama beyond the stream matrix: its key never lands, non-streamed chat and embeddings,
faults met by the ``ollama`` client as a server failing that way, a vcrpy cassette of its
NDJSON imported line by line, and ``check --drift`` on its lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ollama
import pytest
import yaml

from replaystream import Cassette, use_cassette
from replaystream.cassette.framing import NDJSON
from replaystream.cli import main
from replaystream.emulator import (
    NDJSON_HEADERS,
    ProviderEmulator,
    ScriptedResponse,
    ollama_chat_response,
    ollama_chat_stream,
    ollama_embeddings,
    ollama_error,
)
from replaystream.importers import import_file
from replaystream.wire.faults import malform

KEY = "ollama-FAKE-cloud-key-0123456789abcdef"
TEXT = ["one", " two", " three", " four", " five"]


def stream(chunks: list[str] = TEXT, **kwargs: Any) -> ScriptedResponse:
    return ScriptedResponse(events=ollama_chat_stream(chunks), headers=NDJSON_HEADERS, **kwargs)


def chat(base: str) -> list[str]:
    return [r.message.content or "" for r in ollama.Client(host=base).chat(
        model="llama3.2", messages=[{"role": "user", "content": "count"}], stream=True)]


@pytest.mark.parametrize("how", ["env", "constructor"])
def test_ollama_key_never_lands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    monkeypatch.setenv("OLLAMA_API_KEY", KEY) if how == "env" else monkeypatch.delenv("OLLAMA_API_KEY", raising=False)
    headers = {"Authorization": f"Bearer {KEY}"} if how == "constructor" else {}
    path = tmp_path / "c.json"
    with ProviderEmulator() as emu:
        emu.enqueue(stream([f"echo {KEY}"]))
        with use_cassette(path, mode="once"):
            list(ollama.Client(host=emu.base_url, headers=headers).chat(
                model="llama3.2", messages=[{"role": "user", "content": f"k {KEY}"}], stream=True))
        assert emu.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert KEY not in path.read_text()
    inter = Cassette.load(path).interactions[0]
    assert inter.provider == "ollama" and "request.headers.authorization" in inter.scrubbed


def test_non_streamed_chat_and_embeddings(tmp_path: Path) -> None:
    path = tmp_path / "c.json"

    def calls(base: str) -> list[Any]:
        client = ollama.Client(host=base)
        reply = client.chat(model="llama3.2", messages=[{"role": "user", "content": "hi"}], stream=False)
        vectors = client.embed(model="nomic-embed-text", input=["a", "b"])
        return [reply.message.content, [list(v) for v in vectors.embeddings]]

    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(body=ollama_chat_response("Hello")))
        emu.enqueue(ScriptedResponse(body=ollama_embeddings([[0.5, 0.25], [1.0, 0.0]])))
        with use_cassette(path, mode="once"):
            recorded = calls(emu.base_url)
        base = emu.base_url
    assert recorded == ["Hello", [[0.5, 0.25], [1.0, 0.0]]]
    assert [(i.provider, i.api) for i in Cassette.load(path).interactions] == [("ollama", "chat"), ("ollama", "embed")]
    with use_cassette(path):
        assert calls(base) == recorded


# -- faults: the client's own exception at line K ------------------------------------------------
def outcome(base: str) -> tuple[list[str], Any]:
    seen: list[str] = []
    try:
        for piece in ollama.Client(host=base).chat(model="llama3.2", messages=[{"role": "user", "content": "count"}],
                                                   stream=True):
            seen.append(piece.message.content or "")
    except Exception as exc:  # the type (and Ollama's status code) is what is compared
        return seen, (type(exc), getattr(exc, "status_code", None))
    return seen, None


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ollama") / "c.json"
    with ProviderEmulator() as emu:
        emu.enqueue(stream())
        with use_cassette(path, mode="once"):
            assert "".join(chat(emu.base_url)) == "".join(TEXT)
    return path


def live(script: ScriptedResponse) -> tuple[list[str], Any]:
    with ProviderEmulator() as emu:
        emu.enqueue(script)
        return outcome(emu.base_url)


def replayed(path: Path, fault: str) -> tuple[list[str], Any]:
    with use_cassette(path, faults=[fault]):
        return outcome("http://127.0.0.1:9")


def test_disconnect_after_line_k(recorded: Path) -> None:
    expected = live(stream(close_after=2))
    assert expected[1] is not None and expected[0] == TEXT[:2]
    assert replayed(recorded, "disconnect:after=2") == expected


def test_malformed_line_at_k(recorded: Path) -> None:
    lines = ollama_chat_stream(TEXT)
    lines[2] = malform(lines[2], NDJSON)
    expected = live(ScriptedResponse(events=lines, headers=NDJSON_HEADERS))
    assert expected[1] is not None and expected[0] == TEXT[:2]
    assert replayed(recorded, "malformed:at=2") == expected


def test_status_fault_is_ollamas_own_error(recorded: Path) -> None:
    expected = live(ollama_error(503, "server busy"))
    assert expected[1] is not None
    assert replayed(recorded, "status:503") == expected


# -- import and drift ----------------------------------------------------------------------------
def test_a_vcrpy_cassette_of_an_ollama_stream_imports_line_by_line(tmp_path: Path) -> None:
    lines = ollama_chat_stream(TEXT)
    source = tmp_path / "ollama.yaml"
    source.write_text(yaml.safe_dump({"version": 1, "interactions": [{
        "request": {"method": "POST", "uri": "http://localhost:11434/api/chat", "headers": {},
                    "body": '{"model":"llama3.2","stream":true,"messages":[{"role":"user","content":"count"}],"tools":[]}'},
        "response": {"status": {"code": 200, "message": "OK"},
                     "headers": {"Content-Type": ["application/x-ndjson"]},
                     "body": {"string": b"".join(lines).decode()}}}]}))
    cassette = import_file(source)
    (inter,) = cassette.interactions
    assert (inter.provider, inter.api, inter.response.framing) == ("ollama", "chat", "ndjson")
    assert [e.raw for e in inter.response.events or []] == lines
    saved = cassette.save(tmp_path / "c.json")
    with use_cassette(saved):
        assert chat("http://localhost:11434") == TEXT + [""]


def test_drift_on_ollama_lines(recorded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def drift(lines: list[bytes]) -> tuple[int, str]:
        with ProviderEmulator() as emu:
            emu.enqueue(ScriptedResponse(events=lines, headers=NDJSON_HEADERS))
            code = main(["check", "--drift", "--drift-base-url", emu.base_url, str(recorded)])
        return code, capsys.readouterr().out

    code, out = drift(ollama_chat_stream(["other", " words"]))
    assert code == 0 and "same shape" in out
    code, out = drift([line.replace(b'"eval_count"', b'"output_count"') for line in ollama_chat_stream(TEXT)])
    assert code == 1 and "output_count" in out


def test_inspect_shows_ollama_lines_and_their_text(recorded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(recorded)]) == 0
    out = capsys.readouterr().out
    assert "ollama/chat" in out and "framing: ndjson" in out
    assert f"assembled text: {''.join(TEXT)!r}" in out
