"""Teardown checks: unused interactions fail a replaying test, quietly when it already failed;
--replay-report-unused lists cassettes no test used (also under xdist)."""

from pathlib import Path

import pytest

from replaystream.cassette import Cassette, Interaction, Request, Response


def write_cassette(path: Path, n: int = 2, tests: tuple[str | None, ...] = ()) -> None:
    """``n`` items; ``tests``: the test that recorded each (a shared cassette charges each test its own)."""
    tags = tests or (None,) * n
    Cassette([Interaction(Request("GET", f"/item/{i}"), Response(200, {"content-type": "text/plain"}, body=f"item {i}".encode()),
                          test=tags[i])
              for i in range(n)]).save(path)


TEST = """
import httpx2, pytest

{MARK}
def test_one():
    r = httpx2.get("http://127.0.0.1:9/item/0")
    assert r.text == "item 0"
    {EXTRA}
"""


def make(pytester: pytest.Pytester, mark: str = "@pytest.mark.replay", extra: str = "") -> None:
    pytester.makepyfile(test_t=TEST.replace("{MARK}", mark).replace("{EXTRA}", extra))
    write_cassette(pytester.path / "cassettes" / "test_t" / "test_one.json")


def test_unused_interaction_fails_the_test_and_names_it(pytester: pytest.Pytester) -> None:
    make(pytester)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*1 recorded interaction(s)*test_one.json were never replayed: #1 GET /item/1*",
                                 "*allow_unused=True*"])


def test_opt_out_per_test(pytester: pytest.Pytester) -> None:
    make(pytester, mark="@pytest.mark.replay(allow_unused=True)")
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_quiet_when_the_test_already_failed(pytester: pytest.Pytester) -> None:
    make(pytester, extra="assert False, 'the real failure'")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    assert "never replayed" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*the real failure*"])


def test_a_miss_names_cassette_and_closest_request(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_t="""
import httpx2, pytest
from replaystream import CassetteMissError

@pytest.mark.replay(allow_unused=True)
def test_one():
    with pytest.raises(CassetteMissError) as info:
        httpx2.get("http://127.0.0.1:9/item/7")
    assert "test_one.json" in str(info.value) and "/item/0" in str(info.value)
""")
    write_cassette(pytester.path / "cassettes" / "test_t" / "test_one.json")
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_report_unused_cassettes(pytester: pytest.Pytester) -> None:
    make(pytester, mark="@pytest.mark.replay(allow_unused=True)")
    write_cassette(pytester.path / "cassettes" / "test_t" / "test_gone.json")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--replay-report-unused")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*replaystream: unused cassettes*", "*test_t/test_gone.json"])
    assert "test_one.json" not in result.stdout.str().split("unused cassettes")[1]


def test_report_unused_cassettes_under_xdist(pytester: pytest.Pytester) -> None:
    make(pytester, mark="@pytest.mark.replay(allow_unused=True)")
    write_cassette(pytester.path / "cassettes" / "test_t" / "test_gone.json")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "--replay-report-unused")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*test_t/test_gone.json"])
    assert "test_one.json" not in result.stdout.str().split("unused cassettes")[1]


def test_hook_can_rewrite_what_is_recorded(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
def pytest_replaystream_before_record(interaction):
    interaction.note = "seen by the hook"
""")
    pytester.makepyfile(test_h="""
import json, pytest
from replaystream.cassette import Interaction, Request, Response

@pytest.mark.replay(mode="all")
def test_h(replay_cassette):
    replay_cassette.on_recorded(Request("GET", "/x"), Response(200, body=b"ok"))
    assert replay_cassette.new[0].note == "seen by the hook"
""")
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_unused_interactions_a_fault_explains_are_not_an_error(pytester: pytest.Pytester) -> None:
    # The injected 500 ends the test's requests: both recorded items go unused, as the fault explains.
    pytester.makepyfile(test_t="""
import httpx2, pytest

@pytest.mark.replay("items", faults=["status:500"])
def test_error_first():
    assert httpx2.get("http://127.0.0.1:9/item/0").status_code == 500

@pytest.mark.replay("items", faults=["status:500:request=1"])
def test_fault_never_fired():
    assert httpx2.get("http://127.0.0.1:9/item/0").text == "item 0"

@pytest.mark.replay("items", faults=["status:500:request=1"])
def test_before_the_fault_still_counts():
    assert httpx2.get("http://127.0.0.1:9/item/1").text == "item 1"
    assert httpx2.get("http://127.0.0.1:9/item/1").status_code == 500
""")
    # Shared by three tests: each answers for the interaction it recorded.
    write_cassette(pytester.path / "cassettes" / "test_t" / "items.json",
                   tests=("test_t.py::test_before_the_fault_still_counts", "test_t.py::test_fault_never_fired"))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, errors=2)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_fault_never_fired*", "*never replayed: #1 GET /item/1*",
                                 "*ERROR at teardown of test_before_the_fault_still_counts*",
                                 "*never replayed: #0 GET /item/0*"])
