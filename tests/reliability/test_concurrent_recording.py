"""Concurrent recording: N xdist workers, N threads and a burst of async streams record
from one loopback emulator at once; no stream is lost and none lands in another's place.

The replay side (bursts and threads through one patched transport) is
``test_concurrent_replay.py``.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from pathlib import Path

import httpx2
import openai
import pytest

from replaystream import Cassette, use_cassette
from replaystream.emulator import ProviderEmulator, ScriptedResponse, openai_chat_stream

pytestmark = pytest.mark.outcome("nothing lost, nothing mixed")
Property = Callable[[str, object], None]


def words(i: int) -> list[str]:
    return [f"stream {i} part {k}. " for k in range(8)]


def events(i: int) -> list[bytes]:
    return openai_chat_stream(words(i), id=f"chatcmpl-stream{i:03d}")


def check_own_stream(path: Path, i: int) -> None:
    """The cassette holds stream ``i`` whole and nothing else."""
    (inter,) = Cassette.load(path).interactions
    assert inter.request.path == f"/s{i}/v1/chat/completions"
    assert inter.request.body["messages"][0]["content"] == f"question {i}"
    assert inter.response.end == "complete"
    assert [e.raw for e in inter.response.events or []] == events(i)


# -- N xdist workers ------------------------------------------------------------------------------
XDIST_TESTS = 16
CONFTEST = """
import pytest
from replaystream.emulator import ProviderEmulator

@pytest.fixture(scope="session")
def emu():
    with ProviderEmulator() as e:  # one per worker
        yield e
"""
MODULE = """
import os
import openai
import pytest
from replaystream.emulator import ScriptedResponse, openai_chat_stream

@pytest.mark.parametrize("i", range({n}))
def test_record(i, emu, replay_cassette):
    words = [f"stream {{i}} part {{k}}. " for k in range(8)]
    emu.enqueue(ScriptedResponse(events=openai_chat_stream(words, id=f"chatcmpl-stream{{i:03d}}"), gaps_ms=2),
                path=f"/s{{i}}/v1/chat/completions")
    client = openai.OpenAI(base_url=f"{{emu.base_url}}/s{{i}}/v1", api_key="sk-test", max_retries=0)
    stream = client.chat.completions.create(model="gpt-4o-mini", stream=True, user=os.environ["PYTEST_XDIST_WORKER"],
                                            messages=[{{"role": "user", "content": f"question {{i}}"}}])
    assert "".join(c.delta.content or "" for chunk in stream for c in chunk.choices) == "".join(words)
