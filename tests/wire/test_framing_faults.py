"""A fault test per framing: a disconnect after unit K and a malformed unit K give the real
client's own exception at unit K (AWS event-stream: tests/wire/test_bedrock.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import ollama
import openai
import pytest

from replaystream import use_cassette
from replaystream.cassette.model import Cassette
from replaystream.emulator import ProviderEmulator, ScriptedResponse, openai_chat_stream


def ndjson_lines(chunks: list[str]) -> list[bytes]:
    """Ollama's /api/chat stream: one JSON object a line, the last one ``done``."""
    def line(content: str, done: bool) -> bytes:
        obj: dict[str, Any] = {"model": "llama3.2", "created_at": "2026-01-01T00:00:00Z",
                               "message": {"role": "assistant", "content": content}, "done": done}
        if done:
            obj.update(done_reason="stop", eval_count=len(chunks))
        return json.dumps(obj, separators=(",", ":")).encode() + b"\n"
    return [line(c, False) for c in chunks] + [line("", True)]


def ollama_chat(url: str, got: list[str]) -> None:
    for part in ollama.Client(host=url).chat(model="llama3.2", messages=[{"role": "user", "content": "hi"}],
                                             stream=True):
        got.append(part.message.content or "")


def openai_chat(url: str, got: list[str]) -> None:
    client = openai.OpenAI(base_url=url + "/v1", api_key="sk-test-key-for-faults", max_retries=0)
    for chunk in client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}],
                                                stream=True):
        got.append(chunk.choices[0].delta.content or "" if chunk.choices else "")


Call = Callable[[str, list[str]], None]
#: framing -> (the stream, the real client reading it, its exception for a dropped connection,
#: for a malformed unit)
CASES: dict[str, tuple[ScriptedResponse, Call, type[BaseException], type[BaseException]]] = {
    "ndjson": (ScriptedResponse(200, {"content-type": "application/x-ndjson"}, events=ndjson_lines(["a", "b", "c"])),
               ollama_chat, httpx.RemoteProtocolError, json.JSONDecodeError),
    "sse": (ScriptedResponse(200, {"content-type": "text/event-stream"}, events=openai_chat_stream(["a", "b", "c"])),
            openai_chat, openai.APIConnectionError, json.JSONDecodeError),
}


@pytest.mark.parametrize("framing", list(CASES))
def test_disconnect_and_malformed_unit_at_k(framing: str, emulator: ProviderEmulator, tmp_path: Path) -> None:
    scripted, call, dropped, malformed = CASES[framing]
    path = tmp_path / "c.json"
    emulator.enqueue(scripted)
    whole: list[str] = []
    with use_cassette(path, mode="once"):
        call(emulator.base_url, whole)
    assert Cassette.load(path).interactions[0].response.framing == framing
    assert "".join(whole) == "abc"
    url = emulator.base_url
    emulator.stop()  # replayed offline from here
    for fault, error in (("disconnect:after=2", dropped), ("malformed:at=2", malformed)):
        got: list[str] = []
        with use_cassette(path, mode="none", faults=[fault]), pytest.raises(error):
            call(url, got)
        assert got == whole[:2], fault  # units 0 and 1 arrived, unit 2 failed in the client
