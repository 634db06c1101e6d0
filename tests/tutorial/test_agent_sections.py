"""The demo's agent sections: LangGraph agents replayed from shipped cassettes, printed as a
user of ``agent.stream`` sees them."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest

from replaystream.cassette import Cassette
from replaystream.cli import main
from replaystream.langchain.fakes import ReplayChatModel
from replaystream.langchain.snapshot import event_snapshot
from replaystream.tutorial.agents import AGENT_SECTIONS, TURNS, AgentSection, replay_agent
from replaystream.tutorial.runner import RECORDING_KEY

from ._tutorial import CASSETTES

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
BY_NAME = {s.name: s for s in AGENT_SECTIONS}


def run(sec: AgentSection, folder: Path = CASSETTES) -> list[str]:
    return asyncio.run(replay_agent(sec, folder))


@pytest.mark.parametrize("sec", AGENT_SECTIONS, ids=lambda s: s.name)
def test_each_agent_section_replays_offline_the_same_twice(sec: AgentSection, no_sockets: list[object],
                                                            snapshot: Any) -> None:
    first = run(sec)
    assert run(sec) == first
    assert event_snapshot(snapshot) == "\n".join(first)


def test_messages_mode_shows_tokens_and_tool_call_fragments_as_they_stream() -> None:
    lines = run(BY_NAME["agent_messages"])
    assert lines[:5] == ["model: \"I'll look up\"", "model: ' the weather first.'", "model: tool call get_weather",
                         "model: tool call args+='{\"city\":'", "model: tool call args+=' \"Paris\"}'"]
    # Every token of a turn is printed before that turn's tool result.
    assert lines.index("tools: tool result get_weather: '18°C and sunny in Paris'") == 5
    assert lines[-1] == "model: ' is 14:05.'"


def test_the_subgraph_section_labels_the_subgraph_updates() -> None:
    lines = run(BY_NAME["agent_subgraph"])
    inner = [line for line in lines if line.startswith("[weather_agent] ")]
    assert [line.split(" ")[1] for line in inner] == ["model:", "tools:", "model:", "tools:", "model:"]
    assert lines[-2:] == [
        "[weather_desk] weather_agent: 'In Paris it is 18°C and sunny, and the local time is 14:05.'",
        "[weather_desk] report: 'Report: In Paris it is 18°C and sunny, and the local time is 14:05.'"]


def test_the_demo_prints_the_agent_sections_after_the_tutorial(capsys: pytest.CaptureFixture[str],
                                                              no_sockets: list[object]) -> None:
    assert main(["demo", "--section", "agent_updates", "--section", "polar_bear_sync"]) == 0
    out = capsys.readouterr().out
    assert out.index("== polar_bear_sync:") < out.index("== agent_updates: Agents: create_agent with two tools, "
                                                        "stream_mode='updates' ==")
    assert "model: 'In Paris it is 18°C and sunny, and the local time is 14:05.'" in out
    assert "== agent_messages" not in out


def test_a_changed_recording_changes_what_the_demo_prints(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "tutorial"
    shutil.copytree(CASSETTES, copy)
    path = copy / "agent_updates.json"
    path.write_text(path.read_text("utf-8").replace("In Paris it is", "In Paris, it is"), "utf-8")
    assert main(["demo", "--cassettes", str(copy), "--section", "agent_updates"]) == 0
    assert "model: 'In Paris, it is 18°C and sunny, and the local time is 14:05.'" in capsys.readouterr().out


def test_a_missing_agent_cassette_fails_the_section(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--cassettes", str(tmp_path), "--section", "agent_messages"]) == 1
    out = capsys.readouterr().out
    assert "no such cassette" in out and "python scripts/record_agents.py" in out


@pytest.mark.parametrize("sec", AGENT_SECTIONS, ids=lambda s: s.name)
def test_agent_cassettes_say_how_they_were_made(sec: AgentSection) -> None:
    raw = (CASSETTES / sec.cassette).read_text("utf-8")
    assert RECORDING_KEY not in raw
    cassette = Cassette.load(CASSETTES / sec.cassette)
    assert "emulator" in cassette.meta["source"] and "not a live provider" in cassette.meta["source"]
    assert cassette.meta["seed_section"] == sec.seed_section
    assert len(cassette.interactions) == len(TURNS)
    for n, inter in enumerate(cassette.interactions):
        assert inter.note and "authorization" not in (inter.request.headers or {})
        tool_results = [b for m in inter.request.body["messages"] if isinstance(m["content"], list)
                        for b in m["content"] if b.get("type") == "tool_result"]
        assert len(tool_results) == n  # each follow-up carries the earlier tool results


def test_an_agent_cassette_drives_replay_chat_model_strictly() -> None:
    """The message level from the same shipped cassette: the agent's requests, tool results
    included, are checked against the recorded ones."""
    from replaystream.tutorial import agents

    model = ReplayChatModel.from_cassette(CASSETTES / "agent_updates.json", strict=True)
    lines = asyncio.run(agents.agent_updates(model))
    assert lines == run(BY_NAME["agent_updates"])


def test_the_record_script_records_what_the_demo_replays(tmp_path: Path) -> None:
    """scripts/record_agents.py against the emulator: the new cassette replays to the same
    lines as the shipped one (the script keeps working as the agent code changes)."""
    import importlib.util

    from ._tutorial import ROOT

    spec = importlib.util.spec_from_file_location("record_agents", ROOT / "scripts" / "record_agents.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.main(["--dest", str(tmp_path), "agent_subgraph"]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["agent_subgraph.json"]
    assert run(BY_NAME["agent_subgraph"], tmp_path) == run(BY_NAME["agent_subgraph"])
