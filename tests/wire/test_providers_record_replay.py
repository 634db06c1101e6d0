"""Gemini, Azure OpenAI, OpenAI-compatible gateways and Ollama (NDJSON): recorded from the emulator with the
real clients, replayed offline with the emulator stopped, and compared with an unpatched
run: the same SDK events, the same LangChain chunks; ``from_cassette`` gives them too."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import ollama
import openai
import pytest
from google import genai
from google.genai import types as genai_types
from langchain_core.messages import AIMessageChunk
from langchain_google_genai import ChatGoogleGenerativeAI
from langchain_ollama import ChatOllama
from langchain_openai import AzureChatOpenAI, ChatOpenAI

from replaystream import Cassette, ReplayChatModel, use_cassette
from replaystream.emulator import (
    NDJSON_HEADERS,
    ProviderEmulator,
    ScriptedResponse,
    ToolCall,
    gemini_stream,
    ollama_chat_stream,
    openai_chat_stream,
)

TEXT = ["Polar bears actually", " have transparent, hollow fur, not", " white fur."]
TOOL: list[ToolCall] = [{"id": "call_1", "name": "get_weather", "arguments_chunks": ['{"ci', 'ty": "Ed', 'inburgh"}']}]
QUESTION = "What color is a polar bear?"
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "weather",
                                            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}
GEMINI_TOOL = genai_types.Tool(function_declarations=[genai_types.FunctionDeclaration(
    name="get_weather", description="weather", parameters_json_schema=WEATHER["function"]["parameters"])])
AZURE_VERSION = "2024-10-21"

_loop: list[asyncio.AbstractEventLoop] = []


@pytest.fixture(autouse=True)
def one_event_loop_per_test() -> Iterator[None]:
    loop = asyncio.new_event_loop()
    _loop.append(loop)
    yield
    _loop.remove(loop)
    loop.close()


def arun(coro: Any) -> Any:
    return _loop[-1].run_until_complete(coro)


def script(provider: str, kind: str) -> ScriptedResponse:
    text, tools = (TEXT, None) if kind == "text" else ([], TOOL)
    if provider == "google":
        return ScriptedResponse(events=gemini_stream(text, tool_calls=tools), gaps_ms=2)
    if provider == "ollama":
        return ScriptedResponse(events=ollama_chat_stream(text, tool_calls=tools), headers=NDJSON_HEADERS, gaps_ms=2)
    return ScriptedResponse(events=openai_chat_stream(text, tool_calls=tools), gaps_ms=2)


# -- the clients under test: each returns what the caller observed ---------------------------
def gemini_client(base: str) -> genai.Client:
    return genai.Client(api_key="AIza-test-gemini-key-0000000", http_options=genai_types.HttpOptions(base_url=base))


def gemini_config(kind: str) -> genai_types.GenerateContentConfig:
    return genai_types.GenerateContentConfig(tools=[GEMINI_TOOL] if kind == "tools" else None, temperature=0)


def gemini_events(chunks: list[Any]) -> list[Any]:
    # sdk_http_response holds the response headers (a Date among them): not an event's content.
    return [c.model_dump(exclude_none=True, exclude={"sdk_http_response"}) for c in chunks]


def sdk_gemini(base: str, kind: str) -> list[Any]:
    client = gemini_client(base)  # held: a collected client closes its connection pool
    stream = client.models.generate_content_stream(model="gemini-2.0-flash", contents=QUESTION,
                                                   config=gemini_config(kind))
    return gemini_events(list(stream))


def sdk_async_gemini(base: str, kind: str) -> list[Any]:
    async def run() -> list[Any]:
        client = gemini_client(base)
        stream = await client.aio.models.generate_content_stream(model="gemini-2.0-flash", contents=QUESTION,
                                                                 config=gemini_config(kind))
        return gemini_events([c async for c in stream])
    return arun(run())


def sdk_azure(base: str, kind: str) -> list[Any]:
    client = openai.AzureOpenAI(azure_endpoint=base, api_key="azure-test-key-0000000", api_version=AZURE_VERSION,
                                max_retries=0)
    extra = {"tools": [WEATHER]} if kind == "tools" else {}
    stream = client.chat.completions.create(model="gpt4o-deployment", stream=True,
                                            messages=[{"role": "user", "content": QUESTION}], **extra)
    return [c.model_dump(exclude_unset=True) for c in stream]


def sdk_async_azure(base: str, kind: str) -> list[Any]:
    async def run() -> list[Any]:
        client = openai.AsyncAzureOpenAI(azure_endpoint=base, api_key="azure-test-key-0000000",
                                         api_version=AZURE_VERSION, max_retries=0)
        extra = {"tools": [WEATHER]} if kind == "tools" else {}
        stream = await client.chat.completions.create(model="gpt4o-deployment", stream=True,
                                                      messages=[{"role": "user", "content": QUESTION}], **extra)
        return [c.model_dump(exclude_unset=True) async for c in stream]
    return arun(run())


def sdk_gateway(base: str, kind: str) -> list[Any]:
    client = openai.OpenAI(base_url=base + "/openai/v1", api_key="gsk-test-groq-key-0000000", max_retries=0)
    extra = {"tools": [WEATHER]} if kind == "tools" else {}
    stream = client.chat.completions.create(model="llama-3.3-70b-versatile", stream=True,
                                            messages=[{"role": "user", "content": QUESTION}], **extra)
    return [c.model_dump(exclude_unset=True) for c in stream]


def sdk_ollama(base: str, kind: str) -> list[Any]:
    stream = ollama.Client(host=base).chat(model="llama3.2", messages=[{"role": "user", "content": QUESTION}],
                                           tools=[WEATHER] if kind == "tools" else None, stream=True)
    return [r.model_dump(exclude_none=True) for r in stream]


def sdk_async_ollama(base: str, kind: str) -> list[Any]:
    async def run() -> list[Any]:
        stream = await ollama.AsyncClient(host=base).chat(
            model="llama3.2", messages=[{"role": "user", "content": QUESTION}],
            tools=[WEATHER] if kind == "tools" else None, stream=True)
        return [r.model_dump(exclude_none=True) async for r in stream]
    return arun(run())


def lc_model(provider: str, base: str, kind: str) -> Any:
    model: Any
    if provider == "ollama":
        model = ChatOllama(model="llama3.2", base_url=base, temperature=0)
    elif provider == "google":
        model = ChatGoogleGenerativeAI(model="gemini-2.0-flash", api_key="AIza-test-gemini-key-0000000",
                                       base_url=base, max_retries=0, temperature=0)
    elif provider == "azure-openai":
        model = AzureChatOpenAI(azure_endpoint=base, azure_deployment="gpt4o-deployment", api_version=AZURE_VERSION,
                                api_key="azure-test-key-0000000", max_retries=0, temperature=0)
    else:
        model = ChatOpenAI(model="mistral-small-latest", base_url=base + "/v1", api_key="mistral-test-key-000000",
                           max_retries=0, temperature=0)
    return model.bind_tools([WEATHER]) if kind == "tools" else model


_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def lc_chunks(chunks: list[AIMessageChunk]) -> list[dict[str, Any]]:
    """LangChain chunks as data, run ids aside (they are new on every run), and the tool-call
    ids an integration makes up itself (langchain-ollama: a uuid4 per call)."""
    out = []
    for c in chunks:
        data = c.model_dump()
        if str(data.get("id", "")).startswith(("lc_run--", "run-")):
            data["id"] = "<run id>"
        for call in data["tool_calls"] + data["tool_call_chunks"]:
            if _UUID.match(str(call.get("id"))):
                call["id"] = "<made-up id>"
        out.append(data)
    return out


def lc_sync(provider: str) -> Callable[[str, str], list[Any]]:
    return lambda base, kind: lc_chunks(list(lc_model(provider, base, kind).stream(QUESTION)))


def lc_async(provider: str) -> Callable[[str, str], list[Any]]:
    async def run(base: str, kind: str) -> list[Any]:
        return lc_chunks([c async for c in lc_model(provider, base, kind).astream(QUESTION)])
    return lambda base, kind: arun(run(base, kind))


#: client -> (provider recorded, the provider= option it needs on loopback, the vendor, run)
CLIENTS: dict[str, tuple[str, str | None, str | None, Callable[[str, str], list[Any]]]] = {
    "genai.Client[httpx2]": ("google", None, None, sdk_gemini),
    "genai.Client[httpx]": ("google", None, None, sdk_gemini),
    "genai.Client.aio[httpx2]": ("google", None, None, sdk_async_gemini),
    "genai.Client.aio[httpx]": ("google", None, None, sdk_async_gemini),
    "ChatGoogleGenerativeAI.stream": ("google", None, None, lc_sync("google")),
    "ChatGoogleGenerativeAI.astream": ("google", None, None, lc_async("google")),
    "openai.AzureOpenAI": ("azure-openai", None, None, sdk_azure),
    "openai.AsyncAzureOpenAI": ("azure-openai", None, None, sdk_async_azure),
    "AzureChatOpenAI.stream": ("azure-openai", None, None, lc_sync("azure-openai")),
    "AzureChatOpenAI.astream": ("azure-openai", None, None, lc_async("azure-openai")),
    "openai.OpenAI[groq]": ("openai-compatible", "groq", "groq", sdk_gateway),
    "ollama.Client": ("ollama", None, None, sdk_ollama),
    "ollama.AsyncClient": ("ollama", None, None, sdk_async_ollama),
    "ChatOllama.stream": ("ollama", None, None, lc_sync("ollama")),
    "ChatOllama.astream": ("ollama", None, None, lc_async("ollama")),
    "ChatOpenAI[mistral].stream": ("openai-compatible", "mistral", "mistral", lc_sync("openai-compatible")),
    "ChatOpenAI[mistral].astream": ("openai-compatible", "mistral", "mistral", lc_async("openai-compatible")),
}


@pytest.mark.parametrize("kind", ["text", "tools"])
@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_record_then_replay_offline_gives_what_the_live_run_gave(
        tmp_path: Path, client: str, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    provider, option, vendor, run = CLIENTS[client]
    backend = client.partition("[")[2].rstrip("]")
    if backend in ("httpx", "httpx2"):
        monkeypatch.setenv("GOOGLE_GENAI_HTTP_CLIENT", backend)
    path = tmp_path / "c.json"
    with ProviderEmulator() as emu:
        emu.enqueue(script(provider, kind))
        live = run(emu.base_url, kind)  # unpatched: the baseline
        emu.enqueue(script(provider, kind))
        with use_cassette(path, mode="once", provider=option):
            recorded = run(emu.base_url, kind)
        base = emu.base_url
        assert len(emu.requests) == 2
    assert recorded == live  # recording is transparent

    cassette = Cassette.load(path)
    (inter,) = cassette.interactions
    assert inter.provider == provider and inter.response.events
    # One unit per event or line, as the provider sent them.
    assert inter.response.framing == ("ndjson" if provider == "ollama" else "sse")
    assert [e.raw for e in inter.response.events] == script(provider, kind).events
    assert cassette.meta.get("vendors") == ({provider: [vendor]} if vendor else None)

    attempts: list[object] = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, a: attempts.append(a) or (_ for _ in ()).throw(OSError))
    with use_cassette(path) as session:  # the emulator is gone: replay is offline
        replayed = run(base, kind)
    assert replayed == live
    assert attempts == [] and session.unused() == []


LC_PROVIDERS = {"google": "google_genai", "azure-openai": "azure", "openai-compatible": "openai", "ollama": "ollama"}


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("provider", sorted(LC_PROVIDERS))
@pytest.mark.parametrize("kind", ["text", "tools"])
def test_replay_chat_model_from_cassette_equals_the_wire_replay(tmp_path: Path, provider: str, kind: str,
                                                                mode: str) -> None:
    path = tmp_path / "c.json"
    run = lc_sync(provider) if mode == "sync" else lc_async(provider)
    with ProviderEmulator() as emu:
        emu.enqueue(script(provider, kind))
        with use_cassette(path, mode="once", provider="mistral" if provider == "openai-compatible" else None):
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
    assert model.identity()["ls_provider"] == LC_PROVIDERS[provider]
