"""EventSnapshotExtension: one event per line, stable across runs, failing diffs name the line."""

from __future__ import annotations

import textwrap
import uuid

from _events_data import COUNTRIES_PROMPT, ChunkModel, countries_model, v2_events
from langchain_core.messages import AIMessageChunk
from langchain_core.output_parsers import JsonOutputParser, StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda

from replaystream.langchain.events import normalize_events
from replaystream.langchain.snapshot import (
    EventSnapshotExtension,
    event_snapshot,
    render_event,
    render_events,
)


def _countries_chain():
    model = countries_model().with_config({"run_name": "model"})
    return model | JsonOutputParser().with_config({"run_name": "my_parser"})


async def test_countries_json_chain(snapshot):
    assert event_snapshot(snapshot) == await v2_events(_countries_chain(), COUNTRIES_PROMPT)


async def test_prompt_model_str_parser_with_usage(snapshot):
    chunks = [AIMessageChunk(content="Polar bears"), AIMessageChunk(content=" are white."),
              AIMessageChunk(content="", usage_metadata={"input_tokens": 14, "output_tokens": 4, "total_tokens": 18},
                             response_metadata={"stop_reason": "end_turn"})]
    chain = ChatPromptTemplate.from_template("What color is a {animal}?") | ChunkModel(chunks=chunks) | StrOutputParser()
    events = normalize_events(await v2_events(chain, {"animal": "polar bear"}))
    assert event_snapshot(snapshot) == events  # normalised events are accepted too


async def test_metadata_on_request(snapshot):
    events = await v2_events(ChunkModel.of(["hi"]), "hello")
    text = render_events(events, metadata=True)
    assert "meta={" in text and "ls_provider" in text
    assert event_snapshot(snapshot) == text  # rendered text is stored as is


async def test_stable_across_runs_and_inputs_forms():
    first = await v2_events(_countries_chain(), COUNTRIES_PROMPT)
    second = await v2_events(_countries_chain(), COUNTRIES_PROMPT)
    assert first[0]["run_id"] != second[0]["run_id"]
    ext = EventSnapshotExtension()
    text = ext.serialize(first)
    assert text == ext.serialize(second) == ext.serialize(normalize_events(first)) == render_events(first)
    assert ext.serialize(text) == text
    assert text.endswith("\n") and text.count("\n") == len(first)
    assert all(run_id not in text for e in first for run_id in [e["run_id"]])


async def test_line_format():
    shout = RunnableLambda(lambda x: x + "!", name="shout")
    chain = (shout | RunnableLambda(lambda x: {"said": x, "n": 2}, name="wrap")).with_config({"tags": ["b", "a"]})
    lines = render_events(await v2_events(chain, "hi")).splitlines()
    assert lines[0] == "on_chain_start       RunnableSequence#0 [a,b] input='hi'"
    assert lines[1] == "on_chain_start       shout#0 < RunnableSequence#0 [a,b,seq:step:1]"
    assert "on_chain_stream      wrap#0 < RunnableSequence#0 [a,b,seq:step:2] chunk={\"n\":2,\"said\":\"hi!\"}" in lines
    assert lines[-1] == "on_chain_end         RunnableSequence#0 [a,b] output={\"n\":2,\"said\":\"hi!\"}"


def test_render_event_details():
    run = str(uuid.uuid4())
    custom = {"event": "on_custom_event", "name": "progress", "run_id": run, "parent_ids": [],
              "tags": ["odd tag"], "metadata": {}, "data": {"x": None, "ok": True, "f": 1.5}}
    start = {"event": "on_chain_start", "name": "worker", "run_id": run, "parent_ids": [], "tags": [],
             "metadata": {}, "data": {"input": "a\nb"}}
    lines = render_events([start, custom]).splitlines()
    assert lines[0] == "on_chain_start       worker#0 input='a\\nb'"
    assert lines[1] == ("on_custom_event      worker#0 name='progress' [\"odd tag\"] "
                        "f=1.5 ok=true x=null")
    msg = {"event": "on_chat_model_stream", "name": "m", "run_id": "m#0", "parent_ids": [], "tags": [],
           "data": {"chunk": {"_type": "AIMessageChunk", "content": "", "id": "msg_01",
                              "chunk_position": "last"}}}
    assert render_event(msg).endswith("chunk=AIMessageChunk('', chunk_position='last', id='msg_01')")


def test_extension_is_module_level_text_single_file():
    assert EventSnapshotExtension.__qualname__ == "EventSnapshotExtension"
    assert EventSnapshotExtension.file_extension == "events.txt"
    assert EventSnapshotExtension.get_supported_dataclass() is str
    # syrupy passes the property filters by keyword; they do not apply and are ignored
    assert EventSnapshotExtension().serialize([], exclude=None, include=None, matcher=None) == ""


_INNER_TEST = textwrap.dedent(
    """
    import asyncio, os
    from langchain_core.runnables import RunnableLambda
    from replaystream.langchain.snapshot import event_snapshot

    def test_shout(snapshot):
        suffix = os.environ["SHOUT_SUFFIX"]
        shout = RunnableLambda(lambda x: x + suffix, name="shout")
        inner = RunnableLambda(lambda x: shout.invoke(x), name="outer")

        async def run():
            return [e async for e in inner.astream_events("hi", version="v2")]

        assert event_snapshot(snapshot) == asyncio.run(run())
    """
)


def test_changed_event_fails_naming_the_line(pytester, monkeypatch):
    pytester.makepyfile(test_inner=_INNER_TEST)
    monkeypatch.setenv("SHOUT_SUFFIX", "!")
    pytester.runpytest("-p", "no:cacheprovider", "--snapshot-update").assert_outcomes(passed=1)
    stored = pytester.path / "__snapshots__" / "test_inner" / "test_shout.events.txt"
    assert "on_chain_end         shout#0 < outer#0 input='hi' output='hi!'" in stored.read_text()

    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)  # stable: new run ids

    monkeypatch.setenv("SHOUT_SUFFIX", "?")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "on_chain_end         shout#0 < outer#0 input='hi' output='hi!'" in out
    assert "on_chain_end         shout#0 < outer#0 input='hi' output='hi?'" in out
    result.stdout.re_match_lines([r".*- on_chain_end +shout#0 < outer#0 input='hi' output='hi!'",
                                  r".*\+ on_chain_end +shout#0 < outer#0 input='hi' output='hi\?'"],
                                 consecutive=False)
