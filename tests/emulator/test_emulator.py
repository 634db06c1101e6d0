"""The loopback provider emulator, driven by the real SDKs and LangChain integrations."""

from __future__ import annotations

import gzip
import json
import threading
import time
from typing import Any

import anthropic
import httpx
import httpx2
import openai
import pytest
from langchain_anthropic import ChatAnthropic
from langchain_core.messages import AIMessageChunk
from langchain_openai import ChatOpenAI, OpenAIEmbeddings

from replaystream.cassette import END_ERROR, Cassette, Event, Interaction, Request, Response
from replaystream.wire.matching import MatchConfig
from replaystream.emulator import (
    ProviderEmulator,
    ScriptedResponse,
    ToolCall,
    anthropic_error,
    anthropic_message,
    anthropic_messages_stream,
    anthropic_stream_error,
    openai_chat_completion,
    openai_chat_stream,
    openai_embeddings,
    openai_error,
    openai_responses_stream,
    plan_writes,
)
from replaystream.cassette.sse import SSEFramer, parse_event, split_events

MESSAGES: Any = [{"role": "user", "content": "hi"}]
WEATHER: ToolCall = {"id": "call_1", "name": "get_weather", "arguments_chunks": ['{"ci', 'ty": "Pa', 'ris"}']}
CLAUDE = "claude-3-5-sonnet-latest"
WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


def oai(emu: ProviderEmulator, **kw: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=emu.base_url + "/v1", api_key="test", max_retries=0, **kw)


def ant(emu: ProviderEmulator) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=emu.base_url, api_key="test", max_retries=0)


def chat_stream(emu: ProviderEmulator) -> list[Any]:
    return list(oai(emu).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True,
                                                 stream_options={"include_usage": True}))


