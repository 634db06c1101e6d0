"""The emulator serves Gemini's SSE and Ollama's NDJSON from a cassette (``replaystream serve``)
as they were recorded: the real SDKs read the same responses as from the script."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ollama
from google import genai
from google.genai import types as genai_types

from replaystream import Cassette, use_cassette
from replaystream.emulator import NDJSON_HEADERS, ProviderEmulator, ScriptedResponse, gemini_stream, ollama_chat_stream

TEXT = ["Polar bears", " have", " black skin."]


def gemini(base: str) -> list[Any]:
    client = genai.Client(api_key="AIza-test", http_options=genai_types.HttpOptions(base_url=base))
    return [c.model_dump(exclude_none=True, exclude={"sdk_http_response"})
            for c in client.models.generate_content_stream(model="gemini-2.0-flash", contents="hi")]


def llama(base: str) -> list[Any]:
    return [r.model_dump(exclude_none=True) for r in ollama.Client(host=base).chat(
        model="llama3.2", messages=[{"role": "user", "content": "hi"}], stream=True)]


def test_a_recorded_cassette_is_served_unit_by_unit(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(events=gemini_stream(TEXT)))
        emu.enqueue(ScriptedResponse(events=ollama_chat_stream(TEXT), headers=NDJSON_HEADERS))
        with use_cassette(path, mode="once"):
            scripted = [gemini(emu.base_url), llama(emu.base_url)]
    cassette = Cassette.load(path)
    with ProviderEmulator() as server:
        server.serve_cassette(cassette)
        served = [gemini(server.base_url), llama(server.base_url)]
        paths = [r.path for r in server.requests]
    assert served == scripted
    assert paths == ["/v1/models/gemini-2.0-flash:streamGenerateContent", "/api/chat"]
    assert [i.response.framing for i in cassette.interactions] == ["sse", "ndjson"]