"""


@pytest.mark.slow
def test_xdist_workers_record_their_own_cassettes(pytester: pytest.Pytester, record_property: Property) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_many=MODULE.format(n=XDIST_TESTS))
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider", "--replay-mode=once")
    result.assert_outcomes(passed=XDIST_TESTS)
    folder = pytester.path / "cassettes" / "test_many"
    files = sorted(folder.iterdir())
    assert [p.name for p in files] == sorted(f"test_record[{i}].json" for i in range(XDIST_TESTS))  # no temp files
    workers = set()
    for i in range(XDIST_TESTS):
        path = folder / f"test_record[{i}].json"
        check_own_stream(path, i)
        workers.add(Cassette.load(path).interactions[0].request.body["user"])
    assert len(workers) == 2  # really recorded from two processes at once
    record_property("workers", len(workers))
    record_property("cassettes", len(files))
    record_property("streams", XDIST_TESTS)


# -- N threads, one emulator --------------------------------------------------------------------
THREADS = 16


# The emulator (a ThreadingHTTPServer) listens with the standard backlog of 5: sixteen
# connects in the same instant can be reset by the kernel before it accepts them, patched
# or not. Opening connections a few at a time keeps that out of the test; the streams
# themselves (tens of ms each) still run all at once.
_connect_gate = threading.Semaphore(4)


def ask(base: str, i: int) -> str:
    client = openai.OpenAI(base_url=f"{base}/s{i}/v1", api_key="sk-test", max_retries=0)
    with _connect_gate:  # until the response head has arrived
        stream = client.chat.completions.create(model="gpt-4o-mini", stream=True,
                                                messages=[{"role": "user", "content": f"question {i}"}])
    return "".join(c.delta.content or "" for chunk in stream for c in chunk.choices)


def run_threads(target: Callable[[int], None], n: int) -> None:
    errors: list[BaseException] = []

    def guarded(i: int) -> None:
        try:
            target(i)
        except BaseException as exc:  # reported below, with the thread's own traceback
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, [(e, e.__cause__, getattr(e.__cause__, '__cause__', None)) for e in errors]
    assert not any(t.is_alive() for t in threads)


def test_threads_each_record_their_own_cassette(tmp_path: Path, record_property: Property) -> None:
    barrier = threading.Barrier(THREADS)
    answers: dict[int, str] = {}
    with ProviderEmulator() as emu:
        for i in range(THREADS):
            emu.enqueue(ScriptedResponse(events=events(i), gaps_ms=8), path=f"/s{i}/v1/chat/completions")

        def record(i: int) -> None:
            with use_cassette(tmp_path / f"c{i}.json", mode="once"):
                barrier.wait(timeout=30)  # all cassettes open, all streams in flight together
                answers[i] = ask(emu.base_url, i)

        run_threads(record, THREADS)
        assert len(emu.requests) == THREADS
    assert answers == {i: "".join(words(i)) for i in range(THREADS)}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"c{i}.json" for i in range(THREADS))
    for i in range(THREADS):
        check_own_stream(tmp_path / f"c{i}.json", i)
    record_property("threads", THREADS)
    record_property("streams", THREADS)
    record_property("cassettes", THREADS)


def test_threads_record_into_one_shared_cassette(tmp_path: Path, record_property: Property) -> None:
    path = tmp_path / "shared.json"
    barrier = threading.Barrier(THREADS)
    with ProviderEmulator() as emu:
        for i in range(THREADS):
            emu.enqueue(ScriptedResponse(events=events(i), gaps_ms=8), path=f"/s{i}/v1/chat/completions")

        def record(i: int) -> None:
            barrier.wait(timeout=30)
            assert ask(emu.base_url, i) == "".join(words(i))

        with use_cassette(path, mode="once"):  # threads started without the context still record into it
            run_threads(record, THREADS)
    inters = Cassette.load(path).interactions
    assert len(inters) == THREADS
    by_stream = {int(i.request.path.split("/")[1][1:]): i for i in inters}
    assert sorted(by_stream) == list(range(THREADS))
    for i, inter in by_stream.items():  # each request is paired with its own response
        assert inter.request.body["messages"][0]["content"] == f"question {i}"
        assert [e.raw for e in inter.response.events or []] == events(i) and inter.response.end == "complete"
    record_property("threads", THREADS)
    record_property("streams", THREADS)


# -- a burst of async streams through one patched transport -------------------------------------
BURST = 48


async def test_a_burst_of_async_streams_records_and_replays_each_to_its_caller(
        tmp_path: Path, record_property: Property) -> None:
    path = tmp_path / "burst.json"

    async def one(client: httpx2.AsyncClient, base: str, i: int) -> list[bytes]:
        async with client.stream("POST", f"{base}/s{i}/v1/chat/completions",
                                 json={"messages": [{"role": "user", "content": f"question {i}"}]}) as r:
            return [chunk async for chunk in r.aiter_raw()]

    with ProviderEmulator() as emu:
        for i in range(BURST):
            emu.enqueue(ScriptedResponse(events=events(i), gaps_ms=1), path=f"/s{i}/v1/chat/completions")
        async with use_cassette(path, mode="once"):
            # 48 streams in flight through the patched transport, 4 connections on the wire
            # (the emulator's listen backlog is 5, see ``_connect_gate``)
            async with httpx2.AsyncClient(limits=httpx2.Limits(max_connections=4)) as client:
                live = await asyncio.gather(*(one(client, emu.base_url, i) for i in range(BURST)))
        base = emu.base_url
    assert [b"".join(r) for r in live] == [b"".join(events(i)) for i in range(BURST)]
    inters = Cassette.load(path).interactions
    assert len(inters) == BURST
    for inter in inters:
        i = int(inter.request.path.split("/")[1][1:])
        assert inter.request.body["messages"][0]["content"] == f"question {i}"
        assert [e.raw for e in inter.response.events or []] == events(i)

    async with use_cassette(path) as session:  # replay: the emulator is gone
        async with httpx2.AsyncClient() as client:
            replayed = await asyncio.gather(*(one(client, base, i) for i in reversed(range(BURST))))
    assert [r for r in reversed(replayed)] == [events(i) for i in range(BURST)]  # one read per event, in order
    assert session.unused() == []
    record_property("streams", BURST)
    assert json.loads(path.read_text())["replaystream_cassette"] == 2


# -- several sessions saving into one cassette ------------------------------------------------
def test_threads_with_their_own_sessions_on_one_cassette_lose_nothing(tmp_path: Path,
                                                                      record_property: Property) -> None:
    """Each thread opens its own session on the same file: every save adds that session's
    new interactions to what the file holds then (under its lock), none overwrites another."""
    path = tmp_path / "one.json"
    barrier = threading.Barrier(THREADS)
    with ProviderEmulator() as emu:
        for i in range(THREADS):
            emu.enqueue(ScriptedResponse(events=events(i), gaps_ms=2), path=f"/s{i}/v1/chat/completions")

        def record(i: int) -> None:
            with use_cassette(path, mode="new_episodes"):
                barrier.wait(timeout=30)
                assert ask(emu.base_url, i) == "".join(words(i))

        run_threads(record, THREADS)
    inters = Cassette.load(path).interactions
    assert sorted(int(i.request.path.split("/")[1][1:]) for i in inters) == list(range(THREADS))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.json"]  # the lock file is gone
    record_property("sessions", THREADS)


def test_identical_repeats_a_session_made_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "same.json"
    with ProviderEmulator() as emu:
        for _ in range(3):
            emu.enqueue(ScriptedResponse(events=events(0)), path="/s0/v1/chat/completions")
        with use_cassette(path, mode="new_episodes"):
            ask(emu.base_url, 0)
        with use_cassette(path, mode="all"):  # records again: the same request twice
            ask(emu.base_url, 0)
            ask(emu.base_url, 0)
    assert len(Cassette.load(path).interactions) == 3


def test_a_thread_without_a_cassette_while_two_are_open_is_an_error_naming_them(tmp_path: Path) -> None:
    import contextvars
    from concurrent.futures import ThreadPoolExecutor

    from replaystream import NoCassetteContextError

    def post(base: str, i: int) -> bytes:
        return httpx2.post(f"{base}/s{i}/v1/chat/completions",
                           json={"messages": [{"role": "user", "content": f"question {i}"}]}).content

    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(events=events(1)), path="/s1/v1/chat/completions")
        with use_cassette(tmp_path / "a.json", mode="once"), use_cassette(tmp_path / "b.json", mode="once"):
            with ThreadPoolExecutor(1) as pool:
                with pytest.raises(NoCassetteContextError) as info:
                    pool.submit(post, emu.base_url, 0).result()
                # With the caller's context the thread's request goes to the innermost cassette.
                assert pool.submit(contextvars.copy_context().run, post, emu.base_url, 1).result() \
                    == b"".join(events(1))
        assert len(emu.requests) == 1  # the ambiguous request never left
    message = str(info.value)
    assert str(tmp_path / "a.json") in message and str(tmp_path / "b.json") in message
    assert "copy_context" in message
    assert not (tmp_path / "a.json").exists()
    check_own_stream(tmp_path / "b.json", 1)
