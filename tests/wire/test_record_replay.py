"""Record from the loopback emulator with the real clients, stop it, replay offline, and
compare with an unpatched run: same SDK events, same LangChain chunks (ids aside)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from langchain_anthropic import ChatAnthropic
from langchain_core.messages import AIMessageChunk
from langchain_openai import ChatOpenAI

from replaystream import Cassette, CassetteMissError, ReplayChatModel, use_cassette
from replaystream.emulator import (
    ProviderEmulator,
    ScriptedResponse,
    ToolCall,
    anthropic_messages_stream,
    openai_chat_stream,
)

TEXT = ["Polar bears actually", " have transparent, hollow fur, not", " white fur."]
TOOL: list[ToolCall] = [{"id": "call_1", "name": "get_weather", "arguments_chunks": ['{"ci', 'ty": "Ed', 'inburgh"}']}]
QUESTION = "What color is a polar bear?"
WEATHER_TOOL = {"type": "function", "function": {"name": "get_weather", "description": "weather",
                                                 "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}


_loop: list[asyncio.AbstractEventLoop] = []


@pytest.fixture(autouse=True)
def one_event_loop_per_test() -> Iterator[None]:
    # ChatAnthropic caches its async HTTP client per base URL; asyncio.run() twice in one
    # test would hand the second run a client bound to a closed loop.
    loop = asyncio.new_event_loop()
    _loop.append(loop)
    yield
    _loop.remove(loop)
    loop.close()


def arun(coro: Any) -> Any:
    return _loop[-1].run_until_complete(coro)


def script(provider: str, kind: str) -> ScriptedResponse:
    if provider == "openai":
        events = openai_chat_stream(TEXT if kind == "text" else [], tool_calls=TOOL if kind == "tools" else None)
    else:
        events = anthropic_messages_stream(TEXT if kind == "text" else [], tool_use=TOOL if kind == "tools" else None)
    return ScriptedResponse(events=events, gaps_ms=2)


# -- the clients under test: each returns what the caller observed ----------------------------
def sdk_openai(base: str, kind: str) -> list[Any]:
    client = openai.OpenAI(base_url=base + "/v1", api_key="sk-test-openai", max_retries=0)
    extra = {"tools": [WEATHER_TOOL]} if kind == "tools" else {}
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": QUESTION}],
                                            stream=True, stream_options={"include_usage": True}, **extra)
    return [c.model_dump(exclude_unset=True) for c in stream]


def sdk_async_openai(base: str, kind: str) -> list[Any]:
    async def run() -> list[Any]:
        client = openai.AsyncOpenAI(base_url=base + "/v1", api_key="sk-test-openai", max_retries=0)
        extra = {"tools": [WEATHER_TOOL]} if kind == "tools" else {}
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": QUESTION}], stream=True, **extra)
        return [c.model_dump(exclude_unset=True) async for c in stream]
    return arun(run())


def sdk_anthropic(base: str, kind: str) -> list[Any]:
    client = anthropic.Anthropic(base_url=base, api_key="sk-ant-test", max_retries=0)
    extra = {"tools": [{"name": "get_weather", "input_schema": {"type": "object"}}]} if kind == "tools" else {}
    stream = client.messages.create(model="claude-3-5-sonnet-latest", max_tokens=1024, stream=True,
                                    messages=[{"role": "user", "content": QUESTION}], **extra)
    return [e.model_dump(exclude_unset=True) for e in stream]


def sdk_async_anthropic(base: str, kind: str) -> list[Any]:
    async def run() -> list[Any]:
        client = anthropic.AsyncAnthropic(base_url=base, api_key="sk-ant-test", max_retries=0)
        extra = {"tools": [{"name": "get_weather", "input_schema": {"type": "object"}}]} if kind == "tools" else {}
        async with client.messages.stream(model="claude-3-5-sonnet-latest", max_tokens=1024,
                                          messages=[{"role": "user", "content": QUESTION}], **extra) as stream:
            return [e.model_dump(exclude_unset=True) async for e in stream]
    return arun(run())


def lc_model(provider: str, base: str, kind: str) -> Any:
    if provider == "openai":
        model: Any = ChatOpenAI(model="gpt-4o-mini", base_url=base + "/v1", api_key="sk-test-openai", max_retries=0,
                                temperature=0)
    else:
        model = ChatAnthropic(model="claude-3-5-sonnet-latest", base_url=base, api_key="sk-ant-test",
                              max_retries=0, temperature=0)
    return model.bind_tools([WEATHER_TOOL]) if kind == "tools" else model


def lc_chunks(chunks: list[AIMessageChunk]) -> list[dict[str, Any]]:
    """LangChain chunks as data, run ids aside (they are new on every run)."""
    out = []
    for c in chunks:
        data = c.model_dump()
        if str(data.get("id", "")).startswith(("lc_run--", "run-")):
            data["id"] = "<run id>"
        out.append(data)
    return out


def lc_sync(provider: str) -> Callable[[str, str], list[Any]]:
    return lambda base, kind: lc_chunks(list(lc_model(provider, base, kind).stream(QUESTION)))


def lc_async(provider: str) -> Callable[[str, str], list[Any]]:
    async def run(base: str, kind: str) -> list[Any]:
        return lc_chunks([c async for c in lc_model(provider, base, kind).astream(QUESTION)])
    return lambda base, kind: arun(run(base, kind))


CLIENTS: dict[str, tuple[str, Callable[[str, str], list[Any]]]] = {
    "openai.OpenAI": ("openai", sdk_openai),
    "openai.AsyncOpenAI": ("openai", sdk_async_openai),
    "anthropic.Anthropic": ("anthropic", sdk_anthropic),
    "anthropic.AsyncAnthropic": ("anthropic", sdk_async_anthropic),
    "ChatOpenAI.stream": ("openai", lc_sync("openai")),
    "ChatOpenAI.astream": ("openai", lc_async("openai")),
    "ChatAnthropic.stream": ("anthropic", lc_sync("anthropic")),
    "ChatAnthropic.astream": ("anthropic", lc_async("anthropic")),
}


@pytest.mark.parametrize("kind", ["text", "tools"])
@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_record_then_replay_offline_gives_what_the_live_run_gave(
        tmp_path: Path, client: str, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    provider, run = CLIENTS[client]
    path = tmp_path / "c.json"
    with ProviderEmulator() as emu:
        emu.enqueue(script(provider, kind))
        live = run(emu.base_url, kind)  # unpatched: the baseline
        emu.enqueue(script(provider, kind))
        with use_cassette(path, mode="once"):
            recorded = run(emu.base_url, kind)
        base = emu.base_url
        assert len(emu.requests) == 2
    assert recorded == live  # recording is transparent

    cassette = Cassette.load(path)
    (inter,) = cassette.interactions
    assert inter.provider == provider and inter.response.events
    assert [e.ms for e in inter.response.events] == sorted(e.ms for e in inter.response.events)

    attempts: list[object] = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, a: attempts.append(a) or (_ for _ in ()).throw(OSError))
    with use_cassette(path) as session:  # the emulator is gone: replay is offline
        replayed = run(base, kind)
    assert replayed == live
    assert attempts == [] and session.unused() == []


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.parametrize("kind", ["text", "tools"])
def test_replay_chat_model_from_cassette_equals_the_wire_replay(tmp_path: Path, provider: str, kind: str,
                                                                mode: str) -> None:
    path = tmp_path / "c.json"
    run = lc_sync(provider) if mode == "sync" else lc_async(provider)
    with ProviderEmulator() as emu:
        emu.enqueue(script(provider, kind))
        with use_cassette(path, mode="once"):
            run(emu.base_url, kind)
        base = emu.base_url
    with use_cassette(path):
        wire = run(base, kind)
    model = ReplayChatModel.from_cassette(path)
    if mode == "sync":
        message_level = lc_chunks(list(model.stream(QUESTION)))
    else:
        async def collect() -> list[AIMessageChunk]:
            return [c async for c in model.astream(QUESTION)]
        message_level = lc_chunks(arun(collect()))
    assert message_level == wire
    assert model.identity()["ls_provider"] == provider


def test_recording_passes_each_event_through_before_the_next_is_sent(tmp_path: Path) -> None:
    # The emulator holds event n+1 back until the client acknowledges event n; a recorder
    # that buffered the stream would deadlock here (the emulator then cuts the connection).
    with ProviderEmulator(hold_back_timeout=2.0) as emu:
        emu.enqueue(ScriptedResponse(events=openai_chat_stream(TEXT), hold_back=True))
        client = openai.OpenAI(base_url=emu.base_url + "/v1", api_key="sk-test", max_retries=0)
        seen = []
        with use_cassette(tmp_path / "c.json", mode="once"):
            for chunk in client.chat.completions.create(model="gpt-4o-mini", stream=True,
                                                        messages=[{"role": "user", "content": QUESTION}]):
                seen.append(chunk)
                emu.ack()
        assert emu.holdback_timeouts == 0
    assert "".join(c.choices[0].delta.content or "" for c in seen if c.choices) == "".join(TEXT)
    events = Cassette.load(tmp_path / "c.json").interactions[0].response.events
    assert events is not None and len(events) == len(openai_chat_stream(TEXT))


@pytest.mark.parametrize("cut", [{"write_sizes": 7}, {"coalesce": True}])
def test_network_reads_are_reframed_into_the_same_events(tmp_path: Path, cut: dict[str, Any]) -> None:
    events = anthropic_messages_stream(TEXT)
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(events=events, **cut))
        with use_cassette(tmp_path / "c.json", mode="once"):
            sdk_anthropic(emu.base_url, "text")
    stored = Cassette.load(tmp_path / "c.json").interactions[0].response.events
    assert stored is not None and [e.raw for e in stored] == events


def test_secrets_never_land(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    openai_key, anthropic_key = "sk-proj-FAKEopenaiKEY0123456789abcdef", "sk-ant-api03-FAKEanthropicKEY0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", openai_key)
    monkeypatch.setenv("ANTHROPIC_API_KEY", anthropic_key)
    leaky = {"set-cookie": "__cf_bm=secretcookie; path=/", "openai-organization": "org-secret",
             "openai-project": "proj_secret", "anthropic-organization-id": "anthropic-org-secret",
             "x-request-id": "req_secret", "request-id": "req_secret2"}
    path = tmp_path / "c.json"
    with ProviderEmulator() as emu:
        echo = openai_chat_stream([f"you said {openai_key}"])
        emu.enqueue(ScriptedResponse(events=echo, headers=leaky))
        emu.enqueue(ScriptedResponse(events=anthropic_messages_stream(["hi"]), headers=leaky))
        with use_cassette(path, mode="once"):
            openai.OpenAI(base_url=emu.base_url + "/v1", max_retries=0, default_headers={"cookie": "session=abc"}
                          ).chat.completions.create(model="m", stream=True,
                                                    messages=[{"role": "user", "content": f"key {anthropic_key}"}]
                                                    ).close()
            for _ in anthropic.Anthropic(base_url=emu.base_url, max_retries=0).messages.create(
                    model="claude", max_tokens=10, stream=True, messages=[{"role": "user", "content": "hi"}]):
                pass
        sent = {k for r in emu.requests for k in r.headers}
    assert {"authorization", "cookie"} <= sent  # the keys really were sent
    text = path.read_text()
    for secret in (openai_key, anthropic_key, "secretcookie", "org-secret", "proj_secret", "anthropic-org-secret",
                   "req_secret", "session=abc"):
        assert secret not in text
    for header in ("authorization", "x-api-key", "cookie", "set-cookie", "openai-organization", "openai-project",
                   "anthropic-organization-id", "x-request-id", '"request-id"'):
        assert f'"{header.strip(chr(34))}":' not in text
    doc = json.loads(text)
    assert "request.headers.authorization" in doc["interactions"][0]["scrubbed"]
    assert "request.body.messages[0].content" in doc["interactions"][0]["scrubbed"]


def test_a_replay_miss_never_opens_a_connection_and_shows_the_diff(tmp_path: Path,
                                                                   no_sockets: list[object]) -> None:
    path = tmp_path / "c.json"
    Cassette.loads(json.dumps({
        "replaystream_cassette": 1,
        "interactions": [{"provider": "openai", "api": "chat.completions",
                          "request": {"method": "POST", "path": "/v1/chat/completions",
                                      "body": {"model": "gpt-4o-mini", "stream": True,
                                               "messages": [{"role": "user", "content": QUESTION}]}},
                          "response": {"status": 200, "headers": {"content-type": "text/event-stream"},
                                       "events": [{"ms": 1, "raw": "data: [DONE]\n\n"}]}}]})).save(path)
    client = openai.OpenAI(base_url="http://127.0.0.1:9/v1", api_key="sk-test", max_retries=0)
    with use_cassette(path):
        with pytest.raises(Exception) as info:
            client.chat.completions.create(model="gpt-4o-mini", stream=True,
                                           messages=[{"role": "user", "content": "What color is a grizzly?"}])
    error = info.value if isinstance(info.value, CassetteMissError) else info.value.__cause__
    assert isinstance(error, CassetteMissError)
    message = str(error)
    assert str(path) in message and "Closest recorded request: interaction 0" in message
    assert '-        "content": "What color is a polar bear?",' in message
    assert '+        "content": "What color is a grizzly?",' in message
    assert f'use_cassette("{path}", mode="rewrite")' in message and "--replay" not in message
    assert no_sockets == []
