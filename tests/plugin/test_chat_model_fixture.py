"""``replay_chat_model`` records its own cassette from the real model the user names
(``replay_chat_model_factory``), then replays it at the message level with no key."""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest

from replaystream import Cassette
from replaystream.emulator import ProviderEmulator, ScriptedResponse, anthropic_messages_stream

POLAR = ["Polar bears actually", " have transparent, hollow fur, not", " white fur."]

CONFTEST = """
import pytest
from langchain_anthropic import ChatAnthropic

@pytest.fixture
def replay_chat_model_factory():
    return ChatAnthropic(model="claude-3-5-sonnet-latest", temperature=0, max_retries=0)
"""

TEST = """
import pytest

@pytest.mark.replay
async def test_polar(replay_chat_model):
    events = [e async for e in replay_chat_model.astream_events("What color is a polar bear?", version="v2")]
    texts = [e["data"]["chunk"].content for e in events if e["event"] == "on_chat_model_stream"]
    assert "".join(texts) == "Polar bears actually have transparent, hollow fur, not white fur."
    assert [e["name"] for e in events][0] == "ChatAnthropic"
    assert events[0]["metadata"]["ls_provider"] == "anthropic"
    print("model class:", type(replay_chat_model).__name__)
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # A subprocess: numpy (pulled in by the fakes) cannot be imported twice in one process.
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_URL"):
        monkeypatch.delenv(name, raising=False)
    pytester.makeini("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_chat=TEST)
    return pytester


def test_record_the_chat_model_test_from_scratch_then_replay_it_without_a_key(
        project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(events=anthropic_messages_stream(POLAR)))
        with monkeypatch.context() as recording:  # the provider's key and address, while recording only
            recording.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
            recording.setenv("ANTHROPIC_BASE_URL", emu.base_url)
            recorded = run(project, "--replay-mode=once", "-s")
            recorded.assert_outcomes(passed=1)
        assert len(emu.requests) == 1
    recorded.stdout.fnmatch_lines(["*model class: ChatAnthropic*"])  # the real model, while recording
    (inter,) = Cassette.load(project.path / "cassettes" / "test_chat" / "test_polar.json").interactions
    assert (inter.provider, inter.api) == ("anthropic", "messages")
    # Replay: no key, no provider; the message-level fake streams what was recorded.
    replayed = run(project, "-s")
    replayed.assert_outcomes(passed=1)
    replayed.stdout.fnmatch_lines(["*model class: ReplayChatModel*"])


def test_a_missing_cassette_names_its_path_and_how_to_record(project: pytest.Pytester) -> None:
    result = run(project)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*replay_chat_model: no cassette to replay at *test_chat*test_polar.json (mode 'none')*",
                                 "*--replay-mode=once*"])


def test_recording_needs_the_real_model(project: pytest.Pytester) -> None:
    project.makeconftest("")
    result = run(project, "--replay-mode=once")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*replay_chat_model has no real model to record*",
                                 "*Override the replay_chat_model_factory fixture*"])


def test_the_readme_pytest_form_records_then_replays_without_a_key(
        project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, readme: Callable[[str], list[str]]) -> None:
    pytester = project  # the README's conftest and test file, the provider's key unset
    blocks = readme("Fakes (message level)")
    pytester.makeconftest(next(b for b in blocks if b.startswith("# conftest.py")))
    pytester.makepyfile(test_polar_bear=next(b for b in blocks if b.startswith("# test_polar_bear.py")))
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(events=anthropic_messages_stream(POLAR)))
        with monkeypatch.context() as recording:
            recording.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
            recording.setenv("ANTHROPIC_BASE_URL", emu.base_url)
            run(pytester, "--replay-mode=once", "test_polar_bear.py").assert_outcomes(passed=1)
    cassette = Cassette.load(pytester.path / "cassettes" / "test_polar_bear" / "test_polar_bear_answer.json")
    assert len(cassette.interactions) == 1
    assert [(r.kind, r.name, r.data) for r in cassette.records] == [
        ("tool", "shout", {"input": {"word": "polar"}, "output": "POLAR"})]
    run(pytester, "test_polar_bear.py").assert_outcomes(passed=1)


def test_the_readme_library_form_of_replay_tool_saves(pytester: pytest.Pytester,
                                                      readme: Callable[[str], list[str]]) -> None:
    (library,) = [b for b in readme("Fakes (message level)") if "use_cassette" in b]
    for _ in range(2):  # records, then replays
        result = pytester.run(sys.executable, "-c", library)
        assert result.ret == 0, result.stderr.str()
        assert result.outlines == ["POLAR"]
    (record,) = Cassette.load(pytester.path / "tests" / "cassettes" / "tools.json").records
    assert record.data == {"input": {"word": "polar"}, "output": "POLAR"}


SNAPSHOT_TEST = """
import pytest

@pytest.mark.replay
async def test_polar_events(replay_chat_model, event_snapshot):
    events = [e async for e in replay_chat_model.astream_events("What color is a polar bear?", version="v2")]
    assert event_snapshot == events
"""


def test_an_event_snapshot_taken_while_recording_matches_the_replay(
        project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    project.makepyfile(test_chat=SNAPSHOT_TEST)
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(events=anthropic_messages_stream(POLAR)))
        with monkeypatch.context() as recording:
            recording.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
            recording.setenv("ANTHROPIC_BASE_URL", emu.base_url)
            run(project, "--replay-mode=once", "--snapshot-update").assert_outcomes(passed=1)
    (snapshot,) = (project.path / "__snapshots__").rglob("*.txt")
    written = snapshot.read_text("utf-8")
    assert "Polar bears actually" in written and "lc_run--" not in written  # the real run's own ids say nothing
    # Replayed by the message-level fake, whose chunks carry its stand-in ids: the same snapshot.
    run(project).assert_outcomes(passed=1)
    assert snapshot.read_text("utf-8") == written
