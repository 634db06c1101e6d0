"""The fakes and the open cassette: ReplayTool records into it and saves with it, a mixed
cassette keeps each response's provider, and every streamed chunk has a stable id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_anthropic import ChatAnthropic
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

from replaystream import Cassette, use_cassette
from replaystream.errors import UsageError
from replaystream.emulator import ProviderEmulator, ScriptedResponse, anthropic_messages_stream, openai_chat_stream
from replaystream.langchain.fakes import ReplayChatModel, ReplayTool, ToolReplayMissError

CALLS: list[str] = []


@tool
def shout(word: str) -> str:
    """Upper-case a word."""
    CALLS.append(word)
    return word.upper()


@pytest.fixture(autouse=True)
def _clear_calls() -> None:
    CALLS.clear()


# -- ReplayTool follows the open cassette ---------------------------------------------------
def test_the_library_form_records_into_the_open_cassette_and_saves_with_it(tmp_path: Path) -> None:
    path = tmp_path / "tools.json"
    loud = ReplayTool.wrap(shout)  # made once, outside any cassette: bound when called
    with use_cassette(path, mode="once"):
        assert [loud.invoke("hi"), loud.invoke({"word": "there"})] == ["HI", "THERE"]
    assert CALLS == ["hi", "there"]
    assert [(r.kind, r.name, r.data) for r in Cassette.load(path).records] == [
        ("tool", "shout", {"input": {"word": "hi"}, "output": "HI"}),
        ("tool", "shout", {"input": {"word": "there"}, "output": "THERE"})]
    CALLS.clear()
    with use_cassette(path):  # mode none: replayed, the real tool is not called
        assert [loud.invoke("hi"), loud.invoke("there")] == ["HI", "THERE"]
        with pytest.raises(ToolReplayMissError, match="--replay-mode=new_episodes"):
            loud.invoke("new")
    assert CALLS == []
    with use_cassette(path, mode="new_episodes"):  # recorded inputs replay, new ones record
        assert [loud.invoke("hi"), loud.invoke("new")] == ["HI", "NEW"]
    assert CALLS == ["new"] and len(Cassette.load(path).records) == 3
    with use_cassette(path, mode="all"):  # a fresh recording of this tool
        loud.invoke("again")
    assert [r.data["input"] for r in Cassette.load(path).records] == [{"word": "again"}]


def test_a_failed_block_keeps_the_previous_records(tmp_path: Path) -> None:
    path = tmp_path / "tools.json"
    with use_cassette(path, mode="once"):
        ReplayTool.wrap(shout).invoke("kept")
    before = path.read_bytes()
    with pytest.raises(RuntimeError), use_cassette(path, mode="all"):
        ReplayTool.wrap(shout).invoke("lost")
        raise RuntimeError("the test failed")
    assert path.read_bytes() == before


def test_following_needs_an_open_cassette() -> None:
    with pytest.raises(UsageError, match="none is open: call it in a @pytest.mark.replay test"):
        ReplayTool.wrap(shout).invoke("x")
    with pytest.raises(UsageError, match="the open cassette's mode decides"):
        ReplayTool.wrap(shout, mode="record")


PLUGIN_TEST = """
import os, pytest
from langchain_core.tools import tool
from replaystream import ReplayTool

@tool
def lookup(city: str) -> str:
    \"\"\"The weather in a city.\"\"\"
    assert not os.environ.get("NO_REAL_TOOL"), "the real tool was called while replaying"
    return f"sunny in {city}"

@pytest.mark.replay
def test_weather():
    weather = ReplayTool.wrap(lookup)
    assert weather.invoke({"city": "Edinburgh"}) == "sunny in Edinburgh"
"""


def test_a_marked_test_records_its_tool_calls_into_its_cassette(pytester: pytest.Pytester,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(test_w=PLUGIN_TEST)
    # A subprocess: numpy (pulled in by the fakes) cannot be imported twice in one process.
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "--replay-mode=once").assert_outcomes(passed=1)
    (record,) = Cassette.load(pytester.path / "cassettes" / "test_w" / "test_weather.json").records
    assert (record.kind, record.name, record.data["output"]) == ("tool", "lookup", "sunny in Edinburgh")
    monkeypatch.setenv("NO_REAL_TOOL", "1")
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


# -- a cassette mixing providers --------------------------------------------------------
async def test_from_cassette_keeps_each_responses_provider(tmp_path: Path) -> None:
    path = tmp_path / "mixed.json"
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(events=openai_chat_stream(["From", " OpenAI"])))
        emu.enqueue(ScriptedResponse(events=anthropic_messages_stream(["From", " Anthropic"])))
        with use_cassette(path, mode="once"):
            list(ChatOpenAI(model="gpt-4o-mini", base_url=emu.base_url + "/v1", api_key="sk-test").stream("hi"))
            list(ChatAnthropic(model="claude-3-5-sonnet-latest", base_url=emu.base_url, api_key="sk-ant-test",
                               max_tokens=64).stream("hi"))

    async def runs(model: ReplayChatModel) -> list[tuple[str, str, str, str]]:
        out = []
        for _ in range(2):
            events = [e async for e in model.astream_events("hi", version="v2")]
            text = "".join(str(e["data"]["chunk"].content) for e in events if e["event"] == "on_chat_model_stream")
            meta = events[0]["metadata"]
            out.append((events[0]["name"], meta["ls_provider"], meta["ls_model_name"], text))
        return out

    assert await runs(ReplayChatModel.from_cassette(path)) == [
        ("ChatOpenAI", "openai", "gpt-4o-mini", "From OpenAI"),
        ("ChatAnthropic", "anthropic", "claude-3-5-sonnet-latest", "From Anthropic")]
    # An explicit keyword still wins, for every response.
    assert [r[1] for r in await runs(ReplayChatModel.from_cassette(path, provider="mine"))] == ["mine", "mine"]
    # Records keep each response's identity too.
    mixed = ReplayChatModel.from_cassette(path)
    assert [r[:3] for r in await runs(ReplayChatModel.from_records(mixed.to_records()))] == [
        ("ChatOpenAI", "openai", "gpt-4o-mini"), ("ChatAnthropic", "anthropic", "claude-3-5-sonnet-latest")]


# -- every chunk has an id that is the same on every run ------------------------------------
@pytest.mark.parametrize("chunks", [[{"content": "a"}, {"content": "b"}],
                                    [{"content": [{"type": "text", "text": "a", "index": 0}], "id": "msg_1"}]],
                         ids=["no-ids", "recorded-id-and-blocks"])
async def test_a_stream_without_a_last_chunk_ends_with_a_stable_one(chunks: list[dict[str, Any]]) -> None:
    def model() -> ReplayChatModel:
        return ReplayChatModel.from_chunks(chunks)

    sync = [(c.id, c.chunk_position) for c in model().stream("x")]
    again = [(c.id, c.chunk_position) for c in model().stream("x")]
    streamed = [(c.id, c.chunk_position) async for c in model().astream("x")]
    expected_id = chunks[0].get("id", "lc_run--replay-0")
    assert sync == again == streamed == [(expected_id, None)] * len(chunks) + [(expected_id, "last")]
    last = list(model().stream("x"))[-1]
    assert last.content == ("" if isinstance(chunks[0]["content"], str) else [])
    assert model().invoke("x").id == expected_id
