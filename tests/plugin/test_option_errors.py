"""Mistakes in options stop the run early with one clean message: marker keys and values at
collection (every bad marker of the run in one error), command-line and ini values at startup,
replay_config at setup. Plus what the options reach: scrub hooks, persist, the marker help."""

from __future__ import annotations

import pytest

from replaystream.cassette import Cassette
from replaystream.emulator import ProviderEmulator, ScriptedResponse
from replaystream.options import PLUGIN_KEYS


def no_traceback(result: pytest.RunResult) -> None:
    text = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in text and "INTERNALERROR" not in text, text


def test_marker_typos_of_every_test_in_one_error_at_collection(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_a="""
import pytest

@pytest.mark.replay(mdoe="all")
def test_one():
    raise AssertionError("must not run")
""", test_b="""
import pytest
pytestmark = pytest.mark.replay(ignore_feilds=["metadata.user_id"])

def test_two():
    raise AssertionError("must not run")

def test_three():
    raise AssertionError("must not run")
""")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.assert_outcomes(errors=1)  # one error, no test run
    result.stdout.fnmatch_lines([
        "*ERROR collecting test session*",
        "2 invalid replaystream options:",
        "  replay marker on test_a.py::test_one: unknown option 'mdoe' (did you mean 'mode'?)",
        # the module's marker is reported once, not once per test
        "  replay marker on test_b.py: unknown option 'ignore_feilds' (did you mean 'ignore_fields'?)",
        "  Fix the key(s) above; the options are: mode, pacing, match, ignore_fields, *",
    ])
    assert "must not run" not in result.stdout.str()
    no_traceback(result)


def test_marker_values_and_nested_keys_are_checked_at_collection(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_v="""
import pytest

class TestK:
    @pytest.mark.replay(mode="sometimes", faults=["explode"], scrub={"hoks": []})
    def test_one(self):
        pass
""")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--co")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines([
        "3 invalid replaystream options:",
        "  replay marker on test_v.py::TestK::test_one: mode='sometimes': unknown record mode 'sometimes'*",
        "  replay marker on test_v.py::TestK::test_one: faults=?'explode'?: unknown fault kind 'explode'*",
        "  replay marker on test_v.py::TestK::test_one: unknown option 'scrub.hoks' (did you mean 'scrub.hooks'?)",
    ])
    no_traceback(result)


def test_marker_typo_under_xdist_is_the_same_one_error(pytester: pytest.Pytester,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # A UsageError would crash the workers (INTERNALERROR); the collection error reaches the
    # controller once, however many workers send it, and the test with the bad marker never runs.
    monkeypatch.delenv("CI", raising=False)  # with CI set, pytest repeats the error in its short summary
    pytester.makepyfile(test_x="""
import pytest

@pytest.mark.replay(mdoe="all")
def test_one():
    raise AssertionError("must not run")

def test_plain():
    pass
""")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    assert result.ret != 0
    result.assert_outcomes(passed=1, errors=1)
    assert result.stdout.str().count("unknown option 'mdoe' (did you mean 'mode'?)") == 1
    assert "must not run" not in result.stdout.str()
    no_traceback(result)


@pytest.mark.parametrize("args,ini,expected", [
    (["--replay-pacing=fast"], "",
     "  --replay-pacing: pacing='fast': pacing 'fast' is not understood: use 'instant', 'recorded' or a speed factor*"),
    ([], "replay_pacing = fast", "  ini setting replay_pacing: pacing='fast': pacing 'fast' is not understood*"),
    ([], "replay_mode = sometimes", "  ini setting replay_mode: mode='sometimes': unknown record mode*"),
])
def test_bad_command_line_or_ini_value_is_rejected_at_startup(pytester: pytest.Pytester, args: list[str],
                                                              ini: str, expected: str) -> None:
    pytester.makepyfile(test_x="def test_x():\n    raise AssertionError('must not run')\n")
    if ini:
        pytester.makeini(f"[pytest]\n{ini}\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: invalid replaystream option:", expected])
    no_traceback(result)


def test_replay_config_typo_fails_the_test_with_a_clean_message(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_c="""
import pytest

@pytest.fixture
def replay_config():
    return {"mode": "all", "allow_repeat": True}

@pytest.mark.replay
def test_one():
    raise AssertionError("must not run")
""")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*replay_config: unknown option 'allow_repeat' (did you mean 'allow_repeats'?)"])
    assert "must not run" not in result.stdout.str() and "def replay_options" not in result.stdout.str()


def test_scrub_hooks_from_replay_config_run_with_the_conftest_hook(pytester: pytest.Pytester,
                                                                    emulator: ProviderEmulator) -> None:
    # Before: Scrubber(hooks=[plugin hook], **scrub) raised "multiple values for 'hooks'".
    emulator.enqueue(ScriptedResponse(body=b'{"ok": true}', headers={"content-type": "application/json"}))
    pytester.makeconftest("""
def pytest_replaystream_before_record(interaction):
    interaction.request.headers["x-seen-by"] = "conftest"
""")
    pytester.makepyfile(test_s=f"""
import httpx2, pytest

def hide_user(interaction):
    interaction.request.body["metadata"]["user_id"] = "<user>"
    return interaction

@pytest.fixture
def replay_config():
    return {{"mode": "once", "scrub": {{"hooks": [hide_user], "extra_headers": ["x-team"]}}}}

@pytest.mark.replay
def test_rec():
    r = httpx2.post("{emulator.base_url}/v1/messages", json={{"metadata": {{"user_id": "u-123"}}}},
                    headers={{"x-team": "blue"}})
    assert r.json() == {{"ok": True}}
""")
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
    assert emulator.requests[0].json()["metadata"]["user_id"] == "u-123"  # hooks change what is saved only
    (inter,) = Cassette.load(pytester.path / "cassettes" / "test_s" / "test_rec.json").interactions
    assert inter.request.body["metadata"]["user_id"] == "<user>"
    assert inter.request.headers["x-seen-by"] == "conftest" and "x-team" not in inter.request.headers
    assert "request.headers.x-team" in inter.scrubbed  # the dict's other Scrubber fields apply too


def test_persist_false_in_a_marker_writes_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_p="""
import pytest
from replaystream.cassette import Request, Response

@pytest.mark.replay(mode="all", persist=False)
def test_p(replay_cassette):
    replay_cassette.on_recorded(Request("GET", "/x"), Response(200, body=b"ok"))
""")
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
    assert not (pytester.path / "cassettes").exists()


def test_marker_help_lists_every_option(pytester: pytest.Pytester) -> None:
    out = pytester.runpytest_inprocess("--markers").stdout.str()
    line = next(line for line in out.splitlines() if line.startswith("@pytest.mark.replay("))
    assert line.startswith("@pytest.mark.replay(*cassettes, mode=..., pacing=...")
    assert all(f"{key}=..." in line for key in PLUGIN_KEYS if key != "cassettes")
