"""Advice that works: each error names the one action that fixes it, and following it, as
written, makes the next run pass (the emulator stands in for the provider)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import openai  # noqa: F401  (imported once here: pytester's in-process runs reuse it)
import pytest
import tiktoken  # noqa: F401
from replaystream import CassetteError, ReplayChatModel, ReplayEmbeddings  # noqa: F401  (loaded once, as above)

from replaystream.emulator import ProviderEmulator, ScriptedResponse, anthropic_messages_stream, openai_chat_stream

KEY = "sk-test-0123456789abcdef"

TEST = """
import openai, pytest

client = openai.OpenAI(max_retries=0)

def ask(prompt, **extra):
    out = client.chat.completions.create(model="gpt-4o-mini", stream=True, messages=[{"role": "user", "content": prompt}],
                                         **extra)
    return "".join(c.choices[0].delta.content or "" for c in out if c.choices)

MARK
def test_answer():
    assert ask(PROMPT) == "white"
"""


def write(pytester: pytest.Pytester, prompt: str = "What colour?", mark: str = "@pytest.mark.replay",
          body: str = "") -> None:
    source = TEST.replace("MARK", mark).replace("PROMPT", repr(prompt))
    pytester.makepyfile(test_x=source + body)


def provider(monkeypatch: pytest.MonkeyPatch, emu: ProviderEmulator, answers: int = 1) -> None:
    """A run that may record: a key, and the SDK pointed at the provider."""
    for _ in range(answers):
        emu.enqueue(ScriptedResponse(events=openai_chat_stream(["whi", "te"])))
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", emu.base_url + "/v1")


def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """A CI run: no key (the plugin's placeholder stands in), nothing answers but the cassette."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)


def hint(result: pytest.RunResult) -> list[str]:
    """The command the error tells the user to run, as arguments (``pytest`` dropped)."""
    found = re.findall(r"^E? *pytest (\".*)$", result.stdout.str(), re.M)
    assert found, result.stdout.str()
    assert len(set(found)) == 1, found  # one action
    return shlex.split(found[0])


def test_follow_the_miss_hint_after_changing_a_prompt(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                                      emulator: ProviderEmulator) -> None:
    write(pytester)
    provider(monkeypatch, emulator, answers=2)
    run(pytester, "--replay-mode=once").assert_outcomes(passed=1)  # 1: record

    write(pytester, prompt="What colour is a polar bear?")  # the prompt changes
    offline(monkeypatch)
    failed = run(pytester)  # 2: CI fails, and says what to do
    failed.assert_outcomes(failed=1)
    assert hint(failed) == ["test_x.py::test_answer", "--replay-mode=rewrite"]
    assert "new_episodes" not in failed.stdout.str()

    provider(monkeypatch, emulator, answers=0)
    run(pytester, *hint(failed)).assert_outcomes(passed=1)  # 3: the hint, as written, re-records
    assert len(emulator.requests) == 2

    offline(monkeypatch)
    emulator.stop()
    again = run(pytester)  # 4: CI passes: the stale recording is gone
    again.assert_outcomes(passed=1)
    assert "never replayed" not in again.stdout.str()


SHARED = """
@pytest.mark.replay("shared", allow_unused=True)
def test_other():
    assert ask("Other question") == "white"
"""


def test_the_hint_names_every_test_sharing_the_cassette(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                                        emulator: ProviderEmulator) -> None:
    mark = '@pytest.mark.replay("shared", allow_unused=True)'
    write(pytester, mark=mark, body=SHARED)
    provider(monkeypatch, emulator, answers=4)
    run(pytester, "--replay-mode=once").assert_outcomes(passed=2)  # both recorded into one cassette

    write(pytester, prompt="Changed", mark=mark, body=SHARED)
    offline(monkeypatch)
    failed = run(pytester)
    failed.assert_outcomes(passed=1, failed=1)
    assert hint(failed) == ["test_x.py::test_answer", "test_x.py::test_other", "--replay-mode=rewrite"]
    failed.stdout.fnmatch_lines(["*Record the tests that use this cassette again, replacing the stale recordings*"])

    provider(monkeypatch, emulator, answers=0)
    run(pytester, *hint(failed)).assert_outcomes(passed=2)  # the first rewrites it, the second adds to it
    offline(monkeypatch)
    run(pytester).assert_outcomes(passed=2)


def test_a_volatile_field_is_left_out_of_the_match(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                                   emulator: ProviderEmulator) -> None:
    volatile = 'extra_body={"metadata": {"user_id": str(uuid.uuid4())}}'
    source = TEST.replace("import openai", "import openai, uuid").replace("ask(PROMPT)", f"ask(PROMPT, {volatile})")
    pytester.makepyfile(test_x=source.replace("MARK", "@pytest.mark.replay").replace("PROMPT", "'Hi'"))
    provider(monkeypatch, emulator)
    run(pytester, "--replay-mode=once").assert_outcomes(passed=1)

    offline(monkeypatch)
    failed = run(pytester)  # a new user id every run
    failed.assert_outcomes(failed=1)
    marker = re.search(r"@pytest\.mark\.replay\(ignore_fields=.*\)", failed.stdout.str())
    assert marker is not None and marker.group() == '@pytest.mark.replay(ignore_fields=["metadata.user_id"])'
    assert "--replay-mode" not in failed.stdout.str()

    pytester.makepyfile(test_x=source.replace("MARK", marker.group()).replace("PROMPT", "'Hi'"))
    run(pytester).assert_outcomes(passed=1)  # the marker, as written
    assert len(emulator.requests) == 1


def test_exhausted_hint_rewrite_or_allow_repeats(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                                 emulator: ProviderEmulator) -> None:
    write(pytester)
    provider(monkeypatch, emulator, answers=3)
    run(pytester, "--replay-mode=once").assert_outcomes(passed=1)

    twice = "\ndef test_answer():\n    assert ask(PROMPT) == ask(PROMPT) == 'white'\n"
    source = TEST.replace("MARK", "@pytest.mark.replay").replace("PROMPT", "'What colour?'")
    source = source.split("\ndef test_answer")[0] + twice.replace("PROMPT", "'What colour?'")
    pytester.makepyfile(test_x=source)
    offline(monkeypatch)
    failed = run(pytester)
    failed.assert_outcomes(failed=1)
    failed.stdout.fnmatch_lines(["*CassetteExhaustedError*already replayed*"])
    assert hint(failed) == ["test_x.py::test_answer", "--replay-mode=rewrite"]
    failed.stdout.fnmatch_lines(["*@pytest.mark.replay(allow_repeats=True)"])

    # Either fix, as written: allow the repeat ...
    pytester.makepyfile(test_x=source.replace("@pytest.mark.replay", "@pytest.mark.replay(allow_repeats=True)"))
    run(pytester).assert_outcomes(passed=1)
    # ... or record it again.
    pytester.makepyfile(test_x=source)
    provider(monkeypatch, emulator, answers=0)
    run(pytester, *hint(failed)).assert_outcomes(passed=1)
    offline(monkeypatch)
    run(pytester).assert_outcomes(passed=1)
    assert len(emulator.requests) == 3


def test_missing_cassette_hint(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                               emulator: ProviderEmulator) -> None:
    write(pytester)
    offline(monkeypatch)
    failed = run(pytester)
    failed.assert_outcomes(failed=1)
    failed.stdout.fnmatch_lines(["*The cassette does not exist. Record the test first (needs a real key):*"])
    assert hint(failed) == ["test_x.py::test_answer", "--replay-mode=once"]

    provider(monkeypatch, emulator)
    run(pytester, *hint(failed)).assert_outcomes(passed=1)
    offline(monkeypatch)
    run(pytester).assert_outcomes(passed=1)


def test_the_hint_names_the_test_from_where_pytest_was_started(pytester: pytest.Pytester,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makeini("[pytest]\n")
    sub = pytester.mkdir("tests")
    (sub / "test_x.py").write_text(TEST.replace("MARK", "@pytest.mark.replay").replace("PROMPT", "'Hi'"))
    offline(monkeypatch)
    monkeypatch.chdir(sub)
    failed = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--rootdir", str(pytester.path))
    failed.assert_outcomes(failed=1)
    assert hint(failed) == ["test_x.py::test_answer", "--replay-mode=once"]  # run from tests/


BLOCKED = """
import socket, pytest, tiktoken

@pytest.mark.replay
def test_count_tokens():
    assert len(tiktoken.get_encoding("cl100k_base").encode("polar bear")) > 0
"""

FAKE_DNS = """
import sys

from replaystream.wire import network


class NoNetworkHere(OSError):
    pass


def sentinel(event, args):  # behind replaystream's guard: whatever got past it stops here
    if event == "socket.getaddrinfo" and args[0] not in ("localhost", "127.0.0.1", None):
        raise NoNetworkHere(f"reached the network for {args[0]}")


network.install_guard()
sys.addaudithook(sentinel)
"""


def test_a_blocked_download_is_not_told_to_record(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    import tiktoken.registry

    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})  # nothing loaded: it downloads
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "empty-cache"))
    pytester.makepyfile(test_tokens=BLOCKED)
    pytester.makeconftest(FAKE_DNS)
    # In a subprocess: the sentinel audit hook cannot be removed, so it must not outlive the run.
    failed = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    failed.assert_outcomes(failed=1)
    out = failed.stdout.str()
    assert "NetworkBlockedError: replaystream blocked a DNS look-up of 'openaipublic.blob.core.windows.net'" in out
    failed.stdout.fnmatch_lines([
        "*openaipublic.blob.core.windows.net is not a model provider's host, so there is nothing to record: "
        "tiktoken downloads its encodings from it. Set TIKTOKEN_CACHE_DIR*mark it "
        "@pytest.mark.replay(allow_network=True), or run with --replay-allow-network."])
    assert "--replay-mode" not in out and "Record it" not in out

    lifted = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--replay-allow-network")  # as written: the download goes out (here: no network)
    assert "NetworkBlockedError" not in lifted.stdout.str()
    lifted.stdout.fnmatch_lines(["*reached the network for openaipublic.blob.core.windows.net*"])


