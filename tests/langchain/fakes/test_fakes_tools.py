"""ReplayTool: record -> save -> load -> replay, strict misses, events and propagation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import BaseTool, tool

from replaystream import Cassette, Record, RecordingError
from replaystream.errors import CassetteMissError
from replaystream.langchain.fakes import ReplayChatModel, ReplayTool, ToolReplayMissError

CALLS: list[str] = []

reverse_word = RunnableLambda(lambda word: word[::-1]).with_config(run_name="reverse_word")


@tool
def reverse_tool(word: str) -> str:
    """Reverse a word (calls a runnable without passing config, as the seed's bad_tool does)."""
    CALLS.append(word)
    return reverse_word.invoke(word)


@tool
async def areverse_tool(word: str) -> str:
    """Reverse a word, asynchronously."""
    CALLS.append(word)
    return await reverse_word.ainvoke(word)


@pytest.fixture(autouse=True)
def _clear_calls() -> None:
    CALLS.clear()


def _record(path: Path, inner: BaseTool = reverse_tool) -> None:
    recorder = ReplayTool.wrap(inner, path, mode="record")
    assert recorder.invoke("hello") == "olleh"
    assert recorder.invoke({"word": "abc"}) == "cba"
    assert recorder.invoke({"word": "hello"}) == "olleh"
    recorder.save()


def test_record_save_load_replay(tmp_path: Path) -> None:
    path = tmp_path / "tools.json"
    _record(path)
    assert CALLS == ["hello", "abc", "hello"]
    records = Cassette.load(path).records
    assert [(r.kind, r.name, r.data) for r in records] == [
        ("tool", "reverse_tool", {"input": {"word": "hello"}, "output": "olleh"}),
        ("tool", "reverse_tool", {"input": {"word": "abc"}, "output": "cba"}),
        ("tool", "reverse_tool", {"input": {"word": "hello"}, "output": "olleh"}),
    ]
    CALLS.clear()
    replay = ReplayTool.wrap(reverse_tool, path)
    assert [replay.invoke({"word": "hello"}), replay.invoke("abc"), replay.invoke("hello")] == ["olleh", "cba", "olleh"]
    assert CALLS == []  # the real tool was never called


def test_repeats_replay_in_order() -> None:
    cassette = Cassette(records=[Record("tool", "dice", {"input": {"sides": 6}, "output": n}) for n in (3, 5)])
    dice = ReplayTool.stand_in("dice", cassette, description="Roll a die.")
    assert [dice.invoke({"sides": 6}), dice.invoke({"sides": 6})] == [3, 5]
    with pytest.raises(ToolReplayMissError, match="all 2 recorded call\\(s\\) with this input were already replayed"):
        dice.invoke({"sides": 6})
    dice.reset()
    assert dice.invoke({"sides": 6}) == 3


def test_strict_miss_lists_recorded_inputs(tmp_path: Path) -> None:
    path = tmp_path / "tools.json"
    _record(path)
    replay = ReplayTool.wrap(reverse_tool, path)
    with pytest.raises(ToolReplayMissError) as info:
        replay.invoke({"word": "zebra"})
    text = str(info.value)
    assert "ReplayTool('reverse_tool')" in text and str(path) in text
    assert 'input: {"word": "zebra"}' in text
    assert '    {"word": "hello"}\n    {"word": "abc"}' in text
    assert isinstance(info.value, CassetteMissError)
    assert CALLS[-1] != "zebra"


def test_not_strict_calls_the_real_tool_on_a_miss(tmp_path: Path) -> None:
    path = tmp_path / "tools.json"
    _record(path)
    replay = ReplayTool.wrap(reverse_tool, path, strict=False)
    assert replay.invoke("zebra") == "arbez"
    assert len(replay.records) == 3  # live calls in replay mode are not recorded


def test_record_mode_replaces_this_tools_records_only(tmp_path: Path) -> None:
    path = tmp_path / "tools.json"
    model = ReplayChatModel.from_text("hi")
    model.to_cassette().save(path)
    _record(path)
    _record(path)
    kinds = [(r.kind, r.name) for r in Cassette.load(path).records]
    assert kinds == [("chat_chunks", "chat")] + [("tool", "reverse_tool")] * 3


def test_unserialisable_output_is_a_recording_error(tmp_path: Path) -> None:
    @tool
    def opaque(x: int) -> Any:
        """Return something JSON cannot hold."""
        return object()

    with pytest.raises(RecordingError, match="cannot be stored as JSON"):
        ReplayTool.wrap(opaque, tmp_path / "t.json", mode="record").invoke({"x": 1})


def test_is_a_real_tool_for_bind_tools(tmp_path: Path) -> None:
    replay = ReplayTool.wrap(reverse_tool, tmp_path / "t.json", mode="record")
    assert isinstance(replay, BaseTool)
    assert replay.name == "reverse_tool" and replay.args == reverse_tool.args
    bound = ReplayChatModel.from_text("x").bind_tools([replay])
    assert bound.kwargs["tools"][0]["function"]["name"] == "reverse_tool"  # type: ignore[attr-defined]


async def _events(t: BaseTool, value: Any) -> list[dict[str, Any]]:
    return [e async for e in t.astream_events(value, version="v2")]


@pytest.mark.parametrize("inner", [reverse_tool, areverse_tool], ids=["sync-tool", "async-tool"])
async def test_record_mode_keeps_child_runs_under_the_tool(tmp_path: Path, inner: BaseTool) -> None:
    recorder = ReplayTool.wrap(inner, tmp_path / "t.json", mode="record")
    events = await _events(recorder, "hello")
    assert [(e["event"], e["name"]) for e in events] == [
        ("on_tool_start", inner.name), ("on_chain_start", "reverse_word"),
        ("on_chain_end", "reverse_word"), ("on_tool_end", inner.name)]
    tool_run = events[0]["run_id"]
    assert events[1]["parent_ids"] == [tool_run] and events[2]["parent_ids"] == [tool_run]
    assert events[-1]["data"]["output"] == "olleh"


async def test_replay_mode_events(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    _record(path)
    events = await _events(ReplayTool.wrap(reverse_tool, path), "hello")
    assert [(e["event"], e["name"]) for e in events] == [("on_tool_start", "reverse_tool"),
                                                         ("on_tool_end", "reverse_tool")]
    assert events[-1]["data"]["output"] == "olleh"


async def test_async_record_and_replay(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    recorder = ReplayTool.wrap(areverse_tool, path, mode="record")
    assert await recorder.ainvoke({"word": "async"}) == "cnysa"
    recorder.save()
    assert await ReplayTool.wrap(areverse_tool, path).ainvoke("async") == "cnysa"
    assert CALLS == ["async"]


def test_agent_loop_with_replayed_model_and_tool(tmp_path: Path) -> None:
    from _fakes_data import tool_call_chunks

    path = tmp_path / "t.json"
    _record(path)
    replay = ReplayTool.wrap(reverse_tool, path)
    model = ReplayChatModel(responses=[tool_call_chunks("reverse_tool", ('{"word": ', '"hello"}')),
                                       [{"content": "It is olleh.", "chunk_position": "last"}]])
    first = model.bind_tools([replay]).invoke("reverse hello")
    tool_message = replay.invoke(first.tool_calls[0])
    assert tool_message.content == "olleh" and tool_message.tool_call_id == "toolu_01"
    assert model.invoke(["reverse hello", first, tool_message]).content == "It is olleh."
