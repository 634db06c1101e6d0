"""Every tutorial section replayed from its shipped cassette, at the wire and the message level."""

from __future__ import annotations

from typing import Any

import pytest

from replaystream import assert_propagated
from replaystream import ReplayStreamError
from replaystream.tutorial.runner import SECTIONS, Stream, UnknownSectionError, section

from ._tutorial import (
    COUNTRIES_JSON,
    EVENT_SECTIONS,
    NAMES,
    SEED_PRINTED,
    TextSnapshot,
    comparable,
    output_text,
    run,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("level", ["wire", "message"])
def test_section(level: str, name: str, snapshot: Any, event_snapshot: Any) -> None:
    """wire: the real ChatAnthropic / OpenAIEmbeddings, answered by the cassette's recorded
    bytes; message: ReplayChatModel / ReplayEmbeddings built from the same cassette."""
    outcome = run(name, level)
    assert snapshot.use_extension(TextSnapshot) == output_text(outcome)
    for part, events in outcome.events.items():
        assert event_snapshot(name=part) == events


@pytest.mark.parametrize("name", NAMES)
def test_levels_agree(name: str) -> None:
    wire, message = run(name, "wire"), run(name, "message")
    assert comparable(message) == comparable(wire)
    if not any(e for events in wire.events.values() for e in events if e["event"] == "on_chat_model_stream"):
        assert message.lines == wire.lines  # nothing printed shows a message id


@pytest.mark.parametrize("name", sorted(SEED_PRINTED))
def test_printed_boundaries_are_the_seeds(name: str) -> None:
    assert run(name).lines[0] == SEED_PRINTED[name]


@pytest.mark.parametrize("name", sorted(SEED_PRINTED))
def test_served_chunks_are_cut_where_the_seed_printed_boundaries(name: str) -> None:
    (stream,) = [s for s in section(name).served if isinstance(s, Stream)]
    # The model's empty first (message_start) and last (message_delta) chunks print as "|" and "||".
    assert "|" + "|".join(stream.chunks) + "||" == SEED_PRINTED[name]


def test_an_unknown_section_is_a_typed_error_listing_the_sections() -> None:
    with pytest.raises(UnknownSectionError) as info:
        section("nope")
    assert isinstance(info.value, ReplayStreamError) and isinstance(info.value, KeyError)
    assert str(info.value).startswith("no tutorial section 'nope'; sections: polar_bear_sync, ")


def test_sync_and_async_polar_bear_are_cut_differently() -> None:
    sync, async_ = run("polar_bear_sync").stream, run("polar_bear_async").stream
    assert "".join(str(c.content) for c in sync) == "".join(str(c.content) for c in async_)
    assert [c.content for c in sync] != [c.content for c in async_]
    # The current langchain-anthropic: an empty first chunk (message_start) and an empty
    # last one (message_delta) carrying usage, which the seed's version put on the first.
    assert sync[0].content == "" and sync[-1].content == ""
    assert sync[0].usage_metadata is None
    assert sync[-1].usage_metadata is not None and sync[-1].usage_metadata["input_tokens"] == 14
    assert sync[-1].chunk_position == "last"


def test_chunk_inspection() -> None:
    first, three, six = run("polar_bear_async").inspected
    assert first.content == ""
    assert three.content == "Polar bears actually have transparent, hollow fur, not white"
    assert six.content == ("Polar bears actually have transparent, hollow fur, not white fur as commonly believed. "
                           "Their skin is black underneath. The fur appears white because the transparent hair")


SEED_JSON_PARSER = """\
{}
{'countries': [{}]}
{'countries': [{'name': 'France'}]}
{'countries': [{'name': 'France', 'population': 67391582}]}
{'countries': [{'name': 'France', 'population': 67391582}, {'name': 'Spain'}]}
{'countries': [{'name': 'France', 'population': 67391582}, {'name': 'Spain', 'population': 47615}]}
{'countries': [{'name': 'France', 'population': 67391582}, {'name': 'Spain', 'population': 47615034}, {}]}
{'countries': [{'name': 'France', 'population': 67391582}, {'name': 'Spain', 'population': 47615034}, {'name': 'Korea'}]}
{'countries': [{'name': 'France', 'population': 67391582}, {'name': 'Spain', 'population': 47615034}, {'name': 'Korea', 'population': 51744876}]}"""

SEED_EVENTS_LOOP = """\
Chat model chunk: ''
Chat model chunk: '{'
Parser chunk: {}
Chat model chunk: '\\n  "countries":'
Chat model chunk: ' [\\n    {\\n      "name": "'
Parser chunk: {'countries': [{'name': ''}]}
Chat model chunk: 'France",\\n      "'
Parser chunk: {'countries': [{'name': 'France'}]}
Chat model chunk: 'population": 67391582\\n    },'
Parser chunk: {'countries': [{'name': 'France', 'population': 67391582}]}
Chat model chunk: '\\n    {\\n      "name": "Spain",'
Parser chunk: {'countries': [{'name': 'France', 'population': 67391582}, {'name': 'Spain'}]}
Chat model chunk: '\\n      "population": 47615'
Parser chunk: {'countries': [{'name': 'France', 'population': 67391582}, {'name': 'Spain', 'population': 47615}]}
Chat model chunk: '034\\n    },\\n    '
Parser chunk: {'countries': [{'name': 'France', 'population': 67391582}, {'name': 'Spain', 'population': 47615034}]}
Chat model chunk: '{\\n      "name": "Korea",'
Parser chunk: {'countries': [{'name': 'France', 'population': 67391582}, {'name': 'Spain', 'population': 47615034}, {'name': 'Korea'}]}
Chat model chunk: '\\n      "population": 51744'
Parser chunk: {'countries': [{'name': 'France', 'population': 67391582}, {'name': 'Spain', 'population': 47615034}, {'name': 'Korea', 'population': 51744}]}
..."""

SEED_NON_STREAMING_LOOP = """\
Chat model chunk: ''
Chat model chunk: '{'
Parser chunk: {}
Chat model chunk: '\\n  "countries": [\\n    {'
Parser chunk: {'countries': [{}]}
Chat model chunk: '\\n      "name": "France",\\n      "'
Parser chunk: {'countries': [{'name': 'France'}]}
Chat model chunk: 'population": 67391582\\n    },'
Parser chunk: {'countries': [{'name': 'France', 'population': 67391582}]}
Chat model chunk: '\\n    {\\n      "name": "Spain",'
Parser chunk: {'countries': [{'name': 'France', 'population': 67391582}, {'name': 'Spain'}]}
Chat model chunk: '\\n      "population": 47615'
Parser chunk: {'countries': [{'name': 'France', 'population': 67391582}, {'name': 'Spain', 'population': 47615}]}
Chat model chunk: '034\\n    },\\n    {\\n      "name'
Parser chunk: {'countries': [{'name': 'France', 'population': 67391582}, {'name': 'Spain', 'population': 47615034}, {}]}
Chat model chunk: '": "Korea",\\n      "population": '
Parser chunk: {'countries': [{'name': 'France', 'population': 67391582}, {'name': 'Spain', 'population': 47615034}, {'name': 'Korea'}]}
Chat model chunk: '51744876\\n    }\\n  '
Parser chunk: {'countries': [{'name': 'France', 'population': 67391582}, {'name': 'Spain', 'population': 47615034}, {'name': 'Korea', 'population': 51744876}]}
Chat model chunk: ']\\n}'
Chat model chunk: ''
..."""


def test_parser_outputs_are_the_seeds() -> None:
    assert "\n".join(run("json_parser").lines) == SEED_JSON_PARSER
    assert run("extract_country_names").lines == ["['France', 'Spain', 'Korea']|"]
    assert run("extract_country_names_streaming").lines == ["France|Spain|Korea|"]


def test_events_loops_print_what_the_seed_printed() -> None:
    lines = run("events_json_chain").lines
    assert "\n".join(lines[lines.index("second run, model and parser chunks:") + 1:]) == SEED_EVENTS_LOOP
    lines = run("non_streaming_components").lines
    assert lines[0] == "['France', 'Spain', 'Korea']"
    assert "\n".join(lines[2:]) == SEED_NON_STREAMING_LOOP


def _streamed(name: str, kind: str) -> list[object]:
    return [e["data"]["chunk"] for e in run(name).events["events"] if e["event"] == kind]


def test_filtered_events_show_the_seeds_chunks() -> None:
    seed_by_type = ["", "{", '\n  "countries":', ' [\n    {\n      "name": "', 'France",\n      "population": 67391',
                    '582\n    },', '\n    {\n      "', 'name": "Spain",\n      "population":',
                    ' 47615034\n    },\n    ', '{\n      "name": "Korea",']
    assert [c.content for c in _streamed("filter_by_type", "on_chat_model_stream")][:10] == seed_by_type  # type: ignore[attr-defined]
    by_name = _streamed("filter_by_name", "on_parser_stream")
    assert len(by_name) == 9 and by_name[6] == {"countries": [{"name": "France", "population": 67391582},
                                                              {"name": "Spain", "population": 47615034}]}
    names = [e["name"] for e in run("filter_by_name").events["events"]]
    assert set(names) == {"my_parser"}
    tags = run("filter_by_tags").events["events"]
    assert [c.content for c in _streamed("filter_by_tags", "on_chat_model_stream")][:4] == [  # type: ignore[attr-defined]
        "", "{", '\n  "countries": [\n    {', '\n      "name": "France",\n      "']
    assert all("my_chain" in e["tags"] for e in tags)
    # With a filter, the first event that passes carries the root input (a langchain-core quirk).
    assert run("filter_by_name").events["events"][0]["data"]["input"].startswith("output a list")


def test_chat_model_events() -> None:
    events = run("events_chat_model").events["events"]
    assert events[0]["event"] == "on_chat_model_start" and events[0]["data"] == {"input": "hello"}
    assert events[2]["data"]["chunk"].content == "Hi"
    end = events[-1]["data"]["output"]
    assert end.content == "Hi! How can I help you today?"
    assert end.usage_metadata["input_tokens"] == 8 and end.usage_metadata["output_tokens"] == 12
    assert events[0]["metadata"]["ls_max_tokens"] == 1024 and events[0]["metadata"]["ls_temperature"] == 0.0


def test_retriever_finds_langchain_first() -> None:
    (docs,) = run("retriever_stream").stream
    assert [d.page_content for d in docs] == ["harrison worked at langchain", "harrison likes spicy food"]


@pytest.mark.parametrize("name, parent, child", [
    ("propagation_bad_tool", "bad_tool", "reverse_word"),
    ("propagation_runnable_lambda", "reverse_and_double", "reverse_word"),
    ("propagation_chain_decorator", "reverse_and_double", "reverse_word"),
])
def test_callbacks_propagate(name: str, parent: str, child: str) -> None:
    tree = assert_propagated(run(name).events["events"], expect_children={parent: [child]})
    assert [n.name for n in tree.detached] == [parent]


def test_every_countries_stream_is_the_same_json() -> None:
    for sec in SECTIONS:
        for item in sec.served:
            if isinstance(item, Stream) and item.input_tokens == 56:
                assert item.text == COUNTRIES_JSON, sec.name


def test_event_sections_are_snapshotted() -> None:
    assert {n for n in EVENT_SECTIONS} == {s.name for s in SECTIONS if run(s.name).events}
    assert section("events_json_chain").served[0] == section("events_json_chain").served[1]
