"""Agents at the wire level: a real ``ChatAnthropic`` and a real ``ChatOpenAI`` agent record
every turn from the emulator into one cassette, then replay offline (emulator stopped, no
socket), stream part for stream part; the same cassette drives ``ReplayChatModel`` strictly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _agents import TURNS, make_tools, render, user
from langchain.agents import create_agent
from langchain_anthropic import ChatAnthropic
from langchain_core.language_models import BaseChatModel
from langchain_openai import ChatOpenAI
from langgraph.checkpoint.memory import InMemorySaver
from pydantic import SecretStr

from replaystream import Cassette, CassetteMissError, StrictMismatchError, use_cassette
from replaystream.emulator import ProviderEmulator, scripted_turns
from replaystream.langchain.fakes import ReplayChatModel
from replaystream.langchain.graph import normalize_graph_stream

MODES = ["messages", "updates"]
ALL_MODES = ["values", "updates", "messages", "custom", "debug", "checkpoints", "tasks"]
CONFIG = {"configurable": {"thread_id": "thread-1"}}
OFFLINE = {"anthropic": "https://api.anthropic.com", "openai": "https://api.openai.com/v1"}


def chat_model(provider: str, base_url: str) -> BaseChatModel:
    if provider == "anthropic":
        return ChatAnthropic(model_name="claude-3-5-sonnet-latest", base_url=base_url, api_key=SecretStr("sk-test"),
                             max_retries=0, timeout=None, stop=None, streaming=True)
    return ChatOpenAI(model="gpt-4o-mini", base_url=base_url, api_key=SecretStr("sk-test"), max_retries=0,
                      streaming=True, stream_usage=True)


def run_agent(model: BaseChatModel, **tool_kwargs: Any) -> list[str]:
    agent = create_agent(model, make_tools(**tool_kwargs))
    return render(agent.stream(user(), stream_mode=MODES))


def cause(exc: BaseException) -> BaseException | None:
    """The replaystream error under what the SDK raised."""
    current: BaseException | None = exc
    while current is not None and not isinstance(current, CassetteMissError):
        current = current.__cause__ or current.__context__
    return current


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[str]]]:
    """Both agents recorded into one cassette, and the stream lines each produced live."""
    path = tmp_path_factory.mktemp("agents") / "agents.json"
    live: dict[str, list[str]] = {}
    with ProviderEmulator() as emu:
        for provider in ("anthropic", "openai"):
            for route, response in scripted_turns(TURNS, provider):  # type: ignore[arg-type]
                emu.enqueue(response, path=route)
        with use_cassette(path, mode="rewrite"):
            live["anthropic"] = run_agent(chat_model("anthropic", emu.base_url))
            live["openai"] = run_agent(chat_model("openai", emu.base_url + "/v1"))
        assert emu.pending == 0
    return path, live


def test_one_cassette_holds_every_turn_with_the_earlier_tool_results(recorded: Any) -> None:
    path, _ = recorded
    inters = Cassette.load(path).interactions
    assert [i.provider for i in inters] == ["anthropic"] * 3 + ["openai"] * 3
    anthropic_last = inters[2].request.body["messages"]
    assert [b["type"] for m in anthropic_last[1:] for b in m["content"]] == \
        ["text", "tool_use", "tool_result", "tool_use", "tool_result"]
    openai_last = inters[5].request.body["messages"]
    assert [m["role"] for m in openai_last] == ["user", "assistant", "tool", "assistant", "tool"]
    assert openai_last[2] == {"role": "tool", "content": "18°C and sunny in Paris", "tool_call_id": "call_replay000"}


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_the_agent_replays_offline_part_for_part(recorded: Any, provider: str, no_sockets: list[object]) -> None:
    path, live = recorded
    for _ in range(2):
        with use_cassette(path, mode="none"):
            assert run_agent(chat_model(provider, OFFLINE[provider])) == live[provider]
    assert sum(" tool_call_chunks=" in line for line in live[provider]) >= 2  # tool calls streamed


def stream_parts(provider: str, path: Path, modes: Any, subgraphs: bool) -> list[Any]:
    """The agent (with a checkpointer, for the checkpoint modes) replayed offline in ``modes``:
    the requests do not depend on the stream mode, so one recording answers every mode."""
    agent = create_agent(chat_model(provider, OFFLINE[provider]), make_tools(), checkpointer=InMemorySaver())
    with use_cassette(path, mode="none"):
        return list(agent.stream(user(), CONFIG, stream_mode=modes, subgraphs=subgraphs))


@pytest.mark.parametrize("subgraphs", [False, True], ids=["flat", "subgraphs"])
@pytest.mark.parametrize("modes", [pytest.param(m, id=m) for m in ALL_MODES] + [pytest.param(ALL_MODES, id="all")])
@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_every_stream_mode_through_the_real_integration_snapshots(recorded: Any, provider: str, modes: Any,
                                                                   subgraphs: bool, event_snapshot: Any,
                                                                   no_sockets: list[object]) -> None:
    path, _ = recorded
    first, second = (stream_parts(provider, path, modes, subgraphs) for _ in range(2))
    normalised = normalize_graph_stream(first, stream_mode=modes)
    assert normalised == normalize_graph_stream(second, stream_mode=modes)  # two runs, one result
    assert len(normalised) == len(first)
    assert event_snapshot == normalised


def test_a_changed_tool_result_misses_at_the_wire_level(recorded: Any, no_sockets: list[object]) -> None:
    path, _ = recorded
    with use_cassette(path, mode="none"), pytest.raises(Exception) as info:
        run_agent(chat_model("anthropic", OFFLINE["anthropic"]), weather="heavy rain")
    miss = cause(info.value)
    assert isinstance(miss, CassetteMissError), info.value  # the SDK wraps it: APIConnectionError
    text = str(miss)
    assert "heavy rain in Paris" in text and "18°C and sunny in Paris" in text


@pytest.mark.parametrize(("provider", "turns", "first_id"), [("anthropic", slice(0, 3), "toolu_replay000"),
                                                             ("openai", slice(3, 6), "call_replay000")])
def test_the_cassette_drives_replay_chat_model_strictly(recorded: Any, provider: str, turns: slice,
                                                        first_id: str) -> None:
    """Each provider's tool-result format (Anthropic's tool_result blocks, OpenAI's tool
    role) compares with the agent's ToolMessages."""
    path, live = recorded
    cassette = Cassette.load(path)
    cassette.interactions = cassette.interactions[turns]  # this agent's turns
    model = ReplayChatModel.from_cassette(cassette, strict=True)
    lines = run_agent(model)
    tool_results = [line for line in lines if line.startswith("updates {tools")]
    assert tool_results == [line for line in live[provider] if line.startswith("updates {tools")]
    assert len(tool_results) == 2
    with pytest.raises(StrictMismatchError) as info:
        run_agent(ReplayChatModel.from_cassette(cassette, strict=True), weather="heavy rain")
    assert f"messages[2] (the tool result for tool_call_id '{first_id}' from tool 'get_weather') changed" \
        in str(info.value)
