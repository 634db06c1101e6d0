"""--replay-report-unused lists stale cassettes only: a test that did not run this time
(deselected by -k or --lf, skipped) still owns its cassettes."""

from __future__ import annotations

from pathlib import Path

import pytest

from replaystream.cassette import Cassette, Interaction, Request, Response

TESTS = """
import httpx2, pytest

def get():
    assert httpx2.get("http://127.0.0.1:9/item/0").text == "item 0"

@pytest.mark.replay(allow_unused=True)
def test_one():
    get()

@pytest.mark.replay(allow_unused=True)
def test_two():
    get()

@pytest.mark.replay("shared", allow_unused=True)
def test_named():
    get()

@pytest.mark.skip(reason="not today")
@pytest.mark.replay(allow_unused=True)
def test_skipped():
    get()

class TestGroup:
    @pytest.mark.replay(allow_unused=True)
    @pytest.mark.parametrize("n", [1, 2])
    def test_param(self, n):
        get()

def test_plain_fixture(replay_cassette):
    get()
"""
OWNED = ["test_one", "test_two", "shared", "test_skipped", "TestGroup.test_param[1]", "TestGroup.test_param[2]",
         "test_plain_fixture"]


def project(pytester: pytest.Pytester) -> Path:
    pytester.makepyfile(test_t=TESTS)
    folder = pytester.path / "cassettes" / "test_t"
    for name in [*OWNED, "test_gone"]:
        Cassette([Interaction(Request("GET", "/item/0"), Response(200, {"content-type": "text/plain"}, body=b"item 0"))]
                 ).save(folder / f"{name}.json")
    return folder


def reported(result: pytest.RunResult) -> list[str]:
    section = result.stdout.str().split("replaystream: unused cassettes")[1]
    return sorted(Path(line.strip()).name for line in section.splitlines()[1:] if line.strip().endswith(".json"))


def test_with_k_only_the_stale_cassette_is_reported(pytester: pytest.Pytester) -> None:
    project(pytester)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-k", "test_one", "--replay-report-unused")
    result.assert_outcomes(passed=1, deselected=6)
    assert reported(result) == ["test_gone.json"]


def test_with_k_under_xdist(pytester: pytest.Pytester) -> None:
    project(pytester)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "-k", "test_one or test_two",
                                           "--replay-report-unused")
    result.assert_outcomes(passed=2)
    assert reported(result) == ["test_gone.json"]


def test_with_last_failed_the_passing_tests_keep_their_cassettes(pytester: pytest.Pytester) -> None:
    project(pytester)
    (pytester.path / "cassettes" / "test_t" / "test_two.json").unlink()  # test_two fails: a miss
    first = pytester.runpytest_inprocess("--replay-report-unused")
    first.assert_outcomes(passed=5, failed=1, skipped=1)
    assert reported(first) == ["test_gone.json"]
    again = pytester.runpytest_inprocess("--lf", "--replay-report-unused")
    outcomes = again.parseoutcomes()  # --lf drops passed module-level tests unreported, deselects the others
    assert outcomes["failed"] == 1 and "passed" not in outcomes
    assert reported(again) == ["test_gone.json"]


def test_when_nothing_is_stale_it_says_so(pytester: pytest.Pytester) -> None:
    folder = project(pytester)
    (folder / "test_gone.json").unlink()
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-k", "test_one", "--replay-report-unused")
    result.stdout.fnmatch_lines(["*every cassette in the used folders belongs to a collected test*"])