FROM_CASSETTE = """
from pathlib import Path
from replaystream import ReplayChatModel

def test_model():
    model = ReplayChatModel.from_cassette(CASSETTE)
    assert "".join(c.content for c in model.stream("What colour?")) == "white"
"""


def test_from_cassette_run_from_another_folder(pytester: pytest.Pytester, emulator: ProviderEmulator) -> None:
    import anthropic

    from replaystream import use_cassette

    emulator.enqueue(ScriptedResponse(events=anthropic_messages_stream(["whi", "te"])))
    with use_cassette(pytester.path / "tests" / "cassettes" / "polar_bear.json", mode="once"):
        client = anthropic.Anthropic(base_url=emulator.base_url, api_key=KEY, max_retries=0)
        with client.messages.stream(model="claude-3-5-sonnet-latest", max_tokens=64,
                                    messages=[{"role": "user", "content": "What colour?"}]) as s:
            assert "".join(s.text_stream) == "white"
    test_file = pytester.path / "tests" / "test_chat.py"
    test_file.write_text(FROM_CASSETTE.replace("CASSETTE", repr("tests/cassettes/polar_bear.json")))
    run(pytester).assert_outcomes(passed=1)  # from the project root: found

    tried = pytester.path / "tests" / "tests" / "cassettes" / "polar_bear.json"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(pytester.path / "tests")
        failed = run(pytester, "--rootdir", str(pytester.path))  # from tests/: not there
        failed.assert_outcomes(failed=1)
        out = failed.stdout.str()
        assert f"CassetteError: {tried}: no such cassette ('tests/cassettes/polar_bear.json' is read from the " \
               f"working directory, {pytester.path / 'tests'})" in out
        assert "ReplayChatModel.from_cassette(...) replays a recorded file" in out
        assert f'use_cassette("{tried}", mode="once")' in out and "Path(__file__).parent / ..." in out

        # As the hint says: a path built from the test file works from any folder.
        test_file.write_text(FROM_CASSETTE.replace("CASSETTE", 'Path(__file__).parent / "cassettes" / "polar_bear.json"'))
        run(pytester, "--rootdir", str(pytester.path)).assert_outcomes(passed=1)
    run(pytester).assert_outcomes(passed=1)


