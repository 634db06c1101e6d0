"""A Gemini or Ollama cassette replayed through its LangChain integration, where that
provider's extra is not installed, says which extra to install (and the rest still works)."""

from __future__ import annotations

from pathlib import Path

import ollama
import pytest
from google import genai
from google.genai import types as genai_types

from replaystream import use_cassette
from replaystream.emulator import NDJSON_HEADERS, ProviderEmulator, ScriptedResponse, gemini_stream, ollama_chat_stream

from ._without import run_python


def record(path: Path, provider: str) -> None:
    with ProviderEmulator() as emu:
        if provider == "google":
            emu.enqueue(ScriptedResponse(events=gemini_stream(["Hi"])))
        else:
            emu.enqueue(ScriptedResponse(events=ollama_chat_stream(["Hi"]), headers=NDJSON_HEADERS))
        with use_cassette(path, mode="once"):
            if provider == "google":
                client = genai.Client(api_key="AIza-test", http_options=genai_types.HttpOptions(base_url=emu.base_url))
                list(client.models.generate_content_stream(model="gemini-2.0-flash", contents="hi"))
            else:
                list(ollama.Client(host=emu.base_url).chat(model="llama3.2", stream=True,
                                                           messages=[{"role": "user", "content": "hi"}]))


@pytest.mark.parametrize("provider", ["google", "ollama"])
def test_from_cassette_names_the_providers_extra(tmp_path: Path, provider: str) -> None:
    path = tmp_path / "c.json"
    record(path, provider)
    done = run_python(f"""
from replaystream import Cassette, ReplayChatModel
from replaystream.errors import MissingExtraError
print(Cassette.load({str(path)!r}).interactions[0].provider)  # loading needs no extra
try:
    ReplayChatModel.from_cassette({str(path)!r})
except MissingExtraError as exc:
    print(exc)
""", without=[provider])
    assert done.returncode == 0, done.stderr
    loaded, message = done.stdout.splitlines()
    assert loaded == provider
    assert f"needs the [{provider}] extra: pip install 'replaystream[{provider}]'" in message
