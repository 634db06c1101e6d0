"""normalize_events / to_plain: stable labels, kept tree, plain data, pure and idempotent."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import uuid
import warnings

import pytest
from _events_data import (
    COUNTRIES,
    COUNTRIES_PROMPT,
    ChunkModel,
    countries_model,
    v2_events,
)
from langchain_core.callbacks import adispatch_custom_event
from langchain_core.documents import Document
from langchain_core.messages import AIMessageChunk, HumanMessage
from langchain_core.output_parsers import JsonOutputParser, StrOutputParser
from langchain_core.outputs import ChatGenerationChunk
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda

from replaystream.langchain.events import EVENT_KEYS, normalize_events, run_type, to_plain


def _chain():
    model = countries_model().with_config({"run_name": "model"})
    return ChatPromptTemplate.from_template("{q}") | model | JsonOutputParser().with_config({"run_name": "my_parser"})



async def test_run_ids_become_labels_by_first_appearance_and_tree_is_kept():
    events = normalize_events(await v2_events(_chain(), {"q": COUNTRIES_PROMPT}))
    labels = list(dict.fromkeys(e["run_id"] for e in events))
    assert labels == ["RunnableSequence#0", "ChatPromptTemplate#0", "model#0", "my_parser#0"]
    parents = {e["run_id"]: e["parent_ids"] for e in events}
    assert parents == {
        "RunnableSequence#0": [],
        "ChatPromptTemplate#0": ["RunnableSequence#0"],
        "model#0": ["RunnableSequence#0"],
        "my_parser#0": ["RunnableSequence#0"],
    }


async def test_two_runs_normalise_identically():
    first = normalize_events(await v2_events(_chain(), {"q": "x"}))
    second = normalize_events(await v2_events(_chain(), {"q": "x"}))
    assert first == second


async def test_keeps_the_event_keys_so_event_code_reads_it():
    raw = await v2_events(_chain(), {"q": "x"})
    norm = normalize_events(raw)
    assert len(norm) == len(raw)
    for r, n in zip(raw, norm, strict=True):
        assert list(n) == [k for k in EVENT_KEYS if k in r]
    streamed = [e["data"]["chunk"]["content"] for e in norm if e["event"] == "on_chat_model_stream"]
    assert "".join(streamed) == "".join(COUNTRIES)
    parsed = [e["data"]["chunk"] for e in norm if e["event"] == "on_parser_stream"]
    assert parsed[-1] == {"countries": [{"name": "France", "population": 67391582},
                                        {"name": "Spain", "population": 47615034},
                                        {"name": "Korea", "population": 51744876}]}


async def test_pure_inputs_untouched_and_idempotent():
    raw = await v2_events(_chain(), {"q": "x"})
    before = copy.deepcopy(raw)
    norm = normalize_events(raw)
    assert raw == before
    assert normalize_events(norm) == norm
    assert normalize_events(iter(raw)) == norm  # any iterable


async def test_message_ids_name_their_run():
    norm = normalize_events(await v2_events(_chain(), {"q": "x"}))
    chunk = next(e["data"]["chunk"] for e in norm if e["event"] == "on_chat_model_stream")
    assert chunk == {"_type": "AIMessageChunk", "content": "{", "id": "lc_run--model#0"}


def test_uuids_in_ids_parents_documents_and_timestamps():
    run, parent, other, doc = (str(uuid.uuid4()) for _ in range(4))
    events = [
        {"event": "on_retriever_end", "name": "Docs", "run_id": run, "parent_ids": [parent],
         "tags": ["b", "a"], "metadata": {"created_at": "2026-01-01T00:00:00Z", "model": "m"},
         "data": {"output": [Document(page_content="harrison worked at langchain", id=doc)],
                  "msg": AIMessageChunk(content="", id=f"run-{run}",
                                        response_metadata={"created": 1717000000, "id": "msg_01"}),
                  "other_id": other, "ref": uuid.UUID(other), "when": dt.datetime(2026, 1, 1)}},
    ]
    (ev,) = normalize_events(events)
    assert ev["run_id"] == "Docs#0"
    assert ev["parent_ids"] == ["<filtered>#0"]
    assert ev["tags"] == ["a", "b"]
    assert ev["metadata"] == {"created_at": "<timestamp>", "model": "m"}
    data = ev["data"]
    assert data["output"] == [{"_type": "Document", "id": "doc:0", "page_content": "harrison worked at langchain"}]
    assert data["msg"] == {"_type": "AIMessageChunk", "content": "", "id": "run-Docs#0",
                           "response_metadata": {"created": "<timestamp>", "id": "msg_01"}}
    assert data["other_id"] == "id:0" and data["ref"] == "id:0"
    assert data["when"] == "<datetime>"


def test_missing_parents_get_distinct_labels():
    a, b, p1, p2 = (str(uuid.uuid4()) for _ in range(4))
    events = [
        {"event": "on_chain_start", "name": "x", "run_id": a, "parent_ids": [p1], "tags": [], "data": {}},
        {"event": "on_chain_start", "name": "x", "run_id": b, "parent_ids": [p2, a], "tags": [], "data": {}},
    ]
    norm = normalize_events(events)
    assert [e["run_id"] for e in norm] == ["x#0", "x#1"]
    assert [e["parent_ids"] for e in norm] == [["<filtered>#0"], ["<filtered>#1", "x#0"]]


async def test_a_filtered_out_parent_reads_as_filtered_and_stays_stable():
    # The user's action: keep only the parser's events; its parent chain is filtered out.
    chain = _chain()
    runs = [normalize_events(await v2_events(chain, {"q": COUNTRIES_PROMPT}, include_names=["my_parser"]))
            for _ in range(2)]
    assert runs[0] == runs[1]
    assert {tuple(e["parent_ids"]) for e in runs[0]} == {("<filtered>#0",)}
    assert normalize_events(runs[0]) == runs[0]  # idempotent


def test_a_run_named_like_the_placeholder_does_not_collide():
    a, p = str(uuid.uuid4()), str(uuid.uuid4())
    norm = normalize_events([{"event": "on_chain_start", "name": "<filtered>", "run_id": a, "parent_ids": [p]}])
    assert norm[0]["run_id"] == "<filtered>#0" and norm[0]["parent_ids"] == ["<filtered>#1"]


def test_to_plain_objects():
    gen = ChatGenerationChunk(message=AIMessageChunk(content="hi", usage_metadata={
        "input_tokens": 1, "output_tokens": 2, "total_tokens": 3}))
    plain = to_plain(gen)
    assert plain["_type"] == "ChatGenerationChunk"
    assert plain["message"] == {"_type": "AIMessageChunk", "content": "hi",
                                "usage_metadata": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}}
    assert to_plain(HumanMessage(content="q")) == {"_type": "HumanMessage", "content": "q"}

    @dataclasses.dataclass
    class Point:
        x: int
        y: int = 0

    assert to_plain(Point(1)) == {"_type": "Point", "x": 1}
    assert to_plain(ValueError("bad")) == {"_type": "ValueError", "message": "bad"}
    assert to_plain({3, 1, 2}) == [1, 2, 3]
    assert to_plain((1, "a")) == [1, "a"]
    assert "0x" not in to_plain(object())


async def test_custom_events_label_their_run_by_its_own_name():
    async def emits(x: str) -> str:
        await adispatch_custom_event("progress", {"step": 1})
        return x

    events = normalize_events(await v2_events(RunnableLambda(emits, name="worker"), "in"))
    custom = next(e for e in events if e["event"] == "on_custom_event")
    assert custom["name"] == "progress" and custom["run_id"] == "worker#0"
    assert custom["data"] == {"step": 1}
    assert run_type("on_custom_event", "progress") == "progress"
    assert run_type("on_chat_model_stream") == "chat_model"


async def test_v3_content_block_events_async_and_sync():
    model = ChunkModel.of(["Hel", "lo"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LangChainBetaWarning: v3 is beta in langchain-core 1.8
        stream = await model.astream_events("hi", version="v3")
        async_events = normalize_events([e async for e in stream])
        sync_events = normalize_events(model.stream_events("hi", version="v3"))
    assert async_events == sync_events
    assert async_events[0] == {"event": "message-start", "role": "ai", "id": "lc_run--id:0"}
    deltas = [e["delta"]["text"] for e in async_events if e["event"] == "content-block-delta"]
    assert deltas == ["Hel", "lo"]
    assert async_events[-1] == {"event": "message-finish"}


async def test_str_parser_chunks_are_plain_strings():
    chain = ChunkModel.of(["a", "b"]) | StrOutputParser()
    norm = normalize_events(await v2_events(chain, "q"))
    # langchain-core 1.8 ends every stream with an empty ``chunk_position="last"`` chunk
    assert [e["data"]["chunk"] for e in norm if e["event"] == "on_parser_stream"] == ["a", "b", ""]


@pytest.mark.parametrize("bad", [None, {"event": "on_chain_start"}])
def test_tolerates_sparse_events(bad):
    events = [] if bad is None else [bad]
    assert normalize_events(events) == events
