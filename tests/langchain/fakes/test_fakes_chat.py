"""ReplayChatModel: chunk fidelity, identity, determinism, sequences, strict mode, pacing, records."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from _fakes_data import IDENTITY, POLAR_TEXT, USAGE_LAST, polar_chunks, tool_call_chunks
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from pydantic import BaseModel

from replaystream import Cassette, StrictMismatchError
from replaystream.errors import CassetteError, CassetteExhaustedError
from replaystream.langchain.fakes import ChunkFormatError, ReplayChatModel, ReplayExhaustedError
from replaystream.wire.pacing import ManualClock


def _expected_chunks() -> list[AIMessageChunk]:
    out = []
    for c in polar_chunks():
        out.append(AIMessageChunk(**{"id": "lc_run--replay-0", **c}))
    return out


# -- fidelity ---------------------------------------------------------------------------
def test_stream_yields_recorded_chunks_exactly(polar_model: ReplayChatModel) -> None:
    got = list(polar_model.stream("What color is a polar bear?"))
    assert got == _expected_chunks()
    assert [c.content for c in got] == ["", *POLAR_TEXT.split("|"), ""]
    # usage, stop reason and chunk_position sit on the last chunk only, as streamed live
    assert [c.usage_metadata for c in got[:-1]] == [None] * (len(got) - 1)
    assert got[-1].usage_metadata == USAGE_LAST
    assert got[-1].response_metadata["stop_reason"] == "end_turn"
    assert [c.chunk_position for c in got] == [None] * (len(got) - 1) + ["last"]
    # the provider id stays on the chunk that carried it; the rest get the replay id
    assert got[0].id == "msg_01PolarBear"


async def test_astream_and_merged_message(polar_model: ReplayChatModel) -> None:
    got = [c async for c in polar_model.astream("What color is a polar bear?")]
    merged = got[0] + got[1:]
    assert merged.content == POLAR_TEXT.replace("|", "")
    assert merged.id == "msg_01PolarBear"  # provider ids outrank run ids when merging
    assert merged.usage_metadata == USAGE_LAST
    assert merged.response_metadata == {"model_name": "claude-3-5-sonnet-20241022",
                                        "model_provider": "anthropic", "stop_reason": "end_turn",
                                        "stop_sequence": None}
    polar_model.reset()
    message = await polar_model.ainvoke("What color is a polar bear?")
    assert isinstance(message, AIMessage)
    assert message.content == merged.content
    assert message.id == merged.id and message.usage_metadata == merged.usage_metadata
    assert message.response_metadata == merged.response_metadata


def test_tool_call_chunks_replayed_and_merged() -> None:
    model = ReplayChatModel.from_chunks(tool_call_chunks(), **IDENTITY)
    got = list(model.bind_tools([_adder]).stream("what is 1 + 2?"))
    assert [c.tool_call_chunks for c in got[1:4]] == [
        [{"name": "my_adder_tool", "args": "", "id": "toolu_01", "index": 0, "type": "tool_call_chunk"}],
        [{"name": None, "args": '{"a": 1', "id": None, "index": 0, "type": "tool_call_chunk"}],
        [{"name": None, "args": ', "b": 2}', "id": None, "index": 0, "type": "tool_call_chunk"}],
    ]
    merged = got[0] + got[1:]
    assert merged.tool_calls == [{"name": "my_adder_tool", "args": {"a": 1, "b": 2},
                                  "id": "toolu_01", "type": "tool_call"}]
    assert merged.chunk_position == "last"


def test_content_blocks_survive_and_are_not_shared() -> None:
    blocks = [{"content": [{"type": "text", "text": "Hi", "index": 0}]},
              {"content": [{"type": "text", "text": " there", "index": 0}], "chunk_position": "last"}]
    model = ReplayChatModel.from_chunks(blocks, cycle=True)
    first = list(model.stream("x"))
    first[0].content[0]["text"] = "mutated"  # type: ignore[index]
    second = list(model.stream("x"))
    assert second[0].content == [{"type": "text", "text": "Hi", "index": 0}]
    assert (second[0] + second[1]).content == [{"type": "text", "text": "Hi there", "index": 0}]


def test_from_text_exact_boundaries() -> None:
    model = ReplayChatModel.from_text("|Polar bears actually| have transparent|", usage_metadata=USAGE_LAST)
    got = list(model.stream("x"))
    assert [c.content for c in got] == ["", "Polar bears actually", " have transparent", ""]
    assert got[-1].chunk_position == "last" and got[-1].usage_metadata == USAGE_LAST


def test_run_ids_from_a_recording_are_dropped() -> None:
    model = ReplayChatModel.from_chunks([{"content": "a", "id": "lc_run--0b1f-old-run"},
                                         {"content": "b", "chunk_position": "last"}])
    assert [c.id for c in model.stream("x")] == ["lc_run--replay-0"] * 2


def test_bad_chunk_dict_is_a_typed_error() -> None:
    with pytest.raises(ChunkFormatError, match=r"chunks\[1\]: unknown key\(s\) \['text'\]"):
        ReplayChatModel.from_chunks([{"content": "a"}, {"text": "b"}])


# -- identity -------------------------------------------------------------------------------
async def test_astream_events_show_recorded_identity(polar_model: ReplayChatModel) -> None:
    events = [e async for e in polar_model.astream_events("hello", version="v2")]
    assert {e["name"] for e in events} == {"ChatAnthropic"}
    expected = {"ls_provider": "anthropic", "ls_model_name": "claude-3-5-sonnet-latest",
                "ls_model_type": "chat", "ls_temperature": 0.0, "ls_max_tokens": 1024}
    for e in events:
        assert {k: e["metadata"][k] for k in expected} == expected
    assert [e["event"] for e in events] == (["on_chat_model_start"]
                                            + ["on_chat_model_stream"] * len(polar_chunks())
                                            + ["on_chat_model_end"])
    assert events[0]["data"] == {"input": "hello"}


def test_ls_params_honour_per_call_overrides() -> None:
    model = ReplayChatModel(model="gpt-4o", provider="openai", temperature=0.2, stop=["\n"])
    assert model._get_ls_params(model="gpt-4.1", max_tokens=5) == {
        "ls_provider": "openai", "ls_model_name": "gpt-4.1", "ls_model_type": "chat",
        "ls_temperature": 0.2, "ls_max_tokens": 5, "ls_stop": ["\n"]}


def test_recorded_chunks_stay_out_of_run_serialisation(polar_model: ReplayChatModel) -> None:
    # LangChain puts repr(model) into every run's serialized form; a chunk list field
    # would make that cost grow with the recording.
    assert "Polar bears" not in repr(polar_model)
    assert "Polar bears" not in str(polar_model._serialized)


# -- determinism ------------------------------------------------------------------------------
async def test_second_run_identical_under_astream_events() -> None:
    model = ReplayChatModel.from_chunks(polar_chunks()[1:], cycle=True, **IDENTITY)  # no provider id

    async def run() -> list[Any]:
        return [e["data"]["chunk"] async for e in model.astream_events("hi", version="v2")
                if e["event"] == "on_chat_model_stream"]

    first, second = await run(), await run()
    assert first == second
    assert {c.id for c in first} == {"lc_run--replay-0"}


def test_second_run_identical_after_reset() -> None:
    model = ReplayChatModel(responses=[polar_chunks(), tool_call_chunks()], id_prefix="rec")
    first = [list(model.stream("a")), list(model.stream("b"))]
    model.reset()
    second = [list(model.stream("a")), list(model.stream("b"))]
    assert first == second
    assert first[1][-1].id == "rec-1"


# -- sequence -------------------------------------------------------------------------------
def test_responses_in_order_then_exhausted() -> None:
    model = ReplayChatModel(responses=[[{"content": "one"}], [{"content": "two"}]])
    assert model.invoke("a").content == "one"
    assert model.invoke("b").content == "two"
    with pytest.raises(ReplayExhaustedError, match="all 2 recorded response\\(s\\) were already replayed") as info:
        model.invoke("c")
    assert isinstance(info.value, CassetteExhaustedError)
    assert "cycle=True" in str(info.value)


async def test_cycle_starts_over() -> None:
    model = ReplayChatModel(responses=[[{"content": "one"}], [{"content": "two"}]], cycle=True)
    got = [(await model.ainvoke("x")).content for _ in range(5)]
    assert got == ["one", "two", "one", "two", "one"]


def test_batch_takes_one_response_each() -> None:
    model = ReplayChatModel(responses=[[{"content": str(n)}] for n in range(4)])
    assert sorted(m.content for m in model.batch(["a", "b", "c", "d"])) == ["0", "1", "2", "3"]


# -- strict ---------------------------------------------------------------------------------
def test_strict_accepts_the_recorded_request() -> None:
    model = ReplayChatModel.from_chunks(polar_chunks(), request=[HumanMessage("What color is a polar bear?")],
                                        strict=True)
    assert model.invoke("What color is a polar bear?").content == POLAR_TEXT.replace("|", "")
    assert model.received == [[{"type": "human", "content": "What color is a polar bear?"}]]


def test_strict_mismatch_shows_a_diff() -> None:
    model = ReplayChatModel.from_chunks(polar_chunks(), request=[HumanMessage("What color is a polar bear?")],
                                        strict=True, name="ChatAnthropic")
    with pytest.raises(StrictMismatchError) as info:
        model.invoke("What colour is a polar bear?")
    text = str(info.value)
    assert "ChatAnthropic" in text and "call 1 (response 0)" in text
    assert '-    "content": "What color is a polar bear?",' in text
    assert '+    "content": "What colour is a polar bear?",' in text
    assert "strict=False" in text


def test_not_strict_replays_regardless() -> None:
    model = ReplayChatModel.from_chunks(polar_chunks(), request=[HumanMessage("a")])
    assert model.invoke("b").content.startswith("Polar bears")


# -- pacing -----------------------------------------------------------------------------------
@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()  # injected into each model: no test patches the process's clock


def test_pacing_instant_never_sleeps(clock: ManualClock) -> None:
    list(ReplayChatModel.from_chunks(polar_chunks(with_ms=True), clock=clock).stream("x"))
    assert clock.sleeps == []


def test_pacing_recorded_sync(clock: ManualClock) -> None:
    chunks = polar_chunks(with_ms=True)
    list(ReplayChatModel.from_chunks(chunks, pacing="recorded", clock=clock).stream("x"))
    assert clock.sleeps == pytest.approx([0.1] * (len(chunks) - 1))  # the first chunk is due at 0 ms


async def test_pacing_factor_async(clock: ManualClock) -> None:
    chunks = polar_chunks(with_ms=True)
    [c async for c in ReplayChatModel.from_chunks(chunks, pacing=2, clock=clock).astream("x")]
    assert clock.sleeps == pytest.approx([0.05] * (len(chunks) - 1))


def test_pacing_counts_consumer_time(clock: ManualClock) -> None:
    model = ReplayChatModel.from_chunks([{"content": "a", "ms": 0}, {"content": "b", "ms": 100},
                                         {"content": "c", "ms": 200}], pacing="recorded", clock=clock)
    for chunk in model.stream("x"):
        if chunk.content == "a":
            clock.advance(0.15)  # the consumer was slow: chunk b is already due
    assert clock.sleeps == pytest.approx([0.05])


def test_pacing_recorded_without_offsets_is_instant(clock: ManualClock) -> None:
    list(ReplayChatModel.from_chunks(polar_chunks(), pacing="recorded", clock=clock).stream("x"))
    assert clock.sleeps == []


def test_mixed_offsets_rejected() -> None:
    with pytest.raises(ChunkFormatError, match="some chunks have 'ms'"):
        ReplayChatModel.from_chunks([{"content": "a", "ms": 0}, {"content": "b"}])


def test_async_stream_does_not_hop_threads() -> None:
    model = ReplayChatModel.from_chunks(polar_chunks())
    import threading

    main = threading.get_ident()
    seen: list[int] = []
    original = model._plan

    def spy(messages: Any) -> Any:
        for item in original(messages):
            seen.append(threading.get_ident())
            yield item

    object.__setattr__(model, "_plan", spy)
    asyncio.run(_consume(model))
    assert set(seen) == {main}


async def _consume(model: ReplayChatModel) -> None:
    async for _ in model.astream("x"):
        pass


# -- records ----------------------------------------------------------------------------------
def test_records_round_trip_through_a_cassette(tmp_path: Any) -> None:
    model = ReplayChatModel(responses=[polar_chunks(with_ms=True), tool_call_chunks()],
                            requests=[[HumanMessage("What color is a polar bear?")], None], **IDENTITY)
    path = model.to_cassette().save(tmp_path / "chat.json")
    text = path.read_text()
    assert '{"content": "Polar bears actually", "response_metadata": {"model_provider": "anthropic"}, "ms": 100.0}' in text
    loaded = ReplayChatModel.from_records(Cassette.load(path))
    assert loaded.name == "ChatAnthropic" and loaded.provider == "anthropic"
    assert loaded.max_tokens == 1024 and loaded.temperature == 0.0
    assert loaded.responses == model.responses
    assert list(loaded.stream("What color is a polar bear?")) == list(model.stream("What color is a polar bear?"))


def test_from_records_by_name_and_missing(tmp_path: Any) -> None:
    a = ReplayChatModel.from_text("a", name="first").to_records()
    b = ReplayChatModel.from_text("b", name="second").to_records()
    assert ReplayChatModel.from_records(a + b, name="second").invoke("x").content == "b"
    with pytest.raises(Exception, match=r"no 'chat_chunks' record named 'third' \(recorded names: \['first', 'second'\]\)"):
        ReplayChatModel.from_records(a + b, name="third")


def test_damaged_record_names_its_position(tmp_path: Any) -> None:
    cassette = ReplayChatModel.from_text("a|b").to_cassette()
    cassette.records[0].data["chunks"][1]["usage_metadata"] = "lots"
    path = cassette.save(tmp_path / "bad.json")
    with pytest.raises(CassetteError, match=r"bad\.json at \$\.records\[0\]\.data"):
        ReplayChatModel.from_records(Cassette.load(path))


# -- chains, tools and structured output ------------------------------------------------
def test_prompt_model_parser_chain_streams_recorded_boundaries() -> None:
    model = ReplayChatModel.from_text("|Here's an| apple joke for you:||")
    chain = ChatPromptTemplate.from_template("tell me a joke about {topic}") | model | StrOutputParser()
    assert list(chain.stream({"topic": "apple"})) == ["", "Here's an", " apple joke for you:", "", ""]


def _adder(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


class Person(BaseModel):
    """A person."""

    name: str
    age: int


def test_structured_output_function_calling() -> None:
    model = ReplayChatModel(responses=[tool_call_chunks("Person", ('{"name": "Erick", ', '"age": 27}'))] * 2)
    assert model.with_structured_output(Person).invoke("who?") == Person(name="Erick", age=27)
    raw = model.with_structured_output(Person, include_raw=True).invoke("who?")
    assert raw["parsed"] == Person(name="Erick", age=27) and raw["raw"].tool_calls[0]["name"] == "Person"


async def test_structured_output_json_schema_streams() -> None:
    model = ReplayChatModel.from_text('{"name": |"Erick", "age"|: 27}', provider="openai")
    chain = model.with_structured_output({"title": "Person", "type": "object",
                                          "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}})
    parts = [p async for p in chain.astream("who?")]
    assert parts[-1] == {"name": "Erick", "age": 27}
    assert {"name": "Erick"} in parts  # partial objects arrive while streaming


def test_fast_copies_equal_pydantic_built_ones() -> None:
    from langchain_core.outputs import ChatGenerationChunk

    from replaystream.langchain.fakes._chunks import fresh_copy, generation

    for template in model_templates():
        copy = fresh_copy(template, "x")
        assert copy == template.model_copy(update={"id": template.id or "x"})
        assert copy.model_fields_set == template.model_fields_set
        built = ChatGenerationChunk(message=copy)
        fast = generation(copy, built.text)
        assert fast == built and fast.model_fields_set == built.model_fields_set


def model_templates() -> list[AIMessageChunk]:
    return [*ReplayChatModel.from_chunks(polar_chunks()).responses[0].chunks,
            *ReplayChatModel.from_chunks(tool_call_chunks()).responses[0].chunks,
            AIMessageChunk(content=[{"type": "text", "text": "hi"}, "plain"])]
