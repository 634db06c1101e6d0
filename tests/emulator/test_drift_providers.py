"""``check --drift``, ``inspect`` and ``check`` on Gemini and gateway recordings."""

from __future__ import annotations

from pathlib import Path

import pytest
from google import genai
from google.genai import types as genai_types

from replaystream import use_cassette
from replaystream.cli import main
from replaystream.emulator import ProviderEmulator, ScriptedResponse, ToolCall, gemini_stream

KEY = "AIzaSyFAKE-drift-key-0123456789abc"


def record(path: Path, events: list[bytes]) -> None:
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(events=events))
        with use_cassette(path, mode="once"):
            client = genai.Client(api_key=KEY, http_options=genai_types.HttpOptions(base_url=emu.base_url))
            list(client.models.generate_content_stream(model="gemini-2.0-flash", contents="hi"))


def drift(path: Path, served: list[bytes], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(events=served))
        code = main(["check", "--drift", "--drift-base-url", emu.base_url, str(path)])
        sent = emu.requests
    assert len(sent) == 1 and sent[0].path.endswith(":streamGenerateContent") and sent[0].query == "alt=sse"
    return code, capsys.readouterr().out


def test_gemini_text_changes_are_not_drift_usage_changes_are(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    record(tmp_path / "c.json", gemini_stream(["Hello", " there"]))
    code, out = drift(tmp_path / "c.json", gemini_stream(["Quite", " other", " words"]), capsys)
    assert code == 0 and "same shape" in out
    renamed = [e.replace(b'"candidatesTokenCount"', b'"outputTokenCount"') for e in gemini_stream(["a", "b"])]
    code, out = drift(tmp_path / "c.json", renamed, capsys)
    assert code == 1 and "usage fields" in out and "outputTokenCount" in out


def test_live_gemini_drift_needs_its_key_and_the_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    record(tmp_path / "c.json", gemini_stream(["x"]))
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    assert main(["check", "--drift", str(tmp_path / "c.json")]) == 2
    assert "needs --live and GOOGLE_API_KEY set" in capsys.readouterr().err


def test_inspect_shows_gemini_text_and_check_finds_no_key(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)
    call: ToolCall = {"id": "call_7", "name": "get_weather", "arguments_chunks": ['{"city": "Oslo"}']}
    record(tmp_path / "c.json", gemini_stream(["Polar bears", " are white."], tool_calls=[call]))
    assert main(["inspect", str(tmp_path / "c.json")]) == 0
    out = capsys.readouterr().out
    assert "google/streamGenerateContent" in out
    assert "assembled text: 'Polar bears are white.'" in out
    assert """tool call get_weather (call_7): '{"city": "Oslo"}'""" in out
    assert main(["check", str(tmp_path / "c.json")]) == 0
