"""Provider errors recorded from a really failing provider (the loopback emulator) and
replayed offline: the real SDK, and LangChain over it, raise the same exception type with
the same message and status as they did live.

Injected faults on replay are ``tests/test_faults.py``; here the error is in the cassette.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from langchain_anthropic import ChatAnthropic
from langchain_openai import ChatOpenAI

from replaystream import Cassette, use_cassette
from replaystream.emulator import (
    ProviderEmulator,
    ScriptedResponse,
    anthropic_error,
    anthropic_messages_stream,
    anthropic_stream_error,
    openai_chat_stream,
    openai_error,
)

pytestmark = pytest.mark.outcome("same exception as live")

TEXT = ["The quick", " brown fox", " jumps"]


def openai_error_chunk() -> list[bytes]:
    # What OpenAI-compatible servers (and OpenAI itself, rarely) send inside a stream.
    events = openai_chat_stream(TEXT)
    error = b'data: {"error":{"message":"The server had an error while processing your request.",' \
            b'"type":"server_error","param":null,"code":null}}\n\n'
    return events[:2] + [error]


ERRORS: dict[str, tuple[str, Callable[[], ScriptedResponse]]] = {
    "openai-429": ("openai", lambda: openai_error(429, "Rate limit reached for gpt-4o-mini on tokens per min.",
                                                  "tokens", "rate_limit_exceeded")),
    "openai-500": ("openai", lambda: openai_error(500, "The server had an error while processing your request.",
                                                  "server_error")),
    "openai-error-chunk": ("openai", lambda: ScriptedResponse(events=openai_error_chunk(),
                                                              headers={"content-type": "text/event-stream"})),
    "anthropic-429": ("anthropic", lambda: anthropic_error(429, "rate_limit_error", "Number of request tokens has "
                                                           "exceeded your per-minute rate limit")),
    "anthropic-500": ("anthropic", lambda: anthropic_error(500, "api_error", "Internal server error")),
    "anthropic-overloaded-mid-stream": ("anthropic", lambda: ScriptedResponse(
        events=anthropic_messages_stream(TEXT)[:4] + [anthropic_stream_error("overloaded_error", "Overloaded")],
        headers={"content-type": "text/event-stream"})),
}


def run_sdk(provider: str, base: str) -> list[str]:
    seen: list[str] = []
    if provider == "openai":
        client = openai.OpenAI(base_url=base + "/v1", api_key="sk-test-openai", max_retries=0)
        for chunk in client.chat.completions.create(model="gpt-4o-mini", stream=True,
                                                    messages=[{"role": "user", "content": "hi"}]):
            seen += [c.delta.content or "" for c in chunk.choices]
    else:
        aclient = anthropic.Anthropic(base_url=base, api_key="sk-ant-test", max_retries=0)
        for event in aclient.messages.create(model="claude-3-5-sonnet-latest", max_tokens=64, stream=True,
                                             messages=[{"role": "user", "content": "hi"}]):
            seen.append(event.type)
    return seen


def run_sdk_async(provider: str, base: str) -> list[str]:
    async def run() -> list[str]:
        seen: list[str] = []
        if provider == "openai":
            client = openai.AsyncOpenAI(base_url=base + "/v1", api_key="sk-test-openai", max_retries=0)
            stream = await client.chat.completions.create(model="gpt-4o-mini", stream=True,
                                                          messages=[{"role": "user", "content": "hi"}])
            async for chunk in stream:
                seen += [c.delta.content or "" for c in chunk.choices]
        else:
            aclient = anthropic.AsyncAnthropic(base_url=base, api_key="sk-ant-test", max_retries=0)
            stream2 = await aclient.messages.create(model="claude-3-5-sonnet-latest", max_tokens=64, stream=True,
                                                    messages=[{"role": "user", "content": "hi"}])
            async for event in stream2:
                seen.append(event.type)
        return seen
    return asyncio.run(run())


def run_langchain(provider: str, base: str) -> list[str]:
    model: Any
    if provider == "openai":
        model = ChatOpenAI(model="gpt-4o-mini", base_url=base + "/v1", api_key="sk-test-openai", max_retries=0)
    else:
        model = ChatAnthropic(model="claude-3-5-sonnet-latest", base_url=base, api_key="sk-ant-test", max_retries=0)
    return [str(chunk.content) for chunk in model.stream("hi")]


CLIENTS = {"sdk": run_sdk, "sdk-async": run_sdk_async, "langchain": run_langchain}


def outcome(run: Callable[[str, str], list[str]], provider: str, base: str) -> tuple[type[BaseException], str,
                                                                                     int | None, list[str]]:
    """What the caller observed: the exception (type, message, status) and what came before it."""
    seen: list[str] = []

    def wrapped() -> None:
        seen.extend(run(provider, base))

    with pytest.raises(Exception) as info:
        wrapped()
    exc = info.value
    return type(exc), str(exc), getattr(exc, "status_code", None), seen


@pytest.mark.parametrize("client", sorted(CLIENTS))
@pytest.mark.parametrize("error", sorted(ERRORS))
def test_a_recorded_provider_error_replays_as_the_same_exception(
        tmp_path: Path, error: str, client: str, monkeypatch: pytest.MonkeyPatch,
        record_property: Callable[[str, object], None]) -> None:
    provider, make = ERRORS[error]
    run = CLIENTS[client]
    path = tmp_path / "c.json"
    with ProviderEmulator() as emu:
        emu.enqueue(make())
        live = outcome(run, provider, emu.base_url)  # unpatched: what the real SDK raises
        emu.enqueue(make())
        with use_cassette(path, mode="once"):  # the test catches the error: the block succeeds
            recorded = outcome(run, provider, emu.base_url)
        base = emu.base_url
    assert issubclass(live[0], (openai.APIError, anthropic.APIError))
    assert recorded == live

    (inter,) = Cassette.load(path).interactions
    scripted = make()
    assert inter.response.status == scripted.status
    if scripted.events is not None:  # the error event itself is in the cassette, byte for byte
        assert inter.response.events is not None
        assert [e.raw for e in inter.response.events] == scripted.events[:len(inter.response.events)]
        assert inter.response.events[-1].raw == scripted.events[-1]
    else:
        assert inter.response.body == scripted.body

    def refuse(self: socket.socket, address: object) -> None:
        raise AssertionError(f"replay opened a connection to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    with use_cassette(path) as session:
        replayed = outcome(run, provider, base)
    assert replayed == live
    assert session.unused() == []
    record_property("exception", live[0].__name__)


def test_retries_through_recorded_errors_reach_the_recorded_stream(tmp_path: Path,
                                                                   record_property: Callable[[str, object], None]
                                                                   ) -> None:
    """429 then 500 then the stream: the SDK's own retries are recorded and replayed in order."""
    path = tmp_path / "c.json"
    fast = {"retry-after-ms": "1"}

    def answers() -> list[ScriptedResponse]:
        limited, broken = openai_error(429, "Rate limit reached", "tokens"), openai_error(500, "boom", "server_error")
        limited.headers.update(fast)
        broken.headers.update(fast)
        return [limited, broken, ScriptedResponse(events=openai_chat_stream(TEXT))]

    def ask(base: str) -> str:
        client = openai.OpenAI(base_url=base + "/v1", api_key="sk-test-openai", max_retries=2)
        stream = client.chat.completions.create(model="gpt-4o-mini", stream=True,
                                                messages=[{"role": "user", "content": "hi"}])
        return "".join(c.delta.content or "" for chunk in stream for c in chunk.choices)

    with ProviderEmulator() as emu:
        for answer in answers():
            emu.enqueue(answer)
        with use_cassette(path, mode="once"):
            assert ask(emu.base_url) == "".join(TEXT)
        base = emu.base_url
        assert len(emu.requests) == 3
    assert [i.response.status for i in Cassette.load(path).interactions] == [429, 500, 200]
    with use_cassette(path) as session:
        assert ask(base) == "".join(TEXT)
    assert session.unused() == []
    record_property("exception", "RateLimitError+InternalServerError, retried")
