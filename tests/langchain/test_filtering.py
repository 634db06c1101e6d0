"""collect_events runs the real astream_events filters (quirks included); filter_events
applies the same rules to events already collected."""

from __future__ import annotations

import warnings

import pytest
from _events_data import COUNTRIES_PROMPT, ChunkModel, countries_model
from langchain_core.output_parsers import JsonOutputParser
from langchain_core.runnables import RunnableLambda

from replaystream.errors import UsageError
from replaystream.langchain.filtering import collect_events, filter_events
from replaystream.langchain.snapshot import event_snapshot


def _named_chain():
    # the tutorial's "By Name" / "By Type" chain
    return countries_model().with_config({"run_name": "model"}) | JsonOutputParser().with_config(
        {"run_name": "my_parser"})


def _tagged_chain():
    # the tutorial's "By Tags" chain
    return (countries_model() | JsonOutputParser()).with_config({"tags": ["my_chain"]})


async def test_by_name(snapshot):
    events = await collect_events(_named_chain(), COUNTRIES_PROMPT, include_names=["my_parser"])
    assert {e["name"] for e in events} == {"my_parser"}
    assert event_snapshot(snapshot) == events


async def test_by_type(snapshot):
    events = await collect_events(_named_chain(), COUNTRIES_PROMPT, include_types=["chat_model"])
    assert {e["event"] for e in events} == {"on_chat_model_start", "on_chat_model_stream", "on_chat_model_end"}
    assert event_snapshot(snapshot) == events


async def test_by_tags(snapshot):
    events = await collect_events(_tagged_chain(), COUNTRIES_PROMPT, include_tags=["my_chain"])
    assert all("my_chain" in e["tags"] for e in events)
    assert {e["run_id"] for e in events} == {"RunnableSequence#0", "ChunkModel#0", "JsonOutputParser#0"}
    assert event_snapshot(snapshot) == events


async def test_first_kept_event_carries_the_root_input():
    # two lambdas, so the filtered run's own input ('hi!') differs from the root's ('hi')
    chain = RunnableLambda(lambda x: x + "!", name="a") | RunnableLambda(lambda x: x * 2, name="b")
    filtered = await collect_events(chain, "hi", include_names=["b"])
    full = await collect_events(chain, "hi")

    start_b = next(e for e in full if e["event"] == "on_chain_start" and e["name"] == "b")
    end_b = next(e for e in full if e["event"] == "on_chain_end" and e["name"] == "b")
    assert start_b["data"] == {}  # unfiltered: a streamed run's input is unknown at its start
    assert end_b["data"] == {"output": "hi!hi!", "input": "hi!"}

    assert [e["event"] for e in filtered] == ["on_chain_start", "on_chain_stream", "on_chain_end"]
    assert filtered[0]["data"] == {"input": "hi"}  # the ROOT input, not b's own 'hi!'
    assert filtered[-1]["data"] == {"output": "hi!hi!"}  # ... and b's end event loses its input

    # unfiltered, the first event is the root's start, whose input is the root input anyway
    assert full[0]["name"] == "RunnableSequence" and full[0]["data"] == {"input": "hi"}


async def test_filter_events_matches_the_real_filter_but_for_the_input_quirk():
    chain = _named_chain()
    full = await collect_events(chain, COUNTRIES_PROMPT)
    cases = [
        {"include_names": ["my_parser"]},
        {"include_types": ["chat_model"]},
        {"include_types": ["parser"], "exclude_names": ["nothing"]},
        {"exclude_types": ["chat_model"]},
        {"include_tags": ["seq:step:1"], "include_names": ["my_parser"]},
        {"exclude_tags": ["seq:step:2"]},
    ]
    for kwargs in cases:
        real = await collect_events(chain, COUNTRIES_PROMPT, **kwargs)
        mimic = filter_events(full, **kwargs)

        def strip(events):
            return [(e["event"], e["run_id"], str({k: v for k, v in e["data"].items() if k != "input"}))
                    for e in events]

        assert strip(mimic) == strip(real), kwargs


async def test_filter_events_returns_the_given_objects_and_types_custom_events_by_name():
    events = [{"event": "on_custom_event", "name": "progress", "tags": [], "data": {}},
              {"event": "on_chain_start", "name": "x", "tags": ["t"], "data": {}}]
    assert filter_events(events, include_types=["progress"]) == [events[0]]
    assert filter_events(events, exclude_tags=["t"])[0] is events[0]
    assert filter_events(events) == events


async def test_raw_and_v3():
    raw = await collect_events(ChunkModel.of(["a"]), "q", normalize=False)
    assert len(raw[0]["run_id"]) == 36
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        v3 = await collect_events(ChunkModel.of(["a", "b"]), "q", version="v3")
    assert [e["event"] for e in v3] == ["message-start", "content-block-start", "content-block-delta",
                                        "content-block-delta", "content-block-finish", "message-finish"]
    with pytest.raises(ValueError, match="no include_"):
        await collect_events(ChunkModel.of(["a"]), "q", version="v3", include_names=["x"])


def test_filter_events_names_an_unknown_filter():
    with pytest.raises(UsageError, match=r"include_name'.*use include_names"):
        filter_events([], include_name=["x"])  # type: ignore[call-arg]
