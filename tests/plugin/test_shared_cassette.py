"""One cassette shared by several tests (a module-level ``replay("shared")`` marker, as
pytest-recording users write it): recorded by two xdist workers at once nothing is lost,
``rewrite`` empties it once per run, each test answers at teardown only for what it
recorded, and leftovers are reported once per session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from replaystream import Cassette
from replaystream.cassette import Interaction, Request, Response

CONFTEST = """
import pytest
from replaystream.emulator import ProviderEmulator

@pytest.fixture(scope="session")
def emu():
    with ProviderEmulator() as e:  # one per xdist worker
        yield e
"""
TESTS = 6
MODULE = """
import os, openai, pytest
from replaystream.emulator import ScriptedResponse, openai_chat_stream

pytestmark = pytest.mark.replay("shared", ignore_fields=["user"])  # user: the xdist worker that recorded

@pytest.mark.parametrize("i", range({n}))
def test_ask(i, emu):
    words = [f"answer {{i}} part {{k}}. " for k in range(3)]
    emu.enqueue(ScriptedResponse(events=openai_chat_stream(words)), path="/v1/chat/completions")
    client = openai.OpenAI(base_url=f"{{emu.base_url}}/v1", api_key="sk-test", max_retries=0)
    stream = client.chat.completions.create(model="gpt-4o-mini", stream=True, user=os.environ.get("PYTEST_XDIST_WORKER", "-"),
                                            messages=[{{"role": "user", "content": f"question {{i}}"}}])
    assert "".join(c.delta.content or "" for chunk in stream for c in chunk.choices) == "".join(words)
""".format(n=TESTS)


def _questions(path: Path) -> list[str]:
    return sorted(i.request.body["messages"][0]["content"] for i in Cassette.load(path).interactions)


def test_xdist_workers_record_one_shared_cassette_and_it_replays(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_m=MODULE)
    path = pytester.path / "cassettes" / "test_m" / "shared.json"
    every = sorted(f"question {i}" for i in range(TESTS))

    pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "--replay-mode=new_episodes") \
        .assert_outcomes(passed=TESTS)
    inters = Cassette.load(path).interactions
    assert _questions(path) == every  # all six: no worker's save overwrote the other's
    assert len({i.request.body["user"] for i in inters}) == 2  # really recorded by two workers at once
    assert sorted(i.test or "" for i in inters) == sorted(f"test_m.py::test_ask[{i}]" for i in range(TESTS))
    assert [p.name for p in path.parent.iterdir()] == ["shared.json"]  # no lock or temp file left

    # Offline, serially and on two workers: every test replays its own, no teardown failure.
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=TESTS)
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2").assert_outcomes(passed=TESTS)

    # rewrite empties the cassette once per run, not once per worker: six again, not twelve.
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "--replay-mode=rewrite") \
        .assert_outcomes(passed=TESTS)
    assert _questions(path) == every
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=TESTS)


SERIAL = """
import httpx2, pytest

pytestmark = pytest.mark.replay("shared")

@pytest.mark.parametrize("i", range(3))
def test_get(i):
    assert httpx2.get(f"http://127.0.0.1:9/item/{i}").text == f"item {i}"
"""


def _write_shared(path: Path, tags: list[str | None]) -> None:
    Cassette([Interaction(Request("GET", f"/item/{i}"), Response(200, {"content-type": "text/plain"},
                                                                body=f"item {i}".encode()), test=tag)
              for i, tag in enumerate(tags)]).save(path)


def test_a_shared_cassette_replays_serially_and_its_leftovers_are_reported_once(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_s=SERIAL)
    path = pytester.path / "cassettes" / "test_s" / "shared.json"
    # Three tests' interactions (one recorded before tests were named), and two nobody asks for.
    _write_shared(path, ["test_s.py::test_get[0]", "test_s.py::test_get[1]", None, None,
                         "test_s.py::test_gone"])
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)  # no test is charged with another's interactions
    out = result.stdout.str()
    assert out.count("shared cassettes with interactions no test replayed") == 1
    result.stdout.fnmatch_lines(["*shared.json: #3 GET /item/3, #4 GET /item/4"])


def test_a_test_still_answers_for_what_it_recorded(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_s=SERIAL)
    path = pytester.path / "cassettes" / "test_s" / "shared.json"
    _write_shared(path, [f"test_s.py::test_get[{i}]" for i in range(3)] + ["test_s.py::test_get[1]"])
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, errors=1)  # test_get[1] recorded two requests and made one
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_get[[]1[]]*",
                                 "*1 recorded interaction(s) in*shared.json were never replayed: #3 GET /item/3*"])
    assert json.loads(path.read_text())["interactions"][3]["test"] == "test_s.py::test_get[1]"
