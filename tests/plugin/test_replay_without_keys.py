"""Replay without keys, as a user does it: record the README's examples against a provider
(the emulator) with a key, then replay them with the key unset and no network."""

from __future__ import annotations

import os
import re
import runpy
from pathlib import Path

import langchain_anthropic  # noqa: F401  (imported here: pytester's in-process runs then reuse it)
import pytest

from replaystream.emulator import ProviderEmulator, ScriptedResponse, anthropic_messages_stream, openai_chat_stream
from replaystream.providers import PLACEHOLDER_ENV, PLACEHOLDER_KEY, PlaceholderVar

README = Path(__file__).parents[2] / "README.md"
KEYS = {"ANTHROPIC_API_KEY": "sk-ant-test-0123456789abcdef", "OPENAI_API_KEY": "sk-test-0123456789abcdef"}
PROVIDER_ENV = (*KEYS, "ANTHROPIC_BASE_URL", "ANTHROPIC_API_URL", "OPENAI_BASE_URL")


def readme_snippets(section: str) -> list[str]:
    """The python blocks of one README section, as written."""
    text = README.read_text("utf-8").split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", text, re.S)


def with_provider(monkeypatch: pytest.MonkeyPatch, emu: ProviderEmulator) -> None:
    """Recording: real-looking keys, and the SDKs pointed at the emulator."""
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", emu.base_url)
    monkeypatch.setenv("OPENAI_BASE_URL", emu.base_url + "/v1")


def without_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replaying in CI: no key, and the SDKs' own base URLs (the network is blocked)."""
    for name in PROVIDER_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def acme_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """A provider variable no outer run holds a placeholder for, to see each one set and removed."""
    monkeypatch.setitem(PLACEHOLDER_ENV, "acme", (PlaceholderVar("ACME_API_KEY"),))
    monkeypatch.delenv("ACME_API_KEY", raising=False)


def no_placeholders_left() -> None:
    assert "ACME_API_KEY" not in os.environ


def test_readme_record_example_replays_with_no_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    emulator: ProviderEmulator, capsys: pytest.CaptureFixture[str]
                                                    ) -> None:
    script = tmp_path / "record.py"
    script.write_text(readme_snippets("Record")[0], "utf-8")
    assert "anthropic.Anthropic()" in script.read_text() and 'mode="once"' in script.read_text()
    monkeypatch.chdir(tmp_path)
    emulator.enqueue(ScriptedResponse(events=anthropic_messages_stream(["Polar bears", " look white."])))
    with_provider(monkeypatch, emulator)
    runpy.run_path(str(script))
    assert capsys.readouterr().out == "Polar bears| look white.|"

    without_keys(monkeypatch)
    emulator.stop()  # the provider is gone too: only the cassette answers
    runpy.run_path(str(script))  # replays: the client starts with the placeholder key
    assert capsys.readouterr().out == "Polar bears| look white.|"
    assert len(emulator.requests) == 1
    saved = (tmp_path / "tests" / "cassettes" / "polar_bear.json").read_text("utf-8")
    assert PLACEHOLDER_KEY not in saved and KEYS["ANTHROPIC_API_KEY"] not in saved
    no_placeholders_left()


def test_readme_pytest_example_replays_with_no_key(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                                   emulator: ProviderEmulator) -> None:
    pytester.makepyfile(test_polar=readme_snippets("Record")[1])
    emulator.enqueue(ScriptedResponse(events=anthropic_messages_stream(["Polar bears", " look white."])))
    with_provider(monkeypatch, emulator)
    pytester.runpytest_inprocess("-p", "no:cacheprovider", "--replay-mode=once").assert_outcomes(passed=1)

    without_keys(monkeypatch)
    emulator.stop()
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)  # `pytest`: replay, offline
    assert len(emulator.requests) == 1
    no_placeholders_left()


CLIENTS_AT_IMPORT = """
import os, openai, pytest
from langchain_openai import ChatOpenAI

client = openai.OpenAI()  # built at import, during collection: refuses to start without a key
model = ChatOpenAI(model="gpt-4o-mini")
ACME_AT_IMPORT = os.environ.get("ACME_API_KEY")

@pytest.mark.replay
def test_client():
    out = client.chat.completions.create(model="gpt-4o-mini", stream=True,
                                         messages=[{"role": "user", "content": "colour?"}])
    assert "".join(c.choices[0].delta.content or "" for c in out if c.choices) == "white"

@pytest.mark.replay
def test_model():
    assert "".join(c.content for c in model.stream("colour?")) == "white"

def test_placeholders_were_there_at_import():
    assert ACME_AT_IMPORT == (None if os.environ.get("RECORDING") else "replaystream-placeholder-key")
"""


