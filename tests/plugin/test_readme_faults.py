"""The README's "Testing failure paths" example, run as written: record the fault tests from
scratch (the provider emulator stands in for OpenAI through ``OPENAI_BASE_URL``), replay them
offline, and record the whole suite again."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from replaystream import Cassette
from replaystream.emulator import ProviderEmulator, ScriptedResponse, openai_chat_stream

COUNT = [f"{n}\n" for n in range(1, 11)]


def record(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    with ProviderEmulator() as emu:
        for _ in range(2):  # the disconnect test's stream, and the stream the 429's retry gets
            emu.enqueue(ScriptedResponse(events=openai_chat_stream(COUNT)))
        monkeypatch.setenv("OPENAI_BASE_URL", emu.base_url + "/v1")
        pytester.runpytest_inprocess("-p", "no:cacheprovider", f"--replay-mode={mode}").assert_outcomes(passed=3)
        assert len(emu.requests) == 2  # the injected 429 and 500 never reached the provider
    monkeypatch.delenv("OPENAI_BASE_URL")


def test_record_the_readme_fault_tests_from_scratch_then_replay_them(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, readme: Callable[[str], list[str]]) -> None:
    (example,) = readme("Testing failure paths")
    pytester.makepyfile(test_failures=example)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    record(pytester, monkeypatch, "once")
    folder = pytester.path / "cassettes" / "test_failures"
    assert sorted(p.name for p in folder.glob("*.json")) == [
        "test_retry_reaches_the_stream.json", "test_stream_drops_after_five_events.json"]
    (dropped,) = Cassette.load(folder / "test_stream_drops_after_five_events.json").interactions
    assert dropped.response.end == "complete"  # the client saw five events; the cassette has them all
    assert [e.raw for e in dropped.response.events or []] == openai_chat_stream(COUNT)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    # Replay: the real default base URL, offline; the cassettes do not change.
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=3)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    # Recording the suite again passes too, and replays the same.
    record(pytester, monkeypatch, "all")
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=3)
