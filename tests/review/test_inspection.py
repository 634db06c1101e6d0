"""``replaystream inspect``: what each event is, tool calls put together, plots that say why not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from replaystream.cassette import Cassette, Event, Interaction, Request, Response
from replaystream.cli import main
from replaystream.emulator import (
    ToolCall,
    anthropic_messages_stream,
    openai_chat_stream,
    openai_embeddings,
    openai_responses_stream,
)
from replaystream.review.inspection import describe

WEATHER = ToolCall(id="call_1", name="get_weather", arguments_chunks=['{"city"', ': "Par', 'is"}'])


def stream_cassette(path: Path, events: list[bytes], provider: str, api: str, target: str) -> Path:
    Cassette([Interaction(Request("POST", target, body={"model": "m"}),
                          Response(200, {"content-type": "text/event-stream"},
                                   events=[Event(raw, 10.0 * n) for n, raw in enumerate(events)]),
                          provider, api)]).save(path)
    return path


def inspect(path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["inspect", str(path), *args]) == 0
    return capsys.readouterr().out


def test_openai_chat_chunks_say_what_they_carry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = stream_cassette(tmp_path / "c.json", openai_chat_stream(["Let me", " check."], tool_calls=[WEATHER]),
                           "openai", "chat.completions", "/v1/chat/completions")
    out = inspect(path, capsys)
    kinds = [line.split(None, 4)[4].split("  ")[0] for line in out.splitlines() if line[:7].strip().isdigit()]
    assert kinds == ["chunk role=assistant", "chunk content", "chunk content", "chunk tool_calls",
                     "chunk tool_calls", "chunk tool_calls", "chunk tool_calls", "chunk finish=tool_calls",
                     "chunk usage", "[DONE]"]
    assert "message" not in kinds
    assert "assembled text: 'Let me check.'" in out
    assert """tool call get_weather (call_1): '{"city": "Paris"}'""" in out


def test_responses_api_events_and_function_call_arguments(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = stream_cassette(tmp_path / "r.json", openai_responses_stream(["Hi"], tool_calls=[WEATHER]),
                           "openai", "responses", "/v1/responses")
    out = inspect(path, capsys, "--limit", "0")
    for kind in ("response.created", "response.output_text.delta  'Hi'", "response.function_call_arguments.delta",
                 "response.completed"):
        assert kind in out
    assert "assembled text: 'Hi'" in out
    assert """tool call get_weather (call_1): '{"city": "Paris"}'""" in out


def test_anthropic_tool_use_arguments_are_a_tool_call_not_text(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = stream_cassette(tmp_path / "a.json", anthropic_messages_stream(["Checking."], tool_use=[WEATHER]),
                           "anthropic", "messages", "/v1/messages")
    out = inspect(path, capsys, "--limit", "0")
    assert "assembled text: 'Checking.'" in out  # no JSON fragments mixed in
    assert """tool call get_weather (call_1): '{"city": "Paris"}'""" in out


def test_long_texts_are_capped_unless_limit_0(tmp_path: Path) -> None:
    words = [f"word{n} " for n in range(2000)]
    path = stream_cassette(tmp_path / "c.json", openai_chat_stream(words), "openai", "chat.completions",
                           "/v1/chat/completions")
    cassette = Cassette.load(path)
    short, full = describe(cassette), describe(cassette, limit=0)
    assert "more characters)" in short and len(short) < 6000
    assert "word1999" in full and "more characters" not in full


def test_plot_of_an_embeddings_cassette_says_there_is_nothing_to_plot(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    body = openai_embeddings([[0.1, 0.2]])
    path = tmp_path / "emb.json"
    Cassette([Interaction(Request("POST", "/v1/embeddings", body={"input": ["hi"], "model": "e"}),
                          Response(200, {"content-type": "application/json"}, body=body),
                          "openai", "embeddings")]).save(path)
    assert json.loads(body)["data"]
    assert main(["inspect", str(path), "--plot", str(tmp_path / "t.png")]) == 1
    captured = capsys.readouterr()
    assert "plain body" in captured.out  # the description is still printed
    assert "nothing to plot: none of the 1 interaction(s)" in captured.err and "is a stream" in captured.err
    assert not (tmp_path / "t.png").exists()