def test_clients_built_at_module_level_start_in_a_replay_run(pytester: pytest.Pytester,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             emulator: ProviderEmulator) -> None:
    pytester.makepyfile(test_clients=CLIENTS_AT_IMPORT)
    for _ in range(2):
        emulator.enqueue(ScriptedResponse(events=openai_chat_stream(["whi", "te"])))
    with_provider(monkeypatch, emulator)
    monkeypatch.setenv("RECORDING", "1")
    pytester.runpytest_inprocess("-p", "no:cacheprovider", "--replay-mode=once").assert_outcomes(passed=3)
    without_keys(monkeypatch)
    # ChatOpenAI asks for usage only from OpenAI's own URL: replay against the URL recorded from.
    monkeypatch.setenv("OPENAI_BASE_URL", emulator.base_url + "/v1")
    monkeypatch.delenv("RECORDING")
    emulator.stop()
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=3)
    no_placeholders_left()
    # Under xdist too (the acme variable exists only in this process's registry).
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "-k", "not at_import").assert_outcomes(passed=2)
    assert len(emulator.requests) == 2
    no_placeholders_left()


MIXED = """
import anthropic, os, pytest

def ask(**kwargs):
    client = anthropic.Anthropic(max_retries=0, **kwargs)
    with client.messages.stream(model="claude-3-5-sonnet-latest", max_tokens=64,
                                messages=[{"role": "user", "content": "colour?"}]) as s:
        return "".join(s.text_stream)

@pytest.mark.replay
def test_replays():
    assert ask() == "white"  # in the mixed run: with no ANTHROPIC_API_KEY set

@pytest.mark.replay
def test_records():
    assert "ANTHROPIC_API_KEY" not in os.environ  # this test records: no placeholder
    assert ask(api_key="sk-ant-passed-in-code-0123456789") == "white"
"""


def test_a_cassette_recorded_in_a_mixed_run_holds_no_placeholder(pytester: pytest.Pytester,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 emulator: ProviderEmulator) -> None:
    pytester.makepyfile(test_mixed=MIXED)
    for _ in range(2):
        emulator.enqueue(ScriptedResponse(events=anthropic_messages_stream(["white"])))
    with_provider(monkeypatch, emulator)
    pytester.runpytest_inprocess("-p", "no:cacheprovider", "--replay-mode=once", "-k", "test_replays"
                                 ).assert_outcomes(passed=1)
    monkeypatch.delenv("ANTHROPIC_API_KEY")  # one cassette exists, the other is recorded with a key in code
    # In a process of its own: this one's pytest run holds placeholders of its own until it ends.
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "--replay-mode=once").assert_outcomes(passed=2)
    recorded = (pytester.path / "cassettes" / "test_mixed" / "test_records.json").read_text("utf-8")
    assert PLACEHOLDER_KEY not in recorded and "sk-ant-passed-in-code" not in recorded
    assert len(emulator.requests) == 2
    no_placeholders_left()


RECORD_WITHOUT_KEY = """
import anthropic, pytest

client = anthropic.Anthropic(max_retries=0)  # built at import: holds the placeholder key

@pytest.mark.replay(mode="once")
def test_new():
    with client.messages.stream(model="claude-3-5-sonnet-latest", max_tokens=64,
                                messages=[{"role": "user", "content": "colour?"}]) as s:
        assert "".join(s.text_stream) == "white"
"""


def test_recording_with_the_placeholder_says_the_key_is_missing(pytester: pytest.Pytester,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                emulator: ProviderEmulator) -> None:
    pytester.makepyfile(test_rec=RECORD_WITHOUT_KEY)
    without_keys(monkeypatch)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", emulator.base_url)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")  # a replay run; the marker records
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*RecordingError: ANTHROPIC_API_KEY is not set: recording needs a real key*",
                                 "*carries replaystream's placeholder key in its * header*",
                                 "*Set ANTHROPIC_API_KEY (or pass the key to the client)*"])
    assert emulator.requests == []  # refused before it was sent
    assert not (pytester.path / "cassettes" / "test_rec" / "test_new.json").exists()
    no_placeholders_left()