def test_replay_embeddings_names_the_path_tried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CassetteError) as info:
        ReplayEmbeddings.from_cassette("tests/cassettes/embeddings.json")
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'tests' / 'cassettes' / 'embeddings.json'}: no such cassette")
    assert "ReplayEmbeddings.from_cassette(...) replays a recorded file" in message
    assert "use_cassette(mode='once')" not in message  # the old advice named another API


def test_follow_the_unused_hint(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                emulator: ProviderEmulator) -> None:
    write(pytester, body="\n@pytest.mark.replay\ndef test_twice():\n    assert ask('One') == ask('Two') == 'white'\n")
    provider(monkeypatch, emulator, answers=4)
    run(pytester, "--replay-mode=once").assert_outcomes(passed=2)

    write(pytester, body="\n@pytest.mark.replay\ndef test_twice():\n    assert ask('One') == 'white'\n")
    offline(monkeypatch)
    failed = run(pytester)  # the code now asks once: the second recording is never replayed
    failed.assert_outcomes(passed=2, errors=1)
    failed.stdout.fnmatch_lines(["*1 recorded interaction(s)*test_twice.json were never replayed*"])
    assert hint(failed) == ["test_x.py::test_twice", "--replay-mode=rewrite"]

    provider(monkeypatch, emulator, answers=0)
    run(pytester, *hint(failed)).assert_outcomes(passed=1)
    offline(monkeypatch)
    run(pytester).assert_outcomes(passed=2)
    assert len(emulator.requests) == 4