def text_of(chunks: list[Any]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


# -- OpenAI chat ------------------------------------------------------------------------------
def test_openai_chat_stream_through_sdk(emulator: ProviderEmulator) -> None:
    events = openai_chat_stream(["Hel", "lo", " world"], prompt_tokens=9)
    emulator.enqueue(ScriptedResponse(events=events))
    chunks = chat_stream(emulator)
    assert len(chunks) == len(events) - 1  # [DONE] ends the stream, it is not a chunk
    assert chunks[0].choices[0].delta.role == "assistant"
    assert text_of(chunks) == "Hello world"
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (9, 3)
    [req] = emulator.requests
    assert (req.method, req.path, req.headers["authorization"]) == ("POST", "/v1/chat/completions", "Bearer test")
    assert req.json()["stream"] is True


def test_openai_chat_stream_wire_shape() -> None:
    events = openai_chat_stream(["a"], include_usage=False)
    assert all(e.endswith(b"\n\n") and e.startswith(b"data: ") and b"\r" not in e for e in events)
    assert [json.loads(e[6:])["choices"][0]["finish_reason"] for e in events[:-1]] == [None, None, "stop"]
    assert b'"usage"' not in b"".join(events) and events[-1] == b"data: [DONE]\n\n"


def test_openai_chat_stream_tool_calls(emulator: ProviderEmulator) -> None:
    second: ToolCall = {"id": "call_2", "name": "get_time", "arguments_chunks": ["{}"]}
    emulator.enqueue(ScriptedResponse(events=openai_chat_stream([], tool_calls=[WEATHER, second])))
    chunks = chat_stream(emulator)
    calls: dict[int, dict[str, str]] = {}
    for c in chunks:
        for tc in (c.choices[0].delta.tool_calls or []) if c.choices else []:
            call = calls.setdefault(tc.index, {"id": "", "name": "", "args": ""})
            call["id"] += tc.id or ""
            call["name"] += (tc.function.name or "") if tc.function else ""
            call["args"] += (tc.function.arguments or "") if tc.function else ""
    assert calls == {0: {"id": "call_1", "name": "get_weather", "args": '{"city": "Paris"}'},
                     1: {"id": "call_2", "name": "get_time", "args": "{}"}}
    assert chunks[-2].choices[0].finish_reason == "tool_calls"


def test_openai_chat_stream_helper_accumulates(emulator: ProviderEmulator) -> None:
    emulator.enqueue(ScriptedResponse(events=openai_chat_stream(["Hi", "!"], tool_calls=[WEATHER])))
    with oai(emulator).chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream:
        final = stream.get_final_completion()
    message = final.choices[0].message
    assert message.content == "Hi!"
    assert message.tool_calls and message.tool_calls[0].function.arguments == '{"city": "Paris"}'
    assert final.usage is not None and final.usage.total_tokens == 12 + 2 + 4


async def test_async_openai_chat_stream(emulator: ProviderEmulator) -> None:
    emulator.enqueue(ScriptedResponse(events=openai_chat_stream(["as", "ync"])))
    client = openai.AsyncOpenAI(base_url=emulator.base_url + "/v1", api_key="test", max_retries=0)
    stream = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    chunks = [c async for c in stream]
    assert text_of(chunks) == "async" and chunks[-1].usage is not None
    await client.close()


def test_openai_chat_completion_and_error(emulator: ProviderEmulator) -> None:
    emulator.enqueue(ScriptedResponse(body=openai_chat_completion("Paris.", tool_calls=[WEATHER])))
    emulator.enqueue(openai_error(429, "Rate limit reached", "rate_limit_exceeded", code="rate_limit_exceeded"))
    client = oai(emulator)
    done = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert done.choices[0].message.content == "Paris."
    assert done.choices[0].message.tool_calls[0].function.arguments == '{"city": "Paris"}'  # type: ignore[index,union-attr]
    assert done.usage is not None and done.usage.completion_tokens == 8
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert info.value.status_code == 429 and info.value.code == "rate_limit_exceeded"
    assert "Rate limit reached" in info.value.message


def test_openai_embeddings_sdk_and_langchain(emulator: ProviderEmulator) -> None:
    vectors = [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]
    emulator.enqueue(ScriptedResponse(body=openai_embeddings(vectors)))
    emulator.enqueue(ScriptedResponse(body=openai_embeddings(vectors)))
    result = oai(emulator).embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    assert [d.embedding for d in result.data] == vectors and result.usage.prompt_tokens == 4
    # check_embedding_ctx_length=False: otherwise tiktoken would try to download its encoding.
    emb = OpenAIEmbeddings(base_url=emulator.base_url + "/v1", api_key="test",  # type: ignore[arg-type]
                           model="text-embedding-3-small", check_embedding_ctx_length=False, max_retries=0)
    emulator.enqueue(ScriptedResponse(body=openai_embeddings(vectors, base64=True)))
    assert [pytest.approx(v) for v in vectors] == emb.embed_documents(["a", "b"])
    # The SDK asks for base64 unless told otherwise; the float32 answer round-trips.
    assert [pytest.approx(v, rel=1e-6) for v in vectors] == emb.embed_documents(["a", "b"])
    assert [r.json().get("encoding_format") for r in emulator.requests] == ["base64"] * 3
    assert emulator.requests[1].json()["input"] == ["a", "b"]


# -- OpenAI Responses API ---------------------------------------------------------------------
def test_openai_responses_stream_through_sdk(emulator: ProviderEmulator) -> None:
    events = openai_responses_stream(["The", " answer"], input_tokens=20, output_tokens=2)
    emulator.enqueue(ScriptedResponse(events=events))
    emulator.enqueue(ScriptedResponse(events=events))
    client = oai(emulator)
    raw = list(client.responses.create(model="gpt-4o-mini", input="hi", stream=True))
    assert [e.type for e in raw][:2] == ["response.created", "response.in_progress"]
    assert [e.delta for e in raw if e.type == "response.output_text.delta"] == ["The", " answer"]
    assert [parse_event(e).event for e in events] == [e.type for e in raw]  # every event named
    with client.responses.stream(model="gpt-4o-mini", input="hi") as stream:
        final = stream.get_final_response()
    assert final.output_text == "The answer"
    assert final.usage is not None and (final.usage.input_tokens, final.usage.output_tokens) == (20, 2)
    assert emulator.requests[0].path == "/v1/responses"


def test_openai_responses_stream_function_call(emulator: ProviderEmulator) -> None:
    emulator.enqueue(ScriptedResponse(events=openai_responses_stream([], tool_calls=[WEATHER])))
    with oai(emulator).responses.stream(model="gpt-4o-mini", input="hi") as stream:
        deltas = [e.delta for e in stream if e.type == "response.function_call_arguments.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == '{"city": "Paris"}'
    [call] = final.output
    assert call.type == "function_call" and call.name == "get_weather" and call.call_id == "call_1"
    assert json.loads(call.arguments) == {"city": "Paris"}


# -- Anthropic --------------------------------------------------------------------------------
def test_anthropic_stream_through_sdk(emulator: ProviderEmulator) -> None:
    events = anthropic_messages_stream(["Hel", "lo"], input_tokens=14, output_tokens=5)
    assert [parse_event(e).event for e in events] == [
        "message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta",
        "content_block_stop", "message_delta", "message_stop"]
    emulator.enqueue(ScriptedResponse(events=events))
    emulator.enqueue(ScriptedResponse(events=events))
    client = ant(emulator)
    raw = list(client.messages.create(model=CLAUDE, max_tokens=64, messages=MESSAGES, stream=True))
    assert len(raw) == len(events) - 1  # the SDK drops ping
    assert [e.delta.text for e in raw if e.type == "content_block_delta"] == ["Hel", "lo"]  # type: ignore[union-attr]
    with client.messages.stream(model=CLAUDE, max_tokens=64, messages=MESSAGES) as stream:
        assert "".join(stream.text_stream) == "Hello"
        final = stream.get_final_message()
    assert final.stop_reason == "end_turn" and final.content[0].text == "Hello"  # type: ignore[union-attr]
    assert (final.usage.input_tokens, final.usage.output_tokens) == (14, 5)
    req = emulator.requests[0]
    assert (req.path, req.headers["authorization"]) == ("/v1/messages", "Bearer test")


def test_anthropic_stream_tool_use(emulator: ProviderEmulator) -> None:
    emulator.enqueue(ScriptedResponse(events=anthropic_messages_stream(["Let me check."], tool_use=[WEATHER])))
    with ant(emulator).messages.stream(model=CLAUDE, max_tokens=64, messages=MESSAGES) as stream:
        partial = [e.partial_json for e in stream if e.type == "input_json"]
        final = stream.get_final_message()
    assert "".join(partial) == '{"city": "Paris"}'
    text, tool = final.content
    assert text.type == "text" and text.text == "Let me check."
    assert tool.type == "tool_use" and tool.input == {"city": "Paris"} and tool.name == "get_weather"
    assert final.stop_reason == "tool_use"


async def test_async_anthropic_stream(emulator: ProviderEmulator) -> None:
    emulator.enqueue(ScriptedResponse(events=anthropic_messages_stream(["as", "ync"], ping=False)))
    client = anthropic.AsyncAnthropic(base_url=emulator.base_url, api_key="test", max_retries=0)
    async with client.messages.stream(model=CLAUDE, max_tokens=64, messages=MESSAGES) as stream:
        text = "".join([t async for t in stream.text_stream])
        final = await stream.get_final_message()
    assert text == "async" and final.usage.output_tokens == 2
    await client.close()


def test_anthropic_midstream_error_message_and_error_body(emulator: ProviderEmulator) -> None:
    events = anthropic_messages_stream(["Hel", "lo"])
    emulator.enqueue(ScriptedResponse(events=[*events[:4], anthropic_stream_error()]))
    emulator.enqueue(ScriptedResponse(body=anthropic_message("Done.", tool_use=[WEATHER], output_tokens=3)))
    emulator.enqueue(anthropic_error(529, "overloaded_error", "Overloaded"))
    client = ant(emulator)
    seen = []
    with pytest.raises(anthropic.APIStatusError) as info:
        for event in client.messages.create(model=CLAUDE, max_tokens=64, messages=MESSAGES, stream=True):
            seen.append(event.type)
    assert seen == ["message_start", "content_block_start", "content_block_delta"]
    assert info.value.body == {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    message = client.messages.create(model=CLAUDE, max_tokens=64, messages=MESSAGES)
    assert message.content[0].text == "Done." and message.content[1].input == {"city": "Paris"}  # type: ignore[union-attr]
    assert message.usage.output_tokens == 3
    with pytest.raises(anthropic.OverloadedError) as err:
        client.messages.create(model=CLAUDE, max_tokens=64, messages=MESSAGES)
    assert err.value.status_code == 529


# -- LangChain --------------------------------------------------------------------------------
def lc_openai(emu: ProviderEmulator) -> ChatOpenAI:
    # A custom base_url turns LangChain's default stream_usage off; ask for it explicitly.
    return ChatOpenAI(base_url=emu.base_url + "/v1", api_key="test", model="gpt-4o-mini",  # type: ignore[arg-type]
                      stream_usage=True, max_retries=0)


def lc_anthropic(emu: ProviderEmulator) -> ChatAnthropic:
    return ChatAnthropic(base_url=emu.base_url, api_key="test", model=CLAUDE, max_retries=0)  # type: ignore[call-arg,arg-type]


def merged(chunks: list[Any]) -> AIMessageChunk:
    total = chunks[0]
    for c in chunks[1:]:
        total = total + c
    return total  # type: ignore[no-any-return]


def test_langchain_chat_openai_stream(emulator: ProviderEmulator) -> None:
    emulator.enqueue(ScriptedResponse(events=openai_chat_stream(["Hel", "lo"], prompt_tokens=7)))
    emulator.enqueue(ScriptedResponse(events=openai_chat_stream([], tool_calls=[WEATHER])))
    model = lc_openai(emulator)
    chunks = list(model.stream("hi"))
    total = merged(chunks)
    assert total.content == "Hello"
    assert total.usage_metadata is not None
    assert (total.usage_metadata["input_tokens"], total.usage_metadata["output_tokens"]) == (7, 2)
    assert emulator.requests[0].json()["stream_options"] == {"include_usage": True}
    call = merged(list(model.bind_tools([WEATHER_TOOL]).stream("weather?"))).tool_calls[0]
    assert (call["name"], call["args"], call["id"]) == ("get_weather", {"city": "Paris"}, "call_1")


def test_langchain_chat_openai_responses_api(emulator: ProviderEmulator) -> None:
    emulator.enqueue(ScriptedResponse(events=openai_responses_stream(["Hel", "lo"], output_tokens=2)))
    model = ChatOpenAI(base_url=emulator.base_url + "/v1", api_key="test", model="gpt-4o-mini",  # type: ignore[arg-type]
                       use_responses_api=True, max_retries=0)
    total = merged(list(model.stream("hi")))
    assert total.text == "Hello" and total.usage_metadata["output_tokens"] == 2  # type: ignore[index]
    assert emulator.requests[0].path == "/v1/responses"


async def test_langchain_chat_openai_astream(emulator: ProviderEmulator) -> None:
    emulator.enqueue(ScriptedResponse(events=openai_chat_stream(["a", "b", "c"])))
    chunks = [c async for c in lc_openai(emulator).astream("hi")]
    assert [c.content for c in chunks if c.content] == ["a", "b", "c"]
    assert merged(chunks).usage_metadata["total_tokens"] == 15  # type: ignore[index]


def test_langchain_chat_anthropic_stream(emulator: ProviderEmulator) -> None:
    emulator.enqueue(ScriptedResponse(events=anthropic_messages_stream(["Hel", "lo"], input_tokens=11,
                                                                       output_tokens=4)))
    emulator.enqueue(ScriptedResponse(events=anthropic_messages_stream([], tool_use=[WEATHER])))
    model = lc_anthropic(emulator)
    total = merged(list(model.stream("hi")))
    assert total.content == "Hello"
    # langchain-anthropic reads usage from message_delta, so its input_tokens must be there too.
    assert total.usage_metadata is not None
    assert (total.usage_metadata["input_tokens"], total.usage_metadata["output_tokens"]) == (11, 4)
    assert total.response_metadata["stop_reason"] == "end_turn"
    body = emulator.requests[0].json()
    assert body["stream"] is True and body["model"] == CLAUDE and isinstance(body["max_tokens"], int)
    call = merged(list(model.bind_tools([WEATHER_TOOL]).stream("weather?"))).tool_calls[0]
    assert (call["name"], call["args"], call["id"]) == ("get_weather", {"city": "Paris"}, "call_1")
    assert emulator.requests[1].json()["tools"][0]["name"] == "get_weather"


async def test_langchain_chat_anthropic_astream(emulator: ProviderEmulator) -> None:
    emulator.enqueue(ScriptedResponse(events=anthropic_messages_stream(["x", "y"])))
    chunks = [c async for c in lc_anthropic(emulator).astream("hi")]
    assert "".join(c.content for c in chunks if isinstance(c.content, str)) == "xy"
    assert merged(chunks).usage_metadata["input_tokens"] == 14  # type: ignore[index]


# -- delivery: pacing, hold-back, faults ------------------------------------------------------
def raw_events(emu: ProviderEmulator, on_event: Any = None, path: str = "/v1/chat/completions") -> list[bytes]:
    """Read a stream with plain httpx, framing SSE events as they complete (a recorder's view)."""
    framer, out = SSEFramer(), []
    with httpx.Client(timeout=5) as client, client.stream("POST", emu.base_url + path, json={}) as resp:
        for data in resp.iter_bytes():  # decoded: a gzip stream frames like a plain one
            for event in framer.feed(data):
                out.append(event)
                if on_event:
                    on_event(event)
    return out + framer.finish()


def test_events_leave_when_sent(emulator: ProviderEmulator) -> None:
    events = openai_chat_stream(["a", "b"])
    emulator.enqueue(ScriptedResponse(events=events, gaps_ms=[0, 300] + [0] * (len(events) - 2)))
    start, stamps = time.monotonic(), []
    raw_events(emulator, lambda e: stamps.append(time.monotonic() - start))
    assert stamps[1] - stamps[0] >= 0.25  # event 0 arrived on its own, not held back behind the gap


def test_hold_back_acking_client_gets_everything(emulator: ProviderEmulator) -> None:
    events = openai_chat_stream(["a", "b", "c"])
    emulator.enqueue(ScriptedResponse(events=events, hold_back=True))
    assert raw_events(emulator, lambda _: emulator.ack()) == events
    # The SDK yields one chunk per event; acking per chunk works through the real client too.
    emulator.enqueue(ScriptedResponse(events=events, hold_back=True))
    chunks = []
    for chunk in oai(emulator).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True):
        chunks.append(chunk)
        emulator.ack()
    assert text_of(chunks) == "abc" and emulator.holdback_timeouts == 0


def test_hold_back_cuts_a_buffering_client(emulator: ProviderEmulator) -> None:
    events = openai_chat_stream(["a", "b"])
    emulator.enqueue(ScriptedResponse(events=events, hold_back=True))
    start = time.monotonic()
    with pytest.raises(httpx.RemoteProtocolError):
        with httpx.Client(timeout=5) as client:
            client.post(emulator.base_url + "/v1/chat/completions", json={})  # reads the whole body first
    assert 0.45 <= time.monotonic() - start < 2.0
    assert emulator.holdback_timeouts == 1


def test_close_after_drops_the_connection(emulator: ProviderEmulator) -> None:
    emulator.enqueue(ScriptedResponse(events=openai_chat_stream(["a", "b"]), close_after=2))
    got = []
    with pytest.raises(openai.APIConnectionError):
        for chunk in oai(emulator).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True):
            got.append(chunk)
    assert len(got) == 2
    emulator.enqueue(ScriptedResponse(events=anthropic_messages_stream(["a", "b"]), close_after=4))
    seen = []
    # The anthropic SDK does not wrap transport errors raised mid-stream: httpx2's error comes through.
    with pytest.raises(httpx2.RemoteProtocolError) as info:
        for event in ant(emulator).messages.create(model=CLAUDE, max_tokens=8, messages=MESSAGES, stream=True):
            seen.append(event.type)
    assert "incomplete chunked read" in str(info.value)
    assert seen == ["message_start", "content_block_start", "content_block_delta"]


@pytest.mark.parametrize("variant", [{"write_sizes": 7}, {"coalesce": True}, {"gzip": True},
                                     {"gzip": True, "write_sizes": 5}, {"gaps_ms": 2.0}])
def test_delivery_variants_parse_the_same(emulator: ProviderEmulator, variant: dict[str, Any]) -> None:
    oa = openai_chat_stream(["Hel", "lo"], tool_calls=[WEATHER])
    an = anthropic_messages_stream(["Hel", "lo"], tool_use=[WEATHER])
    emulator.enqueue(ScriptedResponse(events=oa))
    emulator.enqueue(ScriptedResponse(events=oa, **variant))
    first, second = chat_stream(emulator), chat_stream(emulator)
    assert [c.model_dump() for c in first] == [c.model_dump() for c in second]
    emulator.enqueue(ScriptedResponse(events=an))
    emulator.enqueue(ScriptedResponse(events=an, **variant))
    runs = [[e.model_dump() for e in ant(emulator).messages.create(model=CLAUDE, max_tokens=8,
                                                                   messages=MESSAGES, stream=True)]
            for _ in range(2)]
    assert runs[0] == runs[1] and len(runs[0]) == len(an) - 1
    emulator.enqueue(ScriptedResponse(events=an, **variant))
    assert raw_events(emulator) == an  # byte-identical after decoding


def test_write_plans() -> None:
    events = openai_chat_stream(["a", "b"])
    cut = plan_writes(ScriptedResponse(events=events, write_sizes=7, gaps_ms=10))
    assert {len(data) for _, data in cut[:-1]} == {7} and b"".join(d for _, d in cut) == b"".join(events)
    # Each gap lands on the write where its event starts: the total wait is kept.
    assert sum(w for w, _ in cut) == pytest.approx(0.01 * (len(events) - 1))
    assert plan_writes(ScriptedResponse(events=events, coalesce=True, close_after=2)) == [
        (0.0, events[0] + events[1])]
    assert plan_writes(ScriptedResponse(events=events, gaps_ms=[5.0] * len(events)))[0] == (0.005, events[0])


def test_gzip_body(emulator: ProviderEmulator) -> None:
    body = openai_chat_completion("zipped")
    emulator.enqueue(ScriptedResponse(body=body, gzip=True))
    emulator.enqueue(ScriptedResponse(body=body, gzip=True))
    done = oai(emulator).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert done.choices[0].message.content == "zipped"
    with httpx.Client() as client, client.stream("POST", emulator.base_url + "/v1/chat/completions") as raw:
        wire = b"".join(raw.iter_raw())
    assert raw.headers["content-encoding"] == "gzip" and gzip.decompress(wire) == body


def test_body_close_after_truncates(emulator: ProviderEmulator) -> None:
    emulator.enqueue(ScriptedResponse(body=b'{"long": "body"}', close_after=5))
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(emulator.base_url + "/anything")


# -- queueing and logging ---------------------------------------------------------------------
def test_unqueued_request_gets_500_and_is_logged(emulator: ProviderEmulator) -> None:
    emulator.enqueue(ScriptedResponse(body=b"{}"), path="/v1/other")
    with pytest.raises(openai.InternalServerError) as info:
        oai(emulator).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert "no response queued for POST /v1/chat/completions" in str(info.value)
    assert "/v1/other" in str(info.value)
    assert [r.path for r in emulator.requests] == ["/v1/chat/completions"] and emulator.pending == 1


def test_path_queues_and_request_log(emulator: ProviderEmulator) -> None:
    emulator.enqueue(ScriptedResponse(body=b'"b"'), path="/b")
    emulator.enqueue(ScriptedResponse(body=b'"any"'))
    emulator.enqueue(ScriptedResponse(body=b'"a"', status=201, headers={"X-Test": "1"}), path="/a")
    with httpx.Client(base_url=emulator.base_url) as client:
        first_a = client.post("/a?x=1", content=b"payload", headers={"X-Custom": "yes"})
        b = client.get("/b")
        second_a = client.delete("/a")
    assert (first_a.json(), b.json(), second_a.json()) == ("any", "b", "a")
    assert (second_a.status_code, second_a.headers["x-test"]) == (201, "1")
    first = emulator.requests[0]
    assert (first.method, first.path, first.query, first.body) == ("POST", "/a", "x=1", b"payload")
    assert first.headers["x-custom"] == "yes" and emulator.pending == 0


def test_chunked_request_body_is_logged(emulator: ProviderEmulator) -> None:
    emulator.enqueue(ScriptedResponse(body=b"{}"))
    httpx.post(emulator.base_url + "/up", content=iter([b"one ", b"two"]))
    assert emulator.requests[0].body == b"one two"


# -- cassettes --------------------------------------------------------------------------------
def cassette() -> Cassette:
    events = anthropic_messages_stream(["Hel", "lo"], ping=False)
    stream = Interaction(Request("POST", "/v1/messages"), Response(
        200, {"content-type": "text/event-stream; charset=utf-8", "transfer-encoding": "chunked",
              "request-id": "req_1"},
        events=[Event(raw, 100.0 + 40.0 * n) for n, raw in enumerate(events)]), provider="anthropic")
    body = Interaction(Request("POST", "/v1/embeddings"), Response(200, {"content-type": "application/json"},
                                                                   body=openai_embeddings([[1.0]]), body_ms=30.0))
    broken = Interaction(Request("POST", "/v1/chat/completions"), Response(
        200, {}, events=[Event(e, 1.0) for e in openai_chat_stream(["a"])[:2]], end=END_ERROR))
    return Cassette([stream, body, broken])


def test_from_interaction_pacing() -> None:
    interaction = cassette().interactions[0]
    assert ScriptedResponse.from_interaction(interaction).gaps_ms == [0.0] * 7
    recorded = ScriptedResponse.from_interaction(interaction, pacing="recorded")
    assert recorded.gaps_ms == [100.0] + [40.0] * 6
    assert ScriptedResponse.from_interaction(interaction, pacing=4.0).gaps_ms == [25.0] + [10.0] * 6
    assert "transfer-encoding" not in recorded.headers and recorded.headers["request-id"] == "req_1"
    assert ScriptedResponse.from_interaction(cassette().interactions[2]).close_after == 2
    with pytest.raises(ValueError, match="pacing"):
        ScriptedResponse.from_interaction(interaction, pacing=0)


def test_serve_cassette_replays_bytes_and_pace(emulator: ProviderEmulator) -> None:
    recorded = cassette()
    # gaps halved: 50 ms, then 20 ms each; the hand-made cassette has no bodies: match on route
    emulator.serve_cassette(recorded, pacing=2.0, match=MatchConfig(body=False))
    embedded = oai(emulator).embeddings.create(model="text-embedding-3-small", input="x")  # its own path queue
    assert embedded.data[0].embedding == [1.0]
    start, stamps = time.monotonic(), []
    got = raw_events(emulator, lambda _: stamps.append(time.monotonic() - start), path="/v1/messages")
    assert got == [e.raw for e in recorded.interactions[0].response.events or []]
    assert stamps[0] >= 0.045 and stamps[-1] - stamps[0] >= 6 * 0.018
    with pytest.raises(openai.APIConnectionError):  # recorded end "error": the connection drops again
        chat_stream(emulator)
    assert emulator.pending == 0


# -- lifecycle and validation -----------------------------------------------------------------
def test_stop_releases_held_connections_and_port_needs_start() -> None:
    emu = ProviderEmulator(hold_back_timeout=30)
    with pytest.raises(RuntimeError, match="not running"):
        emu.port
    emu.start()
    emu.enqueue(ScriptedResponse(events=openai_chat_stream(["a"]), hold_back=True))
    errors: list[BaseException] = []

    def read() -> None:
        try:
            raw_events(emu)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    deadline = time.monotonic() + 30
    while not emu.requests and time.monotonic() < deadline:  # the stream is held open (a loaded machine is slow)
        time.sleep(0.01)
    assert emu.requests, "the reader never reached the emulator"
    started = time.monotonic()
    emu.stop()
    reader.join(timeout=5)
    assert time.monotonic() - started < 3 and not reader.is_alive()
    assert errors and isinstance(errors[0], httpx.HTTPError)
    emu.stop()  # idempotent


def test_script_validation() -> None:
    with pytest.raises(ValueError, match="not both"):
        ScriptedResponse(events=[b"data: 1\n\n"], body=b"{}")
    with pytest.raises(ValueError, match="one per event"):
        ScriptedResponse(events=[b"data: 1\n\n"], gaps_ms=[1.0, 2.0])
    with pytest.raises(ValueError, match="hold_back"):
        ScriptedResponse(events=[b"data: 1\n\n"], hold_back=True, coalesce=True)
    assert split_events(b"".join(anthropic_messages_stream(["x"]))) == anthropic_messages_stream(["x"])
